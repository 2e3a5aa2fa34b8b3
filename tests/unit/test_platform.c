/* The platform backend kind (ssrp/platform.h, ssrp/sys/platform.h): a
 * vendor's table registered and opened by spec, the capability check, and
 * the core's policy — a configured device wins, the platform's primary
 * users win over the configuration's, which stand in when it has none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/platform.h"
#include "ssrp/sys/platform.h"

typedef struct vendor {
	int users; /* how many users read_primary_users gives */
	int opened;
} vendor;

static int v_open(void *ctx, const char *config)
{
	vendor *v = ctx;
	v->users = config[0] ? config[0] - '0' : 0;
	v->opened = 1;
	return SSRP_OK;
}

static void v_close(void *ctx)
{
	(void)ctx;
}

static int v_identity(void *ctx, const ssrp_identity_config *cfg, ssrp_device_identity *out)
{
	(void)ctx;
	(void)cfg;
	out->join = SSRP_JOIN_HYBRID;
	strcpy(out->device_id, "0b7c1c2e-1f0e-4c55-9d3e-2f6a8e1d4b21");
	return SSRP_OK;
}

static int v_users(void *ctx, int (*add)(void *list, const char *user), void *list)
{
	vendor *v = ctx;
	static const char *const names[] = {"CONTOSO\\alice", "bob@contoso.example", ""};
	int rc = SSRP_OK;
	for (int i = 0; rc == SSRP_OK && i < v->users; i++)
		rc = add(list, names[i]);
	return rc;
}

static const ssrp_platform_backend vendor_backend = {
	.version = SSRP_PLATFORM_BACKEND_VERSION,
	.info = {.name = "vendor-platform", .description = "test", .config_help = "N users"},
	.caps = SSRP_PLATFORM_CAP_IDENTITY | SSRP_PLATFORM_CAP_PRIMARY_USERS,
	.ctx_size = sizeof(vendor),
	.open = v_open,
	.close = v_close,
	.read_identity = v_identity,
	.read_primary_users = v_users,
};

static void registered_and_opened_by_spec(void **state)
{
	(void)state;
	assert_int_equal(ssrp_platform_backend_register(&vendor_backend), SSRP_OK);
	ssrp_platform *p = NULL;
	assert_int_equal(ssrp_platform_open(&p, "vendor-platform:2"), SSRP_OK);
	assert_string_equal(ssrp_platform_backend_name(p), "vendor-platform");
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	ssrp_identity_config none = SSRP_IDENTITY_CONFIG_INIT;
	assert_int_equal(ssrp_platform_read_identity(p, &none, &id), SSRP_OK);
	assert_int_equal(id.join, SSRP_JOIN_HYBRID);
	assert_string_equal(id.source, "vendor-platform");
	char **users = NULL;
	size_t n = 0;
	const char *source = NULL;
	static const char *const configured[] = {"carol@contoso.example", NULL};
	ssrp_identity_config cfg = {.version = SSRP_IDENTITY_CONFIG_VERSION, .primary_users = configured};
	assert_int_equal(ssrp_platform_read_primary_users(p, &cfg, &users, &n, &source), SSRP_OK);
	assert_int_equal(n, 2);
	assert_string_equal(users[0], "CONTOSO\\alice");
	assert_null(users[2]);
	assert_string_equal(source, "vendor-platform");
	ssrp_primary_users_free(users);
	ssrp_platform_close(p);

	/* a platform with no list: the configuration's */
	assert_int_equal(ssrp_platform_open(&p, "vendor-platform:0"), SSRP_OK);
	assert_int_equal(ssrp_platform_read_primary_users(p, &cfg, &users, &n, &source), SSRP_OK);
	assert_int_equal(n, 1);
	assert_string_equal(users[0], "carol@contoso.example");
	assert_string_equal(source, "config");
	ssrp_primary_users_free(users);
	ssrp_platform_close(p);

	/* a platform giving an empty name: refused, nothing leaks */
	assert_int_equal(ssrp_platform_open(&p, "vendor-platform:3"), SSRP_OK);
	assert_int_equal(ssrp_platform_read_primary_users(p, &cfg, &users, &n, &source),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "primary user 3"));
	assert_null(users);
	ssrp_platform_close(p);
}

/* The built-in backend: the configuration file on POSIX, the system's
 * join state and user records on Windows. */
#ifdef _WIN32
#define BUILTIN_PLATFORM "windows"
#else
#define BUILTIN_PLATFORM "config"
#endif

static void configured_device_wins(void **state)
{
	(void)state;
	ssrp_platform *p = NULL;
	assert_int_equal(ssrp_platform_open_backend(&p, &vendor_backend, ""), SSRP_OK);
	/* the configuration names a device: its rules apply, not the
	 * platform's answer (here: no certificate, so refused) */
	ssrp_identity_config cfg = {.version = SSRP_IDENTITY_CONFIG_VERSION,
				    .device_id = "0b7c1c2e-1f0e-4c55-9d3e-2f6a8e1d4b21"};
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	assert_int_equal(ssrp_platform_read_identity(p, &cfg, &id), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "device.cert_file"));
	ssrp_platform_close(p);

	assert_int_equal(ssrp_platform_open(&p, NULL), SSRP_OK);
	assert_string_equal(ssrp_platform_backend_name(p), BUILTIN_PLATFORM);
#ifndef _WIN32
	/* the built-in POSIX backend asks nothing: no device configured, not registered */
	assert_int_equal(ssrp_platform_capabilities(p), 0);
	ssrp_identity_config none = SSRP_IDENTITY_CONFIG_INIT;
	assert_int_equal(ssrp_platform_read_identity(p, &none, &id), SSRP_E_NOTFOUND);
	assert_non_null(strstr(ssrp_error_last(), "not registered"));
#endif
	ssrp_platform_close(p);
}

/* Structs from a header this library does not know, or not initialised,
 * are refused before anything is read or written. */
static void versions_checked(void **state)
{
	(void)state;
	ssrp_platform *p = NULL;
	assert_int_equal(ssrp_platform_open_backend(&p, &vendor_backend, "2"), SSRP_OK);
	ssrp_identity_config cfg = SSRP_IDENTITY_CONFIG_INIT;
	ssrp_device_identity id;
	memset(&id, 0x5A, sizeof id);
	id.version = 0;
	assert_int_equal(ssrp_platform_read_identity(p, &cfg, &id), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_DEVICE_IDENTITY_INIT"));
	assert_int_equal(id.device_id[0], 0x5A);
	id.version = SSRP_DEVICE_IDENTITY_VERSION;
	cfg.version = SSRP_IDENTITY_CONFIG_VERSION + 1;
	assert_int_equal(ssrp_platform_read_identity(p, &cfg, &id), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_IDENTITY_CONFIG_INIT"));
	assert_int_equal(id.device_id[0], 0x5A);
	char **users = NULL;
	size_t n = 0;
	assert_int_equal(ssrp_platform_read_primary_users(p, &cfg, &users, &n, NULL), SSRP_E_INVALID);
	assert_null(users);
	cfg.version = SSRP_IDENTITY_CONFIG_VERSION;
	assert_int_equal(ssrp_platform_read_identity(p, &cfg, &id), SSRP_OK);
	assert_int_equal(id.version, SSRP_DEVICE_IDENTITY_VERSION);
	assert_string_equal(id.source, "vendor-platform");
	ssrp_platform_close(p);
}

static void tables_checked(void **state)
{
	(void)state;
	static ssrp_platform_backend liar, builtin_name, clash;
	liar = vendor_backend;
	liar.info.name = "liar";
	liar.read_identity = NULL;
	ssrp_platform *p = NULL;
	assert_int_equal(ssrp_platform_open_backend(&p, &liar, ""), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "IDENTITY without read_identity"));
	assert_null(p);
	assert_int_equal(ssrp_platform_backend_register(&liar), SSRP_E_INVALID);
	builtin_name = vendor_backend;
	builtin_name.info.name = BUILTIN_PLATFORM;
	assert_int_equal(ssrp_platform_backend_register(&builtin_name), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "built-in"));
	clash = vendor_backend; /* another table under a taken name */
	assert_int_equal(ssrp_platform_backend_register(&clash), SSRP_E_INVALID);
	assert_int_equal(ssrp_platform_open(&p, "nosuch:x"), SSRP_E_SPEC);
	assert_non_null(strstr(ssrp_error_last(), "nosuch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registered_and_opened_by_spec),
		cmocka_unit_test(configured_device_wins),
		cmocka_unit_test(versions_checked),
		cmocka_unit_test(tables_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
