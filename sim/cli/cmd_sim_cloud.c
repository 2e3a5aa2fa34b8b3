/* `ssrp-sim cloud`: the simulated Microsoft cloud (sim/cloud/server.h).
 *
 *   ssrp-sim cloud start  --dir DIR [options]   run it in the background
 *   ssrp-sim cloud run    --dir DIR [options]   run it in the foreground
 *   ssrp-sim cloud stop   --dir DIR
 *   ssrp-sim cloud status --dir DIR
 *
 * One server per directory. The running server holds a POSIX record lock on
 * DIR/cloud.lock; stop and status ask the kernel who holds it (F_GETLK), so
 * there is no pid file to go stale and a crashed server never blocks the
 * next start. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hal/fs.h"
#include "sim/cloud/faults.h"
#include "sim/cloud/server.h"
#include "ssrp/sys/error.h"
#include "tools/cli_util.h"
#include "sim/cli/cmd_sim_cloud.h"

#define LOCK_FILE "cloud.lock"
#define DAEMON_LOG "cloud.log"
#define START_TIMEOUT_MS 600000 /* certificates for 100k devices take a while */
#define STOP_TIMEOUT_MS 30000   /* generous: a server under valgrind is slow */

static const char usage[] =
	"usage: ssrp-sim cloud start  --dir DIR [options]  start the simulated Microsoft cloud\n"
	"                                                  in the background; print its env file\n"
	"       ssrp-sim cloud run    --dir DIR [options]  the same in the foreground (Ctrl-C stops)\n"
	"       ssrp-sim cloud stop   --dir DIR            stop it\n"
	"       ssrp-sim cloud status --dir DIR            print its pid, port and env file;\n"
	"                                                  exit 3 if it does not run\n"
	"\n"
	"options:\n"
	"  --state FILE          a JSON tenant (default: the built-in demo tenant)\n"
	"  --port N              loopback port (default 0: any free one)\n"
	"  --faults SPEC         a fault script, e.g. 'graph/v1.0/devices*:429:2@3'\n"
	"  --job-command PATH    program run for each webhook job, WebhookData on stdin\n"
	"  --env-out FILE        where to write the env file (default DIR/cloud.env)\n"
	"  --log FILE            the request log (default DIR/requests.jsonl)\n"
	"  --state-out FILE      dump the state there on SIGUSR1 and at exit\n"
	"  --device-certs N      certificates for the first N devices only (default: all)\n"
	"\n"
	"Clients: . DIR/cloud.env, then curl --cacert \"$SSRP_SIM_CA\" with --connect-to for\n"
	"each entry of $SSRP_SIM_CONNECT_TO; secrets are in the files the *_FILE variables\n"
	"name. The server's own messages go to DIR/cloud.log when started in the background.\n";

typedef struct cloud_args {
	const char *dir, *state, *port, *faults, *job_command, *env_out, *log, *state_out,
		*device_certs;
	int help;
} cloud_args;

static const cli_option options[] = {
	{"--dir", CLI_VALUE, offsetof(cloud_args, dir), NULL},
	{"--state", CLI_VALUE, offsetof(cloud_args, state), NULL},
	{"--port", CLI_VALUE, offsetof(cloud_args, port), NULL},
	{"--faults", CLI_VALUE, offsetof(cloud_args, faults), NULL},
	{"--job-command", CLI_VALUE, offsetof(cloud_args, job_command), NULL},
	{"--env-out", CLI_VALUE, offsetof(cloud_args, env_out), NULL},
	{"--log", CLI_VALUE, offsetof(cloud_args, log), NULL},
	{"--state-out", CLI_VALUE, offsetof(cloud_args, state_out), NULL},
	{"--device-certs", CLI_VALUE, offsetof(cloud_args, device_certs), NULL},
	{"--help", CLI_FLAG, offsetof(cloud_args, help), NULL},
	{"-h", CLI_FLAG, offsetof(cloud_args, help), NULL},
};

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int lock_path(char *out, size_t cap, const char *dir)
{
	if ((size_t)snprintf(out, cap, "%s/" LOCK_FILE, dir) >= cap)
		return ssrp_error_set(SSRP_E_INVALID, "directory path too long: %s", dir);
	return SSRP_OK;
}

/* The pid holding DIR's lock, 0 when none. */
static long lock_holder(const char *dir)
{
	char path[PATH_MAX];
	if (lock_path(path, sizeof path, dir))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	long pid = 0;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		pid = (long)fl.l_pid;
	close(fd);
	return pid;
}

/* Take DIR's lock for this process; the descriptor stays open (and the lock
 * held) until the process exits. */
static int take_lock(const char *dir)
{
	char path[PATH_MAX];
	int rc = lock_path(path, sizeof path, dir);
	if (rc)
		return rc;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return ssrp_error_set(SSRP_E_IO, "cannot open %s: %s", path, strerror(errno));
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		close(fd);
		long pid = lock_holder(dir);
		return ssrp_error_set(SSRP_E_INVALID,
				      "a simulated cloud already runs for %s (pid %ld); stop it first",
				      dir, pid);
	}
	return SSRP_OK;
}

static int make_dirs(const char *dir)
{
	return ssrp_fs_mkdirs(dir, 0700);
}

/* Fill cfg from the arguments; paths made absolute, because a daemon
 * should not depend on where it was started from. */
static int build_config(cloud_server_config *cfg, const cloud_args *a, char abs[][PATH_MAX])
{
	memset(cfg, 0, sizeof *cfg);
	cfg->device_certs = -1;
	long v;
	if (a->port && parse_long(a->port, 0, 65535, &v))
		return cli_usage_error("--port needs a number from 0 to 65535, not '%s'", a->port);
	cfg->port = a->port ? (int)v : 0;
	if (a->device_certs && parse_long(a->device_certs, 0, LONG_MAX, &cfg->device_certs))
		return cli_usage_error("--device-certs needs a count, not '%s'", a->device_certs);
	const char *in[] = {a->dir, a->state, a->env_out, a->log, a->state_out};
	for (int i = 0; i < 5; i++) {
		abs[i][0] = '\0';
		if (!in[i])
			continue;
		if (in[i][0] == '/') {
			snprintf(abs[i], PATH_MAX, "%s", in[i]);
		} else {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof cwd) ||
			    (size_t)snprintf(abs[i], PATH_MAX, "%s/%s", cwd, in[i]) >= PATH_MAX)
				return cli_usage_error("path too long: %s", in[i]);
		}
	}
	cfg->dir = abs[0];
	cfg->state_file = a->state ? abs[1] : NULL;
	cfg->env_out = a->env_out ? abs[2] : NULL;
	cfg->log_path = a->log ? abs[3] : NULL;
	cfg->faults = a->faults;
	cfg->job_command = a->job_command;
	if (a->faults) {
		/* A wrong script is a usage error, found before any daemon starts. */
		cloud_faults *f = NULL;
		int rc = cloud_faults_new(&f);
		if (rc == SSRP_OK)
			rc = cloud_faults_set(f, a->faults);
		cloud_faults_free(f);
		if (rc)
			return cli_usage_error("--faults: %s", ssrp_error_last());
	}
	return 0;
}

/* Run the server until SIGTERM/SIGINT/SIGHUP; report readiness (or the
 * error) on ready_fd, or on stdout/stderr when ready_fd is -1. */
static int serve(const cloud_server_config *cfg, const char *state_out, int ready_fd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	/* Blocked before any thread starts, so only sigwait below sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	cloud_server *srv = NULL;
	int rc = make_dirs(cfg->dir);
	if (!rc)
		rc = take_lock(cfg->dir);
	if (!rc)
		rc = cloud_server_start(&srv, cfg);
	if (rc) {
		if (ready_fd != -1) {
			dprintf(ready_fd, "ERR %s\n", ssrp_error_last());
			close(ready_fd);
		}
		return cli_fail(rc);
	}
	if (ready_fd != -1) {
		dprintf(ready_fd, "OK %d %s\n", cloud_server_port(srv), cloud_server_env_path(srv));
		close(ready_fd);
	} else {
		printf("%s\n", cloud_server_env_path(srv));
		fflush(stdout);
		fprintf(stderr, "simulated cloud running (pid %ld) on 127.0.0.1:%d; Ctrl-C stops it\n",
			(long)getpid(), cloud_server_port(srv));
	}
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			if (state_out && cloud_server_dump_state(srv, state_out) != SSRP_OK)
				fprintf(stderr, "ssrp-sim cloud: %s\n", ssrp_error_last());
			continue;
		}
		break;
	}
	if (state_out && cloud_server_dump_state(srv, state_out) != SSRP_OK)
		fprintf(stderr, "ssrp-sim cloud: %s\n", ssrp_error_last());
	cloud_server_stop(srv);
	return EXIT_OK;
}

static int daemonize(const cloud_server_config *cfg, const char *state_out)
{
	int rc = make_dirs(cfg->dir);
	if (rc)
		return cli_fail(rc);
	long pid = lock_holder(cfg->dir);
	if (pid) {
		ssrp_error_set(SSRP_E_INVALID,
			       "a simulated cloud already runs for %s (pid %ld); stop it first",
			       cfg->dir, pid);
		return cli_fail(SSRP_E_INVALID);
	}
	char log_path[PATH_MAX];
	if ((size_t)snprintf(log_path, sizeof log_path, "%s/" DAEMON_LOG, cfg->dir) >=
	    sizeof log_path)
		return cli_usage_error("directory path too long");
	int p[2];
	if (pipe(p) == -1) {
		ssrp_error_set(SSRP_E_IO, "pipe: %s", strerror(errno));
		return cli_fail(SSRP_E_IO);
	}
	fflush(NULL);
	pid_t child = fork();
	if (child == -1) {
		ssrp_error_set(SSRP_E_IO, "fork: %s", strerror(errno));
		return cli_fail(SSRP_E_IO);
	}
	if (child == 0) {
		close(p[0]);
		setsid();
		/* No descriptor of the caller's stays open: a shell's $(...)
		 * around `start` must see end of file once start exits. */
		int null_fd = open("/dev/null", O_RDONLY);
		int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (null_fd == -1 || log_fd == -1 || dup2(null_fd, 0) == -1 || dup2(log_fd, 1) == -1 ||
		    dup2(log_fd, 2) == -1) {
			dprintf(p[1], "ERR cannot open %s: %s\n", log_path, strerror(errno));
			_exit(1);
		}
		close(null_fd);
		close(log_fd);
		/* Nor any other descriptor it inherited (a caller's pipe that
		 * happens to sit above 2 would otherwise stay open for good). */
		long max_fd = sysconf(_SC_OPEN_MAX);
		if (max_fd <= 0 || max_fd > 65536)
			max_fd = 65536;
		for (int fd = 3; fd < max_fd; fd++)
			if (fd != p[1])
				close(fd);
		fcntl(p[1], F_SETFD, FD_CLOEXEC);
		_exit(serve(cfg, state_out, p[1]));
	}
	close(p[1]);
	char msg[2048];
	size_t len = 0;
	for (;;) {
		struct pollfd pf = {p[0], POLLIN, 0};
		int r = poll(&pf, 1, START_TIMEOUT_MS);
		if (r == 0) {
			close(p[0]);
			kill(child, SIGKILL);
			ssrp_error_set(SSRP_E_IO, "the simulated cloud did not start in time; see %s",
				       log_path);
			return cli_fail(SSRP_E_IO);
		}
		if (r < 0 && errno == EINTR)
			continue;
		ssize_t n = read(p[0], msg + len, sizeof msg - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof msg - 1)
			break;
	}
	close(p[0]);
	msg[len] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	int port = 0;
	char env[PATH_MAX + 1];
	if (sscanf(msg, "OK %d %4096s", &port, env) == 2) {
		printf("%s\n", env);
		fprintf(stderr, "simulated cloud running (pid %ld) on 127.0.0.1:%d; env in %s\n",
			(long)child, port, env);
		return EXIT_OK;
	}
	if (!strncmp(msg, "ERR ", 4)) {
		fprintf(stderr, "ssrp: %s\n", msg + 4);
		return strstr(msg, "already runs") ? EXIT_USAGE : EXIT_FAILURE_;
	}
	fprintf(stderr, "ssrp: the simulated cloud exited during start-up; see %s\n", log_path);
	return EXIT_FAILURE_;
}

/* Print what the env file says of port and pid. */
static void print_status(const char *dir, long pid)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/" CLOUD_SERVER_ENV_FILE, dir);
	char port[16] = "?";
	FILE *f = fopen(path, "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f))
			if (!strncmp(line, "SSRP_SIM_PORT='", 15))
				snprintf(port, sizeof port, "%.*s", (int)strcspn(line + 15, "'"),
					 line + 15);
		fclose(f);
	}
	printf("running pid %ld port %s env %s\n", pid, port, f ? path : "(elsewhere: --env-out)");
}

static int stop(const char *dir)
{
	long pid = lock_holder(dir);
	if (!pid) {
		fprintf(stderr, "no simulated cloud was running for %s\n", dir);
		return EXIT_OK;
	}
	int sig = SIGTERM;
	for (unsigned waited = 0;; waited += 20) {
		if (waited == 0 || waited == STOP_TIMEOUT_MS) {
			if (waited == STOP_TIMEOUT_MS)
				sig = SIGKILL;
			if (kill((pid_t)pid, sig) == -1 && errno != ESRCH) {
				ssrp_error_set(SSRP_E_IO, "cannot signal pid %ld: %s", pid,
					       strerror(errno));
				return cli_fail(SSRP_E_IO);
			}
		}
		if (lock_holder(dir) != pid)
			break;
		if (waited > STOP_TIMEOUT_MS + 5000) {
			ssrp_error_set(SSRP_E_IO, "pid %ld for %s did not exit", pid, dir);
			return cli_fail(SSRP_E_IO);
		}
		sleep_ms(20);
	}
	fprintf(stderr, "simulated cloud (pid %ld) stopped%s\n", pid,
		sig == SIGKILL ? " with SIGKILL" : "");
	return EXIT_OK;
}

int ssrp_cmd_sim_cloud(int argc, char **argv)
{
	cloud_args a;
	memset(&a, 0, sizeof a);
	const char *pos[1];
	int n_pos = 0;
	int rc = cli_parse_options(&a, options, sizeof options / sizeof *options, pos, 1, &n_pos,
				   argc, argv);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!n_pos)
		return cli_usage_error("ssrp-sim cloud needs an action: start, run, stop or status");
	const char *action = pos[0];
	int is_start = !strcmp(action, "start"), is_run = !strcmp(action, "run");
	int is_stop = !strcmp(action, "stop"), is_status = !strcmp(action, "status");
	if (!is_start && !is_run && !is_stop && !is_status)
		return cli_usage_error("unknown action '%s' for ssrp-sim cloud (start, run, stop or "
				       "status)",
				       action);
	if (!a.dir)
		return cli_usage_error("ssrp-sim cloud %s needs --dir DIR", action);
	static char abs[5][PATH_MAX];
	cloud_server_config cfg;
	if ((rc = build_config(&cfg, &a, abs)) != 0)
		return rc;
	if (is_stop || is_status) {
		if (a.state || a.port || a.faults || a.job_command || a.env_out || a.log ||
		    a.state_out || a.device_certs)
			return cli_usage_error("ssrp-sim cloud %s takes --dir only", action);
		if (is_stop)
			return stop(cfg.dir);
		long pid = lock_holder(cfg.dir);
		if (!pid) {
			fprintf(stderr, "ssrp: no simulated cloud is running for %s\n", cfg.dir);
			return EXIT_NO_TPM; /* 3: "not running", as for sim swtpm */
		}
		print_status(cfg.dir, pid);
		return EXIT_OK;
	}
	const char *state_out = a.state_out ? abs[4] : NULL;
	return is_start ? daemonize(&cfg, state_out) : serve(&cfg, state_out, -1);
}
