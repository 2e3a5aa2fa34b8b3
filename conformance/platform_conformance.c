/* The platform backend conformance suite (see ssrp/conformance.h): what any
 * platform backend must do, through the public API (ssrp/platform.h). It
 * reads only; it changes nothing on the machine. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/conformance.h"
#include "ssrp/platform.h"

#define KNOWN_CAPS (SSRP_PLATFORM_CAP_IDENTITY | SSRP_PLATFORM_CAP_PRIMARY_USERS)

static const char *suite_spec;
static const char *const fallback_users[] = {"CONTOSO\\conformance-fallback", NULL};

static ssrp_platform *open_platform(void)
{
	ssrp_platform *p = NULL;
	if (ssrp_platform_open(&p, suite_spec) != SSRP_OK)
		fail_msg("opening '%s': %s", suite_spec, ssrp_error_last());
	return p;
}

static int lacks(ssrp_platform *p, uint32_t cap)
{
	return !(ssrp_platform_capabilities(p) & cap);
}

static void names_itself(void **state)
{
	(void)state;
	ssrp_platform *p = open_platform();
	assert_true(strlen(ssrp_platform_backend_name(p)) > 0);
	assert_int_equal(ssrp_platform_capabilities(p) & ~KNOWN_CAPS, 0);
	ssrp_platform_close(p);
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case. */
static void assert_guid_shape(const char *id)
{
	assert_int_equal(strlen(id), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(id[i], '-');
		else if (!isdigit((unsigned char)id[i]) && !(id[i] >= 'a' && id[i] <= 'f'))
			fail_msg("device id '%s' is not a lower-case GUID", id);
	}
}

/* With nothing configured the platform answers: registered, with a usable
 * identity, or not registered, saying so. */
static void identity_from_the_platform(void **state)
{
	(void)state;
	ssrp_platform *p = open_platform();
	ssrp_identity_config cfg = SSRP_IDENTITY_CONFIG_INIT;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	int rc = ssrp_platform_read_identity(p, &cfg, &id);
	if (lacks(p, SSRP_PLATFORM_CAP_IDENTITY) || rc == SSRP_E_NOTFOUND) {
		assert_int_equal(rc, SSRP_E_NOTFOUND);
		assert_true(strlen(ssrp_error_last()) > 0);
		ssrp_platform_close(p);
		return;
	}
	if (rc != SSRP_OK)
		fail_msg("reading the identity: %s", ssrp_error_last());
	assert_true(id.join != SSRP_JOIN_NONE);
	assert_guid_shape(id.device_id);
	assert_true(strlen(id.cert) > 0);
	assert_string_equal(id.source, ssrp_platform_backend_name(p));
	ssrp_platform_close(p);
}

static void read_users(ssrp_platform *p, char ***users, size_t *n, const char **source)
{
	ssrp_identity_config cfg = SSRP_IDENTITY_CONFIG_INIT;
	cfg.primary_users = fallback_users;
	if (ssrp_platform_read_primary_users(p, &cfg, users, n, source) != SSRP_OK)
		fail_msg("reading the primary users: %s", ssrp_error_last());
	assert_non_null(*users);
	assert_null((*users)[*n]);
}

/* The platform's list when it keeps one (non-empty names, no duplicates,
 * the same on a second read), else the configuration's. */
static void primary_users(void **state)
{
	(void)state;
	ssrp_platform *p = open_platform();
	char **users = NULL, **again = NULL;
	size_t n = 0, n_again = 0;
	const char *source = NULL, *source_again = NULL;
	read_users(p, &users, &n, &source);
	assert_non_null(source);
	if (lacks(p, SSRP_PLATFORM_CAP_PRIMARY_USERS) || !strcmp(source, "config")) {
		assert_string_equal(source, "config");
		assert_int_equal(n, 1);
		assert_string_equal(users[0], fallback_users[0]);
	} else {
		assert_string_equal(source, ssrp_platform_backend_name(p));
		assert_true(n > 0);
		for (size_t i = 0; i < n; i++) {
			assert_true(strlen(users[i]) > 0);
			for (size_t j = 0; j < i; j++)
				if (!strcmp(users[i], users[j]))
					fail_msg("'%s' is listed twice", users[i]);
		}
	}
	read_users(p, &again, &n_again, &source_again);
	assert_int_equal(n_again, n);
	assert_string_equal(source_again, source);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(again[i], users[i]);
	ssrp_primary_users_free(users);
	ssrp_primary_users_free(again);
	ssrp_platform_close(p);
}

/* Opened and closed many times: nothing the backend holds runs out. */
static void reopens(void **state)
{
	(void)state;
	for (int i = 0; i < 64; i++)
		ssrp_platform_close(open_platform());
}

int ssrp_conformance_platform_run(const char *group, const char *spec)
{
	suite_spec = spec;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_itself),
		cmocka_unit_test(identity_from_the_platform),
		cmocka_unit_test(primary_users),
		cmocka_unit_test(reopens),
	};
	return _cmocka_run_group_tests(group, tests, sizeof tests / sizeof tests[0], NULL, NULL);
}
