# The expected cost (seconds) of the long tests, so that a run without
# ctest's measurements (a clean clone) starts the longest first and -j2
# packs the rest around them; once a run has measured them, ctest uses its
# own figures. Included last from tests/CMakeLists.txt; a test this build
# does not have is passed over.
set(ssrp_test_costs
    integration_agent_crash 140
    integration_agent_soak 130
    valgrind_integration_volume_conformance 120
    valgrind_integration_volume_crash 110
    valgrind_integration_cloud_client 100
    valgrind_cloud_server 60
    valgrind_integration_graph_client 60
    valgrind_unit_cloud_graph 50
    valgrind_integration_volume_tpm 45
    valgrind_integration_assoc_engine 45
    valgrind_integration_drs 40
    integration_volume_oracles 50
    valgrind_integration_tpm_conformance 35
    valgrind_unit_cloud_token 30
    integration_agent_journal 30
    integration_agent_verify 30
    integration_assoc_report 30
    valgrind_unit_http_retry 25
    valgrind_integration_tpm_tss2_swtpm 20
    valgrind_unit_bitlocker_crypto 20)
while(ssrp_test_costs)
  list(POP_FRONT ssrp_test_costs name cost)
  if(TEST ${name})
    set_tests_properties(${name} PROPERTIES COST ${cost})
  endif()
endwhile()
