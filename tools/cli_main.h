/* The command words every ssrp command shares (tools/cli_main.c). */
#ifndef SSRP_TOOLS_CLI_MAIN_H
#define SSRP_TOOLS_CLI_MAIN_H

/* argv[1] is the command word; returns the exit code. */
int ssrp_cli_dispatch(int argc, char **argv);
void ssrp_cli_print_help(void);

#endif
