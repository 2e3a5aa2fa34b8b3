/* The swtpm harness: start, find, stop and restart one software TPM per
 * state directory (see swtpm.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "hal/fs.h"
#include "sim/swtpm.h"
#include "ssrp/sys/error.h"

#define LOOPBACK "127.0.0.1"
#define PID_FILE "swtpm.pid"
#define LOG_FILE "swtpm.log"
/* Tries with fresh ports when another process took ours first. */
#define START_TRIES 5
/* Room after the directory for "/swtpm.env.tmp" and the like. */
#define DIR_MAX (sizeof(((ssrp_sim_swtpm *)0)->dir) - 32)

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* launch() outcome meaning "swtpm could not bind its ports": try others. */
#define LAUNCH_PORTS_BUSY 1

/* ---- small helpers -------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int path_join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return ssrp_error_set(SSRP_E_INVALID, "path too long: %s/%s", dir, name);
	return SSRP_OK;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	return ssrp_fs_mkdirs(dir, 0700);
}

/* Characters the swtpm option syntax (comma lists) or our env file format
 * (single-quoted values) cannot carry. */
static int check_dir_chars(const char *dir)
{
	for (const char *p = dir; *p; p++) {
		if (*p == ',' || *p == '\'' || (unsigned char)*p < 0x20)
			return ssrp_error_set(SSRP_E_INVALID,
					      "state directory '%s' contains a comma, quote or "
					      "control character, which swtpm options cannot carry",
					      dir);
	}
	return SSRP_OK;
}

/* Make dir absolute and canonical into out (which has DIR_MAX+32 bytes).
 * With create, make it first; without, a missing dir is SSRP_E_NOTFOUND. */
static int resolve_dir(char *out, const char *dir, int create)
{
	if (!dir || !*dir)
		return ssrp_error_set(SSRP_E_INVALID, "no swtpm state directory given");
	int rc = check_dir_chars(dir);
	if (rc)
		return rc;
	if (create && (rc = make_dirs(dir)) != SSRP_OK)
		return rc;
	char *abs = realpath(dir, NULL);
	if (!abs) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ssrp_error_set(SSRP_E_NOTFOUND,
					      "no software TPM for %s: the directory does not exist",
					      dir);
		return ssrp_error_set(SSRP_E_IO, "cannot resolve %s: %s", dir, strerror(errno));
	}
	size_t len = strlen(abs);
	if (len >= DIR_MAX) {
		free(abs);
		return ssrp_error_set(SSRP_E_INVALID, "state directory path too long: %s", dir);
	}
	memcpy(out, abs, len + 1);
	free(abs);
	return check_dir_chars(out);
}

/* 1 when pid is a live (not zombie) swtpm serving state dir. A zombie's
 * cmdline is empty, so exited-but-unreaped daemons count as gone. */
static int swtpm_alive(long pid, const char *dir)
{
	if (pid <= 1 || pid > INT_MAX)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		/* Without procfs (not Linux) the pid cannot be checked further. */
		if (access("/proc/self/cmdline", R_OK) != 0)
			return kill((pid_t)pid, 0) == 0 || errno == EPERM;
		return 0;
	}
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof buf - 1 &&
	       (n = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len == 0)
		return 0;
	buf[len] = '\0';

	char want[sizeof(((ssrp_sim_swtpm *)0)->dir) + 8];
	snprintf(want, sizeof want, "dir=%s", dir);
	int is_swtpm = 0, has_dir = 0;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *arg = buf + i;
		if (i == 0) {
			const char *base = strrchr(arg, '/');
			is_swtpm = strstr(base ? base + 1 : arg, "swtpm") != NULL;
		} else if (strcmp(arg, want) == 0) {
			has_dir = 1;
		}
	}
	return is_swtpm && has_dir;
}

static void fill_specs(ssrp_sim_swtpm *s)
{
	snprintf(s->spec, sizeof s->spec, "tss2:swtpm:host=" LOOPBACK ",port=%d", s->port);
	snprintf(s->tbs_spec, sizeof s->tbs_spec, "tbs-socket:" LOOPBACK ":%d", s->port);
	snprintf(s->tcti, sizeof s->tcti, "swtpm:host=" LOOPBACK ",port=%d", s->port);
}

/* ---- the env file --------------------------------------------------- */

static int write_env(const ssrp_sim_swtpm *s)
{
	char path[sizeof s->dir + 32], tmp[sizeof s->dir + 32];
	int rc = path_join(path, sizeof path, s->dir, SSRP_SIM_SWTPM_ENV_FILE);
	if (rc || (rc = path_join(tmp, sizeof tmp, s->dir, SSRP_SIM_SWTPM_ENV_FILE ".tmp")))
		return rc;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", tmp, strerror(errno));
	fprintf(f,
		"SSRP_TPM='%s'\nSSRP_TPM_TBS='%s'\nSSRP_SWTPM_PID=%ld\nSSRP_SWTPM_PORT=%d\n"
		"SSRP_SWTPM_CTRL_PORT=%d\nSSRP_SWTPM_DIR='%s'\n",
		s->spec, s->tbs_spec, s->pid, s->port, s->ctrl_port, s->dir);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		unlink(tmp);
		return ssrp_error_set(SSRP_E_IO, "cannot write %s", tmp);
	}
	/* rename: a reader never sees a half-written file. */
	if (rename(tmp, path) == -1) {
		int e = errno;
		unlink(tmp);
		return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", path, strerror(e));
	}
	return SSRP_OK;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Read pid and ports from dir's env file (dir already resolved). */
static int read_env(ssrp_sim_swtpm *out, const char *dir)
{
	char path[sizeof out->dir + 32];
	int rc = path_join(path, sizeof path, dir, SSRP_SIM_SWTPM_ENV_FILE);
	if (rc)
		return rc;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return ssrp_error_set(SSRP_E_NOTFOUND, "no software TPM is running for %s",
					      dir);
		return ssrp_error_set(SSRP_E_IO, "cannot read %s: %s", path, strerror(errno));
	}
	long pid = 0, port = 0, ctrl = 0;
	char line[2048];
	int lineno = 0;
	rc = SSRP_OK;
	while (rc == SSRP_OK && fgets(line, sizeof line, f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		const char *key = line, *val = eq + 1;
		long *dst = strcmp(key, "SSRP_SWTPM_PID") == 0	      ? &pid
			    : strcmp(key, "SSRP_SWTPM_PORT") == 0      ? &port
			    : strcmp(key, "SSRP_SWTPM_CTRL_PORT") == 0 ? &ctrl
								       : NULL;
		if (dst && parse_long(val, 1, strcmp(key, "SSRP_SWTPM_PID") == 0 ? INT_MAX : 65535,
				      dst) != 0)
			rc = ssrp_error_set(SSRP_E_FORMAT, "%s line %d: bad %s value '%s'", path,
					    lineno, key, val);
	}
	fclose(f);
	if (rc)
		return rc;
	if (!pid || !port || !ctrl)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "%s lacks SSRP_SWTPM_PID, SSRP_SWTPM_PORT or "
				      "SSRP_SWTPM_CTRL_PORT",
				      path);
	memset(out, 0, sizeof *out);
	memcpy(out->dir, dir, strlen(dir) + 1);
	out->pid = pid;
	out->port = (int)port;
	out->ctrl_port = (int)ctrl;
	fill_specs(out);
	return SSRP_OK;
}

/* The pid swtpm wrote into dir/swtpm.pid; 0 when there is none (yet). */
static long read_pid_file(const char *dir)
{
	char path[sizeof(((ssrp_sim_swtpm *)0)->dir) + 32];
	if (path_join(path, sizeof path, dir, PID_FILE))
		return 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char buf[32] = "";
	long pid = 0;
	if (fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (parse_long(buf, 2, INT_MAX, &pid) != 0)
			pid = 0;
	}
	fclose(f);
	return pid;
}

static void remove_file(const char *dir, const char *name)
{
	char path[sizeof(((ssrp_sim_swtpm *)0)->dir) + 32];
	if (path_join(path, sizeof path, dir, name) == SSRP_OK)
		unlink(path);
}

/* ---- ports and the TPM probe ---------------------------------------- */

static int bind_loopback(int port, int *out_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* The same option swtpm uses, so TIME_WAIT leftovers of a previous
	 * instance do not make a port look taken. */
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == -1) {
		close(fd);
		return -1;
	}
	if (out_port) {
		socklen_t len = sizeof a;
		if (getsockname(fd, (struct sockaddr *)&a, &len) == -1) {
			close(fd);
			return -1;
		}
		*out_port = ntohs(a.sin_port);
	}
	return fd;
}

/* 1 when both port and port+1 are free now. */
static int pair_free(int port)
{
	if (port < 1 || port > 65534)
		return 0;
	int a = bind_loopback(port, NULL);
	if (a == -1)
		return 0;
	int b = bind_loopback(port + 1, NULL);
	close(a);
	if (b == -1)
		return 0;
	close(b);
	return 1;
}

/* A port P the kernel hands out with P+1 also free. Another process may
 * still take them before swtpm binds; the caller retries then. */
static int pick_ports(int *out)
{
	for (int i = 0; i < 64; i++) {
		int port = 0;
		int fd = bind_loopback(0, &port);
		if (fd == -1)
			return ssrp_error_set(SSRP_E_IO, "cannot bind a loopback port: %s",
					      strerror(errno));
		int next = port < 65535 ? bind_loopback(port + 1, NULL) : -1;
		close(fd);
		if (next != -1) {
			close(next);
			*out = port;
			return SSRP_OK;
		}
	}
	return ssrp_error_set(SSRP_E_IO, "found no free pair of loopback ports for swtpm");
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send TPM2_GetRandom(8) to the data port: SSRP_OK when a well-formed
 * success response comes back; *tpm_rc gets a TPM error code if any. */
static int probe_tpm(int port, unsigned timeout_ms, uint32_t *tpm_rc)
{
	/* tag TPM_ST_NO_SESSIONS, size 12, TPM_CC_GetRandom, bytesRequested 8 */
	static const uint8_t cmd[12] = {0x80, 0x01, 0x00, 0x00, 0x00, 0x0c,
					0x00, 0x00, 0x01, 0x7b, 0x00, 0x08};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	struct timeval tv = {(time_t)(timeout_ms / 1000u), (suseconds_t)(timeout_ms % 1000u) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = -1;
	uint8_t hdr[10];
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write_all(fd, cmd, sizeof cmd) == 0 &&
	    read_all(fd, hdr, sizeof hdr) == 0) {
		uint32_t size = (uint32_t)hdr[2] << 24 | (uint32_t)hdr[3] << 16 |
				(uint32_t)hdr[4] << 8 | hdr[5];
		uint32_t rc = (uint32_t)hdr[6] << 24 | (uint32_t)hdr[7] << 16 |
			      (uint32_t)hdr[8] << 8 | hdr[9];
		uint8_t rest[64];
		if (hdr[0] == 0x80 && (hdr[1] == 0x01 || hdr[1] == 0x02) && size >= 10 &&
		    size - 10 <= sizeof rest && read_all(fd, rest, size - 10) == 0) {
			*tpm_rc = rc;
			ok = rc == 0 ? 0 : -1;
		}
	}
	close(fd);
	return ok;
}

/* ---- launching swtpm ------------------------------------------------ */

/* The swtpm executable from PATH into out. */
static int find_swtpm(char *out, size_t size)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		int w = snprintf(out, size, "%.*s/swtpm", (int)n, n ? path : ".");
		if (w > 0 && (size_t)w < size && access(out, X_OK) == 0)
			return SSRP_OK;
		path += n;
		if (*path == ':')
			path++;
	}
	return ssrp_error_set(SSRP_E_NOTFOUND, "swtpm is not installed (apt-get install swtpm)");
}

/* The last non-empty line of what swtpm logged from offset on. */
static void log_tail(const char *log_path, off_t offset, char *out, size_t size)
{
	out[0] = '\0';
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	char buf[4096];
	off_t end = lseek(fd, 0, SEEK_END);
	if (end > offset + (off_t)sizeof buf - 1)
		offset = end - (off_t)sizeof buf + 1;
	ssize_t n = end > offset ? pread(fd, buf, sizeof buf - 1, offset) : 0;
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	const char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	size_t len = strlen(line);
	if (len >= size)
		len = size - 1;
	memcpy(out, line, len);
	out[len] = '\0';
}

static int log_says_in_use(const char *log_path, off_t offset)
{
	int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof buf - 1, offset);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "Address already in use") != NULL;
}

/* Child side of the fork: only async-signal-safe calls from here on. */
static void exec_child(const char *exe, char *const argv[], int log_fd, int err_fd, long max_fd)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL);
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);

	/* The daemon must not hold the caller's pipes open (a shell's $(...)
	 * would wait forever): stdin from /dev/null, stdout and stderr into
	 * the log, every other descriptor closed at exec. */
	int null_fd = open("/dev/null", O_RDONLY);
	if (null_fd == -1 || dup2(null_fd, 0) == -1 || dup2(log_fd, 1) == -1 ||
	    dup2(log_fd, 2) == -1)
		goto fail;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
#endif
		for (long fd = 3; fd < max_fd; fd++)
			if (fd != err_fd)
				close((int)fd);
	execv(exe, argv);
fail:;
	int e = errno;
	ssize_t w = write(err_fd, &e, sizeof e);
	(void)w;
	_exit(127);
}

/* Start swtpm on port/port+1 and wait until it answers. SSRP_OK with
 * s->pid set; LAUNCH_PORTS_BUSY when swtpm could not bind; an error else. */
static int launch(ssrp_sim_swtpm *s, const char *exe)
{
	char log_path[sizeof s->dir + 32], pid_path[sizeof s->dir + 32];
	int rc = path_join(log_path, sizeof log_path, s->dir, LOG_FILE);
	if (rc || (rc = path_join(pid_path, sizeof pid_path, s->dir, PID_FILE)))
		return rc;

	char a_server[96], a_ctrl[96], a_state[sizeof s->dir + 8];
	char a_pid[sizeof s->dir + 48], a_log[sizeof s->dir + 48];
	snprintf(a_server, sizeof a_server, "type=tcp,port=%d,bindaddr=" LOOPBACK, s->port);
	snprintf(a_ctrl, sizeof a_ctrl, "type=tcp,port=%d,bindaddr=" LOOPBACK, s->ctrl_port);
	snprintf(a_state, sizeof a_state, "dir=%s", s->dir);
	snprintf(a_pid, sizeof a_pid, "file=%s", pid_path);
	snprintf(a_log, sizeof a_log, "file=%s", log_path);
	char *const argv[] = {"swtpm", "socket", "--tpm2", "--server", a_server, "--ctrl", a_ctrl,
			      "--tpmstate", a_state, "--flags", "not-need-init,startup-clear",
			      "--daemon", "--pid", a_pid, "--log", a_log, NULL};

	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd == -1)
		return ssrp_error_set(SSRP_E_IO, "cannot open %s: %s", log_path, strerror(errno));
	struct stat st;
	off_t log_start = fstat(log_fd, &st) == 0 ? st.st_size : 0;
	int errpipe[2];
	if (pipe(errpipe) == -1) {
		close(log_fd);
		return ssrp_error_set(SSRP_E_IO, "pipe: %s", strerror(errno));
	}
	fcntl(errpipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(errpipe[1], F_SETFD, FD_CLOEXEC);
	long max_fd = sysconf(_SC_OPEN_MAX);
	if (max_fd <= 0 || max_fd > 65536)
		max_fd = 65536;
	unlink(pid_path);

	pid_t child = fork();
	if (child == 0)
		exec_child(exe, argv, log_fd, errpipe[1], max_fd);
	int fork_errno = errno;
	close(errpipe[1]);
	close(log_fd);
	if (child == -1) {
		close(errpipe[0]);
		return ssrp_error_set(SSRP_E_IO, "fork: %s", strerror(fork_errno));
	}
	int exec_errno = 0;
	ssize_t n;
	while ((n = read(errpipe[0], &exec_errno, sizeof exec_errno)) == -1 && errno == EINTR)
		;
	close(errpipe[0]);
	if (n > 0) {
		while (waitpid(child, NULL, 0) == -1 && errno == EINTR)
			;
		return ssrp_error_set(SSRP_E_IO, "cannot run %s: %s", exe, strerror(exec_errno));
	}

	/* swtpm binds its sockets before it daemonises, so the first process's
	 * exit status says whether the ports were free. */
	uint64_t deadline = now_ms() + SSRP_SIM_SWTPM_START_TIMEOUT_MS;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		if (w == -1 && errno != EINTR)
			return ssrp_error_set(SSRP_E_IO, "waitpid: %s", strerror(errno));
		if (now_ms() > deadline) {
			kill(child, SIGKILL);
			while (waitpid(child, NULL, 0) == -1 && errno == EINTR)
				;
			return ssrp_error_set(SSRP_E_IO,
					      "swtpm did not start within %d s; see %s",
					      SSRP_SIM_SWTPM_START_TIMEOUT_MS / 1000, log_path);
		}
		sleep_ms(5);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (log_says_in_use(log_path, log_start))
			return LAUNCH_PORTS_BUSY;
		char tail[512];
		log_tail(log_path, log_start, tail, sizeof tail);
		return ssrp_error_set(SSRP_E_IO, "swtpm failed to start (%s %d)%s%s; see %s",
				      WIFEXITED(status) ? "exit status" : "signal",
				      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				      tail[0] ? ": " : "", tail, log_path);
	}

	/* The daemon now owns the ports; wait for its pid file and an answer. */
	long pid = 0;
	uint32_t tpm_rc = 0;
	for (;;) {
		if (!pid)
			pid = read_pid_file(s->dir);
		if (pid && !swtpm_alive(pid, s->dir)) {
			char tail[512];
			log_tail(log_path, log_start, tail, sizeof tail);
			return ssrp_error_set(SSRP_E_IO, "swtpm (pid %ld) exited during start-up%s%s; see %s",
					      pid, tail[0] ? ": " : "", tail, log_path);
		}
		uint64_t now = now_ms();
		if (now > deadline)
			break;
		unsigned left = (unsigned)(deadline - now);
		if (pid && probe_tpm(s->port, left < 2000 ? left : 2000, &tpm_rc) == 0) {
			s->pid = pid;
			return SSRP_OK;
		}
		sleep_ms(10);
	}
	if (pid && swtpm_alive(pid, s->dir))
		kill((pid_t)pid, SIGKILL);
	if (tpm_rc)
		return ssrp_error_set(SSRP_E_IO,
				      "swtpm on " LOOPBACK ":%d answered TPM2_GetRandom with TPM rc "
				      "0x%03x; see %s",
				      s->port, (unsigned)tpm_rc, log_path);
	return ssrp_error_set(SSRP_E_IO, "swtpm did not answer on " LOOPBACK ":%d within %d s; see %s",
			      s->port, SSRP_SIM_SWTPM_START_TIMEOUT_MS / 1000, log_path);
}

/* ---- the API -------------------------------------------------------- */

static int start_in(ssrp_sim_swtpm *out, const char *abs_dir, int preferred_port)
{
	ssrp_sim_swtpm s;
	int rc = ssrp_sim_swtpm_load(&s, abs_dir);
	if (rc == SSRP_OK)
		return ssrp_error_set(SSRP_E_INVALID,
				      "a software TPM already runs for %s (pid %ld on " LOOPBACK
				      ":%d); stop it first",
				      abs_dir, s.pid, s.port);
	/* A missing, stale or damaged env file is replaced below. */
	if (rc != SSRP_E_NOTFOUND && rc != SSRP_E_FORMAT)
		return rc;
	/* A daemon without an env file (its starter died): it holds the state
	 * lock, so a second swtpm could not start on this dir. */
	long orphan = read_pid_file(abs_dir);
	if (orphan && swtpm_alive(orphan, abs_dir))
		return ssrp_error_set(SSRP_E_INVALID,
				      "swtpm pid %ld already serves %s without %s; run "
				      "ssrp sim swtpm stop --dir %s",
				      orphan, abs_dir, SSRP_SIM_SWTPM_ENV_FILE, abs_dir);
	remove_file(abs_dir, SSRP_SIM_SWTPM_ENV_FILE);

	char exe[PATH_MAX];
	if ((rc = find_swtpm(exe, sizeof exe)) != SSRP_OK)
		return rc;

	memset(&s, 0, sizeof s);
	memcpy(s.dir, abs_dir, strlen(abs_dir) + 1);
	for (int attempt = 0; attempt < START_TRIES; attempt++) {
		if (attempt == 0 && pair_free(preferred_port))
			s.port = preferred_port;
		else if ((rc = pick_ports(&s.port)) != SSRP_OK)
			return rc;
		s.ctrl_port = s.port + 1;
		rc = launch(&s, exe);
		if (rc != LAUNCH_PORTS_BUSY)
			break;
	}
	if (rc == LAUNCH_PORTS_BUSY)
		return ssrp_error_set(SSRP_E_IO,
				      "swtpm found its ports taken %d times in a row; see %s/%s",
				      START_TRIES, abs_dir, LOG_FILE);
	if (rc)
		return rc;
	fill_specs(&s);
	if ((rc = write_env(&s)) != SSRP_OK) {
		kill((pid_t)s.pid, SIGTERM);
		return rc;
	}
	*out = s;
	return SSRP_OK;
}

int ssrp_sim_swtpm_start(ssrp_sim_swtpm *out, const char *dir)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_sim_swtpm_start: out is NULL");
	memset(out, 0, sizeof *out);
	char abs_dir[sizeof out->dir];
	int rc = resolve_dir(abs_dir, dir, 1);
	if (rc)
		return rc;
	return start_in(out, abs_dir, 0);
}

int ssrp_sim_swtpm_load(ssrp_sim_swtpm *out, const char *dir)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_sim_swtpm_load: out is NULL");
	memset(out, 0, sizeof *out);
	char abs_dir[sizeof out->dir];
	ssrp_sim_swtpm s;
	int rc = resolve_dir(abs_dir, dir, 0);
	if (rc || (rc = read_env(&s, abs_dir)) != SSRP_OK)
		return rc;
	if (!swtpm_alive(s.pid, abs_dir))
		return ssrp_error_set(SSRP_E_NOTFOUND,
				      "no software TPM is running for %s (pid %ld in %s/%s is gone)",
				      abs_dir, s.pid, abs_dir, SSRP_SIM_SWTPM_ENV_FILE);
	*out = s;
	return SSRP_OK;
}

#define WAIT_TIMED_OUT 1

/* Signal pid and wait up to timeout_ms for it to stop being our swtpm:
 * SSRP_OK, WAIT_TIMED_OUT or an error. */
static int signal_and_wait(long pid, const char *dir, int sig, unsigned timeout_ms)
{
	if (kill((pid_t)pid, sig) == -1 && errno != ESRCH)
		return ssrp_error_set(SSRP_E_IO, "cannot signal swtpm pid %ld: %s", pid,
				      strerror(errno));
	uint64_t deadline = now_ms() + timeout_ms;
	while (swtpm_alive(pid, dir)) {
		if (now_ms() > deadline)
			return WAIT_TIMED_OUT;
		sleep_ms(10);
	}
	return SSRP_OK;
}

int ssrp_sim_swtpm_stop(const char *dir)
{
	char abs_dir[sizeof(((ssrp_sim_swtpm *)0)->dir)];
	int rc = resolve_dir(abs_dir, dir, 0);
	if (rc == SSRP_E_NOTFOUND)
		return SSRP_OK;
	if (rc)
		return rc;
	ssrp_sim_swtpm s = {0};
	long pid = 0;
	rc = read_env(&s, abs_dir);
	if (rc == SSRP_OK)
		pid = s.pid;
	else if (rc != SSRP_E_NOTFOUND && rc != SSRP_E_FORMAT)
		return rc;
	/* Without a usable env file, swtpm's own pid file still names it. */
	if (!pid || !swtpm_alive(pid, abs_dir))
		pid = read_pid_file(abs_dir);
	if (pid && swtpm_alive(pid, abs_dir)) {
		rc = signal_and_wait(pid, abs_dir, SIGTERM, SSRP_SIM_SWTPM_STOP_TIMEOUT_MS);
		if (rc == WAIT_TIMED_OUT)
			rc = signal_and_wait(pid, abs_dir, SIGKILL, 1000);
		if (rc == WAIT_TIMED_OUT)
			return ssrp_error_set(SSRP_E_IO, "swtpm pid %ld for %s did not exit", pid,
					      abs_dir);
		if (rc)
			return rc;
	}
	remove_file(abs_dir, SSRP_SIM_SWTPM_ENV_FILE);
	remove_file(abs_dir, PID_FILE); /* left behind after SIGKILL */
	return SSRP_OK;
}

int ssrp_sim_swtpm_restart(ssrp_sim_swtpm *io)
{
	if (!io)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_sim_swtpm_restart: io is NULL");
	char abs_dir[sizeof io->dir];
	int rc = resolve_dir(abs_dir, io->dir, 1);
	if (rc)
		return rc;
	int port = io->port;
	if ((rc = ssrp_sim_swtpm_stop(abs_dir)) != SSRP_OK)
		return rc;
	ssrp_sim_swtpm s;
	if ((rc = start_in(&s, abs_dir, port)) != SSRP_OK)
		return rc;
	*io = s;
	return SSRP_OK;
}
