/* bench_util.h */
#include "bench/bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

pid_t bench_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(e));
		return -1;
	}
	return pid;
}

int bench_run(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t pid = bench_spawn(argv, out_path, err_path);
	if (pid < 0)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int bench_env_value(const char *text, const char *name, char *out, size_t cap)
{
	char key[96];
	snprintf(key, sizeof key, "%s='", name);
	for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
		if (p != text && p[-1] != '\n')
			continue;
		p += strlen(key);
		size_t n = strcspn(p, "'");
		if (n >= cap)
			return -1;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

char *bench_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	size_t got = s ? fread(s, 1, (size_t)n, f) : 0;
	fclose(f);
	if (s)
		s[got] = '\0';
	if (len)
		*len = got;
	return s;
}

int bench_cloud_start(bench_cloud *c, const char *ssrp_sim, const char *dir, char *const extra[],
		      const char *who)
{
	memset(c, 0, sizeof *c);
	snprintf(c->dir, sizeof c->dir, "%s", dir);
	char *argv[32] = {(char *)ssrp_sim, "cloud", "start", "--dir", c->dir};
	size_t n = 5;
	for (size_t i = 0; extra && extra[i] && n + 1 < sizeof argv / sizeof *argv; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	char out[1100], err[1100];
	snprintf(out, sizeof out, "%s.start.out", dir);
	snprintf(err, sizeof err, "%s.start.err", dir);
	if (bench_run(argv, out, err) != 0) {
		char *e = bench_read_file(err, NULL);
		fprintf(stderr, "%s: the simulated cloud did not start: %s\n", who, e ? e : "");
		free(e);
		return -1;
	}
	c->started = 1;
	char path[1100], port[64], pid[64];
	snprintf(path, sizeof path, "%s/cloud.env", dir);
	char *text = bench_read_file(path, NULL);
	int rc = !text || bench_env_value(text, "SSRP_SIM_PORT", port, sizeof port) ||
			 bench_env_value(text, "SSRP_SIM_PID", pid, sizeof pid) ||
			 bench_env_value(text, "SSRP_SIM_CA", c->ca, sizeof c->ca) ||
			 bench_env_value(text, "SSRP_SIM_LOG", c->log, sizeof c->log) ||
			 bench_env_value(text, "SSRP_SIM_CONFIG", c->config, sizeof c->config) ||
			 bench_env_value(text, "SSRP_SIM_ADMIN_TOKEN_FILE", c->admin_token_file,
					 sizeof c->admin_token_file)
		     ? -1
		     : 0;
	free(text);
	if (rc) {
		fprintf(stderr, "%s: cannot read %s\n", who, path);
		return -1;
	}
	c->port = atoi(port);
	c->pid = atol(pid);
	return 0;
}

void bench_cloud_stop(bench_cloud *c, const char *ssrp_sim)
{
	if (!c->started)
		return;
	char *argv[] = {(char *)ssrp_sim, "cloud", "stop", "--dir", c->dir, NULL};
	bench_run(argv, NULL, NULL);
	c->started = 0;
}

size_t bench_body_write(char *p, size_t size, size_t n, void *cls)
{
	bench_body *b = cls;
	size_t add = size * n;
	if (b->len + add + 1 > b->cap) {
		size_t cap = (b->len + add + 1) * 2;
		char *q = realloc(b->p, cap);
		if (!q)
			return 0;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}
