# Retrying HTTP (escrow/http_retry.c), escrow through the Device Registration
# Service (escrow/drs.c, its key list escrow/drs_keys.c) and the agent's
# journal (escrow/journal.c). Included from tests/CMakeLists.txt when
# ssrp_cloud exists.
ssrp_test(unit_journal SOURCES unit/test_journal.c LABELS unit)
ssrp_test(unit_drs_keys SOURCES unit/test_drs_keys.c LABELS unit)

# The retry rules against a scripted local HTTPS server.
if(TARGET PkgConfig::MHD)
  ssrp_test(unit_http_retry SOURCES unit/test_http_retry.c unit/fake_https.c LABELS unit
            LIBS PkgConfig::MHD PkgConfig::CRYPTO Threads::Threads)
endif()

# ssrp_drs_upload and ssrp_drs_list_keys against `ssrp sim cloud start`
# with real device certificates.
if(TARGET ssrp_cli)
  ssrp_test(integration_drs SOURCES integration/test_drs.c integration/sim_helpers.c
            LABELS integration LIBS PkgConfig::CJSON PkgConfig::CRYPTO)
  foreach(t integration_drs valgrind_integration_drs)
    if(TEST ${t})
      set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
    endif()
  endforeach()
endif()

# The public calls (ssrp/escrow.h, ssrp/assoc_client.h) against `ssrp-sim
# cloud` and `ssrp-assocd`, through public headers only.
if(TARGET ssrp_cli AND TARGET ssrp_assocd)
  ssrp_test(integration_escrow_api SOURCES integration/test_escrow_api.c
            integration/sim_helpers.c LABELS integration)
  foreach(t integration_escrow_api valgrind_integration_escrow_api)
    if(TEST ${t})
      set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
    endif()
  endforeach()
endif()

# The journal and key-list parsers. ssrp_fuzz() is defined by
# tests/fuzz/tests.cmake, included before this file.
if(SSRP_FUZZ)
  ssrp_fuzz(fuzz_journal ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_journal.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/journal PkgConfig::CJSON)
  ssrp_fuzz(fuzz_drs_keys ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_drs_keys.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/drs_keys PkgConfig::CJSON)
endif()
