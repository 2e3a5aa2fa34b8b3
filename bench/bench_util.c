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
