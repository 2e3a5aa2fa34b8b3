/* ssrp-sim: the simulator's command. It is the ssrp command with
 * libssrp-sim's backends registered ("sim:" volumes, "tbs-socket:" TPMs)
 * and these words of its own:
 *   ssrp-sim swtpm start|stop|restart|status --dir DIR   a software TPM
 *   ssrp-sim cloud start|run|stop|status --dir DIR ...   the simulated cloud
 *   ssrp-sim volume create --volume sim:IMG --size 64M   a new volume
 * Crash injection for the tests: with SSRP_TEST_KILL_AT=N in the
 * environment, `ssrp-sim agent run` kills itself with SIGKILL just before
 * the run's Nth durable write, as a power cut would. Production's ssrp has
 * none of this. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssrp/error.h"
#include "ssrp/sim.h"
#include "tools/cli_main.h"
#include "tools/cli_util.h"
#include "tools/cmd_agent.h"
#include "sim/cli/cmd_sim.h"

static unsigned long kill_at;

static void kill_before_write(unsigned long n)
{
	if (n == kill_at)
		raise(SIGKILL);
}

static int take_kill_at(void)
{
	const char *v = getenv("SSRP_TEST_KILL_AT");
	if (!v || !*v)
		return 0;
	char *end;
	kill_at = strtoul(v, &end, 10);
	if (*end || !kill_at)
		return cli_usage_error("SSRP_TEST_KILL_AT='%s': expected a write number from 1", v);
	ssrp_cmd_agent_on_write(kill_before_write);
	return 0;
}

static const char usage[] =
	"usage: ssrp-sim <command> [arguments]\n"
	"\n"
	"The simulator: every ssrp command, with simulated volumes (sim:IMG) and the\n"
	"tbs backend over a TPM socket (tbs-socket:HOST:PORT) registered, and:\n"
	"  ssrp-sim swtpm start --dir DIR [--env]   start a software TPM, print its SPEC\n"
	"  ssrp-sim swtpm stop|restart|status --dir DIR\n"
	"  ssrp-sim cloud start --dir DIR [--state FILE] [--port 0] [--faults SPEC]\n"
	"                 [--job-command PATH] [--env-out FILE]\n"
	"                                           the simulated Microsoft cloud (token,\n"
	"                                           Graph, Device Registration, webhooks)\n"
	"  ssrp-sim cloud stop|status|run --dir DIR (see 'ssrp-sim cloud --help')\n"
	"  ssrp-sim volume create --volume sim:IMG --size 64M [--method M]\n"
	"                                           a new BitLocker volume in a file\n"
	"SSRP_TEST_KILL_AT=N makes `agent run` die before its Nth durable write.\n"
	"\n"
	"The ssrp commands:\n";

int main(int argc, char **argv)
{
	(void)ssrp_harden_process();
	setenv("TSS2_LOG", "all+NONE", 0);
	if (ssrp_sim_register_backends()) {
		fprintf(stderr, "ssrp-sim: %s\n", ssrp_error_last());
		return EXIT_FAILURE;
	}
	int rc = take_kill_at();
	if (rc)
		return rc;
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "swtpm") || !strcmp(cmd, "cloud"))
		return ssrp_cmd_sim(argc, argv);
	if (!strcmp(cmd, "volume") && argc > 2 && !strcmp(argv[2], "create"))
		return ssrp_cmd_sim_volume_create(argc - 3, argv + 3);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		ssrp_cli_print_help();
		return EXIT_OK;
	}
	return ssrp_cli_dispatch(argc, argv);
}
