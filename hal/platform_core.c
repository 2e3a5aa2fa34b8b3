/* The platform core (ssrp/platform.h): opens a backend from a spec, checks
 * its table, and holds the policy every backend shares — a configured
 * device wins, the configuration's users stand in for a platform without
 * a list. */
#include <stdio.h>
#include <string.h>

#include "hal/identity.h"
#include "hal/identity_internal.h"
#include "hal/mem.h"
#include "hal/platform_backends.h"
#include "hal/registry.h"
#include "hal/struct_version.h"
#include "ssrp/sys/platform.h"

struct ssrp_platform {
	const ssrp_platform_backend *backend;
	void *ctx;
};

static ssrp_registry registered = SSRP_REGISTRY_INIT;

const ssrp_platform_backend *const *ssrp_platform_builtin_backends(void)
{
	return ssrp_platform_builtin;
}

static int check_table(const ssrp_platform_backend *b)
{
	if (!b || !b->open || !b->close || !b->info.name)
		return ssrp_error_set(SSRP_E_INVALID,
				      "platform backend table lacks a name, open or close");
	if (b->version < 1 || b->version > SSRP_PLATFORM_BACKEND_VERSION)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "platform backend '%s' has interface version %u; this library "
				      "speaks versions 1 to %u",
				      b->info.name, b->version, SSRP_PLATFORM_BACKEND_VERSION);
	if ((b->caps & SSRP_PLATFORM_CAP_IDENTITY) && !b->read_identity)
		return ssrp_error_set(SSRP_E_INVALID,
				      "platform backend '%s' claims a capability it has no slot for "
				      "(IDENTITY without read_identity)",
				      b->info.name);
	if ((b->caps & SSRP_PLATFORM_CAP_PRIMARY_USERS) && !b->read_primary_users)
		return ssrp_error_set(SSRP_E_INVALID,
				      "platform backend '%s' claims a capability it has no slot for "
				      "(PRIMARY_USERS without read_primary_users)",
				      b->info.name);
	return SSRP_OK;
}

static const ssrp_platform_backend *find_builtin(const char *name, size_t n)
{
	for (size_t i = 0; ssrp_platform_builtin[i]; i++)
		if (strlen(ssrp_platform_builtin[i]->info.name) == n &&
		    !memcmp(ssrp_platform_builtin[i]->info.name, name, n))
			return ssrp_platform_builtin[i];
	return NULL;
}

int ssrp_platform_backend_register(const ssrp_platform_backend *b)
{
	int rc = check_table(b);
	if (rc)
		return rc;
	if (find_builtin(b->info.name, strlen(b->info.name)))
		return ssrp_error_set(SSRP_E_INVALID,
				      "'%s' is a built-in platform backend; register yours under "
				      "another name",
				      b->info.name);
	return ssrp_registry_add(&registered, "platform", b->info.name, b);
}

const ssrp_platform_backend *ssrp_platform_registered_backend(size_t i)
{
	return ssrp_registry_at(&registered, i);
}

int ssrp_platform_open_backend(ssrp_platform **out, const ssrp_platform_backend *b,
			       const char *config)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_platform_open: out is NULL");
	*out = NULL;
	int rc = check_table(b);
	if (rc)
		return rc;
	ssrp_platform *p = ssrp_calloc(1, sizeof *p);
	if (!p || !(p->ctx = ssrp_calloc(1, b->ctx_size ? b->ctx_size : 1))) {
		ssrp_free(p);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory opening the platform");
	}
	p->backend = b;
	rc = b->open(p->ctx, config ? config : "");
	if (rc) {
		ssrp_free(p->ctx);
		ssrp_free(p);
		return rc;
	}
	*out = p;
	return SSRP_OK;
}

int ssrp_platform_open(ssrp_platform **out, const char *spec)
{
	if (out)
		*out = NULL;
	if (!spec || !*spec)
		return ssrp_platform_open_backend(out, ssrp_platform_builtin[0], "");
	size_t n = strcspn(spec, ":");
	const ssrp_platform_backend *b = find_builtin(spec, n);
	if (!b)
		b = ssrp_registry_find(&registered, spec, n);
	if (!b)
		return ssrp_error_set(SSRP_E_SPEC,
				      "platform spec '%s' names no backend of this build or registered "
				      "one (built in: %s)",
				      spec, ssrp_platform_builtin[0]->info.name);
	return ssrp_platform_open_backend(out, b, spec[n] ? spec + n + 1 : "");
}

void ssrp_platform_close(ssrp_platform *p)
{
	if (!p)
		return;
	p->backend->close(p->ctx);
	ssrp_free(p->ctx);
	ssrp_free(p);
}

const char *ssrp_platform_backend_name(const ssrp_platform *p)
{
	return p ? p->backend->info.name : "";
}

uint32_t ssrp_platform_capabilities(const ssrp_platform *p)
{
	return p ? p->backend->caps : 0;
}

/* The caller's configuration in this library's layout (fields a version
 * lacks stay NULL); NULL stays NULL. */
static int current_config(const ssrp_identity_config *given, ssrp_identity_config *full,
			  const ssrp_identity_config **use)
{
	*use = NULL;
	if (!given)
		return SSRP_OK;
	int rc = ssrp_struct_version_check("ssrp_identity_config", given->version,
					   SSRP_IDENTITY_CONFIG_VERSION, "SSRP_IDENTITY_CONFIG_INIT");
	if (rc)
		return rc;
	*full = *given; /* version 1 is all of it so far */
	*use = full;
	return SSRP_OK;
}

int ssrp_platform_read_identity(ssrp_platform *p, const ssrp_identity_config *cfg,
				ssrp_device_identity *out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "identity: no output");
	ssrp_identity_config cfg_full;
	int rc = ssrp_struct_version_check("ssrp_device_identity", out->version,
					   SSRP_DEVICE_IDENTITY_VERSION, "SSRP_DEVICE_IDENTITY_INIT");
	if (!rc)
		rc = current_config(cfg, &cfg_full, &cfg);
	if (rc)
		return rc;
	ssrp_device_identity full = SSRP_DEVICE_IDENTITY_INIT;
	if ((cfg && cfg->device_id) || !p || !(p->backend->caps & SSRP_PLATFORM_CAP_IDENTITY)) {
		rc = ssrp_identity_from_config(cfg, &full); /* NOTFOUND when it names none */
	} else {
		rc = p->backend->read_identity(p->ctx, cfg, &full);
		if (rc)
			full = (ssrp_device_identity)SSRP_DEVICE_IDENTITY_INIT;
		else if (!full.source[0])
			snprintf(full.source, sizeof full.source, "%s", p->backend->info.name);
	}
	full.version = out->version;
	*out = full;
	return rc;
}

typedef struct user_list {
	char **users;
	size_t n;
} user_list;

static int add_user(void *list, const char *user)
{
	user_list *l = list;
	if (!user || !*user || strlen(user) > 256)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the platform gave primary user %zu empty or longer than 256 "
				      "bytes",
				      l->n + 1);
	return ssrp_identity_users_add(&l->users, &l->n, user);
}

int ssrp_platform_read_primary_users(ssrp_platform *p, const ssrp_identity_config *cfg,
				     char ***users, size_t *n, const char **source)
{
	if (!users || !n)
		return ssrp_error_set(SSRP_E_INVALID, "primary users: no output");
	*users = NULL;
	*n = 0;
	ssrp_identity_config cfg_full;
	int vrc = current_config(cfg, &cfg_full, &cfg);
	if (vrc)
		return vrc;
	if (p && (p->backend->caps & SSRP_PLATFORM_CAP_PRIMARY_USERS)) {
		user_list l = {ssrp_calloc(1, sizeof(char *)), 0}; /* an empty list */
		int rc = l.users ? p->backend->read_primary_users(p->ctx, add_user, &l)
				 : ssrp_error_set(SSRP_E_NOMEM, "out of memory reading the primary users");
		if (rc == SSRP_OK && l.n > 0) {
			*users = l.users;
			*n = l.n;
			if (source)
				*source = p->backend->info.name;
			return SSRP_OK;
		}
		ssrp_primary_users_free(l.users);
		if (rc && rc != SSRP_E_NOTFOUND)
			return rc;
	}
	if (source)
		*source = "config";
	return ssrp_identity_users_from_config(cfg, users, n);
}

int ssrp_identity_read(const ssrp_identity_config *cfg, ssrp_device_identity *out)
{
	return ssrp_platform_read_identity(NULL, cfg, out);
}

int ssrp_primary_users_read(const ssrp_identity_config *cfg, char ***users, size_t *n)
{
	return ssrp_platform_read_primary_users(NULL, cfg, users, n, NULL);
}
