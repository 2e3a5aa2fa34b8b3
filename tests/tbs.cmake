# The tbs TPM backend: its marshalling core over a scripted transport (unit),
# over swtpm's raw TCP port (integration), and a Windows cross-build (mingw).

ssrp_test(unit_tpm_tbs_marshal SOURCES unit/test_tbs_marshal.c LABELS unit)

ssrp_test(integration_tpm_tbs_socket
          SOURCES integration/test_tbs_socket.c integration/swtpm_fixture.c
          LABELS integration LIBS ssrp_sim)

# Builds tbs_probe.exe with x86_64-w64-mingw32-gcc at test time; the script
# exits 77 (skip) only when that compiler is not installed.
add_test(NAME mingw_tbs_backend
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mingw/build_tbs_probe.sh
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/mingw)
set_tests_properties(mingw_tbs_backend PROPERTIES LABELS mingw SKIP_RETURN_CODE 77 TIMEOUT 300)
