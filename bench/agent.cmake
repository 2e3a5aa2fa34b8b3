# The device agent: first run and steady state against swtpm, the simulated
# cloud and `ssrp assoc serve` (bench/agent.c). Included from
# bench/CMakeLists.txt.
if(TARGET ssrp_cloud)
  add_executable(bench_agent agent.c bench_util.c)
  target_include_directories(bench_agent PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(bench_agent PRIVATE ssrp_sim ssrp_static)
endif()
