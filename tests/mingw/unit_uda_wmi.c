/* SCCM's primary users (hal/uda_wmi.c) through the "windows" platform
 * backend and the platform core, over a scripted WMI (fake_wmi.c):
 *   - COM's process security is set (CoInitializeSecurity, packet privacy,
 *     before connecting; RPC_E_TOO_LATE taken as set) and the IWbemServices
 *     proxy and the query's enumerator get the packet-privacy blanket;
 *   - the namespace, the class and the affinity rule come from the
 *     backend's config ("windows:sccm_namespace=...,sccm_class=...,
 *     sccm_affinity=set|any|off"), refused by name when malformed;
 *   - without SCCM (no namespace) or with the rule "off", the
 *     configuration's users are taken.
 * A Windows program, run under Wine (which has no SCCM client). */
#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_wmi.h"
#include "hal/platform_backends.h"
#include "hal/uda_wmi.h"
#include "ssrp/platform.h"
#include "ssrp/sys/platform.h"

static unsigned alive_before;

static void add_row(const WCHAR *user, int set)
{
	fake_obj *row = fake_obj_new();
	fake_obj_set_str(row, L"ConsoleUser", user);
	fake_obj_set_bool(row, L"IsUserAffinitySet", set);
	fake.rows[fake.n_rows++] = row;
}

static int setup(void **state)
{
	(void)state;
	fake_wmi_reset();
	alive_before = fake_obj_alive();
	add_row(L"CONTOSO\\alice", 1);
	add_row(L"CONTOSO\\bob", 0);
	add_row(L"contoso\\ALICE", 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_wmi_reset();
	assert_int_equal(fake_obj_alive(), alive_before);
	return 0;
}

static int open_scripted(void *ctx, const char *config)
{
	return ssrp_platform_windows_open_api(ctx, config, &fake_wmi_api);
}

static int open_platform(ssrp_platform **p, const char *config)
{
	static ssrp_platform_backend table;
	table = ssrp_platform_backend_windows;
	table.open = open_scripted;
	return ssrp_platform_open_backend(p, &table, config);
}

/* The users the platform gives, as "a;b;" into buf, and their source. */
static const char *read_users(const char *config, char *buf, size_t cap)
{
	static const char *const configured[] = {"CONTOSO\\carol", NULL};
	ssrp_identity_config cfg = SSRP_IDENTITY_CONFIG_INIT;
	cfg.primary_users = configured;
	ssrp_platform *p = NULL;
	assert_int_equal(open_platform(&p, config), SSRP_OK);
	char **users = NULL;
	size_t n = 0;
	const char *source = NULL;
	assert_int_equal(ssrp_platform_read_primary_users(p, &cfg, &users, &n, &source), SSRP_OK);
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		strncat(buf, users[i], cap - strlen(buf) - 1);
		strncat(buf, ";", cap - strlen(buf) - 1);
	}
	ssrp_primary_users_free(users);
	ssrp_platform_close(p);
	return source;
}

static void uda_sets_com_security(void **state)
{
	(void)state;
	char got[256];
	const char *source = read_users("", got, sizeof got);
	assert_string_equal(source, "windows");
	assert_string_equal(got, "CONTOSO\\alice;");
	assert_int_equal(fake.security_calls, 1);
	assert_int_equal(fake.security_authn_level, RPC_C_AUTHN_LEVEL_PKT_PRIVACY);
	assert_int_equal(fake.security_imp_level, RPC_C_IMP_LEVEL_IMPERSONATE);
	assert_true(fake.security_before_connect);
	assert_true(wcscmp(fake.ns, L"ROOT\\ccm\\Policy\\Machine\\ActualConfig") == 0);
	assert_true(wcscmp(fake.query,
			   L"SELECT ConsoleUser, IsUserAffinitySet FROM CCM_UserAffinity") == 0);
	assert_int_equal(fake.blanket_services, 1);
	assert_int_equal(fake.blanket_enum, 1);
	assert_int_equal(fake.blanket_below_privacy, 0);
	assert_int_equal(fake.initialize_calls, fake.uninitialize_calls);
}

/* The host set the process's security first: its setting stands, the
 * blankets still go on, the users are read. */
static void uda_security_set_before(void **state)
{
	(void)state;
	char got[256];
	fake.security_hr = RPC_E_TOO_LATE;
	assert_string_equal(read_users("", got, sizeof got), "windows");
	assert_string_equal(got, "CONTOSO\\alice;");
	assert_int_equal(fake.blanket_services, 1);
}

static void uda_configured_class(void **state)
{
	(void)state;
	char got[256];
	const char *source = read_users("sccm_namespace=ROOT\\ccm\\Custom,sccm_class=My_Affinity,"
					"sccm_affinity=any",
					got, sizeof got);
	assert_string_equal(source, "windows");
	assert_string_equal(got, "CONTOSO\\alice;CONTOSO\\bob;");
	assert_true(wcscmp(fake.ns, L"ROOT\\ccm\\Custom") == 0);
	assert_true(wcscmp(fake.query, L"SELECT ConsoleUser FROM My_Affinity") == 0);
}

/* "off": SCCM is not asked; the configuration's users. */
static void uda_rule_off(void **state)
{
	(void)state;
	char got[256];
	assert_string_equal(read_users("sccm_affinity=off", got, sizeof got), "config");
	assert_string_equal(got, "CONTOSO\\carol;");
	assert_int_equal(fake.initialize_calls, 0);
	assert_int_equal(fake.connect_calls, 0);
}

/* No SCCM client: no namespace; the configuration's users. */
static void uda_no_sccm(void **state)
{
	(void)state;
	char got[256];
	fake.connect_hr = WBEM_E_INVALID_NAMESPACE;
	assert_string_equal(read_users("", got, sizeof got), "config");
	assert_string_equal(got, "CONTOSO\\carol;");
}

static void uda_config_refused(void **state)
{
	(void)state;
	static const struct {
		const char *config, *says;
	} bad[] = {
		{"sccm_class=A;DROP", "sccm_class must be"},
		{"sccm_class=1st", "sccm_class must be"},
		{"sccm_affinity=maybe", "\"set\", \"any\" or \"off\""},
		{"sccm_namespace=\\ROOT\\ccm", "sccm_namespace must be"},
		{"sccm_namespace=ROOT\\\\ccm", "sccm_namespace must be"},
		{"sccm_namespace=ROOT ccm", "sccm_namespace must be"},
		{"sccm_class=A,sccm_class=B", "each at most once"},
		{"nope=1", "the settings are"},
		{"sccm_class", "KEY=VALUE"},
		{"sccm_class=A,", "a comma ends it"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ssrp_platform *p = NULL;
		assert_int_equal(open_platform(&p, bad[i].config), SSRP_E_SPEC);
		if (!strstr(ssrp_error_last(), bad[i].says))
			fail_msg("'%s': %s", bad[i].config, ssrp_error_last());
	}
	assert_int_equal(fake.connect_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(uda_sets_com_security, setup, teardown),
		cmocka_unit_test_setup_teardown(uda_security_set_before, setup, teardown),
		cmocka_unit_test_setup_teardown(uda_configured_class, setup, teardown),
		cmocka_unit_test_setup_teardown(uda_rule_off, setup, teardown),
		cmocka_unit_test_setup_teardown(uda_no_sccm, setup, teardown),
		cmocka_unit_test_setup_teardown(uda_config_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
