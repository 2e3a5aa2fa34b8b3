# The Windows certificate store path parser (hal/cert_store_path.c).
ssrp_fuzz(fuzz_cert_store_path ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_cert_store_path.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/cert_store_path)
