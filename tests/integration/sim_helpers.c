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

#include "escrow/config.h"
#include "hal/http.h"
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

const char *sim_bin(void)
{
	const char *bin = getenv("SSRP_BIN");
	if (!bin || !*bin) {
		fprintf(stderr, "SSRP_BIN must name the ssrp command\n");
		return NULL;
	}
	return bin;
}

int sim_make_work(char *work, size_t cap, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(work, cap, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	return mkdtemp(work) ? 0 : -1;
}

int sim_remove_work(const char *work)
{
	if (getenv("SSRP_KEEP_TEST_DIR"))
		return 0;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
	if (system(cmd) == 0)
		return 0;
	fprintf(stderr, "could not remove %s\n", work);
	return -1;
}

int sim_cloud_start(const char *bin, const char *dir, const char *const *args, char **env)
{
	const char *argv[24] = {"cloud", "start", "--dir", dir};
	int n = 4;
	for (; args && *args && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	*env = NULL;
	if (sim_run(bin, argv) != 0)
		return -1;
	char path[1024];
	snprintf(path, sizeof path, "%s/cloud.env", dir);
	*env = sim_read_text(path);
	return 0;
}

int sim_admin_token(const char *env_text, char *out, size_t cap)
{
	char token_file[1024];
	if (sim_env_value(env_text, "SSRP_SIM_ADMIN_TOKEN_FILE", token_file, sizeof token_file))
		return -1;
	char *t = sim_read_text(token_file);
	if (!t)
		return -1;
	snprintf(out, cap, "%s", t);
	free(t);
	return 0;
}

void sim_admin_post(const char *config_path, const char *token, const char *path,
		    const char *body)
{
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, config_path), 0);
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char auth[200], url[300];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	snprintf(url, sizeof url, "https://graph.microsoft.com%s", path);
	const char *hdrs[] = {auth, NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = hdrs, .body = body,
			    .body_len = strlen(body)};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), 0);
	assert_int_equal(r.status, 200);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	ssrp_cloud_config_free(cfg);
}
