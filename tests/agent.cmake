# The device agent (escrow/agent*.c, `ssrp agent run|status`). Included
# from tests/CMakeLists.txt when ssrp_cloud exists.

# The library call without a cloud: no configuration, not registered, the
# progress callback, a damaged journal.
ssrp_test(integration_agent_api SOURCES integration/test_agent_api.c LABELS integration)

# The whole story with the real parts: swtpm, the simulated cloud, `ssrp
# assoc serve`, a simulated volume, `ssrp recover --unlock`; every output
# searched for secrets.
add_test(NAME integration_agent_story
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_agent_story.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_agent_story PROPERTIES LABELS integration TIMEOUT 300)

# The journal: who may write it, a forged journal is not proof of escrow, a
# damaged one moved aside, one run at a time (the lock, exit 13).
add_test(NAME integration_agent_journal
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_agent_journal.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_agent_journal PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77)

# Not registered, no TPM, two recovery passwords by hand, webhook mode.
add_test(NAME integration_agent_cases
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_agent_cases.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_agent_cases PROPERTIES LABELS integration TIMEOUT 300)

# Escrow the device can prove: a key deleted in Entra ID escrowed again at
# the next verification (--verify, the interval, a journal that says
# otherwise), a re-registered device, key hygiene (retention, never a key
# on the volume, the warning at 150, the limit of 200), faults on the key
# list and the deletion.
add_test(NAME integration_agent_verify
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_agent_verify.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_agent_verify PROPERTIES LABELS integration TIMEOUT 400
                     SKIP_RETURN_CODE 77)

# What a device reports and the service keeps, and the key reads of an
# audit log: parsers and the cache.
ssrp_test(unit_device_report SOURCES unit/test_device_report.c LABELS unit LIBS PkgConfig::CJSON)
if(SSRP_FUZZ)
  ssrp_fuzz(fuzz_device_report ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_device_report.c
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/device_report PkgConfig::CJSON)
endif()

# The device's report on its association call: its recovery protector ids
# and verdict kept by ssrp-assocd (--state-dir), no extra request, `ssrp
# assoc report --reports` showing a protector Entra ID lacks, a damaged
# cache moved aside and rebuilt, bad reports refused.
add_test(NAME integration_agent_report
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_agent_report.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_agent_report PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77)

# The administrator's report of escrow (`ssrp assoc report`) against a
# simulated tenant of 1,000 devices in mixed states: every count exact
# against the tenant file, CSV and HTML escaping, at most 0.1 Graph
# requests a device, a throttled Graph, a missing permission.
add_test(NAME integration_assoc_report
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_assoc_report.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_assoc_report PROPERTIES LABELS integration TIMEOUT 300
                     SKIP_RETURN_CODE 77)
