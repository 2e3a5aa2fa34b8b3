# Recovery-key stretching: ssrp vs the SHA-256 compression floor vs Debian's
# libdislocker (bench/stretch.c). Included from bench/CMakeLists.txt.
add_executable(bench_stretch stretch.c)
target_include_directories(bench_stretch PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(bench_stretch PRIVATE ssrp_static PkgConfig::CRYPTO)
# libdislocker0.7 installs to /usr/lib. Its header pulls in mbed TLS headers
# that no package here provides, so stretch.c declares the one function it
# calls; without the library the bench runs without that comparison.
find_library(SSRP_DISLOCKER_LIBRARY NAMES dislocker libdislocker.so.0.7)
if(SSRP_DISLOCKER_LIBRARY)
  target_compile_definitions(bench_stretch PRIVATE SSRP_BENCH_DISLOCKER)
  target_link_libraries(bench_stretch PRIVATE ${SSRP_DISLOCKER_LIBRARY})
else()
  message(STATUS "libdislocker not found: bench_stretch will skip the dislocker comparison")
endif()
