# Self-service retrieval: the device-code answers and Graph's device, key
# list and key answers (escrow/oauth_devicecode.c, escrow/recover.c). Included
# inside if(SSRP_FUZZ) in tests.cmake.
ssrp_fuzz(fuzz_recover ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_recover.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/recover PkgConfig::CJSON)
# Who signed in: the id_token's claims (escrow/oauth_id_token.c).
ssrp_fuzz(fuzz_id_token ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_id_token.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/id_token PkgConfig::CJSON)
