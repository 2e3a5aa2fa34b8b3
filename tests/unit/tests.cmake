ssrp_test(unit_tpm_core SOURCES unit/test_tpm_core.c LABELS unit)
ssrp_test(unit_tpm_blob SOURCES unit/test_tpm_blob.c LABELS unit)
ssrp_test(unit_tools_cli SOURCES unit/test_tools_cli.c ${PROJECT_SOURCE_DIR}/tools/cli_util.c
          LABELS unit)
ssrp_test(unit_fs SOURCES unit/test_fs.c LABELS unit)
ssrp_test(unit_hex SOURCES unit/test_hex.c LABELS unit)
ssrp_test(unit_guid SOURCES unit/test_guid.c LABELS unit)
ssrp_test(unit_secmem SOURCES unit/test_secmem.c LABELS unit)
ssrp_test(unit_volume_status_version SOURCES unit/test_volume_status_version.c LABELS unit)
# The agent's rules over fake TPM, volume and platform backends (no swtpm,
# no cloud): tests/integration has the runs against the real ones.
ssrp_test(unit_agent_logic SOURCES unit/test_agent_logic.c LABELS unit)
