#ifndef SSRP_SIM_CLI_CMD_SIM_H
#define SSRP_SIM_CLI_CMD_SIM_H
/* `ssrp-sim swtpm ...` and `ssrp-sim cloud ...`; argv[1] is "swtpm" or
 * "cloud". Returns the exit code. */
int ssrp_cmd_sim(int argc, char **argv);
/* `ssrp-sim volume create ...`; argv holds what follows "create". */
int ssrp_cmd_sim_volume_create(int argc, char **argv);
#endif
