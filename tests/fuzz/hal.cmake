# hal/'s text parsers. Included inside if(SSRP_FUZZ) in tests.cmake.
ssrp_fuzz(fuzz_guid ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_guid.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/guid)
ssrp_fuzz(fuzz_uda_config ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_uda_config.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/uda_config)
