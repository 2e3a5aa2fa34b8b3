#ifndef SSRP_TOOLS_CMD_AGENT_H
#define SSRP_TOOLS_CMD_AGENT_H
/* `ssrp agent run|status`; argv[0] is "agent". Returns the exit code. */
int ssrp_cmd_agent(int argc, char **argv);
/* Called with its number (from 1) before each durable write of `agent run`
 * (SSRP_AGENT_STEP_WRITE); only the simulator's command installs one, to
 * kill the process there (crash tests). NULL: none. */
void ssrp_cmd_agent_on_write(void (*fn)(unsigned long n));
#endif
