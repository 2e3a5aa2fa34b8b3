# No secret in ps, /proc, logs or outputs of the server and user side.
add_test(NAME integration_secrets_ps
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_secrets_ps.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_secrets_ps PROPERTIES LABELS integration TIMEOUT 180)
