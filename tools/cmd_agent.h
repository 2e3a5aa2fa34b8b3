#ifndef SSRP_TOOLS_CMD_AGENT_H
#define SSRP_TOOLS_CMD_AGENT_H
/* `ssrp agent run|status`; argv[0] is "agent". Returns the exit code. */
int ssrp_cmd_agent(int argc, char **argv);
#endif
