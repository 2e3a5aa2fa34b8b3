# The recovery-password parser. Included inside if(SSRP_FUZZ) in tests.cmake.
ssrp_fuzz(fuzz_recovery_password ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_recovery_password.c
          ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/recovery_password)
