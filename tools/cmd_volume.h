#ifndef SSRP_TOOLS_CMD_VOLUME_H
#define SSRP_TOOLS_CMD_VOLUME_H
/* `ssrp volume ...`; argv[0] is "volume". Returns the exit code. */
int ssrp_cmd_volume(int argc, char **argv);
#endif
