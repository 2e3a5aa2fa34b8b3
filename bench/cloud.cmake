# The simulated cloud: requests/s, latency and memory per directory object
# against a trivial MHD TLS responder (bench/cloud.c). Included from
# bench/CMakeLists.txt.
if(TARGET ssrp_cloud)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  add_executable(bench_cloud cloud.c bench_util.c)
  target_include_directories(bench_cloud PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(bench_cloud PRIVATE PkgConfig::CURL PkgConfig::MHD PkgConfig::CRYPTO
                        Threads::Threads)
endif()
