# Device-owner association: the runbook's one-request-at-a-time client against
# `ssrp assoc batch` on a 10k-device tenant with Graph latency and throttling
# (bench/assoc.c). Included from bench/CMakeLists.txt.
if(TARGET ssrp_cloud)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  add_executable(bench_assoc assoc.c bench_util.c)
  target_include_directories(bench_assoc PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(bench_assoc PRIVATE ssrp_static PkgConfig::CURL PkgConfig::CJSON
                        PkgConfig::CRYPTO)
endif()
