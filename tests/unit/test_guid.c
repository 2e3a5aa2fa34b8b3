/* hal/guid.h: Microsoft's mixed-endian layout against a GUID BitLocker
 * wrote, every text form accepted, each malformed one refused with a
 * sentence naming what, the Entra id form, and generated GUIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hal/guid.h"
#include "ssrp/error.h"
#include "tests/unit/test_expect.h"

/* The FVE metadata GUID as it stands on disk, and as Windows shows it. */
static const uint8_t fve_guid[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
				     0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};
static const char fve_text[] = "{4967D63B-2E29-4AD8-8399-F6A339E3D001}";
static const char fve_lower[] = "4967d63b-2e29-4ad8-8399-f6a339e3d001";


static const char *const forms[] = {
	"{4967D63B-2E29-4AD8-8399-F6A339E3D001}",
	"{4967d63b-2e29-4ad8-8399-f6a339e3d001}",
	"4967D63B-2E29-4AD8-8399-F6A339E3D001",
	"4967d63b-2e29-4Ad8-8399-f6A339e3d001",
};

static const struct {
	const char *text, *words;
} malformed[] = {
	{"", "0 characters"},
	{"4967D63B-2E29-4AD8-8399-F6A339E3D00", "35 characters"},
	{"{4967D63B-2E29-4AD8-8399-F6A339E3D001", "braces"},
	{"4967D63B-2E29-4AD8-8399-F6A339E3D001}", "braces"},
	{"{4967D63B-2E29-4AD8-8399-F6A339E3D0012}", "braces"},
	{"{4967D63B-2E29-4AD8-8399-F6A339E3D001)", "braces"},
	{"4967D63B-2E29-4AD8-8399-F6A339E3D00G", "character 36 ('G') should be a hex digit"},
	{"{4967D63B-2E29-4AD8-8399-F6A339E3D00G}", "character 37 ('G') should be a hex"},
	{"4967D63B2E29-4AD8-8399-F6A339E3D0011", "character 9 ('2') should be '-'"},
	{"4967D63B-2E29-4AD8-8399+F6A339E3D001", "character 24 ('+') should be '-'"},
};

static void layout(void **state)
{
	(void)state;
	char text[SSRP_GUID_TEXT_LEN + 1];
	ssrp_guid_format(text, fve_guid);
	assert_string_equal(text, fve_text);
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		uint8_t g[16];
		assert_int_equal(ssrp_guid_parse(g, forms[i]), SSRP_OK);
		assert_memory_equal(g, fve_guid, 16);
		assert_int_equal(ssrp_guid_canonical(text, forms[i]), SSRP_OK);
		assert_string_equal(text, fve_text);
	}
}

static void refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
		uint8_t g[16];
		memset(g, 0xAA, sizeof g);
		assert_int_equal(ssrp_guid_parse(g, malformed[i].text), SSRP_E_INVALID);
		assert_true(all_zero(g, sizeof g));
		expect_message(malformed[i].words);
		char low[SSRP_GUID_BARE_LEN + 1] = "x";
		assert_int_equal(ssrp_guid_lower(low, malformed[i].text), SSRP_E_INVALID);
		assert_string_equal(low, "");
		expect_message(malformed[i].words);
		assert_false(ssrp_guid_is_bare(malformed[i].text));
	}
	uint8_t g[16];
	assert_int_equal(ssrp_guid_parse(g, NULL), SSRP_E_INVALID);
	char low[SSRP_GUID_BARE_LEN + 1];
	assert_int_equal(ssrp_guid_lower(low, NULL), SSRP_E_INVALID);
}

/* Entra ids: lower case without braces, from any form. */
static void entra_form(void **state)
{
	(void)state;
	char low[SSRP_GUID_BARE_LEN + 1];
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		assert_int_equal(ssrp_guid_lower(low, forms[i]), SSRP_OK);
		assert_string_equal(low, fve_lower);
	}
	assert_true(ssrp_guid_is_bare(fve_lower));
	assert_true(ssrp_guid_is_bare("4967D63B-2E29-4AD8-8399-F6A339E3D001"));
	assert_false(ssrp_guid_is_bare(fve_text)); /* braces are not bare */
	assert_false(ssrp_guid_is_bare("4967d63b-2e29-4ad8-8399-f6a339e3d0012"));
	assert_false(ssrp_guid_is_bare("4967d63b-2e29-4ad8-8399-f6a339e3d00"));
	assert_false(ssrp_guid_is_bare("4967d63b-2e29-4ad8-8399-f6a339e3d00g"));
	assert_false(ssrp_guid_is_bare("4967d63b2-e29-4ad8-8399-f6a339e3d001"));
	assert_false(ssrp_guid_is_bare(""));
	assert_false(ssrp_guid_is_bare(NULL));
}

static void generate(void **state)
{
	(void)state;
	uint8_t prev[16] = {0};
	for (int n = 0; n < 200; n++) {
		uint8_t g[16], back[16];
		char text[SSRP_GUID_TEXT_LEN + 1];
		assert_int_equal(ssrp_guid_generate(g), SSRP_OK);
		assert_memory_not_equal(g, prev, 16);
		memcpy(prev, g, 16);
		ssrp_guid_format(text, g);
		/* Version 4 shows as the first digit of the third group, and the
		 * variant as 8, 9, A or B starting the fourth. */
		assert_int_equal(text[15], '4');
		assert_non_null(strchr("89AB", text[20]));
		assert_int_equal(ssrp_guid_parse(back, text), SSRP_OK);
		assert_memory_equal(back, g, 16);
	}
	assert_int_equal(ssrp_guid_generate(NULL), SSRP_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout),
		cmocka_unit_test(refusals),
		cmocka_unit_test(entra_form),
		cmocka_unit_test(generate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
