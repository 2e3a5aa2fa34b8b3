# Self-service retrieval: the device-code answers and Graph's device, key
# list and key answers (escrow/graph_client.c, escrow/recover.c). Included
# inside if(SSRP_FUZZ) in tests.cmake.
ssrp_fuzz(fuzz_recover ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_recover.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/recover PkgConfig::CJSON)
