/* escrow/recover.c without a network: the parsers of Graph's answers
 * (owned devices, the key list, the key itself, wrapped or not) and the
 * choice by device name or key-id prefix with its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "bitlocker/recovery_password.h"
#include "escrow/recover.h"
#include "ssrp/error.h"

static void add_device(ssrp_recover_list *l, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	assert_non_null(o);
	if (ssrp_recover_parse_device(l, o))
		fail_msg("%s", ssrp_error_last());
	cJSON_Delete(o);
}

static void add_key(ssrp_recover_device *d, const char *id, const char *created)
{
	char json[256];
	snprintf(json, sizeof json, "{\"id\":\"%s\",\"createdDateTime\":\"%s\",\"volumeType\":1}",
		 id, created);
	cJSON *o = cJSON_Parse(json);
	if (ssrp_recover_parse_key_item(d, o))
		fail_msg("%s", ssrp_error_last());
	cJSON_Delete(o);
}

/* alice's devices: two with keys, one without, one with no deviceId */
static void make_list(ssrp_recover_list *l)
{
	memset(l, 0, sizeof *l);
	add_device(l, "{\"@odata.type\":\"#microsoft.graph.device\",\"id\":\"0b-1\","
		      "\"deviceId\":\"d1\",\"displayName\":\"DESKTOP-SSRP01\"}");
	add_device(l, "{\"@odata.type\":\"#microsoft.graph.user\",\"id\":\"0c-1\"}");
	add_device(l, "{\"id\":\"0b-2\",\"deviceId\":\"d2\",\"displayName\":\"LAPTOP\\u001b[2J\"}");
	add_device(l, "{\"id\":\"0b-3\",\"deviceId\":\"d3\",\"displayName\":\"EMPTY-PC\"}");
	add_device(l, "{\"id\":\"0b-4\",\"deviceId\":null,\"displayName\":\"NO-ID\"}");
	assert_int_equal(l->n, 4);
	add_key(&l->devices[0], "1a2b3c4d-0000-4000-8000-000000000001", "2024-01-02T03:04:05Z");
	add_key(&l->devices[1], "1A2B3C4E-0000-4000-8000-000000000002", "2024-02-01T00:00:00Z");
	add_key(&l->devices[1], "5e6f7a8b-0000-4000-8000-000000000003", "2024-03-01T00:00:00Z");
}

static void test_parsers(void **st)
{
	(void)st;
	ssrp_recover_list l;
	make_list(&l);
	assert_string_equal(l.devices[0].name, "DESKTOP-SSRP01");
	assert_string_equal(l.devices[1].name, "LAPTOP [2J"); /* no escape survives */
	assert_string_equal(l.devices[3].device_id, "");
	assert_string_equal(l.devices[0].keys[0].volume_type, "1");
	const char *bad_devices[] = {"[]", "{\"id\":\"../x\"}", "{\"id\":7}",
				     "{\"id\":\"0b\",\"deviceId\":\"a/b\"}"};
	for (size_t i = 0; i < sizeof bad_devices / sizeof bad_devices[0]; i++) {
		cJSON *o = cJSON_Parse(bad_devices[i]);
		assert_int_equal(ssrp_recover_parse_device(&l, o), SSRP_E_FORMAT);
		cJSON_Delete(o);
	}
	const char *bad_keys[] = {"1", "{}", "{\"id\":\"1a2b?$select=key\"}"};
	for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		cJSON *o = cJSON_Parse(bad_keys[i]);
		assert_int_equal(ssrp_recover_parse_key_item(&l.devices[2], o), SSRP_E_FORMAT);
		cJSON_Delete(o);
	}
	assert_int_equal(l.devices[2].n_keys, 0);
	ssrp_recover_list_free(&l);

	uint8_t raw[SSRP_RP_KEY_LEN];
	for (int i = 0; i < SSRP_RP_KEY_LEN; i++)
		raw[i] = (uint8_t)(i * 17 + 3);
	char want[SSRP_RECOVERY_PASSWORD_LEN + 1], got[SSRP_RECOVERY_PASSWORD_LEN + 1], json[256];
	ssrp_rp_format(want, raw);
	snprintf(json, sizeof json, "{\"id\":\"k\",\"key\":\"%s\"}", want);
	cJSON *o = cJSON_Parse(json);
	assert_int_equal(ssrp_recover_parse_key(o, got), 0);
	assert_string_equal(got, want);
	cJSON_Delete(o);
	snprintf(json, sizeof json, "{\"value\":{\"id\":\"k\",\"key\":\"%s\"}}", want);
	o = cJSON_Parse(json);
	assert_int_equal(ssrp_recover_parse_key(o, got), 0);
	assert_string_equal(got, want);
	cJSON_Delete(o);
	const char *bad[] = {"{\"id\":\"k\"}", "{\"key\":\"123456\"}", "{\"value\":[]}", "[]",
			     "{\"key\":\"111112-111111-111111-111111-111111-111111-111111-111111\"}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o = cJSON_Parse(bad[i]);
		assert_int_equal(ssrp_recover_parse_key(o, got), SSRP_E_FORMAT);
		assert_string_equal(got, "");
		cJSON_Delete(o);
	}
	assert_int_equal(ssrp_recover_parse_key(NULL, got), SSRP_E_FORMAT);
}

static void test_choose(void **st)
{
	(void)st;
	ssrp_recover_list l;
	make_list(&l);
	ssrp_recover_choice c;
	/* by name, any case: one key */
	assert_int_equal(ssrp_recover_choose(&l, "desktop-ssrp01", NULL, &c), 0);
	assert_string_equal(c.key->id, "1a2b3c4d-0000-4000-8000-000000000001");
	/* by prefix, any case, dashes and braces allowed */
	assert_int_equal(ssrp_recover_choose(&l, NULL, "1A2B3C4D", &c), 0);
	assert_string_equal(c.device->name, "DESKTOP-SSRP01");
	assert_int_equal(ssrp_recover_choose(&l, NULL, "{5E6F7A8B-00", &c), 0);
	assert_string_equal(c.key->id, "5e6f7a8b-0000-4000-8000-000000000003");
	assert_int_equal(ssrp_recover_choose(&l, NULL, "1a2b3c4e", &c), 0);
	/* a device that is not theirs */
	assert_int_equal(ssrp_recover_choose(&l, "DESKTOP-X", NULL, &c), SSRP_E_REFUSED);
	assert_string_equal(ssrp_error_last(),
			    "DESKTOP-X is not one of your devices (you own: DESKTOP-SSRP01, LAPTOP "
			    "[2J, EMPTY-PC, NO-ID)");
	assert_null(c.key);
	/* a key that is not on their devices */
	assert_int_equal(ssrp_recover_choose(&l, NULL, "99999999", &c), SSRP_E_REFUSED);
	assert_string_equal(ssrp_error_last(), "no recovery key starting 99999999 on a device you own");
	assert_int_equal(ssrp_recover_choose(&l, "DESKTOP-SSRP01", "5e6f7a8b", &c), SSRP_E_REFUSED);
	assert_non_null(strstr(ssrp_error_last(), "on DESKTOP-SSRP01"));
	/* ambiguous: several keys on the device, or a short shared prefix */
	assert_int_equal(ssrp_recover_choose(&l, "laptop [2j", NULL, &c), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "2 recovery keys match"));
	assert_non_null(strstr(ssrp_error_last(), "5e6f7a8b-0000-4000-8000-000000000003"));
	assert_int_equal(ssrp_recover_choose(&l, NULL, NULL, &c), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "3 recovery keys match"));
	assert_non_null(strstr(ssrp_error_last(), "1a2b3c4d-0000-4000-8000-000000000001"));
	assert_non_null(strstr(ssrp_error_last(), "1A2B3C4E-0000-4000-8000-000000000002"));
	assert_non_null(strstr(ssrp_error_last(), "choose one by the first 8 hex digits of its key id"));
	/* a prefix shorter than 8 digits chooses nothing, whatever it would match */
	assert_int_equal(ssrp_recover_candidates(&l, NULL, "1a2b3c4", NULL, 0), 0);
	assert_int_equal(ssrp_recover_choose(&l, NULL, "1a2b3c4", &c), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "a key id prefix needs at least 8 hex digits"));
	assert_null(strstr(ssrp_error_last(), "match"));
	assert_int_equal(ssrp_recover_choose(&l, NULL, "1a2b3c4z", &c), SSRP_E_INVALID);
	/* a device of theirs with no key */
	assert_int_equal(ssrp_recover_choose(&l, "EMPTY-PC", NULL, &c), SSRP_E_NOTFOUND);
	assert_string_equal(ssrp_error_last(), "no recovery key of EMPTY-PC is escrowed in Entra ID");
	ssrp_recover_list_free(&l);
	/* nothing owned */
	memset(&l, 0, sizeof l);
	assert_int_equal(ssrp_recover_choose(&l, "DESKTOP-SSRP01", NULL, &c), SSRP_E_REFUSED);
	assert_string_equal(ssrp_error_last(), "DESKTOP-SSRP01 is not one of your devices (you own none)");
	assert_int_equal(ssrp_recover_choose(&l, NULL, NULL, &c), SSRP_E_NOTFOUND);
}

/* Keys whose ids start alike: the message lists the full ids and names the
 * digits that tell them apart, never the 8 they share. */
static void test_choose_shared_start(void **st)
{
	(void)st;
	ssrp_recover_list l;
	memset(&l, 0, sizeof l);
	add_device(&l, "{\"id\":\"0b-1\",\"deviceId\":\"d1\",\"displayName\":\"PC-1\"}");
	add_device(&l, "{\"id\":\"0b-2\",\"deviceId\":\"d2\",\"displayName\":\"PC-2\"}");
	add_key(&l.devices[0], "1a2b3c4d-1111-4000-8000-00000000000a", "2024-01-02T03:04:05Z");
	add_key(&l.devices[0], "1A2B3C4D-1111-4000-8000-00000000000B", "2024-02-01T00:00:00Z");
	add_key(&l.devices[1], "1a2b3c4d-2222-4000-8000-00000000000c", "2024-03-01T00:00:00Z");
	ssrp_recover_choice c;
	assert_int_equal(ssrp_recover_choose(&l, NULL, "1A2B3C4D", &c), SSRP_E_INVALID);
	const char *m = ssrp_error_last();
	assert_non_null(strstr(m, "3 recovery keys match"));
	assert_non_null(strstr(m, "1a2b3c4d-1111-4000-8000-00000000000a (PC-1, created 2024-01-02"));
	assert_non_null(strstr(m, "1A2B3C4D-1111-4000-8000-00000000000B (PC-1"));
	assert_non_null(strstr(m, "1a2b3c4d-2222-4000-8000-00000000000c (PC-2"));
	assert_non_null(strstr(m, "their key ids share the first 31 hex digits: choose one by at "
				  "least its first 32"));
	assert_null(strstr(m, "first 8"));
	/* on PC-2 alone the prefix decides; on PC-1 the two share 31 digits */
	assert_int_equal(ssrp_recover_choose(&l, "PC-2", "1a2b3c4d", &c), 0);
	assert_int_equal(ssrp_recover_choose(&l, "PC-1", NULL, &c), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "share the first 31 hex digits"));
	assert_int_equal(ssrp_recover_choose(&l, NULL, "1a2b3c4d-1111-4000-8000-00000000000b", &c), 0);
	assert_string_equal(c.key->id, "1A2B3C4D-1111-4000-8000-00000000000B");
	/* the same id on two devices: only the device tells them apart */
	add_key(&l.devices[1], "1a2b3c4d-1111-4000-8000-00000000000a", "2024-04-01T00:00:00Z");
	assert_int_equal(ssrp_recover_choose(&l, NULL, "1a2b3c4d-1111-4000-8000-00000000000a", &c),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "the same key id is on several devices"));
	ssrp_recover_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_choose_shared_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
