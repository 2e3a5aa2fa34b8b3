# Whole-volume decryption: ssrp vs dislocker-file vs raw OpenSSL on a 1 GiB
# sparse volume, XTS-AES-128 and AES-256-CBC + Elephant (bench/decrypt.c).
# Included from bench/CMakeLists.txt.
add_executable(bench_decrypt decrypt.c)
target_include_directories(bench_decrypt PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(bench_decrypt PRIVATE ssrp_sim ssrp_static PkgConfig::CRYPTO)
