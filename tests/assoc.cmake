# The association engine (escrow/assoc*.c, escrow/audit.c, the "assoc"
# configuration member) and `ssrp assoc handle|run|batch`: the pure parts,
# the engine against `ssrp sim cloud start`, and the command with the
# simulator's webhook jobs. Included from tests/CMakeLists.txt.
ssrp_test(unit_assoc SOURCES unit/test_assoc_unit.c LABELS unit LIBS PkgConfig::CJSON)
ssrp_test(unit_assoc_licence SOURCES unit/test_assoc_licence.c LABELS unit LIBS PkgConfig::CJSON)

ssrp_test(integration_assoc_engine SOURCES integration/test_assoc_engine.c integration/sim_helpers.c
          LABELS integration LIBS PkgConfig::CJSON PkgConfig::CRYPTO)
foreach(t integration_assoc_engine valgrind_integration_assoc_engine)
  if(TEST ${t})
    # Appended: the valgrind_ variant already has SSRP_UNDER_VALGRIND=1.
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "SSRP_BIN=$<TARGET_FILE:ssrp_sim_cli>;SSRP_ASSOCD_BIN=$<TARGET_FILE:ssrp_assocd>")
  endif()
endforeach()

add_test(NAME integration_assoc_cli
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_assoc_cli.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_assoc_cli PROPERTIES LABELS integration TIMEOUT 300)
set_tests_properties(integration_assoc_cli PROPERTIES SKIP_RETURN_CODE 77)

# `ssrp assoc report` when Graph gives owners as "limited information"
add_test(NAME integration_assoc_report_owners
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_assoc_report_owners.sh $<TARGET_FILE:ssrp_cli>)
set_tests_properties(integration_assoc_report_owners PROPERTIES LABELS integration TIMEOUT 120
                     SKIP_RETURN_CODE 77)
