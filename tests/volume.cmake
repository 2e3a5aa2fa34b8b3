# The volume interface: the conformance suite (the sim backend on a private
# swtpm), the TPM and crash scenarios, dislocker, libbde and cryptsetup as oracles for
# the on-disk format, and the metadata codec. Included from tests/CMakeLists.txt.
ssrp_test(unit_conformance_version SOURCES unit/test_conformance_version.c LABELS unit
          LIBS ssrp_conformance)
ssrp_test(integration_volume_conformance
          SOURCES integration/run_volume_conformance.c ${SWTPM_FIXTURE}
          LABELS integration LIBS ssrp_conformance ssrp_sim)
ssrp_test(integration_volume_tpm
          SOURCES integration/test_volume_tpm.c ${SWTPM_FIXTURE}
          LABELS integration LIBS ssrp_sim)
ssrp_test(integration_volume_crash
          SOURCES integration/test_volume_crash.c ${SWTPM_FIXTURE}
          LABELS integration LIBS ssrp_sim)
ssrp_test(unit_bitlocker_fve_metadata SOURCES unit/test_fve_metadata.c LABELS unit
          LIBS PkgConfig::ZLIB)
# A wrapped FVEK altered on disk: tampering (exit 6), not a wrong password.
ssrp_test(unit_volume_tamper SOURCES unit/test_volume_tamper.c LABELS unit)
# A change to a locked volume is refused (no VMK, no validation datum); unlocked, it is sealed.
ssrp_test(unit_bitlk_locked_write SOURCES unit/test_bitlk_locked_write.c LABELS unit)

# Only the ssrp command; exits 77 (skip) when dislocker, libbde-utils, cryptsetup-bin or
# swtpm is not installed.
add_test(NAME integration_volume_oracles
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_volume_oracles.sh
                 $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_volume_oracles PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77)

# Under valgrind a recovery-password operation takes 10 s and more (the key
# stretch), so: the crash test's memcheck run takes its quick path (each
# operation killed once in the middle copy and once after a repair; see the
# file's header), and all three get room beyond the helper's 600 s.
if(TEST valgrind_integration_volume_crash)
  set_property(TEST valgrind_integration_volume_crash APPEND PROPERTY ENVIRONMENT SSRP_TEST_QUICK=1)
endif()
foreach(t integration_volume_conformance integration_volume_tpm integration_volume_crash)
  if(TEST valgrind_${t})
    set_tests_properties(valgrind_${t} PROPERTIES TIMEOUT 1200)
  endif()
endforeach()

# Fifteen Windows-made volumes (tests/data/bitlk-windows.tar.xz), unpacked
# sparse into the build tree: status, every key kind, decrypt against the
# recorded SHA-256, damaged and tampered metadata. Only the ssrp command.
add_test(NAME integration_volume_windows
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_volume_windows.sh
                 $<TARGET_FILE:ssrp_cli> ${CMAKE_CURRENT_SOURCE_DIR}/data/bitlk-windows.tar.xz
                 ${CMAKE_CURRENT_BINARY_DIR}/volume_windows)
set_tests_properties(integration_volume_windows PROPERTIES LABELS integration TIMEOUT 600)

# A Windows-made volume put part-way through a conversion (paused, then
# switching) by the fixture below, which seals the metadata again under the
# VMK as Windows does: read against dislocker-file and libbde (python3-libbde).
add_executable(bitlk_set_conversion integration/bitlk_set_conversion.c)
target_include_directories(bitlk_set_conversion PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(bitlk_set_conversion PRIVATE ssrp_static)
add_test(NAME integration_volume_conversion
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_volume_conversion.sh
                 $<TARGET_FILE:ssrp_cli> $<TARGET_FILE:bitlk_set_conversion>
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/bitlk-windows.tar.xz)
set_tests_properties(integration_volume_conversion PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77)

# Protectors added to and removed from a copy of a Windows-made volume,
# checked with cryptsetup, dislocker-file and libbde. Only the ssrp command
# (and ssrp-sim for the swtpm).
add_test(NAME integration_volume_windows_change
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_volume_windows_change.sh
                 $<TARGET_FILE:ssrp_cli> ${CMAKE_CURRENT_SOURCE_DIR}/data/bitlk-windows.tar.xz)
set_tests_properties(integration_volume_windows_change PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77)

# volume decrypt --out: created complete or not at all, never over a file
# (or through a link) unless --force.
add_test(NAME integration_volume_decrypt_out
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_volume_decrypt_out.sh
                 $<TARGET_FILE:ssrp_cli> ${CMAKE_CURRENT_SOURCE_DIR}/data/bitlk-windows.tar.xz)
set_tests_properties(integration_volume_decrypt_out PROPERTIES LABELS integration TIMEOUT 300)
