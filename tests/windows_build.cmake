# The Windows configuration of the project (cmake/windows.cmake) built with
# mingw-w64 into its own tree: libssrp.dll, its import library and ssrp.exe,
# importing only Windows system DLLs, libcurl and cJSON, and ssrp.exe run
# under Wine (version, help, tpm info through Wine's TPM-less tbs.dll). A
# missing cross-compiler, Wine or dependency mirror fails the test.
add_test(NAME mingw_windows_build
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_windows_build.sh
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_build)
# Needs the fixture mingw_deps (tests/windows_deps.cmake, included first).
set_tests_properties(mingw_windows_build PROPERTIES LABELS mingw TIMEOUT 1800
                     FIXTURES_REQUIRED mingw_deps COST 240)
# The tests below run in the tree mingw_windows_build made (not configured
# again): the agent under Wine, ssrp.exe through TPM Base Services to swtpm
# and a program built against libssrp.dll running the agent against the
# simulated cloud (tests/mingw/run_agent_wine.sh); ssrp.msi read back and
# installed under Wine (tests/mingw/run_msi.sh).
set_tests_properties(mingw_windows_build PROPERTIES FIXTURES_SETUP mingw_windows_tree)
if(TARGET ssrp_sim_cli)
  add_test(NAME mingw_windows_agent
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_agent_wine.sh ${PROJECT_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_build/build
                   ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_agent $<TARGET_FILE:ssrp_sim_cli>)
  set_tests_properties(mingw_windows_agent PROPERTIES LABELS mingw TIMEOUT 600
                       FIXTURES_REQUIRED mingw_windows_tree)
endif()
# The BitLocker on-disk codec in the Windows build: ssrp.exe volume status
# and volume decrypt under Wine on Windows-made volumes (XTS, CBC with the
# diffuser), against the SHA-256 Windows recorded
# (tests/mingw/run_volume_wine.sh).
add_test(NAME mingw_windows_volume
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_volume_wine.sh ${PROJECT_SOURCE_DIR}
                 ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_build/build
                 ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_volume
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/bitlk-windows.tar.xz)
set_tests_properties(mingw_windows_volume PROPERTIES LABELS mingw TIMEOUT 600
                     FIXTURES_REQUIRED mingw_windows_tree)
add_test(NAME mingw_windows_msi
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_msi.sh ${PROJECT_SOURCE_DIR}
                 ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_build/build
                 ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_msi)
set_tests_properties(mingw_windows_msi PROPERTIES LABELS mingw TIMEOUT 600
                     FIXTURES_REQUIRED mingw_windows_tree)
# The device certificate from Wine's LocalMachine\MY store by thumbprint
# (device.cert_file "LocalMachine\MY\<thumbprint>", no key file): identity,
# mutual TLS to the simulated DRS, refusals by name, and what Wine's
# Schannel cannot do (tests/mingw/run_certstore_wine.sh).
if(TARGET ssrp_sim_cli)
  add_test(NAME mingw_windows_certstore
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_certstore_wine.sh ${PROJECT_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_build/build
                   ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_certstore $<TARGET_FILE:ssrp_sim_cli>)
  set_tests_properties(mingw_windows_certstore PROPERTIES LABELS mingw TIMEOUT 600
                       FIXTURES_REQUIRED mingw_windows_tree)
  # Two Wine Schannel clients at once failed handshakes to the simulator on
  # the shared 2-core machine: one at a time.
  set_tests_properties(mingw_windows_certstore mingw_windows_agent PROPERTIES
                       RESOURCE_LOCK wine_schannel)
endif()
# The installed Windows tree used by a project outside it: cmake --install
# into a scratch prefix, tests/consumer built with mingw-w64 through
# find_package(ssrp) and pkg-config, run under Wine
# (tests/mingw/run_consumer_windows.sh).
add_test(NAME mingw_windows_consumer
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/run_consumer_windows.sh ${PROJECT_SOURCE_DIR}
                 ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_build/build
                 ${CMAKE_CURRENT_BINARY_DIR}/mingw/windows_consumer)
set_tests_properties(mingw_windows_consumer PROPERTIES LABELS mingw TIMEOUT 600
                     FIXTURES_REQUIRED mingw_windows_tree)
