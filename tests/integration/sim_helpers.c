#include <errno.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tests/integration/sim_helpers.h"

extern char **environ;

void sim_write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

char *sim_read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	size_t got = s ? fread(s, 1, (size_t)n, f) : 0;
	if (s)
		s[got] = '\0';
	fclose(f);
	return s;
}

int sim_run(const char *bin, const char *const *args)
{
	char *argv[24];
	int n = 0;
	argv[n++] = (char *)bin;
	for (; *args && n < 23; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	pid_t pid;
	if (posix_spawn(&pid, bin, NULL, NULL, argv, environ) != 0)
		return -1;
	int st = 0;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int sim_env_value(const char *env_text, const char *name, char *out, size_t cap)
{
	char key[64];
	snprintf(key, sizeof key, "\n%s='", name);
	const char *p = strstr(env_text, key);
	if (!p)
		return -1;
	p += strlen(key);
	size_t n = strcspn(p, "'");
	if (n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}
