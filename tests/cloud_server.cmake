# The simulated cloud's server, faults, DRS, webhooks and command (issue 4).
# Included from tests/CMakeLists.txt when ssrp_cloud exists.
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)

ssrp_test(unit_cloud_faults SOURCES unit/test_cloud_faults.c LABELS unit LIBS ssrp_cloud)

# libcurl against a server started with `ssrp sim cloud start`. Its memcheck
# run sends the first 199 of the 200 keys of the key-limit case with the curl
# command (a native process); every other request, the 200th key, the
# refused 201st and the replacement go through libcurl under memcheck; in
# the 16-thread case each thread uploads two keys rather than eight.
ssrp_test(integration_cloud_client SOURCES integration/test_cloud_client.c integration/sim_helpers.c
          LABELS integration LIBS PkgConfig::CURL PkgConfig::CJSON PkgConfig::CRYPTO
                                  Threads::Threads)
foreach(t integration_cloud_client valgrind_integration_cloud_client)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
  endif()
endforeach()

# The same through plain curl and the documented files, as a shell user would.
add_test(NAME integration_cloud_cli
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_cloud_cli.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_cloud_cli PROPERTIES LABELS integration TIMEOUT 300)

# The server process itself: under valgrind memcheck in the plain build;
# in the sanitizer build run as it is, its exit status carrying any ASan,
# UBSan or leak report.
if(SSRP_SANITIZE AND NOT SSRP_FUZZ)
  add_test(NAME integration_cloud_server_exit
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_cloud_valgrind.sh
                   $<TARGET_FILE:ssrp_cli> -)
  set_tests_properties(integration_cloud_server_exit PROPERTIES LABELS integration TIMEOUT 300)
endif()
if(VALGRIND AND NOT SSRP_SANITIZE AND NOT SSRP_FUZZ)
  add_test(NAME valgrind_cloud_server
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_cloud_valgrind.sh
                   $<TARGET_FILE:ssrp_cli> ${VALGRIND})
  set_tests_properties(valgrind_cloud_server PROPERTIES LABELS valgrind TIMEOUT 600
                       ENVIRONMENT "${SSRP_VALGRIND_ENV}")
endif()

# Microsoft's own client libraries (MSAL Node, @azure/identity, the Graph JS
# SDK, jose) against the simulator by the real host names on port 443, in a
# user+network+mount namespace (tests/clients/run.sh). The npm packages are
# installed by scripts/bootstrap from tests/clients/package-lock.json.
add_test(NAME integration_cloud_clients
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/clients/run.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_cloud_clients PROPERTIES LABELS integration TIMEOUT 600)
