# Crash consistency and the fault soak of the device agent
# (tests/integration/test_agent_crash.sh, test_agent_soak.sh): kills at
# every journal and volume write of a first run and of a rotation, and 300
# runs of 30 devices under ~30% injected faults. Both drive the ssrp binary
# (swtpm, the simulated cloud, `ssrp assoc serve`), so no valgrind twin.
# Included from tests/CMakeLists.txt when ssrp_cloud exists. Each took
# 130-140 s in a full -j2 run; the timeouts leave room for a busier machine.
add_test(NAME integration_agent_crash
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_agent_crash.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_agent_crash PROPERTIES LABELS "integration;soak" TIMEOUT 600 SKIP_RETURN_CODE 77)
add_test(NAME integration_agent_soak
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_agent_soak.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_agent_soak PROPERTIES LABELS "integration;soak" TIMEOUT 600 SKIP_RETURN_CODE 77)
