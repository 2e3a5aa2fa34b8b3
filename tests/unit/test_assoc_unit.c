/* The association engine's pure parts: the "assoc" configuration member
 * (defaults and refusals naming the member), DOMAIN\user mapping, request
 * and WebhookData parsing (refusals naming the member), the batch input
 * file, the audit line format, and ssrp_assoc_new's checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "escrow/assoc.h"
#include "escrow/assoc_util.h"
#include "escrow/audit.h"
#include "escrow/config.h"
#include "hal/mem.h"
#include "ssrp/error.h"
#include "tests/unit/test_tmpdir.h"

#define TENANT "\"tenant_id\":\"7e7e7e7e-0000-4000-8000-000000000001\""
#define DEV "7a1c0de5-0000-4000-8000-000000000001"

static ssrp_cloud_config *load(const char *assoc_member)
{
	char text[4096];
	snprintf(text, sizeof text, "{" TENANT "%s%s}", assoc_member ? ",\"assoc\":" : "",
		 assoc_member ? assoc_member : "");
	ssrp_cloud_config *c = NULL;
	int rc = ssrp_cloud_config_parse(&c, text, "test.json");
	return rc ? NULL : c;
}

static void refused(const char *assoc_member, const char *needle)
{
	ssrp_cloud_config *c = load(assoc_member);
	if (c) {
		ssrp_cloud_config_free(c);
		fail_msg("accepted: %s", assoc_member);
	}
	if (!strstr(ssrp_error_last(), needle))
		fail_msg("message '%s' does not name '%s'", ssrp_error_last(), needle);
}

static void test_config_defaults(void **st)
{
	(void)st;
	ssrp_cloud_config *c = load(NULL);
	assert_non_null(c);
	const ssrp_assoc_config *a = &c->assoc;
	assert_int_equal(a->sam_lookup, 1);
	assert_int_equal(a->as_owner, 1);
	assert_int_equal(a->as_user, 0);
	assert_int_equal(a->licence, SSRP_ASSOC_LICENCE_CHECK);
	assert_string_equal(a->licence_plans[0], "AAD_PREMIUM");
	assert_string_equal(a->licence_plans[1], "INTUNE_A");
	assert_null(a->licence_plans[2]);
	assert_int_equal(a->max_owners, 10);
	assert_string_equal(a->audit, "-");
	assert_string_equal(a->listen, "127.0.0.1:8443");
	assert_null(a->licence_sku);
	assert_int_equal(a->n_domains, 0);
	assert_int_equal(a->n_netbios_dns, 0);
	ssrp_cloud_config_free(c);
}

static void test_config_full(void **st)
{
	(void)st;
	ssrp_cloud_config *c =
		load("{\"domains\":{\"CONTOSO\":\"contoso.example\",\"FAB\":\"fabrikam.example\"},"
		     "\"netbios_dns\":{\"CONTOSO\":\"corp.contoso.example\"},"
		     "\"sam_lookup\":false,\"register\":[\"user\",\"owner\"],\"licence\":\"assign\","
		     "\"licence_plans\":[\"X\"],\"licence_sku\":\"078d2b04-f1bd-4111-bbd4-b4b1b354cef4\","
		     "\"max_owners\":3,\"audit\":\"syslog\",\"listen\":\"0.0.0.0:9\","
		     "\"tls_cert_file\":\"c\",\"tls_key_file\":\"k\",\"device_ca_file\":\"d\","
		     "\"url\":\"https://h/\"}");
	assert_non_null(c);
	const ssrp_assoc_config *a = &c->assoc;
	assert_int_equal(a->n_domains, 2);
	assert_string_equal(a->domains[1].netbios, "FAB");
	assert_string_equal(a->domains[1].name, "fabrikam.example");
	assert_int_equal(a->n_netbios_dns, 1);
	assert_string_equal(a->netbios_dns[0].netbios, "CONTOSO");
	assert_string_equal(a->netbios_dns[0].name, "corp.contoso.example");
	assert_int_equal(a->sam_lookup, 0);
	assert_true(a->as_owner && a->as_user);
	assert_int_equal(a->licence, SSRP_ASSOC_LICENCE_ASSIGN);
	assert_string_equal(a->licence_plans[0], "X");
	assert_null(a->licence_plans[1]);
	assert_int_equal(a->max_owners, 3);
	assert_string_equal(a->audit, "syslog");
	assert_string_equal(a->url, "https://h/");
	ssrp_cloud_config_free(c);
}

static void test_config_refusals(void **st)
{
	(void)st;
	refused("{\"register\":[\"owner\",\"owners\"]}",
		"assoc.register[1]: 'owners' is not one of owner, user");
	refused("{\"licnce\":\"check\"}", "unknown member \"assoc.licnce\"");
	refused("{\"licence\":\"maybe\"}", "assoc.licence: 'maybe' is not one of off, check, assign");
	refused("{\"max_owners\":0}", "assoc.max_owners");
	refused("{\"max_owners\":2.5}", "assoc.max_owners");
	refused("{\"max_owners\":\"3\"}", "assoc.max_owners");
	refused("{\"sam_lookup\":1}", "assoc.sam_lookup");
	refused("{\"domains\":[\"CONTOSO\"]}", "assoc.domains");
	refused("{\"domains\":{\"CON TOSO\":\"x.example\"}}", "CON TOSO");
	refused("{\"domains\":{\"CONTOSO\":\"\"}}", "assoc.domains.CONTOSO");
	refused("{\"domains\":{\"CONTOSO\":\"a.example\",\"contoso\":\"b.example\"}}", "twice");
	refused("{\"netbios_dns\":[\"CONTOSO\"]}", "\"assoc.netbios_dns\" must be an object");
	refused("{\"netbios_dns\":{\"CONTOSO\":\"CORP\"}}",
		"assoc.netbios_dns.CONTOSO must be a DNS domain name such as");
	refused("{\"netbios_dns\":{\"CONTOSO\":7}}", "assoc.netbios_dns.CONTOSO");
	refused("{\"netbios_dns\":{\"A/B\":\"corp.example\"}}",
		"assoc.netbios_dns: \"A/B\" is not a NetBIOS domain name");
	refused("{\"netbios_dns\":{\"CONTOSO\":\"a.example\",\"Contoso\":\"b.example\"}}",
		"assoc.netbios_dns: \"Contoso\" appears twice");
	refused("{\"licence_plans\":[]}", "assoc.licence_plans");
	refused("{\"licence_plans\":[\"A\",7]}", "assoc.licence_plans[1]");
	refused("{\"audit\":\"\"}", "assoc.audit");
	refused("{\"tls_cert_file\":\"c\"}", "assoc.tls_key_file");
	refused("[]", "\"assoc\" must be an object");
	refused("{\"register\":[]}", "assoc.register");
}

static void test_assoc_new_checks(void **st)
{
	(void)st;
	/* "assign" without a SKU: accepted by the loader, refused by the engine */
	ssrp_cloud_config *c = load("{\"licence\":\"assign\"}");
	assert_non_null(c);
	ssrp_assoc *a = NULL;
	ssrp_assoc_options o = {.version = SSRP_ASSOC_OPTIONS_VERSION, .dry_run = 1};
	assert_int_equal(ssrp_assoc_new(&a, c, &o), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "licence_sku"));
	/* options not started from SSRP_ASSOC_OPTIONS_INIT: refused, saying so */
	ssrp_assoc_options unversioned = {.dry_run = 1};
	assert_int_equal(ssrp_assoc_new(&a, c, &unversioned), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_ASSOC_OPTIONS_INIT"));
	assert_null(a);
	ssrp_cloud_config_free(c);
	/* no app credential */
	c = load(NULL);
	assert_int_equal(ssrp_assoc_new(&a, c, &o), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "app_id"));
	ssrp_cloud_config_free(c);
	/* changes need the delegated token unless dry run */
	ssrp_cloud_config *c2 = NULL;
	assert_int_equal(ssrp_cloud_config_parse(&c2,
						 "{" TENANT ",\"app_id\":\"a\",\"app_secret_file\":\"/x\"}",
						 "t"),
			 0);
	o.dry_run = 0;
	assert_int_equal(ssrp_assoc_new(&a, c2, &o), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "refresh_token_file"));
	o.dry_run = 1;
	assert_int_equal(ssrp_assoc_new(&a, c2, &o), 0);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(c2);
}

static void test_map_user(void **st)
{
	(void)st;
	ssrp_cloud_config *c = load("{\"domains\":{\"CONTOSO\":\"contoso.example\"}}");
	assert_non_null(c);
	char out[64];
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "CONTOSO\\alice", out, sizeof out), 0);
	assert_string_equal(out, "alice@contoso.example");
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "contoso\\Bob", out, sizeof out), 0);
	assert_string_equal(out, "Bob@contoso.example");
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "carol@fabrikam.example", out, sizeof out),
			 0);
	assert_string_equal(out, "carol@fabrikam.example");
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "FABRIKAM\\carol", out, sizeof out),
			 SSRP_E_NOTFOUND);
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "CONTOSOX\\alice", out, sizeof out),
			 SSRP_E_NOTFOUND);
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "alice", out, sizeof out), SSRP_E_FORMAT);
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "\\alice", out, sizeof out), SSRP_E_FORMAT);
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "CONTOSO\\", out, sizeof out), SSRP_E_FORMAT);
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "a@b@c", out, sizeof out), SSRP_E_FORMAT);
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "al\nice@x", out, sizeof out), SSRP_E_FORMAT);
	char tiny[8];
	assert_int_equal(ssrp_assoc_map_user(&c->assoc, "CONTOSO\\alice", tiny, sizeof tiny),
			 SSRP_E_FORMAT);
	ssrp_cloud_config_free(c);
}

/* The trust rule's parts: local and built-in domains, the device's own
 * name, and onPremisesDomainName against the domain and its DNS name. */
static void test_domain_trust(void **st)
{
	(void)st;
	ssrp_cloud_config *c = load("{\"domains\":{\"WORKGROUP\":\"contoso.example\"},"
				    "\"netbios_dns\":{\"CONTOSO\":\"corp.contoso.example\"}}");
	assert_non_null(c);
	const ssrp_assoc_config *a = &c->assoc;
	char why[256];
	static const char *const local[] = {"WORKGROUP\\alice", "workgroup\\alice", ".\\alice",
					    "BUILTIN\\Administrators", "NT AUTHORITY\\SYSTEM",
					    "NT SERVICE\\TrustedInstaller"};
	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
		if (!ssrp_assoc_local_account(local[i], NULL, why, sizeof why))
			fail_msg("%s is not taken for a local account", local[i]);
		if (strncmp(why, local[i], strlen(local[i])) || !strstr(why, "never an owner"))
			fail_msg("%s: '%s'", local[i], why);
	}
	assert_int_equal(ssrp_assoc_local_account("DESKTOP-BOB\\alice", "DESKTOP-BOB", why, sizeof why),
			 1);
	assert_non_null(strstr(why, "DESKTOP-BOB\\alice: DESKTOP-BOB is this device's own name"));
	assert_int_equal(ssrp_assoc_local_account("desktop-bob\\alice", "DESKTOP-BOB", NULL, 0), 1);
	/* the NetBIOS name is the computer name cut to 15 characters */
	assert_int_equal(
		ssrp_assoc_local_account("LAPTOP-12345678\\x", "LAPTOP-123456789AB", NULL, 0), 1);
	assert_int_equal(ssrp_assoc_local_account("LAPTOP-1234\\x", "LAPTOP-123456789AB", NULL, 0),
			 0);
	assert_int_equal(ssrp_assoc_local_account("DESKTOP-BOB\\alice", "DESKTOP-BOBBY", NULL, 0), 0);
	assert_int_equal(ssrp_assoc_local_account("DESKTOP-BOB\\alice", NULL, NULL, 0), 0);
	assert_int_equal(ssrp_assoc_local_account("CONTOSO\\alice", "DESKTOP-BOB", NULL, 0), 0);
	assert_int_equal(ssrp_assoc_local_account("alice@contoso.example", "DESKTOP-BOB", NULL, 0), 0);
	assert_int_equal(ssrp_assoc_local_account("WORKGROUPS\\alice", NULL, NULL, 0), 0);

	assert_string_equal(ssrp_assoc_dns_name(a, "contoso", 7), "corp.contoso.example");
	assert_null(ssrp_assoc_dns_name(a, "CONTOSOX", 8));
	assert_null(ssrp_assoc_dns_name(a, "CONTOS", 6));
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, "corp.contoso.example"), 1);
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, "CORP.Contoso.Example"), 1);
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, "contoso"), 1);
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, "corp.fabrikam.example"), 0);
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, "corp.contoso.example.evil"), 0);
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, "corp.contoso"), 0);
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, ""), 0);
	assert_int_equal(ssrp_assoc_domain_proven(a, "CONTOSO", 7, NULL), 0);
	/* FABRIKAM has no DNS name configured: only itself proves it */
	assert_int_equal(ssrp_assoc_domain_proven(a, "FABRIKAM", 8, "FABRIKAM"), 1);
	assert_int_equal(ssrp_assoc_domain_proven(a, "FABRIKAM", 8, "corp.contoso.example"), 0);
	assert_int_equal(ssrp_assoc_domain_proven(a, "FABRIKAM", 8, "fabrikam.example"), 0);
	ssrp_cloud_config_free(c);
}

static void req_refused(const char *json, const char *needle)
{
	ssrp_assoc_request *r = NULL;
	int rc = ssrp_assoc_request_parse(&r, json, strlen(json));
	if (rc == 0) {
		ssrp_assoc_request_free(r);
		fail_msg("accepted: %s", json);
	}
	assert_int_equal(rc, SSRP_E_FORMAT);
	assert_null(r);
	if (!strstr(ssrp_error_last(), needle))
		fail_msg("message '%s' does not name '%s'", ssrp_error_last(), needle);
}

static void test_request_parse(void **st)
{
	(void)st;
	const char *ok = "{\"deviceId\":\"" DEV "\",\"users\":[\"CONTOSO\\\\alice\",\"bob@c.example\"],"
			 "\"deviceName\":\"DESKTOP-1\"}";
	ssrp_assoc_request *r = NULL;
	assert_int_equal(ssrp_assoc_request_parse(&r, ok, strlen(ok)), 0);
	assert_string_equal(r->device_id, DEV);
	assert_string_equal(r->device_name, "DESKTOP-1");
	assert_int_equal(r->n_users, 2);
	assert_string_equal(r->users[0], "CONTOSO\\alice");
	assert_string_equal(r->webhook_name, "");
	ssrp_assoc_request_free(r);

	req_refused("{\"users\":[\"a@b\"]}", "\"deviceId\" is missing");
	req_refused("{\"deviceId\":\"not-a-guid\",\"users\":[\"a@b\"]}", "\"deviceId\" must be a GUID");
	req_refused("{\"deviceId\":7,\"users\":[\"a@b\"]}", "\"deviceId\"");
	req_refused("{\"deviceId\":\"" DEV "\"}", "\"users\" is missing");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":[]}", "\"users\" must be an array");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":\"a@b\"}", "\"users\" must be an array");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":[\"a@b\",\"\"]}", "users[1]");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":[\"a@b\",3]}", "users[1]");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":[\"a\\u0001b\"]}", "users[0]");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":[\"a@b\"],\"extra\":1}",
		    "unknown member \"extra\"");
	req_refused("{\"deviceId\":\"" DEV "\",\"deviceId\":\"" DEV "\",\"users\":[\"a@b\"]}",
		    "appears twice");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":[\"a@b\"],\"deviceName\":5}",
		    "\"deviceName\"");
	req_refused("{\"deviceId\":\"" DEV "\",\"users\":[\"a@b\"]} x", "not valid JSON");
	req_refused("[1]", "must be a JSON object");
	/* 17 users */
	char many[2048];
	int n = snprintf(many, sizeof many, "{\"deviceId\":\"" DEV "\",\"users\":[");
	for (int i = 0; i <= SSRP_ASSOC_MAX_USERS; i++)
		n += snprintf(many + n, sizeof many - (size_t)n, "%s\"u%d@x\"", i ? "," : "", i);
	snprintf(many + n, sizeof many - (size_t)n, "]}");
	req_refused(many, "\"users\" must be an array of 1 to 16");
	/* a user longer than 256 bytes */
	char longu[600];
	n = snprintf(longu, sizeof longu, "{\"deviceId\":\"" DEV "\",\"users\":[\"");
	memset(longu + n, 'a', 257);
	snprintf(longu + n + 257, sizeof longu - (size_t)n - 257, "@x\"]}");
	req_refused(longu, "users[0]");
	/* NUL inside */
	const char nul[] = "{\"deviceId\":\"" DEV "\",\"users\":[\"a@b\"]}\0{}";
	assert_int_equal(ssrp_assoc_request_parse(&r, nul, sizeof nul - 1), SSRP_E_FORMAT);
}

static void test_webhook_parse(void **st)
{
	(void)st;
	const char *ok = "{\"WebhookName\":\"ssrp-association\",\"RequestHeader\":{\"x\":\"y\"},"
			 "\"RequestBody\":\"{\\\"deviceId\\\":\\\"" DEV "\\\",\\\"users\\\":[\\\"a@b\\\"]}\"}";
	ssrp_assoc_request *r = NULL;
	assert_int_equal(ssrp_assoc_webhook_parse(&r, ok, strlen(ok)), 0);
	assert_string_equal(r->webhook_name, "ssrp-association");
	assert_string_equal(r->device_id, DEV);
	assert_int_equal(r->n_users, 1);
	ssrp_assoc_request_free(r);
	const char *noname = "{\"RequestBody\":\"{\\\"deviceId\\\":\\\"" DEV
			     "\\\",\\\"users\\\":[\\\"a@b\\\"]}\"}";
	assert_int_equal(ssrp_assoc_webhook_parse(&r, noname, strlen(noname)), 0);
	assert_string_equal(r->webhook_name, "");
	ssrp_assoc_request_free(r);
	struct {
		const char *json, *needle;
	} bad[] = {
		{"{\"WebhookName\":\"w\"}", "\"RequestBody\" is missing"},
		{"{\"RequestBody\":{\"deviceId\":\"" DEV "\"}}", "\"RequestBody\" must be a string"},
		{"{\"RequestBody\":\"{}\",\"WebhookName\":3}", "\"WebhookName\""},
		{"{\"RequestBody\":\"{}\",\"RequestHeader\":[]}", "\"RequestHeader\""},
		{"{\"RequestBody\":\"{}\",\"Other\":1}", "unknown member \"Other\""},
		{"{\"RequestBody\":\"not json\"}", "WebhookData.RequestBody: not valid JSON"},
		{"{\"RequestBody\":\"{\\\"deviceId\\\":\\\"x\\\",\\\"users\\\":[\\\"a@b\\\"]}\"}",
		 "WebhookData.RequestBody: \"deviceId\" must be a GUID"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = NULL;
		assert_int_equal(ssrp_assoc_webhook_parse(&r, bad[i].json, strlen(bad[i].json)),
				 SSRP_E_FORMAT);
		assert_null(r);
		if (!strstr(ssrp_error_last(), bad[i].needle))
			fail_msg("'%s' does not name '%s'", ssrp_error_last(), bad[i].needle);
	}
}

static void test_request_body_roundtrip(void **st)
{
	(void)st;
	const char *users[] = {"CONTOSO\\alice", "x' or displayName eq 'y\"@z"};
	char *body = ssrp_assoc_request_body(DEV, "PC \"1\"", users, 2);
	assert_non_null(body);
	ssrp_assoc_request *r = NULL;
	assert_int_equal(ssrp_assoc_request_parse(&r, body, strlen(body)), 0);
	assert_string_equal(r->users[1], users[1]);
	assert_string_equal(r->device_name, "PC \"1\"");
	ssrp_assoc_request_free(r);
	ssrp_free(body);
}

static void test_input_parse(void **st)
{
	(void)st;
	const char *text = "deviceId,users\n"
			   "# a comment\n"
			   "\n" DEV ",CONTOSO\\alice, bob@c.example\r\n"
			   "{\"deviceId\":\"" DEV "\",\"users\":[\"carol@c.example\"]}\n" DEV
			   ",dave@c.example";
	ssrp_assoc_input *in = NULL;
	assert_int_equal(ssrp_assoc_input_parse(&in, text, strlen(text)), 0);
	assert_int_equal(in->n, 3);
	assert_int_equal(in->n_users, 4);
	assert_string_equal(in->jobs[0].device_id, DEV);
	assert_int_equal(in->jobs[0].n_users, 2);
	assert_string_equal(in->jobs[0].users[0], "CONTOSO\\alice");
	assert_string_equal(in->jobs[0].users[1], "bob@c.example");
	assert_string_equal(in->jobs[1].users[0], "carol@c.example");
	assert_string_equal(in->jobs[2].users[0], "dave@c.example");
	ssrp_assoc_input_free(in);
	struct {
		const char *text, *needle;
	} bad[] = {
		{DEV ",a@b\nnot-a-guid,a@b\n", "line 2"},
		{"\n\n" DEV "\n", "line 3: no user"},
		{DEV ",a@b,,c@d\n", "line 1: user 2"},
		{"{\"deviceId\":\"" DEV "\"}\n", "line 1: request: \"users\" is missing"},
		{DEV ",a\"b\n", "line 1"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		in = NULL;
		assert_int_equal(ssrp_assoc_input_parse(&in, bad[i].text, strlen(bad[i].text)),
				 SSRP_E_FORMAT);
		assert_null(in);
		if (!strstr(ssrp_error_last(), bad[i].needle))
			fail_msg("'%s' does not name '%s'", ssrp_error_last(), bad[i].needle);
	}
	assert_int_equal(ssrp_assoc_input_parse(&in, "", 0), 0);
	assert_int_equal(in->n, 0);
	ssrp_assoc_input_free(in);
}

static void test_audit_format(void **st)
{
	(void)st;
	char dir[128];
	assert_non_null(test_tmpdir(dir, sizeof dir, "audit-test"));
	char path[160];
	snprintf(path, sizeof path, "%s/audit.jsonl", dir);
	ssrp_audit *a = NULL;
	assert_int_equal(ssrp_audit_open(&a, path), 0);
	ssrp_assoc_decision d = {.requester = "webhook:w", .device_id = DEV,
				 .device_name = "DESKTOP-1", .user = "CONTOSO\\alice",
				 .upn = "alice@contoso.example", .user_object_id = "u",
				 .relation = "registeredOwners", .outcome = SSRP_ASSOC_ADDED,
				 .licence = SSRP_ASSOC_LICENCE_OK, .licence_plan = "AAD_PREMIUM",
				 .detail = "added as owner", .dry_run = 0};
	assert_int_equal(ssrp_audit_decision(a, &d), 0);
	assert_int_equal(ssrp_audit_event(a, "device:" DEV, "refused", DEV, "another device"), 0);
	ssrp_audit_close(a);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
#ifndef _WIN32 /* no mode bits: the file's DACL is its directory's */
	assert_int_equal(sb.st_mode & 0777, 0600);
#endif
	FILE *f = fopen(path, "r");
	char line[2048];
	assert_non_null(fgets(line, sizeof line, f));
	/* exactly these members, in this order */
	const char *want = "\",\"requester\":\"webhook:w\",\"event\":\"decision\",\"device\":\"" DEV
			   "\",\"device_name\":\"DESKTOP-1\",\"user\":\"CONTOSO\\\\alice\","
			   "\"upn\":\"alice@contoso.example\",\"relation\":\"registeredOwners\","
			   "\"outcome\":\"added\",\"licence\":\"ok\",\"licence_plan\":\"AAD_PREMIUM\","
			   "\"dry_run\":false,\"detail\":\"added as owner\"}\n";
	assert_true(!strncmp(line, "{\"time\":\"", 9));
	assert_int_equal(strlen(line), 9 + 20 + strlen(want));
	assert_string_equal(line + 9 + 20, want);
	assert_int_equal(line[9 + 10], 'T');
	assert_int_equal(line[9 + 19], 'Z');
	assert_non_null(fgets(line, sizeof line, f));
	cJSON *o = cJSON_Parse(line);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, "refused");
	assert_string_equal(cJSON_GetObjectItem(o, "device")->valuestring, DEV);
	assert_string_equal(cJSON_GetObjectItem(o, "detail")->valuestring, "another device");
	cJSON_Delete(o);
	assert_null(fgets(line, sizeof line, f));
	fclose(f);
#ifndef _WIN32 /* Windows: ACLs (tests/mingw/run_windows_build.sh), no FIFOs */
	/* Only the service may write its audit trail: a file others could
	 * write, a symbolic link or a FIFO in its place is refused. */
	assert_int_equal(chmod(path, 0622), 0);
	assert_int_equal(ssrp_audit_open(&a, path), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "audit log"));
	unlink(path);
	char target[160];
	snprintf(target, sizeof target, "%s/elsewhere", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(ssrp_audit_open(&a, path), SSRP_E_IO);
	assert_int_equal(access(target, F_OK), -1);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ssrp_audit_open(&a, path), SSRP_E_INVALID);
	unlink(path);
#endif
	unlink(path);
	rmdir(dir);
	assert_int_equal(ssrp_audit_open(&a, "/nonexistent-dir/x/audit"), SSRP_E_IO);
}

static void test_names(void **st)
{
	(void)st;
	assert_string_equal(ssrp_assoc_outcome_name(SSRP_ASSOC_WOULD_ADD), "would-add");
	assert_string_equal(ssrp_assoc_outcome_name(SSRP_ASSOC_CAP_REACHED), "cap-reached");
	assert_string_equal(ssrp_assoc_outcome_name(SSRP_ASSOC_UNKNOWN_DEVICE), "unknown-device");
	assert_string_equal(ssrp_assoc_licence_name(SSRP_ASSOC_LICENCE_NOT_CHECKED), "not-checked");
	assert_string_equal(ssrp_assoc_licence_name(SSRP_ASSOC_LICENCE_WOULD_ASSIGN), "would-assign");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),     cmocka_unit_test(test_config_full),
		cmocka_unit_test(test_config_refusals),     cmocka_unit_test(test_assoc_new_checks),
		cmocka_unit_test(test_map_user),            cmocka_unit_test(test_domain_trust),
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_webhook_parse),       cmocka_unit_test(test_request_body_roundtrip),
		cmocka_unit_test(test_input_parse),         cmocka_unit_test(test_audit_format),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
