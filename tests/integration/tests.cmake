set(SWTPM_FIXTURE ${CMAKE_CURRENT_SOURCE_DIR}/integration/swtpm_fixture.c)
ssrp_test(integration_tpm_conformance
          SOURCES integration/run_tpm_conformance.c ${SWTPM_FIXTURE}
          LABELS integration LIBS ssrp_conformance ssrp_sim)
ssrp_test(integration_platform_conformance SOURCES integration/run_platform_conformance.c
          LABELS integration LIBS ssrp_conformance)
ssrp_test(integration_tpm_tss2_swtpm
          SOURCES integration/test_tpm_tss2_swtpm.c ${SWTPM_FIXTURE}
          LABELS integration LIBS ssrp_sim)
add_test(NAME integration_cli_tpm
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_cli_tpm.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_cli_tpm PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME integration_cli_files
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_cli_files.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_cli_files PROPERTIES LABELS integration TIMEOUT 300)
