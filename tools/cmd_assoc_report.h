#ifndef SSRP_TOOLS_CMD_ASSOC_REPORT_H
#define SSRP_TOOLS_CMD_ASSOC_REPORT_H
/* `ssrp assoc report ...`; argv[0] is "report". Returns the exit code. */
int ssrp_cmd_assoc_report(int argc, char **argv);
#endif
