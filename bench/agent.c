/* The device agent's cost: a first run and the steady state of a fresh
 * device, against the real parts (a swtpm, the simulated cloud with its
 * demo device, `ssrp assoc serve`), in process through ssrp_agent_run() so
 * the figures leave out process start-up; the `ssrp agent run` process is
 * timed as well.
 *
 *   1. A warm-up first run on a scratch volume and journal (not counted):
 *      the association service (one worker: each worker keeps its own
 *      tokens) fetches its Graph tokens then, so the measured run's
 *      request-log window holds only what the device caused.
 *   2. The first run on a fresh volume (data, protection off) and an empty
 *      journal: wall time; HTTPS requests by the agent (its report) and in
 *      the simulator's log by service: DRS uploads (escrow), token requests
 *      (any login.microsoftonline.com request in the window counts, the
 *      service's included: conservative), and the association requests
 *      (the report's count minus the escrow and token requests: the
 *      service is not behind the simulator); TPM unseals (report).
 *   3. --steady N runs (20) on the now compliant device: median and p90
 *      wall time, requests (report and log), unseals.
 *   4. `ssrp agent run` as a process on the compliant device (median of 5).
 *   5. References in the same run: `ssrp volume status` as a process, and
 *      in process: opening the volume and reading its status; opening and
 *      closing the TPM.
 * Goal (issue): first run = 1 escrow request per recovery password + 1
 * association request, no token request; steady state 0 requests, 0
 * unseals, under 20 ms. The last line is one JSON object.
 *
 * usage: bench_agent --ssrp PATH [--steady N] [--keep DIR] */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssrp/sim.h"
#include "sim/swtpm.h"
#include "bench/bench_util.h"
#include "ssrp/agent.h"
#include "ssrp/error.h"
#include "ssrp/tpm.h"
#include "ssrp/volume.h"

extern char **environ;

#define GOAL_STEADY_MS 20.0
#define MAX_RUNS 200

static char work[512], sim_dir[600], config[700], log_path[700], swtpm_dir[600];
static const char *ssrp_bin;   /* ssrp-sim: the simulated cloud */
static const char *assocd_bin; /* ssrp-assocd */
static pid_t serve_pid;
static int sim_started, tpm_started;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	int i = (int)(p * (n - 1) + 0.5);
	return n ? v[i] : 0;
}

/* Requests in the simulator's log between byte offsets, by service
 * (admin endpoints left out). */
typedef struct log_counts {
	long total, drs, login, graph, other;
} log_counts;

static void read_log(long from, log_counts *c)
{
	memset(c, 0, sizeof *c);
	usleep(50 * 1000); /* the line of the last answer */
	char *text = bench_read_file(log_path, NULL);
	if (!text || (long)strlen(text) < from) {
		free(text);
		return;
	}
	for (char *p = strtok(text + from, "\n"); p; p = strtok(NULL, "\n")) {
		if (strstr(p, "\"path\":\"/admin/"))
			continue;
		c->total++;
		if (strstr(p, "\"host\":\"enterpriseregistration.windows.net\""))
			c->drs++;
		else if (strstr(p, "\"host\":\"login.microsoftonline.com\""))
			c->login++;
		else if (strstr(p, "\"host\":\"graph.microsoft.com\""))
			c->graph++;
		else
			c->other++;
	}
	free(text);
}

static void cleanup(void)
{
	if (serve_pid > 0) {
		kill(serve_pid, SIGTERM);
		waitpid(serve_pid, NULL, 0);
		serve_pid = 0;
	}
	if (sim_started) {
		char *argv[] = {(char *)ssrp_bin, "cloud", "stop", "--dir", sim_dir, NULL};
		bench_run(argv, NULL, NULL);
		sim_started = 0;
	}
	if (tpm_started) {
		ssrp_sim_swtpm_stop(swtpm_dir);
		tpm_started = 0;
	}
}

static int fail(const char *what)
{
	fprintf(stderr, "bench_agent: %s\n", what);
	cleanup();
	return 1;
}

static int make_volume(const char *path)
{
	char spec[700];
	snprintf(spec, sizeof spec, "sim:%s", path);
	ssrp_volume *v = NULL;
	static unsigned char data[65536];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 131 + 7);
	int rc = ssrp_sim_volume_create(path, 8u * 1024 * 1024);
	if (!rc)
		rc = ssrp_volume_open(&v, spec);
	if (!rc)
		rc = ssrp_volume_write(v, 1024 * 1024, data, sizeof data);
	ssrp_volume_close(v);
	if (rc)
		fprintf(stderr, "bench_agent: volume %s: %s\n", path, ssrp_error_last());
	return rc;
}

static int agent(const char *img, const char *journal, const char *tpm_spec, ssrp_agent_report *r,
		 double *ms)
{
	char spec[700];
	snprintf(spec, sizeof spec, "sim:%s", img);
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = config;
	o.volume_spec = spec;
	o.tpm_spec = tpm_spec;
	o.journal_path = journal;
	*r = (ssrp_agent_report)SSRP_AGENT_REPORT_INIT;
	double t0 = now_ms();
	int rc = ssrp_agent_run(&o, r);
	*ms = now_ms() - t0;
	if (rc)
		fprintf(stderr, "bench_agent: agent run failed: %s\n", ssrp_error_last());
	else if (r->state != SSRP_AGENT_COMPLIANT)
		fprintf(stderr, "bench_agent: agent run: %s: %s\n", ssrp_agent_state_name(r->state),
			r->reason);
	return rc ? rc : r->state == SSRP_AGENT_COMPLIANT ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_agent --ssrp SSRP_SIM --assocd SSRP_ASSOCD [--steady N] [--keep DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (ssrp_sim_register_backends())
		return 1;
	int steady = 20;
	const char *keep = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ssrp") && i + 1 < argc)
			ssrp_bin = argv[++i];
		else if (!strcmp(argv[i], "--assocd") && i + 1 < argc)
			assocd_bin = argv[++i];
		else if (!strcmp(argv[i], "--steady") && i + 1 < argc)
			steady = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
			keep = argv[++i];
		else
			return usage();
	}
	if (!ssrp_bin || !assocd_bin || steady < 1 || steady > MAX_RUNS)
		return usage();
	if (keep) {
		snprintf(work, sizeof work, "%s", keep);
		mkdir(work, 0700);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(work, sizeof work, "%s/ssrp-bench-agent.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(work))
			return fail("cannot make a temporary directory");
	}
	snprintf(sim_dir, sizeof sim_dir, "%s/cloud", work);
	snprintf(swtpm_dir, sizeof swtpm_dir, "%s/tpm", work);
	unsetenv("SSRP_TEST_KILL_AT");

	/* the parts */
	ssrp_sim_swtpm tpm;
	if (ssrp_sim_swtpm_start(&tpm, swtpm_dir) != SSRP_OK) {
		fprintf(stderr, "bench_agent: swtpm: %s\n", ssrp_error_last());
		return fail("cannot start swtpm");
	}
	tpm_started = 1;
	char out[700], err[700];
	snprintf(out, sizeof out, "%s/sim-start.out", work);
	snprintf(err, sizeof err, "%s/sim-start.err", work);
	char *start_argv[] = {(char *)ssrp_bin, "cloud", "start", "--dir", sim_dir, NULL};
	if (bench_run(start_argv, out, err) != 0)
		return fail("cannot start the simulated cloud (see sim-start.err with --keep)");
	sim_started = 1;
	char envp[700];
	snprintf(envp, sizeof envp, "%s/cloud.env", sim_dir);
	char *env = bench_read_file(envp, NULL);
	if (!env || bench_env_value(env, "SSRP_SIM_CONFIG", config, sizeof config) ||
	    bench_env_value(env, "SSRP_SIM_LOG", log_path, sizeof log_path)) {
		free(env);
		return fail("cloud.env lacks SSRP_SIM_CONFIG or SSRP_SIM_LOG");
	}
	free(env);
	char port_file[700], serve_out[700], serve_err[700];
	snprintf(port_file, sizeof port_file, "%s/assoc.port", work);
	snprintf(serve_out, sizeof serve_out, "%s/assoc.out", work);
	snprintf(serve_err, sizeof serve_err, "%s/assoc.err", work);
	/* One worker: each worker keeps its own tokens, and the warm-up can
	 * only warm the one it reaches. */
	char *serve_argv[] = {(char *)assocd_bin, "--config", config, "--workers", "1",
			      "--port-file", port_file, NULL};
	serve_pid = bench_spawn(serve_argv, serve_out, serve_err);
	for (int i = 0; i < 100 && file_size(port_file) == 0; i++)
		usleep(100 * 1000);
	if (serve_pid < 0 || file_size(port_file) == 0)
		return fail("ssrp assoc serve did not start");

	char warm_img[700], warm_j[700], img[700], journal[700];
	snprintf(warm_img, sizeof warm_img, "%s/warm.img", work);
	snprintf(warm_j, sizeof warm_j, "%s/warm.journal", work);
	snprintf(img, sizeof img, "%s/os.img", work);
	snprintf(journal, sizeof journal, "%s/agent.journal", work);
	if (make_volume(warm_img) || make_volume(img))
		return fail("cannot make the volumes");

	/* 1. warm-up */
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	double ms;
	if (agent(warm_img, warm_j, tpm.spec, &r, &ms))
		return fail("the warm-up run did not end compliant");

	/* 2. the first run */
	log_counts first_log;
	long mark = file_size(log_path);
	if (agent(img, journal, tpm.spec, &r, &ms))
		return fail("the first run did not end compliant");
	read_log(mark, &first_log);
	double first_ms = ms;
	unsigned long first_requests = r.http_requests, first_unseals = r.tpm_unseals;
	unsigned long first_tpm_commands = r.tpm_commands;
	unsigned long first_writes = r.journal_writes + r.volume_changes;
	int n_rp = 0;
	for (size_t i = 0; i < r.n_protectors; i++)
		n_rp += r.protectors[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD;
	long escrow = first_log.drs, tokens = first_log.login;
	long assoc = (long)first_requests - escrow - tokens;

	/* 3. the steady state */
	double st_ms[MAX_RUNS];
	unsigned long st_requests = 0, st_unseals = 0, st_writes = 0, st_tpm_commands = 0;
	mark = file_size(log_path);
	for (int i = 0; i < steady; i++) {
		if (agent(img, journal, tpm.spec, &r, &st_ms[i]))
			return fail("a steady-state run did not end compliant");
		st_requests += r.http_requests;
		st_unseals += r.tpm_unseals;
		st_tpm_commands += r.tpm_commands;
		st_writes += r.journal_writes + r.volume_changes;
	}
	log_counts st_log;
	read_log(mark, &st_log);
	double st_p90 = percentile(st_ms, steady, 0.9);
	double st_median = percentile(st_ms, steady, 0.5);

	/* 4. the process */
	char vspec[720];
	snprintf(vspec, sizeof vspec, "sim:%s", img);
	char *proc_argv[] = {(char *)ssrp_bin, "agent", "run", "--config", config, "--volume", vspec,
			     "--tpm", tpm.spec, "--journal", journal, "--quiet", NULL};
	double proc_ms[5];
	for (int i = 0; i < 5; i++) {
		double t0 = now_ms();
		int rc = bench_run(proc_argv, NULL, NULL);
		proc_ms[i] = now_ms() - t0;
		if (rc != 0)
			return fail("`ssrp agent run` did not exit 0 on the compliant device");
	}
	double proc_median = percentile(proc_ms, 5, 0.5);

	/* 5. references */
	char *status_argv[] = {(char *)ssrp_bin, "volume", "status", "--volume", vspec, NULL};
	double vs_ms[5];
	for (int i = 0; i < 5; i++) {
		double t0 = now_ms();
		bench_run(status_argv, NULL, NULL);
		vs_ms[i] = now_ms() - t0;
	}
	double vs_proc_median = percentile(vs_ms, 5, 0.5);
	double open_ms[MAX_RUNS], tpm_ms[MAX_RUNS];
	for (int i = 0; i < steady; i++) {
		ssrp_volume *v = NULL;
		ssrp_volume_status vst = SSRP_VOLUME_STATUS_INIT;
		double t0 = now_ms();
		if (ssrp_volume_open(&v, vspec) == SSRP_OK)
			ssrp_volume_get_status(v, &vst);
		ssrp_volume_close(v);
		open_ms[i] = now_ms() - t0;
		ssrp_tpm *t = NULL;
		t0 = now_ms();
		if (ssrp_tpm_open(&t, tpm.spec) != SSRP_OK)
			return fail("cannot open the TPM");
		ssrp_tpm_close(t);
		tpm_ms[i] = now_ms() - t0;
	}
	double open_median = percentile(open_ms, steady, 0.5);
	double tpm_median = percentile(tpm_ms, steady, 0.5);
	cleanup();

	int first_met = escrow == n_rp && assoc == 1 && tokens == 0 &&
			(long)first_requests == escrow + 1;
	int steady_met = st_requests == 0 && st_log.total == 0 && st_unseals == 0 &&
			 st_median < GOAL_STEADY_MS;
	printf("agent, first run on a fresh device (demo device, %d recovery password%s):\n", n_rp,
	       n_rp == 1 ? "" : "s");
	printf("  wall %.1f ms; %lu HTTPS requests by the agent: %ld escrow (DRS), %ld association, "
	       "%ld token; %lu unseal(s); %lu durable writes\n",
	       first_ms, first_requests, escrow, assoc, tokens, first_unseals, first_writes);
	printf("  behind the association service (its own, not the device's): %ld Graph requests\n",
	       first_log.graph);
	printf("steady state, %d runs in process: median %.2f ms, p90 %.2f ms; %lu requests (log: %ld), "
	       "%lu unseals, %lu durable writes\n",
	       steady, st_median, st_p90, st_requests, st_log.total, st_unseals, st_writes);
	printf("`ssrp agent run` process on the compliant device: median %.1f ms\n", proc_median);
	printf("references: `ssrp volume status` process %.1f ms; in process: volume open+status "
	       "%.2f ms, TPM open+close %.2f ms; steady run / volume open = %.2f\n",
	       vs_proc_median, open_median, tpm_median, open_median > 0 ? st_median / open_median : 0);
	printf("goal: first run = %d escrow + 1 association request, no token: %s; steady 0 requests, "
	       "0 unseals, < %.0f ms: %s\n",
	       n_rp, first_met ? "met" : "NOT met", GOAL_STEADY_MS, steady_met ? "met" : "NOT met");
	if (keep)
		fprintf(stderr, "files kept in %s\n", work);
	else {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_agent: could not remove %s\n", work);
	}
	printf("{\"bench\":\"agent\",\"first_run_ms\":%.1f,\"first_run_requests\":%lu,"
	       "\"first_run_escrow_requests\":%ld,\"first_run_assoc_requests\":%ld,"
	       "\"first_run_token_requests\":%ld,\"first_run_tpm_unseals\":%lu,"
	       "\"first_run_tpm_commands\":%lu,\"steady_tpm_commands\":%lu,"
	       "\"first_run_recovery_passwords\":%d,\"steady_runs\":%d,\"steady_ms_median\":%.2f,"
	       "\"steady_ms_p90\":%.2f,\"steady_requests\":%lu,\"steady_unseals\":%lu,"
	       "\"process_ms_median\":%.1f,\"ref_volume_status_process_ms\":%.1f,"
	       "\"ref_volume_open_status_ms\":%.2f,\"ref_tpm_open_close_ms\":%.2f,"
	       "\"steady_over_volume_open\":%.2f,\"goal_first_run_requests\":2,\"goal_steady_ms\":%.0f,"
	       "\"met\":%s}\n",
	       first_ms, first_requests, escrow, assoc, tokens, first_unseals, first_tpm_commands,
	       st_tpm_commands, n_rp, steady, st_median,
	       st_p90, st_requests + (unsigned long)st_log.total, st_unseals, proc_median,
	       vs_proc_median, open_median, tpm_median, open_median > 0 ? st_median / open_median : 0,
	       GOAL_STEADY_MS, first_met && steady_met ? "true" : "false");
	return 0;
}
