/* The "usersfile:" platform backend (users_file.h). */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <ssrp/sys/platform.h>

#include "users_file.h"

#define MAX_USERS 64

typedef struct users_file {
	char path[1024];
} users_file;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long reads;

unsigned long users_file_reads(void)
{
	pthread_mutex_lock(&lock);
	unsigned long n = reads;
	pthread_mutex_unlock(&lock);
	return n;
}

static int uf_open(void *ctx, const char *config)
{
	users_file *u = ctx;
	if (!*config)
		return ssrp_error_set(SSRP_E_SPEC, "usersfile: name the file: usersfile:PATH");
	if (strlen(config) >= sizeof u->path)
		return ssrp_error_set(SSRP_E_SPEC, "usersfile: the path is too long");
	snprintf(u->path, sizeof u->path, "%s", config);
	return SSRP_OK;
}

static void uf_close(void *ctx)
{
	(void)ctx;
}

/* line without its comment and surrounding blanks, in place. */
static char *trim(char *line)
{
	line[strcspn(line, "#\r\n")] = '\0';
	while (isspace((unsigned char)*line))
		line++;
	size_t n = strlen(line);
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	return line;
}

static int uf_read_users(void *ctx, int (*add)(void *list, const char *user), void *list)
{
	users_file *u = ctx;
	pthread_mutex_lock(&lock);
	reads++;
	pthread_mutex_unlock(&lock);
	FILE *f = fopen(u->path, "r");
	if (!f)
		return ssrp_error_set(SSRP_E_NOTFOUND, "usersfile: no primary users file at %s",
				      u->path);
	char seen[MAX_USERS][256];
	size_t n_seen = 0;
	char line[256];
	int rc = SSRP_OK;
	while (!rc && fgets(line, sizeof line, f)) {
		char *user = trim(line);
		int repeat = !*user;
		for (size_t i = 0; i < n_seen && !repeat; i++)
			repeat = !strcmp(seen[i], user);
		if (repeat)
			continue;
		if (n_seen == MAX_USERS) {
			rc = ssrp_error_set(SSRP_E_INVALID, "usersfile: %s lists more than %d users",
					    u->path, MAX_USERS);
			break;
		}
		snprintf(seen[n_seen++], sizeof seen[0], "%s", user);
		rc = add(list, user);
	}
	fclose(f);
	return rc;
}

static const ssrp_platform_backend users_file_backend = {
	.version = SSRP_PLATFORM_BACKEND_VERSION,
	.info = {
		.name = "usersfile",
		.description = "primary users from a file an MDM agent keeps; identity from the "
			       "configuration",
		.config_help = "PATH of the file: one DOMAIN\\user or UPN a line",
	},
	.caps = SSRP_PLATFORM_CAP_PRIMARY_USERS,
	.ctx_size = sizeof(users_file),
	.open = uf_open,
	.close = uf_close,
	.read_primary_users = uf_read_users,
};

int users_file_register(void)
{
	return ssrp_platform_backend_register(&users_file_backend);
}
