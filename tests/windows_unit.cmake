# Unit tests on Windows: the portable tests/unit/*.c (the same sources as
# the Linux unit tests) built by the Windows configuration as .exe programs
# linked to libssrp.a, cmocka and the dependencies, and run under Wine from
# the Linux build: one ctest entry per program, mingw_<NAME>, label mingw.
#
# Both configurations include this file: cmake/windows.cmake, where the
# function builds the program (not part of "all": the target
# windows_unit_tests builds them all), and tests/CMakeLists.txt, where it
# adds the test that runs it under Wine (tests/mingw/run_unit_wine.sh).
#
# ssrp_windows_unit_test(NAME <name> SOURCES <files...> [LIBS <libs...>])
#   SOURCES are relative to tests/ (or absolute); LIBS are Windows
#   libraries or targets of the Windows configuration linked besides
#   libssrp.a, libcurl, cJSON, cmocka and the system libraries libssrp uses.
#   The program is unit/<name>.exe in the Windows tree.
set(SSRP_WINDOWS_UNIT_DIR ${CMAKE_CURRENT_LIST_DIR})

if(CMAKE_SYSTEM_NAME STREQUAL "Windows")
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  add_custom_target(windows_unit_tests)
  # The programs run from unit/, next to the DLLs they import.
  set(SSRP_WIN_UNIT_DLLS ${SSRP_WIN_DEP_DLLS} ${SSRP_MINGW_DEPS}/bin/cmocka.dll)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/unit/cmocka.dll
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/unit
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${SSRP_WIN_UNIT_DLLS} ${CMAKE_BINARY_DIR}/unit
    DEPENDS ${SSRP_WIN_UNIT_DLLS} VERBATIM)
  add_custom_target(windows_unit_dlls DEPENDS ${CMAKE_BINARY_DIR}/unit/cmocka.dll)
  add_dependencies(windows_unit_tests windows_unit_dlls)

  function(ssrp_windows_unit_test)
    cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
    list(TRANSFORM T_SOURCES PREPEND ${SSRP_WINDOWS_UNIT_DIR}/ REGEX "^[^/]")
    add_executable(${T_NAME} EXCLUDE_FROM_ALL ${T_SOURCES})
    set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/unit
                          IMPORT_PREFIX "" IMPORT_SUFFIX ".exe.a")
    # The dependencies' prefix too: libcrypto's headers have no pkg-config
    # target here.
    target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tests
                               ${SSRP_MINGW_DEPS}/include)
    target_link_libraries(${T_NAME} PRIVATE ssrp_static PkgConfig::CMOCKA PkgConfig::CURL
                          PkgConfig::CJSON ${T_LIBS} ${SSRP_WIN_SYSTEM_LIBS})
    add_dependencies(windows_unit_tests ${T_NAME})
  endfunction()
else()
  # The Windows tree mingw_windows_build made; the programs are built in it
  # by mingw_windows_unit_build, once, before the tests run, which also
  # starts the Wine session they share (mingw_windows_unit_done ends it).
  set(SSRP_WIN_UNIT_TREE ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_build/build)
  set(SSRP_WIN_UNIT_PREFIX ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_unit/wineprefix)
  add_test(NAME mingw_windows_unit_build
           COMMAND sh ${SSRP_WINDOWS_UNIT_DIR}/mingw/build_unit_wine.sh ${SSRP_WIN_UNIT_TREE}
                   ${SSRP_WIN_UNIT_PREFIX})
  set_tests_properties(mingw_windows_unit_build PROPERTIES LABELS mingw TIMEOUT 900 PROCESSORS 2
                       FIXTURES_REQUIRED mingw_windows_tree FIXTURES_SETUP mingw_windows_unit)
  add_test(NAME mingw_windows_unit_done
           COMMAND sh ${SSRP_WINDOWS_UNIT_DIR}/mingw/build_unit_wine.sh --stop ${SSRP_WIN_UNIT_PREFIX})
  set_tests_properties(mingw_windows_unit_done PROPERTIES LABELS mingw TIMEOUT 60
                       FIXTURES_CLEANUP mingw_windows_unit)

  function(ssrp_windows_unit_test)
    cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
    add_test(NAME mingw_${T_NAME}
             COMMAND sh ${SSRP_WINDOWS_UNIT_DIR}/mingw/run_unit_wine.sh
                     ${SSRP_WIN_UNIT_TREE}/unit/${T_NAME}.exe ${SSRP_WIN_UNIT_PREFIX})
    set_tests_properties(mingw_${T_NAME} PROPERTIES LABELS mingw TIMEOUT 300
                         FIXTURES_REQUIRED "mingw_windows_tree;mingw_windows_unit")
  endfunction()
endif()

# The tests. What the Windows build cannot compile yet, and why:
# docs/windows.md ("Unit tests under Wine").
ssrp_windows_unit_test(NAME unit_tpm_core SOURCES unit/test_tpm_core.c)
ssrp_windows_unit_test(NAME unit_tpm_blob SOURCES unit/test_tpm_blob.c)
ssrp_windows_unit_test(NAME unit_bitlocker_fve_errors SOURCES unit/test_fve_errors.c)
ssrp_windows_unit_test(NAME unit_recovery_password SOURCES unit/test_recovery_password.c)
ssrp_windows_unit_test(NAME unit_guid SOURCES unit/test_guid.c)
ssrp_windows_unit_test(NAME unit_hex SOURCES unit/test_hex.c)
# The BitLocker codec, with the libcrypto and zlib libssrp links in (the
# crypto test also computes its references with libcrypto).
ssrp_windows_unit_test(NAME unit_bitlocker_crypto SOURCES unit/test_bitlocker_crypto.c
                       LIBS ${SSRP_WIN_CODEC_LIBS})
ssrp_windows_unit_test(NAME unit_bitlocker_fve_metadata SOURCES unit/test_fve_metadata.c
                       LIBS ${SSRP_WIN_CODEC_LIBS})
ssrp_windows_unit_test(NAME unit_config_agent SOURCES unit/test_config_agent.c)
ssrp_windows_unit_test(NAME unit_config_serve SOURCES unit/test_config_serve.c)
ssrp_windows_unit_test(NAME unit_journal SOURCES unit/test_journal.c)
ssrp_windows_unit_test(NAME unit_agent_logic SOURCES unit/test_agent_logic.c)
ssrp_windows_unit_test(NAME unit_drs_keys SOURCES unit/test_drs_keys.c)
ssrp_windows_unit_test(NAME unit_graph_client SOURCES unit/test_graph_unit.c)
ssrp_windows_unit_test(NAME unit_recover SOURCES unit/test_recover_unit.c)
ssrp_windows_unit_test(NAME unit_device_report SOURCES unit/test_device_report.c)
ssrp_windows_unit_test(NAME unit_assoc SOURCES unit/test_assoc_unit.c)
ssrp_windows_unit_test(NAME unit_assoc_client SOURCES unit/test_assoc_client.c)
ssrp_windows_unit_test(NAME unit_assoc_licence SOURCES unit/test_assoc_licence.c)
ssrp_windows_unit_test(NAME unit_oauth_id_token SOURCES unit/test_oauth_id_token.c)
ssrp_windows_unit_test(NAME unit_volume_status_version SOURCES unit/test_volume_status_version.c)
ssrp_windows_unit_test(NAME unit_platform SOURCES unit/test_platform.c)
ssrp_windows_unit_test(NAME unit_tools_cli SOURCES unit/test_tools_cli.c
                       ${PROJECT_SOURCE_DIR}/tools/cli_util.c)

# The Windows-only COM and TBS code over scripted layers (tests/mingw/): the
# BitLocker WMI backend, SCCM's primary users, the TBS transport
# (docs/windows.md, "What ssrp asks WMI and TBS for").
ssrp_windows_unit_test(NAME unit_wmi_volume SOURCES mingw/unit_wmi_volume.c mingw/fake_wmi.c)
ssrp_windows_unit_test(NAME unit_uda_wmi SOURCES mingw/unit_uda_wmi.c mingw/fake_wmi.c)
ssrp_windows_unit_test(NAME unit_tbs_windows SOURCES mingw/unit_tbs_windows.c)
