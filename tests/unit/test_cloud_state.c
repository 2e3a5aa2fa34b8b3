/* The simulated tenant (sim/cloud/state.h): the demo tenant, JSON load and
 * dump, a refusal naming its field for every kind of bad input, owners,
 * licences, the 200-key limit, hashed lookups and their deletion path,
 * device codes, and threads changing the state under its lock. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bitlocker/recovery_password.h"
#include "hal/crypto.h"
#include "hal/guid.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/state.h"
#include "ssrp/error.h"

#define TENANT "11111111-2222-4333-8444-555555555555"
#define U1 "aaaaaaaa-0000-4000-8000-000000000001"
#define U2 "aaaaaaaa-0000-4000-8000-000000000002"
#define D1 "dddddddd-0000-4000-8000-000000000001"
#define DEVID1 "eeeeeeee-0000-4000-8000-000000000001"
#define SKU_INTUNE "061f9ace-7d42-4136-88ac-31dc755f143f"
#define APP1 "cccccccc-0000-4000-8000-000000000001"
#define KEY1 "b465e4e8-e4e8-b465-e8e4-65b4e8e465b4"
#define RP1 "111683-110022-115434-100001-000000-123453-654632-110011"
#define HASH64 "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" /* "password" */

/* A small valid tenant; the refusal cases edit one piece of it. */
static const char base_json[] =
	"{\"tenant\":{\"id\":\"" TENANT "\",\"domain\":\"contoso.example\"},"
	"\"skus\":[{\"skuId\":\"" SKU_INTUNE "\",\"skuPartNumber\":\"INTUNE_A\","
	"\"servicePlans\":[{\"servicePlanId\":\"c1ec4a95-1f05-45b3-a911-aa3fa01094f5\","
	"\"servicePlanName\":\"INTUNE_A\"}]}],"
	"\"users\":[{\"id\":\"" U1 "\",\"userPrincipalName\":\"Alice@Contoso.example\","
	"\"displayName\":\"Alice\",\"onPremisesSamAccountName\":\"alice\","
	"\"onPremisesDomainName\":\"corp.contoso.example\",\"usageLocation\":\"US\",\"passwordSha256\":\"" HASH64 "\","
	"\"roles\":[],\"assignedLicenses\":[\"" SKU_INTUNE "\"]},"
	"{\"id\":\"" U2 "\",\"userPrincipalName\":\"bob@contoso.example\",\"displayName\":\"Bob\","
	"\"accountEnabled\":false,\"roles\":[\"Cloud Device Administrator\"]}],"
	"\"devices\":[{\"id\":\"" D1 "\",\"deviceId\":\"" DEVID1 "\",\"displayName\":\"PC1\","
	"\"registeredOwners\":[\"" U1 "\"],\"registeredUsers\":[]}],"
	"\"apps\":[{\"appId\":\"" APP1 "\",\"displayName\":\"app\",\"secretSha256\":\"" HASH64 "\","
	"\"roles\":[\"User.Read.All\"]}],"
	"\"recoveryKeys\":[{\"id\":\"" KEY1 "\",\"deviceId\":\"" DEVID1 "\",\"key\":\"" RP1 "\","
	"\"volumeType\":1,\"createdDateTime\":\"2020-06-15T13:45:30.0000000Z\"}],"
	"\"webhooks\":[{\"name\":\"hook\",\"tokenSha256\":\"" HASH64 "\","
	"\"host\":\"s1.webhook.eus.azure-automation.net\",\"enabled\":true,"
	"\"expiry\":\"2030-01-01T00:00:00Z\"}],"
	"\"jobs\":[{\"id\":\"99999999-0000-4000-8000-000000000001\",\"webhook\":\"hook\","
	"\"status\":\"Completed\",\"created\":\"2024-01-01T00:00:00Z\",\"output\":\"done\\n\"}],"
	"\"audit\":[{\"time\":\"2024-01-01T00:00:00Z\",\"actor\":\"user:bob@contoso.example\","
	"\"action\":\"Read BitLocker key\",\"target\":\"" KEY1 "\",\"deviceId\":\"" DEVID1 "\"}]}";

static cloud_state *load(const char *json)
{
	cloud_state *s = NULL;
	int rc = cloud_state_from_json(&s, json, strlen(json));
	if (rc != SSRP_OK)
		fail_msg("load failed: %s", ssrp_error_last());
	return s;
}

/* base_json with the first occurrence of from replaced by to. */
static char *edited(const char *from, const char *to)
{
	const char *at = strstr(base_json, from);
	if (!at)
		fail_msg("'%s' is not in the base tenant", from);
	size_t n = strlen(base_json) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	assert_non_null(out);
	size_t head = (size_t)(at - base_json);
	memcpy(out, base_json, head);
	strcpy(out + head, to);
	strcat(out, at + strlen(from));
	return out;
}

static void valid_password(char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	uint8_t key[SSRP_RP_KEY_LEN];
	assert_int_equal(ssrp_rp_generate(key), SSRP_OK);
	ssrp_rp_format(out, key);
}

/* ---- the demo tenant ------------------------------------------------------- */

static int printable_secret(const char *s, size_t min)
{
	if (strlen(s) < min)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static void demo_tenant(void **unused)
{
	(void)unused;
	cloud_state *s;
	cloud_demo_secrets sec;
	assert_int_equal(cloud_state_new_demo(&s, &sec), SSRP_OK);
	assert_true(ssrp_guid_is_bare(cloud_state_tenant_id(s)));
	assert_string_equal(cloud_state_tenant_domain(s), "contoso.example");
	cloud_state_lock(s);

	const cloud_sku *intune = cloud_sku_find(s, SKU_INTUNE);
	const cloud_sku *p1 = cloud_sku_find(s, "078D2B04-F1BD-4111-BBD4-B4B1B354CEF4");
	assert_non_null(intune);
	assert_non_null(p1);
	assert_string_equal(intune->part_number, "INTUNE_A");
	assert_string_equal(intune->plans[0].id, "c1ec4a95-1f05-45b3-a911-aa3fa01094f5");
	assert_string_equal(p1->part_number, "AAD_PREMIUM");
	assert_string_equal(p1->plans[0].id, "41781fb2-bc02-4b7c-bd55-b576c07bb09d");

	assert_int_equal(cloud_user_count(s), 4);
	cloud_user *admin = cloud_user_find(s, sec.admin_upn);
	cloud_user *alice = cloud_user_find(s, "ALICE@contoso.example");
	cloud_user *bob = cloud_user_find(s, sec.user2_upn);
	assert_non_null(admin);
	assert_non_null(alice);
	assert_non_null(bob);
	assert_string_equal(sec.admin_upn, "admin@contoso.example");
	assert_string_equal(sec.user_upn, "alice@contoso.example");
	assert_string_equal(sec.user2_upn, "bob@contoso.example");
	assert_true(cloud_user_has_role(admin, "Cloud Device Administrator"));
	assert_true(cloud_user_has_role(admin, "intune administrator"));
	assert_false(cloud_user_has_role(alice, "Cloud Device Administrator"));
	assert_int_equal(alice->n_licenses, 1);
	assert_string_equal(alice->licenses[0], "078d2b04-f1bd-4111-bbd4-b4b1b354cef4");
	assert_int_equal(bob->n_licenses, 1);
	/* The association service's account: owner changes and licences, nothing else. */
	cloud_user *svc = cloud_user_find(s, sec.service_upn);
	assert_non_null(svc);
	assert_string_equal(sec.service_upn, "ssrp-svc@contoso.example");
	assert_true(cloud_user_has_role(svc, "Intune Administrator"));
	assert_true(cloud_user_has_role(svc, "License Administrator"));
	assert_false(cloud_user_has_role(svc, "Cloud Device Administrator"));
	assert_int_equal(svc->n_licenses, 0);
	assert_string_equal(bob->licenses[0], SKU_INTUNE);
	/* onPremisesDomainName is the DNS name, as Graph gives it */
	assert_ptr_equal(cloud_user_find_sam(s, "corp.contoso.example", "ALICE"), alice);
	assert_ptr_equal(cloud_user_find_sam(s, "CORP.CONTOSO.example", "bob"), bob);
	assert_string_equal(alice->on_prem_domain, "corp.contoso.example");
	assert_null(cloud_user_find_sam(s, "CONTOSO", "bob"));
	assert_null(cloud_user_find_sam(s, "FABRIKAM", "bob"));
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(cloud_user_at(s, i)->usage_location, "US");
	assert_true(cloud_user_check_password(admin, sec.admin_password));
	assert_true(cloud_user_check_password(alice, sec.user_password));
	assert_true(cloud_user_check_password(bob, sec.user2_password));
	assert_false(cloud_user_check_password(alice, sec.user2_password));
	assert_false(cloud_user_check_password(alice, ""));

	cloud_device *d = cloud_device_find_by_device_id(s, sec.device_id);
	assert_non_null(d);
	assert_string_equal(d->display_name, "DESKTOP-SSRP01");
	assert_string_equal(sec.device_name, "DESKTOP-SSRP01");
	assert_int_equal(d->n_owners, 0);
	assert_true(d->account_enabled);
	assert_ptr_equal(cloud_device_find(s, d->id), d);

	cloud_app *app = cloud_app_find(s, sec.app_id);
	assert_non_null(app);
	assert_string_equal(app->display_name, "ssrp association");
	assert_true(cloud_app_has_role(app, "User.Read.All"));
	assert_true(cloud_app_has_role(app, "Device.Read.All"));
	assert_true(cloud_app_has_role(app, "BitlockerKey.Read.All"));
	assert_false(cloud_app_has_role(app, "Directory.ReadWrite.All"));
	assert_true(cloud_app_check_secret(app, sec.app_secret));
	assert_false(cloud_app_check_secret(app, "wrong"));
	assert_false(app->public_client);
	cloud_app *pub = cloud_app_find(s, sec.public_client_id);
	assert_non_null(pub);
	assert_true(pub->public_client);
	assert_false(pub->has_secret);

	cloud_webhook *w = cloud_webhook_find_by_host(s, sec.webhook_host);
	assert_non_null(w);
	assert_string_equal(w->name, "ssrp-association");
	assert_true(w->enabled);
	assert_true(w->expiry > (uint64_t)time(NULL) + 364u * 86400u);
	assert_true(cloud_webhook_check_token(w, sec.webhook_token));
	assert_false(cloud_webhook_check_token(w, sec.app_secret));
	const char *suffix = ".webhook.eus.azure-automation.net";
	size_t hl = strlen(sec.webhook_host);
	assert_true(hl == 32 + strlen(suffix));
	assert_string_equal(sec.webhook_host + 32, suffix);

	assert_true(printable_secret(sec.app_secret, 32));
	assert_true(printable_secret(sec.admin_password, 16));
	assert_true(printable_secret(sec.user_password, 16));
	assert_true(printable_secret(sec.user2_password, 16));
	assert_true(printable_secret(sec.webhook_token, 24));
	assert_string_not_equal(sec.user_password, sec.user2_password);

	/* The dump holds hashes, never the secrets themselves. */
	char *dump = cloud_state_to_json(s);
	assert_non_null(dump);
	assert_null(strstr(dump, sec.app_secret));
	assert_null(strstr(dump, sec.admin_password));
	assert_null(strstr(dump, sec.webhook_token));
	free(dump);
	cloud_state_unlock(s);

	/* Every demo tenant is fresh. */
	cloud_state *s2;
	cloud_demo_secrets sec2;
	assert_int_equal(cloud_state_new_demo(&s2, &sec2), SSRP_OK);
	assert_string_not_equal(cloud_state_tenant_id(s), cloud_state_tenant_id(s2));
	assert_string_not_equal(sec.app_secret, sec2.app_secret);
	assert_string_not_equal(sec.device_id, sec2.device_id);
	cloud_state_free(s2);
	cloud_state_free(s);
}

/* ---- load and dump ------------------------------------------------------------ */

static void load_dump_roundtrip(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	cloud_state_lock(s);
	cloud_user *alice = cloud_user_find(s, "alice@CONTOSO.example");
	assert_non_null(alice);
	assert_string_equal(alice->upn, "Alice@Contoso.example"); /* spelling kept */
	assert_true(cloud_user_check_password(alice, "password"));
	assert_true(alice->account_enabled); /* the default */
	assert_false(cloud_user_find(s, U2)->account_enabled);
	cloud_device *d = cloud_device_find(s, D1);
	assert_non_null(d);
	assert_string_equal(d->operating_system, "Windows"); /* the default */
	assert_true(cloud_device_has_owner(d, U1));
	cloud_recovery_key *k = cloud_key_find(s, KEY1);
	assert_non_null(k);
	assert_string_equal(k->key, RP1);
	assert_int_equal(k->volume_type, 1);
	assert_int_equal(k->created, 1592228730u);
	cloud_job *j = cloud_job_find(s, "99999999-0000-4000-8000-000000000001");
	assert_non_null(j);
	assert_int_equal(j->status, CLOUD_JOB_COMPLETED);
	assert_string_equal(j->output, "done\n");

	/* Changes, then dump → load → dump gives the same text. */
	assert_int_equal(cloud_device_add_user(d, U2), 0);
	char rp[SSRP_RECOVERY_PASSWORD_LEN + 1];
	valid_password(rp);
	cloud_recovery_key nk = {.volume_type = 2, .created = 1700000000};
	cloud_new_id(nk.id);
	memcpy(nk.device_id, DEVID1, sizeof nk.device_id);
	memcpy(nk.key, rp, sizeof rp);
	assert_int_equal(cloud_key_put(s, &nk), SSRP_OK);
	cloud_audit_add(s, 1700000001, "app:x", "Read\tkey", "target", NULL);
	char job_id[CLOUD_ID_LEN + 1];
	assert_int_equal(cloud_job_add(s, "hook", 1700000002, job_id), SSRP_OK);
	cloud_job_finish(cloud_job_find(s, job_id), CLOUD_JOB_FAILED, strdup("boom \"quoted\""));
	char *one = cloud_state_to_json(s);
	assert_non_null(one);
	cloud_state_unlock(s);

	cloud_state *again = load(one);
	cloud_state_lock(again);
	char *two = cloud_state_to_json(again);
	cloud_state_unlock(again);
	assert_string_equal(one, two);
	/* The order in the dump is the state's: sections as in state.h. */
	const char *order[] = {"\"tenant\"", "\"skus\"", "\"users\"", "\"devices\"", "\"apps\"",
			       "\"recoveryKeys\"", "\"webhooks\"", "\"jobs\"", "\"audit\""};
	const char *prev = one;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const char *at = strstr(one, order[i]);
		assert_non_null(at);
		assert_true(at >= prev);
		prev = at;
	}
	assert_non_null(strstr(one, "\"createdDateTime\":\t\"2020-06-15T13:45:30Z\""));
	assert_non_null(strstr(one, "Read?key")); /* control characters never reach the dump */
	free(one);
	free(two);
	cloud_state_free(again);
	cloud_state_free(s);
}

static void load_from_file(void **unused)
{
	(void)unused;
	char path[] = "/tmp/ssrp-state-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, base_json, strlen(base_json)), (ssize_t)strlen(base_json));
	close(fd);
	cloud_state *s = NULL;
	assert_int_equal(cloud_state_load(&s, path), SSRP_OK);
	assert_non_null(s);
	cloud_state_free(s);
	/* A bad file names itself and the field. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"tenant\":{\"id\":\"x\",\"domain\":\"a.b\"}}", f);
	fclose(f);
	assert_int_equal(cloud_state_load(&s, path), SSRP_E_FORMAT);
	assert_null(s);
	assert_non_null(strstr(ssrp_error_last(), path));
	assert_non_null(strstr(ssrp_error_last(), "tenant.id"));
	unlink(path);
	assert_int_equal(cloud_state_load(&s, path), SSRP_E_IO);
	assert_null(s);
}

struct refusal {
	const char *from, *to; /* an edit of base_json */
	const char *words;     /* what the message must say */
};

static void refusals_name_the_field(void **unused)
{
	(void)unused;
	static const struct refusal cases[] = {
		{"\"registeredOwners\"", "\"registredOwners\"",
		 "devices[0].registredOwners: unknown field (did you mean registeredOwners?)"},
		{"\"audit\":[", "\"audti\":[", "tenant state: audti: unknown field (did you mean audit?)"},
		{"\"usageLocation\":\"US\"", "\"usageLocation\":\"US\",\"usageLocation\":\"US\"",
		 "users[0].usageLocation: given twice"},
		{"\"id\":\"" U2 "\"", "\"id\":\"not-a-guid\"", "users[1].id: 'not-a-guid' is not a GUID"},
		{"\"id\":\"" U2 "\"", "\"id\":\"" U1 "\"", "users[1].id: " U1 " is used by an earlier object"},
		{"\"id\":\"" D1 "\"", "\"id\":\"" U2 "\"", "devices[0].id: " U2 " is used by an earlier object"},
		{"bob@contoso.example", "ALICE@contoso.example", "users[1].userPrincipalName: ALICE@contoso.example is used"},
		{"bob@contoso.example", "bob", "users[1].userPrincipalName: 'bob' is not a name@domain"},
		{"\"displayName\":\"Bob\",", "", "users[1].displayName: missing"},
		{"\"displayName\":\"Bob\"", "\"displayName\":\"B\\u0001ob\"", "users[1].displayName: contains a control"},
		{"\"displayName\":\"Bob\"", "\"displayName\":7", "users[1].displayName: must be a string"},
		{"\"onPremisesDomainName\":\"corp.contoso.example\",", "",
		 "users[0].onPremisesDomainName: missing: the on-premises account name and domain go together"},
		{"\"onPremisesDomainName\":\"corp.contoso.example\"", "\"onPremisesDomainName\":\"CONTOSO\"",
		 "users[0].onPremisesDomainName: 'CONTOSO' is not a DNS domain name like corp.contoso.example"},
		{"\"onPremisesDomainName\":\"corp.contoso.example\"", "\"onPremisesDomainName\":\"corp..example\"",
		 "users[0].onPremisesDomainName: 'corp..example' is not a DNS domain name"},
		{"\"onPremisesSamAccountName\":\"alice\"", "\"onPremisesSamAccountName\":\"a/b\"",
		 "users[0].onPremisesSamAccountName: 'a/b' is not a Windows account name"},
		{"\"usageLocation\":\"US\"", "\"usageLocation\":\"us\"", "users[0].usageLocation: 'us' is not a two-letter"},
		{"\"accountEnabled\":false", "\"accountEnabled\":\"no\"", "users[1].accountEnabled: must be true or false"},
		{"\"passwordSha256\":\"" HASH64 "\"", "\"passwordSha256\":\"abc\"",
		 "users[0].passwordSha256: must be 64 hex digits"},
		{"\"roles\":[\"Cloud Device Administrator\"]",
		 "\"roles\":[\"Cloud Device Administrator\",\"cloud device administrator\"]",
		 "users[1].roles[1]: 'cloud device administrator' is listed twice"},
		{"\"roles\":[\"Cloud Device Administrator\"]", "\"roles\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]",
		 "users[1].roles: has more than 8 entries"},
		{"\"roles\":[\"Cloud Device Administrator\"]", "\"roles\":\"Cloud Device Administrator\"",
		 "users[1].roles: must be an array"},
		{"\"assignedLicenses\":[\"" SKU_INTUNE "\"]", "\"assignedLicenses\":[\"84a661c4-e949-4bd2-a560-ed7766fcaf2b\"]",
		 "users[0].assignedLicenses[0]: no SKU in \"skus\" has skuId 84a661c4"},
		{"\"assignedLicenses\":[\"" SKU_INTUNE "\"]",
		 "\"assignedLicenses\":[\"" SKU_INTUNE "\",\"061F9ACE-7D42-4136-88AC-31DC755F143F\"]",
		 "users[0].assignedLicenses[1]: " SKU_INTUNE " is listed twice"},
		{"\"registeredOwners\":[\"" U1 "\"]", "\"registeredOwners\":[\"" U1 "\",\"" D1 "\"]",
		 "devices[0].registeredOwners[1]: no user has id " D1},
		{"\"registeredOwners\":[\"" U1 "\"]", "\"registeredOwners\":[\"" U1 "\",\"" U1 "\"]",
		 "devices[0].registeredOwners[1]: " U1 " is listed twice"},
		{"\"registeredUsers\":[]", "\"registeredUsers\":[5]", "devices[0].registeredUsers[0]: must be a user's"},
		{"\"displayName\":\"PC1\",", "\"displayName\":\"PC1\",\"accountEnabled\":\"yes\",",
		 "devices[0].accountEnabled: must be true or false"},
		{"\"deviceId\":\"" DEVID1 "\",\"displayName\":\"PC1\"", "\"displayName\":\"PC1\"", "devices[0].deviceId: missing"},
		{"\"secretSha256\"", "\"certificatePem\":\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\",\"secretSha256\"",
		 "apps[0].certificatePem: not a PEM certificate"},
		{"\"roles\":[\"User.Read.All\"]", "\"roles\":[\"User.Read.All\"],\"publicClient\":1",
		 "apps[0].publicClient: must be true or false"},
		{"\"key\":\"" RP1 "\"", "\"key\":\"111683-110022-115434-100001-000000-123453-654632-110012\"",
		 "recoveryKeys[0].key: not a recovery password"},
		{"\"key\":\"" RP1 "\"", "\"key\":\"111683 110022 115434 100001 000000 123453 654632 110011\"",
		 "recoveryKeys[0].key: not a recovery password"},
		{"\"volumeType\":1", "\"volumeType\":5", "recoveryKeys[0].volumeType: must be 1"},
		{"\"volumeType\":1", "\"volumeType\":\"1\"", "recoveryKeys[0].volumeType: must be 1"},
		{"\"deviceId\":\"" DEVID1 "\",\"key\"", "\"deviceId\":\"" D1 "\",\"key\"",
		 "recoveryKeys[0].deviceId: no device has deviceId " D1},
		{"2020-06-15T13:45:30.0000000Z", "2020-02-30T13:45:30Z", "recoveryKeys[0].createdDateTime: '2020-02-30T13:45:30Z' is not a valid date"},
		{"2020-06-15T13:45:30.0000000Z", "2020-06-15T13:45:30", "recoveryKeys[0].createdDateTime: '2020-06-15T13:45:30' is not a time"},
		{"s1.webhook.eus.azure-automation.net", "s1.example.com",
		 "webhooks[0].host: 's1.example.com' is not a host name ending in .azure-automation.net"},
		{"\"tokenSha256\":\"" HASH64 "\",", "", "webhooks[0].tokenSha256: missing"},
		{"\"webhook\":\"hook\"", "\"webhook\":\"other\"", "jobs[0].webhook: no webhook is named other"},
		{"\"status\":\"Completed\"", "\"status\":\"Done\"", "jobs[0].status: 'Done' is not Queued"},
		{"\"actor\":\"user:bob@contoso.example\",", "", "audit[0].actor: missing"},
		{"\"domain\":\"contoso.example\"", "\"domain\":\"contoso\"", "tenant.domain: 'contoso' is not a DNS name"},
		{"{\"tenant\":{\"id\":\"" TENANT "\",\"domain\":\"contoso.example\"},", "{", "tenant: missing"},
		{"\"skus\":[{", "\"skus\":[7,{", "skus[0]: must be an object"},
		{"\"tenant\":{", "\"tenant\":{{", "not valid JSON"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *json = edited(cases[i].from, cases[i].to);
		/* Not NULL before the call: a refusal must reset it. */
		cloud_state *s = (cloud_state *)&s;
		int rc = cloud_state_from_json(&s, json, strlen(json));
		if (rc != SSRP_E_FORMAT || s)
			fail_msg("case %zu: rc %d, state %p, message '%s'", i, rc, (void *)s, ssrp_error_last());
		if (!strstr(ssrp_error_last(), cases[i].words))
			fail_msg("case %zu: message '%s' lacks '%s'", i, ssrp_error_last(), cases[i].words);
		free(json);
	}
	/* Refusals that are not an edit of one spot. */
	cloud_state *s;
	size_t bl = strlen(base_json);
	char *trailing = malloc(bl + 4);
	memcpy(trailing, base_json, bl);
	memcpy(trailing + bl, " x", 3);
	assert_int_equal(cloud_state_from_json(&s, trailing, bl + 2), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "unexpected bytes after the JSON document"));
	free(trailing);
	const char *skus_object = "{\"tenant\":{\"id\":\"" TENANT "\",\"domain\":\"a.example\"},\"skus\":{}}";
	assert_int_equal(cloud_state_from_json(&s, skus_object, strlen(skus_object)), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "tenant state: skus: must be an array"));
	/* And the base itself loads, so each refusal above is its edit's. */
	cloud_state_free(load(base_json));
	assert_int_equal(cloud_state_from_json(&s, "", 0), SSRP_E_FORMAT);
	assert_int_equal(cloud_state_from_json(&s, "[]", 2), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "the document must be an object"));
	/* A length shorter than the text cuts the document. */
	assert_int_equal(cloud_state_from_json(&s, base_json, strlen(base_json) - 1), SSRP_E_FORMAT);
}

/* ---- owners, users, licences ---------------------------------------------------- */

static void owners(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	cloud_state_lock(s);
	cloud_device *d = cloud_device_find_by_device_id(s, "EEEEEEEE-0000-4000-8000-000000000001");
	assert_non_null(d);
	assert_int_equal(d->n_owners, 1);
	assert_int_equal(cloud_device_add_owner(d, U2), 0);
	assert_int_equal(cloud_device_add_owner(d, "AAAAAAAA-0000-4000-8000-000000000002"), 1);
	assert_int_equal(d->n_owners, 2);
	assert_string_equal(d->owners[0], U1); /* insertion order */
	assert_string_equal(d->owners[1], U2);
	assert_true(cloud_device_has_owner(d, "AAAAAAAA-0000-4000-8000-000000000002"));
	assert_int_equal(cloud_device_add_owner(d, "nope"), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "registeredOwners"));

	cloud_device *owned[1];
	assert_int_equal(cloud_devices_owned_by(s, U2, owned, 1), 1);
	assert_ptr_equal(owned[0], d);
	assert_int_equal(cloud_devices_owned_by(s, U2, NULL, 0), 1); /* a size query */

	assert_int_equal(cloud_device_remove_owner(d, U1), SSRP_OK);
	assert_int_equal(cloud_device_remove_owner(d, U1), SSRP_E_NOTFOUND);
	assert_false(cloud_device_has_owner(d, U1));
	assert_int_equal(d->n_owners, 1);
	assert_string_equal(d->owners[0], U2);
	assert_int_equal(cloud_device_remove_owner(d, U2), SSRP_OK);
	assert_int_equal(d->n_owners, 0);
	assert_null(d->owners);
	assert_int_equal(cloud_devices_owned_by(s, U2, owned, 1), 0);

	/* Registered users are a separate list. */
	assert_int_equal(cloud_device_add_user(d, U1), 0);
	assert_int_equal(cloud_device_add_user(d, U1), 1);
	assert_false(cloud_device_has_owner(d, U1));
	assert_int_equal(cloud_device_remove_user(d, U2), SSRP_E_NOTFOUND);
	assert_int_equal(cloud_device_remove_user(d, U1), SSRP_OK);
	assert_int_equal(d->n_users, 0);

	/* Many owners grow the list one at a time. */
	char id[CLOUD_ID_LEN + 1];
	for (int i = 0; i < 50; i++) {
		cloud_new_id(id);
		assert_int_equal(cloud_device_add_owner(d, id), 0);
	}
	assert_int_equal(d->n_owners, 50);
	assert_true(cloud_device_has_owner(d, id));
	cloud_state_unlock(s);
	cloud_state_free(s);
}

static void licences(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	cloud_state_lock(s);
	cloud_user *bob = cloud_user_find(s, U2);
	assert_non_null(bob);
	assert_int_equal(cloud_user_add_license(s, bob, "84a661c4-e949-4bd2-a560-ed7766fcaf2b"), SSRP_E_NOTFOUND);
	assert_int_equal(cloud_user_add_license(s, bob, SKU_INTUNE), 0);
	assert_int_equal(cloud_user_add_license(s, bob, "061F9ACE-7D42-4136-88AC-31DC755F143F"), 1);
	assert_int_equal(bob->n_licenses, 1);
	assert_int_equal(cloud_user_remove_license(bob, SKU_INTUNE), SSRP_OK);
	assert_int_equal(cloud_user_remove_license(bob, SKU_INTUNE), SSRP_E_NOTFOUND);
	assert_int_equal(bob->n_licenses, 0);
	cloud_state_unlock(s);
	cloud_state_free(s);
}

/* ---- recovery keys ------------------------------------------------------------------ */

static cloud_recovery_key new_key(const char *device_id)
{
	cloud_recovery_key k = {.volume_type = 1, .created = 1700000000};
	cloud_new_id(k.id);
	memcpy(k.device_id, device_id, CLOUD_ID_LEN + 1);
	valid_password(k.key);
	return k;
}

static void key_limit(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	cloud_state_lock(s);
	/* The base tenant's device holds one key already. */
	cloud_recovery_key first = {0};
	for (int i = 1; i < CLOUD_MAX_KEYS_PER_DEVICE; i++) {
		cloud_recovery_key k = new_key(DEVID1);
		if (i == 1)
			first = k;
		assert_int_equal(cloud_key_put(s, &k), SSRP_OK);
	}
	assert_int_equal(cloud_keys_list(s, DEVID1, NULL, 0), CLOUD_MAX_KEYS_PER_DEVICE);
	cloud_recovery_key extra = new_key(DEVID1);
	assert_int_equal(cloud_key_put(s, &extra), SSRP_E_REFUSED);
	assert_non_null(strstr(ssrp_error_last(), "200"));
	assert_null(cloud_key_find(s, extra.id));
	/* Replacing a key the device has is not a new key. */
	first.volume_type = 2;
	assert_int_equal(cloud_key_put(s, &first), SSRP_OK);
	assert_int_equal(cloud_key_find(s, first.id)->volume_type, 2);
	/* A dump at the limit loads again; one more key in the file does not. */
	char *dump = cloud_state_to_json(s);
	cloud_state *again = load(dump);
	cloud_state_free(again);
	const char *marker = "\"recoveryKeys\":\t[";
	char *at = strstr(dump, marker);
	assert_non_null(at);
	char entry[512];
	snprintf(entry, sizeof entry,
		 "{\"id\":\"%s\",\"deviceId\":\"%s\",\"key\":\"%s\",\"volumeType\":1,"
		 "\"createdDateTime\":\"2024-01-01T00:00:00Z\"},",
		 extra.id, extra.device_id, extra.key);
	size_t head = (size_t)(at - dump) + strlen(marker);
	char *bigger = malloc(strlen(dump) + strlen(entry) + 1);
	memcpy(bigger, dump, head);
	strcpy(bigger + head, entry);
	strcat(bigger, dump + head);
	cloud_state *none = NULL;
	assert_int_equal(cloud_state_from_json(&none, bigger, strlen(bigger)), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "recoveryKeys[200].deviceId: device " DEVID1 " has more than 200"));
	free(bigger);
	free(dump);
	/* After a delete there is room again. */
	assert_int_equal(cloud_key_delete(s, first.id), SSRP_OK);
	assert_int_equal(cloud_key_delete(s, first.id), SSRP_E_NOTFOUND);
	assert_int_equal(cloud_key_put(s, &extra), SSRP_OK);
	cloud_state_unlock(s);
	cloud_state_free(s);
}

static void key_rules(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	cloud_state_lock(s);
	/* A second device to own keys of its own. */
	cloud_device *d = cloud_device_find(s, D1);
	assert_non_null(d);
	cloud_recovery_key k = new_key(DEVID1);
	cloud_recovery_key bad = k;
	memcpy(bad.key, "123456", 7);
	assert_int_equal(cloud_key_put(s, &bad), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "not a recovery password"));
	bad = k;
	bad.volume_type = 0;
	assert_int_equal(cloud_key_put(s, &bad), SSRP_E_INVALID);
	bad = k;
	memcpy(bad.device_id, "ffffffff-0000-4000-8000-000000000001", CLOUD_ID_LEN + 1);
	assert_int_equal(cloud_key_put(s, &bad), SSRP_E_NOTFOUND);
	bad = k;
	memcpy(bad.id, "not a guid", 11);
	assert_int_equal(cloud_key_put(s, &bad), SSRP_E_INVALID);
	/* Ids are stored in lower case and found in any case. */
	for (char *p = k.id; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(cloud_key_put(s, &k), SSRP_OK);
	cloud_recovery_key *found = cloud_key_find(s, k.id);
	assert_non_null(found);
	assert_null(strpbrk(found->id, "ABCDEF"));
	/* The key list of a device and of the tenant, in insertion order. */
	cloud_recovery_key *list[4];
	assert_int_equal(cloud_keys_list(s, DEVID1, list, 4), 2);
	assert_string_equal(list[0]->id, KEY1);
	assert_ptr_equal(list[1], found);
	assert_int_equal(cloud_keys_list(s, NULL, list, 1), 2);
	assert_string_equal(list[0]->id, KEY1);
	assert_int_equal(cloud_keys_list(s, "ffffffff-0000-4000-8000-000000000001", list, 4), 0);
	cloud_state_unlock(s);
	cloud_state_free(s);
}

/* ---- lookups ---------------------------------------------------------------------- */

static void hashed_lookups(void **unused)
{
	(void)unused;
	enum { N = 3000 };
	/* A tenant with N users and N devices, written as JSON. */
	size_t cap = 400u * N + 1000;
	char *json = malloc(cap);
	assert_non_null(json);
	size_t n = (size_t)snprintf(json, cap, "{\"tenant\":{\"id\":\"" TENANT "\",\"domain\":\"c.example\"},\"users\":[");
	for (int i = 0; i < N; i++)
		n += (size_t)snprintf(json + n, cap - n,
				      "%s{\"id\":\"aaaaaaaa-0000-4000-8000-%012d\",\"userPrincipalName\":\"User%d@C.example\","
				      "\"displayName\":\"u\",\"onPremisesSamAccountName\":\"u%d\",\"onPremisesDomainName\":\"c.example\"}",
				      i ? "," : "", i, i, i);
	n += (size_t)snprintf(json + n, cap - n, "],\"devices\":[");
	for (int i = 0; i < N; i++)
		n += (size_t)snprintf(json + n, cap - n,
				      "%s{\"id\":\"dddddddd-0000-4000-8000-%012d\",\"deviceId\":\"eeeeeeee-0000-4000-8000-%012d\","
				      "\"displayName\":\"PC%d\"}",
				      i ? "," : "", i, i, i);
	snprintf(json + n, cap - n, "]}");
	cloud_state *s = load(json);
	free(json);
	cloud_state_lock(s);
	assert_int_equal(cloud_user_count(s), N);
	assert_int_equal(cloud_device_count(s), N);
	char key[96];
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof key, "user%d@c.EXAMPLE", i);
		cloud_user *u = cloud_user_find(s, key);
		assert_non_null(u);
		assert_ptr_equal(u, cloud_user_at(s, (size_t)i));
		snprintf(key, sizeof key, "AAAAAAAA-0000-4000-8000-%012d", i);
		assert_ptr_equal(cloud_user_find(s, key), u);
		snprintf(key, sizeof key, "U%d", i);
		assert_ptr_equal(cloud_user_find_sam(s, "C.example", key), u);
		snprintf(key, sizeof key, "EEEEEEEE-0000-4000-8000-%012d", i);
		cloud_device *d = cloud_device_find_by_device_id(s, key);
		assert_non_null(d);
		assert_ptr_equal(d, cloud_device_at(s, (size_t)i));
		snprintf(key, sizeof key, "dddddddd-0000-4000-8000-%012d", i);
		assert_ptr_equal(cloud_device_find(s, key), d);
	}
	assert_null(cloud_user_find(s, "user3000@c.example"));
	assert_null(cloud_user_find(s, "aaaaaaaa-0000-4000-8000-000000003000"));
	assert_null(cloud_user_find(s, NULL));
	assert_null(cloud_device_find_by_device_id(s, "eeeeeeee-0000-4000-8000-000000003000"));
	assert_null(cloud_user_at(s, N));
	assert_null(cloud_device_at(s, N));

	/* Keys spread over devices, then half deleted: the open-addressing
	 * index must still find every survivor and none of the deleted. */
	enum { K = 2000 };
	static char ids[K][CLOUD_ID_LEN + 1];
	for (int i = 0; i < K; i++) {
		snprintf(key, sizeof key, "eeeeeeee-0000-4000-8000-%012d", i % 100);
		cloud_recovery_key k = new_key(key);
		memcpy(ids[i], k.id, sizeof ids[i]);
		assert_int_equal(cloud_key_put(s, &k), SSRP_OK);
	}
	for (int i = 0; i < K; i += 2)
		assert_int_equal(cloud_key_delete(s, ids[i]), SSRP_OK);
	for (int i = 0; i < K; i++) {
		cloud_recovery_key *k = cloud_key_find(s, ids[i]);
		if (i % 2)
			assert_non_null(k);
		else
			assert_null(k);
	}
	assert_int_equal(cloud_keys_list(s, NULL, NULL, 0), K / 2);
	/* Keys of device 1 have odd indexes, so all survive; device 0 kept none. */
	assert_int_equal(cloud_keys_list(s, "eeeeeeee-0000-4000-8000-000000000001", NULL, 0), K / 100);
	assert_int_equal(cloud_keys_list(s, "eeeeeeee-0000-4000-8000-000000000000", NULL, 0), 0);
	cloud_state_unlock(s);
	cloud_state_free(s);
}

/* ---- webhooks, jobs, device codes ----------------------------------------------------- */

static void jobs_and_webhooks(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	cloud_state_lock(s);
	cloud_webhook *w = cloud_webhook_find_by_host(s, "S1.webhook.eus.azure-automation.net");
	assert_non_null(w);
	assert_true(cloud_webhook_check_token(w, "password"));
	assert_false(cloud_webhook_check_token(w, "Password"));
	assert_false(cloud_webhook_check_token(w, NULL));
	assert_null(cloud_webhook_find_by_host(s, "s2.webhook.eus.azure-automation.net"));
	char id[CLOUD_ID_LEN + 1];
	assert_int_equal(cloud_job_add(s, "nohook", 1, id), SSRP_E_NOTFOUND);
	assert_string_equal(id, "");
	assert_int_equal(cloud_job_add(s, "hook", 1700000000, id), SSRP_OK);
	cloud_job *j = cloud_job_find(s, id);
	assert_non_null(j);
	assert_int_equal(j->status, CLOUD_JOB_QUEUED);
	assert_null(j->output);
	cloud_job_finish(j, CLOUD_JOB_RUNNING, NULL);
	cloud_job_finish(j, CLOUD_JOB_COMPLETED, strdup("ok"));
	cloud_job_finish(j, CLOUD_JOB_COMPLETED, strdup("ok again")); /* the old output is freed */
	assert_string_equal(cloud_job_find(s, id)->output, "ok again");
	cloud_state_unlock(s);
	cloud_state_free(s);
}

static void device_codes(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	cloud_state_lock(s);
	cloud_device_code dc = {.expires = 2000};
	assert_int_equal(ssrp_sha256(dc.code_sha256, "secret-code", 11), 0);
	strcpy(dc.user_code, "ABCD2345E");
	strcpy(dc.app_id, APP1);
	assert_int_equal(cloud_devicecode_add(s, &dc, 1000), SSRP_OK);
	assert_non_null(cloud_devicecode_find(s, "secret-code"));
	assert_null(cloud_devicecode_find(s, "secret-codE"));
	assert_non_null(cloud_devicecode_find_user_code(s, "abcd2345e"));
	/* Adding drops codes that have expired by then. */
	cloud_device_code other = dc;
	strcpy(other.user_code, "ZZZZ2345E");
	assert_int_equal(ssrp_sha256(other.code_sha256, "other", 5), 0);
	other.expires = 5000;
	assert_int_equal(cloud_devicecode_add(s, &other, 2000), SSRP_OK);
	assert_null(cloud_devicecode_find(s, "secret-code"));
	cloud_device_code *o = cloud_devicecode_find(s, "other");
	assert_non_null(o);
	cloud_devicecode_remove(s, o);
	assert_null(cloud_devicecode_find_user_code(s, "ZZZZ2345E"));
	/* At most CLOUD_MAX_DEVICE_CODES pending at once. */
	for (int i = 0; i < CLOUD_MAX_DEVICE_CODES; i++) {
		snprintf(other.user_code, sizeof other.user_code, "C%d", i);
		assert_int_equal(cloud_devicecode_add(s, &other, 2000), SSRP_OK);
	}
	assert_int_equal(cloud_devicecode_add(s, &other, 2000), SSRP_E_REFUSED);
	assert_int_equal(cloud_devicecode_add(s, &other, 6000), SSRP_OK); /* all expired */
	cloud_state_unlock(s);
	cloud_state_free(s);
}

/* ---- threads ------------------------------------------------------------------------- */

/* 8 x 24 keys plus the base tenant's one stay under the 200-key limit. */
enum { THREADS = 8, PER_THREAD = 24 };

struct worker {
	cloud_state *s;
	int index;
	char owners[PER_THREAD][CLOUD_ID_LEN + 1];
	char keys[PER_THREAD][CLOUD_ID_LEN + 1];
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		/* No cmocka assertions in here: they longjmp, which only the
		 * test's own thread may do. */
		cloud_new_id(w->owners[i]);
		cloud_recovery_key k = {.volume_type = 1, .created = 1700000000};
		uint8_t raw[SSRP_RP_KEY_LEN];
		if (ssrp_rp_generate(raw) != SSRP_OK)
			w->failures++;
		ssrp_rp_format(k.key, raw);
		cloud_new_id(k.id);
		memcpy(k.device_id, DEVID1, sizeof k.device_id);
		memcpy(w->keys[i], k.id, sizeof w->keys[i]);
		cloud_state_lock(w->s);
		cloud_device *d = cloud_device_find(w->s, D1);
		size_t before = d->n_owners;
		if (cloud_device_add_owner(d, w->owners[i]) != 0 || d->n_owners != before + 1)
			w->failures++;
		if (cloud_key_put(w->s, &k) != SSRP_OK)
			w->failures++;
		cloud_audit_add(w->s, 1700000000, "thread", "work", w->owners[i], NULL);
		cloud_state_unlock(w->s);
		/* A reader between writes: whatever it sees is whole. */
		cloud_state_lock(w->s);
		char *dump = (i % 10 == 0) ? cloud_state_to_json(w->s) : NULL;
		cloud_state_unlock(w->s);
		if (dump && !strstr(dump, w->owners[i]))
			w->failures++;
		free(dump);
	}
	return NULL;
}

static void concurrent_changes(void **unused)
{
	(void)unused;
	cloud_state *s = load(base_json);
	static struct worker workers[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&workers[i], 0, sizeof workers[i]);
		workers[i].s = s;
		workers[i].index = i;
		assert_int_equal(pthread_create(&th[i], NULL, work, &workers[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(workers[i].failures, 0);
	}
	cloud_state_lock(s);
	cloud_device *d = cloud_device_find(s, D1);
	assert_int_equal(d->n_owners, 1 + THREADS * PER_THREAD);
	assert_int_equal(cloud_keys_list(s, DEVID1, NULL, 0), 1 + THREADS * PER_THREAD);
	for (int i = 0; i < THREADS; i++) {
		for (int j = 0; j < PER_THREAD; j++) {
			assert_true(cloud_device_has_owner(d, workers[i].owners[j]));
			assert_non_null(cloud_key_find(s, workers[i].keys[j]));
		}
	}
	/* No id twice in the owner list. */
	for (size_t i = 0; i < d->n_owners; i++)
		for (size_t j = i + 1; j < d->n_owners; j++)
			assert_string_not_equal(d->owners[i], d->owners[j]);
	cloud_state_unlock(s);
	cloud_state_free(s);
}

/* ---- the text helpers the state relies on ------------------------------------------------ */

static void times_and_ids(void **unused)
{
	(void)unused;
	char iso[CLOUD_TIME_ISO_LEN + 1];
	cloud_time_format_iso(iso, 0);
	assert_string_equal(iso, "1970-01-01T00:00:00Z");
	cloud_time_format_iso(iso, 951782400); /* a leap day */
	assert_string_equal(iso, "2000-02-29T00:00:00Z");
	cloud_time_format_iso(iso, 4102444799u);
	assert_string_equal(iso, "2099-12-31T23:59:59Z");
	uint64_t t;
	assert_int_equal(cloud_time_parse_iso(&t, "2000-02-29T00:00:00Z"), SSRP_OK);
	assert_int_equal(t, 951782400);
	assert_int_equal(cloud_time_parse_iso(&t, "2020-06-15T13:45:30.1234567Z"), SSRP_OK);
	assert_int_equal(t, 1592228730);
	const char *bad[] = {"2001-02-29T00:00:00Z", "2020-06-15T13:45:30.12345678Z", "2020-06-15T13:45:30.Z",
			     "2020-06-15 13:45:30Z", "2020-06-15T13:45:30+00:00", "1969-12-31T23:59:59Z",
			     "2020-13-01T00:00:00Z", "2020-06-15T24:00:00Z", "", "2020-06-15T13:45:30Zx"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (cloud_time_parse_iso(&t, bad[i]) != SSRP_E_FORMAT)
			fail_msg("'%s' was accepted", bad[i]);
	/* Every formatted second parses back to itself. */
	for (uint64_t x = 0; x < 4102444800u; x += 86399u * 37u) {
		cloud_time_format_iso(iso, x);
		assert_int_equal(cloud_time_parse_iso(&t, iso), SSRP_OK);
		assert_int_equal(t, x);
	}
	char id[CLOUD_ID_LEN + 1];
	cloud_new_id(id);
	assert_true(ssrp_guid_is_bare(id));
	assert_int_equal(id[14], '4');
	assert_true(strchr("89ab", id[19]) != NULL);
	assert_false(ssrp_guid_is_bare("{" TENANT "}"));
	assert_false(ssrp_guid_is_bare("11111111-2222-4333-8444-55555555555g"));
	assert_false(ssrp_guid_is_bare("111111112-222-4333-8444-555555555555"));
	assert_int_equal(cloud_id_normalize(id, "ABCDEF01-2222-4333-8444-555555555555"), SSRP_OK);
	assert_string_equal(id, "abcdef01-2222-4333-8444-555555555555");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_tenant),
		cmocka_unit_test(load_dump_roundtrip),
		cmocka_unit_test(load_from_file),
		cmocka_unit_test(refusals_name_the_field),
		cmocka_unit_test(owners),
		cmocka_unit_test(licences),
		cmocka_unit_test(key_limit),
		cmocka_unit_test(key_rules),
		cmocka_unit_test(hashed_lookups),
		cmocka_unit_test(jobs_and_webhooks),
		cmocka_unit_test(device_codes),
		cmocka_unit_test(concurrent_changes),
		cmocka_unit_test(times_and_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
