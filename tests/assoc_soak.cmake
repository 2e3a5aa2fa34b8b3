# `ssrp assoc batch` under ~30% injected faults on Graph and login, rerun
# while it reports failed decisions (at most 3 runs): owners exact, no early
# retry, no secret in any output (tests/integration/test_assoc_soak.c).
# It runs the ssrp binary, so no valgrind twin. Included from
# tests/CMakeLists.txt when ssrp_cloud exists.
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
add_executable(integration_assoc_soak integration/test_assoc_soak.c)
target_include_directories(integration_assoc_soak PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(integration_assoc_soak PRIVATE ssrp_static PkgConfig::CMOCKA PkgConfig::CURL PkgConfig::CJSON
                      PkgConfig::CRYPTO)
add_test(NAME integration_assoc_soak COMMAND integration_assoc_soak $<TARGET_FILE:ssrp_sim_cli>)
set_tests_properties(integration_assoc_soak PROPERTIES LABELS integration TIMEOUT 300)
