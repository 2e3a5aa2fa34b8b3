#ifndef SSRP_TOOLS_CMD_ASSOC_H
#define SSRP_TOOLS_CMD_ASSOC_H
/* `ssrp assoc ...`; argv[0] is "assoc". Returns the exit code. */
int ssrp_cmd_assoc(int argc, char **argv);
#endif
