# The tbs TPM backend: its marshalling core over a scripted transport (unit),
# and over swtpm's raw TCP port, sealing through ESAPI included
# (integration). Its Windows build runs under Wine in mingw_windows_build
# (no TPM), mingw_windows_agent (swtpm behind TBS) and mingw_unit_tbs_windows.

ssrp_test(unit_tpm_tbs_marshal SOURCES unit/test_tbs_marshal.c LABELS unit)

ssrp_test(integration_tpm_tbs_socket
          SOURCES integration/test_tbs_socket.c integration/swtpm_fixture.c
          LABELS integration LIBS ssrp_sim)
