#ifndef SSRP_TOOLS_CMD_ASSOC_LOGIN_H
#define SSRP_TOOLS_CMD_ASSOC_LOGIN_H
/* `ssrp assoc login ...`; argv[0] is "login". Returns the exit code. */
int ssrp_cmd_assoc_login(int argc, char **argv);
#endif
