#ifndef SSRP_SIM_CLI_CMD_SIM_CLOUD_H
#define SSRP_SIM_CLI_CMD_SIM_CLOUD_H
/* `ssrp sim cloud ...`; argv holds what follows "sim cloud". Returns the
 * exit code. */
int ssrp_cmd_sim_cloud(int argc, char **argv);
#endif
