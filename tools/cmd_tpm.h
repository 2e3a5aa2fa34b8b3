#ifndef SSRP_TOOLS_CMD_TPM_H
#define SSRP_TOOLS_CMD_TPM_H
/* `ssrp tpm ...`; argv[0] is "tpm". Returns the exit code. */
int ssrp_cmd_tpm(int argc, char **argv);
#endif
