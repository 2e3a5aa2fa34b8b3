#ifndef SSRP_TOOLS_CMD_ASSOC_SERVE_H
#define SSRP_TOOLS_CMD_ASSOC_SERVE_H
/* `ssrp-assocd ...`; argv[0] is the program. Returns the exit code. */
int ssrp_cmd_assoc_serve(int argc, char **argv);
#endif
