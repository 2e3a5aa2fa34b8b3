# Volume data path: ssrp_volume_write/read on a sim volume vs raw OpenSSL
# XTS-AES-128 (bench/volume.c). Included from bench/CMakeLists.txt.
add_executable(bench_volume volume.c)
target_include_directories(bench_volume PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(bench_volume PRIVATE ssrp_sim ssrp_static PkgConfig::CRYPTO)
