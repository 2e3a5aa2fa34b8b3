# Self-service retrieval (escrow/recover.c, `ssrp recover`, `ssrp assoc
# login`) and the device-code sign-in of the Graph client. Included from
# tests/CMakeLists.txt when ssrp_cloud exists.
ssrp_test(unit_recover SOURCES unit/test_recover_unit.c LABELS unit LIBS PkgConfig::CJSON)
# Who signed in, from the sign-in's id_token.
ssrp_test(unit_oauth_id_token SOURCES unit/test_oauth_id_token.c LABELS unit)

# The device-code polling against a scripted local HTTPS server.
if(TARGET PkgConfig::MHD)
  ssrp_test(unit_recover_devicecode SOURCES unit/test_recover_devicecode.c unit/fake_https.c
            integration/sim_helpers.c LABELS unit
            LIBS PkgConfig::MHD PkgConfig::CJSON PkgConfig::CRYPTO Threads::Threads)
endif()

# The library against the simulated cloud (owner, non-owner, Graph's own refusal).
ssrp_test(integration_recover SOURCES integration/test_recover.c integration/sim_helpers.c
          LABELS integration LIBS PkgConfig::CJSON)
foreach(t integration_recover valgrind_integration_recover)
  if(TEST ${t})
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
  endif()
endforeach()

# The commands end to end with curl: device code, --unlock, assoc login.
add_test(NAME integration_recover_cli
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_recover_cli.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_recover_cli PROPERTIES LABELS integration TIMEOUT 300)
