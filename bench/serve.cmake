# The check-in storm: 10,000 devices ask `ssrp assoc serve` about themselves
# within a minute beside an attacker's idle connections, Graph slow and
# throttling (bench/serve.c). Included from bench/CMakeLists.txt.
if(TARGET ssrp_cloud)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  pkg_check_modules(SSL REQUIRED IMPORTED_TARGET libssl)
  add_executable(bench_serve serve.c bench_util.c)
  target_include_directories(bench_serve PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(bench_serve PRIVATE PkgConfig::CURL PkgConfig::CJSON PkgConfig::SSL
                        PkgConfig::CRYPTO
                        Threads::Threads)
endif()
