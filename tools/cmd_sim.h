#ifndef SSRP_TOOLS_CMD_SIM_H
#define SSRP_TOOLS_CMD_SIM_H
/* `ssrp sim ...`; argv[0] is "sim". Returns the exit code. */
int ssrp_cmd_sim(int argc, char **argv);
#endif
