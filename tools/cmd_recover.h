#ifndef SSRP_TOOLS_CMD_RECOVER_H
#define SSRP_TOOLS_CMD_RECOVER_H
/* `ssrp recover ...`; argv[0] is "recover". Returns the exit code. */
int ssrp_cmd_recover(int argc, char **argv);
#endif
