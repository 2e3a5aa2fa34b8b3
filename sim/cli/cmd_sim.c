/* `ssrp-sim swtpm` and `ssrp-sim cloud`: the simulator pieces:
 *   ssrp-sim swtpm start|stop|restart|status --dir DIR [--env]
 *   ssrp-sim cloud start|run|stop|status --dir DIR ...  (sim/cli/cmd_sim_cloud.c)
 * A thin layer over sim/swtpm.h and sim/cloud/server.h. */
#include <stdio.h>
#include <string.h>

#include "sim/swtpm.h"
#include "tools/cli_util.h"
#include "sim/cli/cmd_sim.h"
#include "sim/cli/cmd_sim_cloud.h"

static const char usage[] =
	"usage: ssrp-sim swtpm start   --dir DIR [--env]  start a software TPM keeping its\n"
	"                                                 state in DIR; print its TPM spec\n"
	"       ssrp-sim swtpm stop    --dir DIR          stop it (the state stays in DIR)\n"
	"       ssrp-sim swtpm restart --dir DIR [--env]  stop and start: PCRs reset, seeds\n"
	"                                                 kept; print the (new) spec\n"
	"       ssrp-sim swtpm status  --dir DIR [--env]  print the spec if it runs;\n"
	"                                                 exit 3 if it does not\n"
	"\n"
	"--env prints shell assignments instead of the spec, for\n"
	"  eval \"$(ssrp-sim swtpm start --dir DIR --env)\"\n"
	"swtpm serves one client at a time: use one instance (one DIR) per job.\n";

typedef struct sim_args {
	const char *action;
	const char *dir;
	int env;
	int help;
} sim_args;

/* argv holds what follows "sim swtpm". */
static int parse_swtpm_args(sim_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--dir") || !strncmp(arg, "--dir=", 6)) {
			const char *v = arg[5] == '=' ? arg + 6 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || !*v)
				return cli_usage_error("--dir needs a directory");
			a->dir = v;
		} else if (!strcmp(arg, "--env")) {
			a->env = 1;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			a->help = 1;
		} else if (arg[0] == '-' && arg[1]) {
			return cli_usage_error("unknown option '%s' for ssrp-sim swtpm", arg);
		} else if (!a->action) {
			a->action = arg;
		} else {
			return cli_usage_error("unexpected argument '%s' for ssrp-sim swtpm %s", arg,
					       a->action);
		}
	}
	return 0;
}

/* value in single quotes, safe for sh: ' becomes '\''. */
static void print_quoted(const char *name, const char *value)
{
	printf("%s='", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	fputs("'\n", stdout);
}

static void print_instance(const ssrp_sim_swtpm *s, int env)
{
	if (env) {
		print_quoted("SSRP_TPM", s->spec);
		print_quoted("SSRP_TPM_TBS", s->tbs_spec);
		printf("SSRP_SWTPM_PID=%ld\n", s->pid);
	} else {
		printf("%s\n", s->spec);
	}
	fflush(stdout);
	fprintf(stderr, "software TPM running (pid %ld) on 127.0.0.1:%d; state in %s\n", s->pid,
		s->port, s->dir);
}

static int cmd_swtpm(int argc, char **argv)
{
	sim_args a;
	int rc = parse_swtpm_args(&a, argc, argv);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!a.action)
		return cli_usage_error("ssrp-sim swtpm needs an action: start, stop, restart or "
				       "status");
	int start = !strcmp(a.action, "start"), stop = !strcmp(a.action, "stop");
	int restart = !strcmp(a.action, "restart"), status = !strcmp(a.action, "status");
	if (!start && !stop && !restart && !status)
		return cli_usage_error("unknown action '%s' for ssrp-sim swtpm (start, stop, "
				       "restart or status)",
				       a.action);
	if (!a.dir)
		return cli_usage_error("ssrp-sim swtpm %s needs --dir DIR", a.action);
	if (a.env && stop)
		return cli_usage_error("--env does not apply to ssrp-sim swtpm stop");

	ssrp_sim_swtpm s;
	if (start) {
		if ((rc = ssrp_sim_swtpm_start(&s, a.dir)) != SSRP_OK)
			return cli_fail(rc);
		print_instance(&s, a.env);
		return EXIT_OK;
	}
	rc = ssrp_sim_swtpm_load(&s, a.dir);
	if (rc != SSRP_OK && rc != SSRP_E_NOTFOUND)
		return cli_fail(rc);
	int running = rc == SSRP_OK;
	if (status) {
		if (!running) {
			fprintf(stderr, "ssrp: %s\n", ssrp_error_last());
			return EXIT_NO_TPM;
		}
		print_instance(&s, a.env);
		return EXIT_OK;
	}
	if (stop) {
		if ((rc = ssrp_sim_swtpm_stop(a.dir)) != SSRP_OK)
			return cli_fail(rc);
		if (running)
			fprintf(stderr, "software TPM (pid %ld) stopped; state kept in %s\n", s.pid,
				s.dir);
		else
			fprintf(stderr, "no software TPM was running for %s\n", a.dir);
		return EXIT_OK;
	}
	/* restart: a stopped instance just starts again on its state dir. */
	if (!running) {
		memset(&s, 0, sizeof s);
		snprintf(s.dir, sizeof s.dir, "%s", a.dir);
	}
	if ((rc = ssrp_sim_swtpm_restart(&s)) != SSRP_OK)
		return cli_fail(rc);
	print_instance(&s, a.env);
	return EXIT_OK;
}

int ssrp_cmd_sim(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("ssrp-sim needs a simulator: swtpm or cloud");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		fputs("\n", stdout);
		return ssrp_cmd_sim_cloud(1, (char *[]){"--help", NULL});
	}
	if (!strcmp(argv[1], "cloud"))
		return ssrp_cmd_sim_cloud(argc - 2, argv + 2);
	if (strcmp(argv[1], "swtpm"))
		return cli_usage_error("unknown simulator '%s' (ssrp-sim has: swtpm, cloud)",
				       argv[1]);
	return cmd_swtpm(argc - 2, argv + 2);
}
