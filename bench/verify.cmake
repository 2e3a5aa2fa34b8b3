# A fleet verifying its escrow within its jittered day, in process through
# ssrp_agent_run against the simulated cloud (bench/verify.c; run by
# bench/verify.sh). Included from bench/CMakeLists.txt.
if(TARGET ssrp_cloud)
  add_executable(bench_verify verify.c bench_util.c)
  target_include_directories(bench_verify PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(bench_verify PRIVATE ssrp_static PkgConfig::CJSON PkgConfig::CRYPTO)
endif()
