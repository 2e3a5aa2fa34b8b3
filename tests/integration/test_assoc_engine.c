/* The association engine (escrow/assoc.h) against the simulated cloud,
 * started with `ssrp sim cloud start` (the binary in $SSRP_BIN) on a seeded
 * tenant: a service account holding Intune Administrator and License
 * Administrator, users with on-premises names, a user named with a quote,
 * a device at its owner cap, and 350 devices for the batched path.
 *
 * Covered: added / already (rerun; /admin/state shows the owner once);
 * unknown users next to added ones in the same job; unknown devices; OData
 * escaping (a user named like a filter injection matches nothing, a UPN
 * with a quote resolves); DOMAIN\user through the map and through
 * onPremisesSamAccountName, and with sam_lookup off; the domain trust rule:
 * an unmapped domain (FABRIKAM\bob), WORKGROUP and built-in domains, the
 * device's own name (even when mapped) and a looked-up account whose
 * onPremisesDomainName is another domain are refused, named in the
 * decision and audited as JSON, while the job's other users are added;
 * CONTOSO\alice through assoc.domains and through the lookup with
 * assoc.netbios_dns is accepted; dry run changes
 * nothing and fetches no writer token; the max_owners cap; licence ok /
 * missing / assigned; a refused change is FAILED naming Graph's code and
 * request-id; tokens expired mid-run (one new token per client); 300
 * devices x 2 users with concurrency 4 in at most 0.5 HTTP requests per
 * device, every owner present exactly once; `ssrp assoc batch
 * --summary-json` on 50 more devices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "escrow/assoc.h"
#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "hal/http.h"
#include "tests/integration/sim_helpers.h"
#include "ssrp/error.h"

#define TENANT_ID "7e7e7e7e-0000-4000-8000-0000000000a1"
#define APP_ID "0a0a0a0a-0000-4000-8000-0000000000a1"
#define APP_SECRET "assoc-app-SECRET-do-not-log-5d1"
#define PUBLIC_ID "0a0a0a0a-0000-4000-8000-0000000000a2"
/* an app that reads users and devices but not the tenant's subscriptions */
#define APP_NO_SKUS "0a0a0a0a-0000-4000-8000-0000000000a3"
#define SVC_PW "Svc-pw-secret-do-not-log-9"
#define ALICE_PW "Alice-pw-secret-do-not-log-2"
#define SKU_P1 "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
#define SKU_INTUNE "061f9ace-7d42-4136-88ac-31dc755f143f"
#define N_BATCH 300
#define N_CLI 50
#define EVIL "x' or userPrincipalName eq 'alice@contoso.example"
/* The service account's delegated permissions: owner changes
 * (Directory.AccessAsUser.All) and licence assignment, which
 * Directory.AccessAsUser.All does not cover. */
#define SCOPE                                                     \
	"https://graph.microsoft.com/Directory.AccessAsUser.All " \
	"https://graph.microsoft.com/LicenseAssignment.ReadWrite.All"
#define AD_DNS "corp.contoso.example" /* onPremisesDomainName, as Graph gives it */

static char sim_config_path[700];
static char work[256], dir[512], config_path[700], admin_token[128], svc_pw_file[700],
	alice_pw_file[700];
static const char *ssrp_bin;

static void uid(char out[37], int i)
{
	snprintf(out, 37, "0aaaaaaa-0000-4000-8000-%012d", i);
}
static void devid(char out[37], int i)
{
	snprintf(out, 37, "dddddddd-0000-4000-8000-%012d", i);
}
static void devoid(char out[37], int i)
{
	snprintf(out, 37, "0bbbbbbb-0000-4000-8000-%012d", i);
}

/* user numbers */
enum { U_SVC = 1, U_ALICE, U_BOB, U_CAROL, U_OBRIEN, U_DAVE, U_CAP0 = 10, U_BATCH0 = 1000 };
/* device numbers */
enum { D_MAIN = 1, D_SAM, D_DRY, D_CAP, D_SMALLCAP, D_ASSIGN, D_EXPIRE, D_FAIL, D_TRUST,
       D_LOCAL, D_DNS, D_CLI, D_BATCH0 = 1000 };

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void add_user_in(cJSON *users, int n, const char *upn, const char *sam,
			const char *domain, const char *pw, const char *sku,
			const char *const *roles)
{
	char id[37], hex[65];
	cJSON *u = cJSON_CreateObject();
	uid(id, n);
	cJSON_AddStringToObject(u, "id", id);
	cJSON_AddStringToObject(u, "userPrincipalName", upn);
	cJSON_AddStringToObject(u, "displayName", upn);
	if (sam) {
		cJSON_AddStringToObject(u, "onPremisesSamAccountName", sam);
		cJSON_AddStringToObject(u, "onPremisesDomainName", domain);
	}
	cJSON_AddStringToObject(u, "usageLocation", "US");
	if (pw) {
		sha256_hex(pw, hex);
		cJSON_AddStringToObject(u, "passwordSha256", hex);
	}
	if (sku)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(u, "assignedLicenses"),
				     cJSON_CreateString(sku));
	cJSON *r = cJSON_AddArrayToObject(u, "roles");
	for (const char *const *p = roles; p && *p; p++)
		cJSON_AddItemToArray(r, cJSON_CreateString(*p));
	cJSON_AddItemToArray(users, u);
}

static void add_user(cJSON *users, int n, const char *upn, const char *sam, const char *pw,
		     const char *sku, const char *const *roles)
{
	add_user_in(users, n, upn, sam, AD_DNS, pw, sku, roles);
}

static void add_device(cJSON *devs, int n, const char *name, int owner_from, int n_owners)
{
	char buf[64];
	cJSON *d = cJSON_CreateObject();
	devoid(buf, n);
	cJSON_AddStringToObject(d, "id", buf);
	devid(buf, n);
	cJSON_AddStringToObject(d, "deviceId", buf);
	cJSON_AddStringToObject(d, "displayName", name);
	cJSON_AddBoolToObject(d, "accountEnabled", 1);
	cJSON *o = cJSON_AddArrayToObject(d, "registeredOwners");
	for (int i = 0; i < n_owners; i++) {
		uid(buf, owner_from + i);
		cJSON_AddItemToArray(o, cJSON_CreateString(buf));
	}
	cJSON_AddItemToArray(devs, d);
}

static void add_sku(cJSON *skus, const char *id, const char *name, const char *plan)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "skuId", id);
	cJSON_AddStringToObject(s, "skuPartNumber", name);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "servicePlanId", plan);
	cJSON_AddStringToObject(p, "servicePlanName", name);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(s, "servicePlans"), p);
	cJSON_AddItemToArray(skus, s);
}

static char *seed_json(void)
{
	static const char *const svc_roles[] = {"Intune Administrator", "License Administrator", NULL};
	char buf[128], hex[65];
	cJSON *o = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(o, "tenant");
	cJSON_AddStringToObject(t, "id", TENANT_ID);
	cJSON_AddStringToObject(t, "domain", "contoso.example");
	cJSON *skus = cJSON_AddArrayToObject(o, "skus");
	add_sku(skus, SKU_P1, "AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d");
	add_sku(skus, SKU_INTUNE, "INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5");
	cJSON *users = cJSON_AddArrayToObject(o, "users");
	add_user(users, U_SVC, "ssrp-svc@contoso.example", NULL, SVC_PW, NULL, svc_roles);
	add_user(users, U_ALICE, "alice@contoso.example", "alice", ALICE_PW, SKU_P1, NULL);
	add_user(users, U_BOB, "bob@contoso.example", "bob", NULL, SKU_INTUNE, NULL);
	add_user(users, U_CAROL, "carol@contoso.example", "carol", NULL, NULL, NULL);
	add_user(users, U_OBRIEN, "o'brien@contoso.example", NULL, NULL, NULL, NULL);
	/* an account synchronised from another forest */
	add_user_in(users, U_DAVE, "dave@contoso.example", "dave", "corp.fabrikam.example", NULL,
		    NULL, NULL);
	for (int i = 0; i < 10; i++) {
		snprintf(buf, sizeof buf, "cap%d@contoso.example", i);
		add_user(users, U_CAP0 + i, buf, NULL, NULL, NULL, NULL);
	}
	for (int i = 0; i < 2 * (N_BATCH + N_CLI); i++) {
		snprintf(buf, sizeof buf, "b%d@contoso.example", i);
		add_user(users, U_BATCH0 + i, buf, NULL, NULL, SKU_P1, NULL);
	}
	cJSON *devs = cJSON_AddArrayToObject(o, "devices");
	add_device(devs, D_MAIN, "PC-MAIN", 0, 0);
	add_device(devs, D_SAM, "PC-SAM", 0, 0);
	add_device(devs, D_DRY, "PC-DRY", 0, 0);
	add_device(devs, D_CAP, "PC-CAP", U_CAP0, 10);
	add_device(devs, D_SMALLCAP, "PC-SMALLCAP", 0, 0);
	add_device(devs, D_ASSIGN, "PC-ASSIGN", 0, 0);
	add_device(devs, D_EXPIRE, "PC-EXPIRE", 0, 0);
	add_device(devs, D_FAIL, "PC-FAIL", 0, 0);
	add_device(devs, D_TRUST, "PC-TRUST", 0, 0);
	add_device(devs, D_LOCAL, "DESKTOP-X", 0, 0);
	add_device(devs, D_DNS, "PC-DNS", 0, 0);
	add_device(devs, D_CLI, "DESKTOP-CLI", 0, 0);
	for (int i = 0; i < N_BATCH + N_CLI; i++) {
		snprintf(buf, sizeof buf, "PC-B%04d", i);
		add_device(devs, D_BATCH0 + i, buf, 0, 0);
	}
	cJSON *apps = cJSON_AddArrayToObject(o, "apps");
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "appId", APP_ID);
	cJSON_AddStringToObject(a, "displayName", "ssrp association");
	sha256_hex(APP_SECRET, hex);
	cJSON_AddStringToObject(a, "secretSha256", hex);
	cJSON *roles = cJSON_AddArrayToObject(a, "roles");
	cJSON_AddItemToArray(roles, cJSON_CreateString("User.Read.All"));
	cJSON_AddItemToArray(roles, cJSON_CreateString("Device.Read.All"));
	/* the licence check's subscribedSkus */
	cJSON_AddItemToArray(roles, cJSON_CreateString("LicenseAssignment.Read.All"));
	cJSON_AddItemToArray(apps, a);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "appId", APP_NO_SKUS);
	cJSON_AddStringToObject(a, "displayName", "ssrp association without licence read");
	cJSON_AddStringToObject(a, "secretSha256", hex);
	roles = cJSON_AddArrayToObject(a, "roles");
	cJSON_AddItemToArray(roles, cJSON_CreateString("User.Read.All"));
	cJSON_AddItemToArray(roles, cJSON_CreateString("Device.Read.All"));
	cJSON_AddItemToArray(apps, a);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "appId", PUBLIC_ID);
	cJSON_AddStringToObject(a, "displayName", "ssrp service account");
	cJSON_AddBoolToObject(a, "publicClient", 1);
	cJSON_AddItemToArray(apps, a);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static ssrp_http *admin_http(const ssrp_cloud_config *cfg)
{
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	return h;
}

/* A refresh token for the service account (ROPC + offline_access), written
 * 0600 where the configuration says, as `assoc login` would. */
static int get_refresh_token(const ssrp_cloud_config *cfg, const char *path)
{
	ssrp_http *h = admin_http(cfg);
	char url[300], form[600];
	snprintf(url, sizeof url, "https://login.microsoftonline.com/%s/oauth2/v2.0/token",
		 TENANT_ID);
	snprintf(form, sizeof form,
		 "grant_type=password&client_id=%s&username=ssrp-svc%%40contoso.example&password=%s"
		 "&scope=https%%3A%%2F%%2Fgraph.microsoft.com%%2F.default%%20offline_access",
		 PUBLIC_ID, SVC_PW);
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = hdrs, .body = form,
			    .body_len = strlen(form)};
	ssrp_http_resp r;
	int rc = ssrp_http_request(h, &rq, &r);
	cJSON *o = rc == 0 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
	const cJSON *rt = cJSON_GetObjectItem(o, "refresh_token");
	int ok = cJSON_IsString(rt);
	if (ok)
		sim_write_text(path, rt->valuestring, 0600);
	else
		fprintf(stderr, "no refresh token: %.*s\n", rc == 0 ? (int)r.body_len : 0,
			rc == 0 ? r.body : "");
	cJSON_Delete(o);
	if (rc == 0)
		ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	return ok ? 0 : -1;
}

static int setup(void **st)
{
	(void)st;
	ssrp_bin = sim_bin();
	if (!ssrp_bin || sim_make_work(work, sizeof work, "ssrp-assoc-test"))
		return -1;
	char path[700], sim_config[700];
	snprintf(path, sizeof path, "%s/seed.json", work);
	char *seed = seed_json();
	sim_write_text(path, seed, 0600);
	free(seed);
	snprintf(dir, sizeof dir, "%s/cloud", work);
	/* the engine needs no device certificate: none made, so it starts in seconds */
	const char *args[] = {"--state", path, "--device-certs", "0", NULL};
	char *env;
	if (sim_cloud_start(ssrp_bin, dir, args, &env))
		return -1;
	if (!env || sim_env_value(env, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config) ||
	    sim_admin_token(env, admin_token, sizeof admin_token)) {
		free(env);
		return -1;
	}
	free(env);
	snprintf(sim_config_path, sizeof sim_config_path, "%s", sim_config);
	/* the simulator's config plus this tenant's app and service account */
	char *text = sim_read_text(sim_config);
	cJSON *c = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!c)
		return -1;
	char secret[700], refresh[700], audit[700];
	snprintf(secret, sizeof secret, "%s/app-secret-test", work);
	snprintf(refresh, sizeof refresh, "%s/svc-refresh-token", work);
	snprintf(audit, sizeof audit, "%s/audit.jsonl", work);
	snprintf(svc_pw_file, sizeof svc_pw_file, "%s/svc-pw", work);
	snprintf(alice_pw_file, sizeof alice_pw_file, "%s/alice-pw", work);
	sim_write_text(secret, APP_SECRET "\n", 0600);
	sim_write_text(svc_pw_file, SVC_PW, 0600);
	sim_write_text(alice_pw_file, ALICE_PW, 0600);
	const char *drop[] = {"app_id", "app_secret_file", "public_client_id", "refresh_token_file",
			      "assoc"};
	for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
		cJSON_DeleteItemFromObject(c, drop[i]);
	cJSON_AddStringToObject(c, "app_id", APP_ID);
	cJSON_AddStringToObject(c, "app_secret_file", secret);
	cJSON_AddStringToObject(c, "public_client_id", PUBLIC_ID);
	cJSON_AddStringToObject(c, "refresh_token_file", refresh);
	cJSON *as = cJSON_AddObjectToObject(c, "assoc");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(as, "domains"), "CONTOSO", "contoso.example");
	cJSON_AddStringToObject(as, "licence_sku", SKU_P1);
	cJSON_AddStringToObject(as, "audit", audit);
	text = cJSON_Print(c);
	cJSON_Delete(c);
	snprintf(config_path, sizeof config_path, "%s/client.json", work);
	sim_write_text(config_path, text, 0600);
	free(text);
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, config_path))
		return -1;
	int rc = get_refresh_token(cfg, refresh);
	ssrp_cloud_config_free(cfg);
	return rc;
}

static int teardown(void **st)
{
	(void)st;
	const char *args[] = {"cloud", "stop", "--dir", dir, NULL};
	sim_run(ssrp_bin, args);
	sim_remove_work(work);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

typedef struct got {
	int n;
	struct {
		char user[300], upn[200], detail[1200], plan[64];
		ssrp_assoc_outcome outcome;
		ssrp_assoc_licence licence;
		int dry_run;
	} d[1000];
} got;

static void collect(const ssrp_assoc_decision *d, void *ctx)
{
	got *g = ctx;
	assert_true(g->n < 1000);
	snprintf(g->d[g->n].user, sizeof g->d[0].user, "%s", d->user);
	snprintf(g->d[g->n].upn, sizeof g->d[0].upn, "%s", d->upn);
	snprintf(g->d[g->n].detail, sizeof g->d[0].detail, "%s", d->detail);
	snprintf(g->d[g->n].plan, sizeof g->d[0].plan, "%s", d->licence_plan);
	g->d[g->n].outcome = d->outcome;
	g->d[g->n].licence = d->licence;
	g->d[g->n].dry_run = d->dry_run;
	assert_string_equal(d->relation, "registeredOwners");
	g->n++;
}

static int find(const got *g, const char *user)
{
	for (int i = 0; i < g->n; i++)
		if (!strcmp(g->d[i].user, user))
			return i;
	fail_msg("no decision for %s", user);
	return -1;
}

static void expect(const got *g, const char *user, ssrp_assoc_outcome o, ssrp_assoc_licence l)
{
	int i = find(g, user);
	if (g->d[i].outcome != o || g->d[i].licence != l)
		fail_msg("%s: %s / %s (%s), wanted %s / %s", user,
			 ssrp_assoc_outcome_name(g->d[i].outcome),
			 ssrp_assoc_licence_name(g->d[i].licence), g->d[i].detail,
			 ssrp_assoc_outcome_name(o), ssrp_assoc_licence_name(l));
}

static ssrp_cloud_config *config(void)
{
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, config_path))
		fail_msg("config: %s", ssrp_error_last());
	return cfg;
}

/* The test's configuration with assoc.domains and assoc.netbios_dns
 * replaced by these JSON objects (NULL: left out). */
static ssrp_cloud_config *config_domains(const char *domains, const char *netbios_dns)
{
	char *text = sim_read_text(config_path);
	cJSON *c = text ? cJSON_Parse(text) : NULL;
	free(text);
	assert_non_null(c);
	cJSON *as = cJSON_GetObjectItem(c, "assoc");
	cJSON_DeleteItemFromObject(as, "domains");
	if (domains)
		cJSON_AddItemToObject(as, "domains", cJSON_Parse(domains));
	if (netbios_dns)
		cJSON_AddItemToObject(as, "netbios_dns", cJSON_Parse(netbios_dns));
	text = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_parse(&cfg, text, "test configuration"))
		fail_msg("config: %s", ssrp_error_last());
	free(text);
	return cfg;
}

static void expect_detail(const got *g, const char *user, const char *text)
{
	const char *d = g->d[find(g, user)].detail;
	if (!strstr(d, text))
		fail_msg("%s: '%s' does not say '%s'", user, d, text);
}

static const ssrp_graph_auth svc_auth = {.kind = SSRP_GRAPH_AUTH_PASSWORD,
					 .username = "ssrp-svc@contoso.example",
					 .password_file = svc_pw_file,
					 .scope = SCOPE};

static ssrp_assoc *engine(const ssrp_cloud_config *cfg, int dry_run, unsigned conc,
			  const ssrp_graph_auth *writer)
{
	ssrp_assoc_options o = {.version = SSRP_ASSOC_OPTIONS_VERSION, .dry_run = dry_run,
				.concurrency = conc, .requester = "test"};
	ssrp_assoc_tuning t = {.writer = writer, .graph = {.jitter_seed = 7, .backoff_base_ms = 50}};
	ssrp_assoc *a = NULL;
	if (ssrp_assoc_new_tuned(&a, cfg, &o, &t))
		fail_msg("engine: %s", ssrp_error_last());
	return a;
}

static void run1(ssrp_assoc *a, int dev, const char *const *users, size_t n, got *g)
{
	char id[37];
	devid(id, dev);
	ssrp_assoc_job job = {.device_id = id, .users = users, .n_users = n};
	memset(g, 0, sizeof *g);
	if (ssrp_assoc_run(a, &job, 1, collect, g))
		fail_msg("run: %s", ssrp_error_last());
	assert_int_equal(g->n, (int)n);
}

static cJSON *admin_state(void)
{
	ssrp_cloud_config *cfg = config();
	ssrp_http *h = admin_http(cfg);
	char auth[200];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", admin_token);
	const char *hdrs[] = {auth, NULL};
	ssrp_http_req rq = {.method = "GET", .url = "https://graph.microsoft.com/admin/state",
			    .headers = hdrs};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), 0);
	assert_int_equal(r.status, 200);
	cJSON *o = cJSON_ParseWithLength(r.body, r.body_len);
	assert_non_null(o);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	ssrp_cloud_config_free(cfg);
	return o;
}

static void admin_post(const char *path)
{
	ssrp_cloud_config *cfg = config();
	ssrp_http *h = admin_http(cfg);
	char auth[200], url[300];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", admin_token);
	snprintf(url, sizeof url, "https://graph.microsoft.com%s", path);
	const char *hdrs[] = {auth, NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = hdrs, .body = "",
			    .body_len = 0};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), 0);
	if (r.status != 200 && r.status != 204)
		fail_msg("%s: HTTP %ld", path, r.status);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	ssrp_cloud_config_free(cfg);
}

static const cJSON *state_device(const cJSON *state, int dev)
{
	char id[37];
	devid(id, dev);
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(state, "devices")) {
		const cJSON *x = cJSON_GetObjectItem(d, "deviceId");
		if (cJSON_IsString(x) && !strcmp(x->valuestring, id))
			return d;
	}
	fail_msg("device %d is not in the state", dev);
	return NULL;
}

/* How many times user n is an owner of device dev. */
static int owner_count(const cJSON *state, int dev, int user)
{
	char id[37];
	uid(id, user);
	int n = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItem(state_device(state, dev), "registeredOwners"))
		n += cJSON_IsString(o) && !strcmp(o->valuestring, id);
	return n;
}

static int owners_total(const cJSON *state, int dev)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(state_device(state, dev), "registeredOwners"));
}

/* ---- tests ------------------------------------------------------------------- */

static void test_added_already_unknown(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 0, 0, &svc_auth);
	const char *users[] = {"CONTOSO\\alice", "bob@contoso.example", "nobody@contoso.example",
			       EVIL, "o'brien@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_MAIN, users, 5, g);
	expect(g, "CONTOSO\\alice", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(g->d[find(g, "CONTOSO\\alice")].plan, "AAD_PREMIUM");
	assert_string_equal(g->d[find(g, "CONTOSO\\alice")].upn, "alice@contoso.example");
	expect(g, "bob@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(g->d[find(g, "bob@contoso.example")].plan, "INTUNE_A");
	expect(g, "nobody@contoso.example", SSRP_ASSOC_UNKNOWN_USER,
	       SSRP_ASSOC_LICENCE_NOT_CHECKED);
	/* the injection matches nothing, in particular not alice */
	expect(g, EVIL, SSRP_ASSOC_UNKNOWN_USER, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	/* a quote in a real UPN is escaped and found; no licence: "missing" */
	expect(g, "o'brien@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_MISSING);
	ssrp_assoc_stats s = SSRP_ASSOC_STATS_INIT;
	ssrp_assoc_get_stats(a, &s);
	/* two tokens and three $batch posts: resolve, read, add */
	assert_int_equal(s.token_requests, 2);
	assert_true(s.http_requests <= 5);
	assert_int_equal(s.decisions, 5);

	run1(a, D_MAIN, users, 5, g);
	expect(g, "CONTOSO\\alice", SSRP_ASSOC_ALREADY, SSRP_ASSOC_LICENCE_OK);
	expect(g, "bob@contoso.example", SSRP_ASSOC_ALREADY, SSRP_ASSOC_LICENCE_OK);
	expect(g, "o'brien@contoso.example", SSRP_ASSOC_ALREADY, SSRP_ASSOC_LICENCE_MISSING);
	ssrp_assoc_stats s2 = SSRP_ASSOC_STATS_INIT;
	ssrp_assoc_get_stats(a, &s2);
	assert_int_equal(s2.token_requests, 2); /* cached */
	assert_int_equal(s2.http_requests - s.http_requests, 2); /* nothing to add */

	cJSON *state = admin_state();
	assert_int_equal(owner_count(state, D_MAIN, U_ALICE), 1);
	assert_int_equal(owner_count(state, D_MAIN, U_BOB), 1);
	assert_int_equal(owner_count(state, D_MAIN, U_OBRIEN), 1);
	assert_int_equal(owners_total(state, D_MAIN), 3);
	cJSON_Delete(state);

	/* an unknown device: its users are reported, nothing is sent for them */
	const char *one[] = {"alice@contoso.example"};
	run1(a, 999, one, 1, g);
	expect(g, "alice@contoso.example", SSRP_ASSOC_UNKNOWN_DEVICE,
	       SSRP_ASSOC_LICENCE_NOT_CHECKED);
	assert_non_null(strstr(g->d[0].detail, "no device"));
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

static void test_sam_lookup(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 0, 1, &svc_auth);
	/* OTHERDOM is mapped nowhere: carol's account is in corp.contoso.example,
	 * so OTHERDOM\carol is not proven to be her; zed has no account at all */
	const char *users[] = {"OTHERDOM\\carol", "contoso\\BOB", "OTHERDOM\\zed"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_SAM, users, 3, g);
	expect(g, "OTHERDOM\\carol", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "OTHERDOM\\carol",
		      "OTHERDOM\\carol: domain OTHERDOM is not a known domain (not in assoc.domains");
	expect_detail(g, "OTHERDOM\\carol", "onPremisesDomainName is '" AD_DNS "'");
	assert_string_equal(g->d[find(g, "OTHERDOM\\carol")].upn, "");
	expect(g, "contoso\\BOB", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	expect(g, "OTHERDOM\\zed", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "OTHERDOM\\zed", "no account has onPremisesSamAccountName 'zed'");
	cJSON *state = admin_state();
	assert_int_equal(owners_total(state, D_SAM), 1);
	assert_int_equal(owner_count(state, D_SAM, U_BOB), 1);
	cJSON_Delete(state);
	ssrp_assoc_free(a);
	/* sam_lookup off: an unmapped domain is refused, said why */
	cfg->assoc.sam_lookup = 0;
	a = engine(cfg, 0, 1, &svc_auth);
	const char *u2[] = {"OTHERDOM\\carol"};
	run1(a, D_SAM, u2, 1, g);
	expect(g, "OTHERDOM\\carol", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "OTHERDOM\\carol", "sam_lookup is off");
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

/* The default configuration (CONTOSO mapped, sam_lookup on): names whose
 * domain is not proven are refused, the rest of the job goes on. */
static void test_unknown_domains_refused(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 0, 0, &svc_auth);
	const char *users[] = {"FABRIKAM\\bob",	 "WORKGROUP\\alice",    "CONTOSO\\alice",
			       ".\\carol",		 "NT AUTHORITY\\SYSTEM", "BUILTIN\\bob",
			       "carol@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_TRUST, users, 7, g);
	expect(g, "FABRIKAM\\bob", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "FABRIKAM\\bob",
		      "FABRIKAM\\bob: domain FABRIKAM is not a known domain (not in assoc.domains, "
		      "and the account's onPremisesDomainName is '" AD_DNS "'");
	assert_string_equal(g->d[find(g, "FABRIKAM\\bob")].upn, "");
	expect(g, "WORKGROUP\\alice", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "WORKGROUP\\alice", "WORKGROUP\\alice: WORKGROUP is not a directory domain");
	expect(g, ".\\carol", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect(g, "NT AUTHORITY\\SYSTEM", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect(g, "BUILTIN\\bob", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect(g, "CONTOSO\\alice", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(g->d[find(g, "CONTOSO\\alice")].upn, "alice@contoso.example");
	expect(g, "carol@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_MISSING);
	cJSON *state = admin_state();
	assert_int_equal(owners_total(state, D_TRUST), 2);
	assert_int_equal(owner_count(state, D_TRUST, U_ALICE), 1);
	assert_int_equal(owner_count(state, D_TRUST, U_CAROL), 1);
	assert_int_equal(owner_count(state, D_TRUST, U_BOB), 0);
	cJSON_Delete(state);
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

/* A local account of the device, or a WORKGROUP one, is refused even when
 * someone mapped that "domain". */
static void test_local_accounts_refused(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config_domains("{\"CONTOSO\":\"contoso.example\","
						"\"DESKTOP-X\":\"contoso.example\","
						"\"WORKGROUP\":\"contoso.example\"}",
						NULL);
	ssrp_assoc *a = engine(cfg, 0, 0, &svc_auth);
	const char *users[] = {"DESKTOP-X\\alice", "desktop-x\\carol", "WORKGROUP\\carol",
			       "bob@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_LOCAL, users, 4, g);
	expect(g, "DESKTOP-X\\alice", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "DESKTOP-X\\alice",
		      "DESKTOP-X\\alice: DESKTOP-X is this device's own name");
	assert_string_equal(g->d[find(g, "DESKTOP-X\\alice")].upn, "");
	expect(g, "desktop-x\\carol", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect(g, "WORKGROUP\\carol", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect(g, "bob@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	cJSON *state = admin_state();
	assert_int_equal(owners_total(state, D_LOCAL), 1);
	assert_int_equal(owner_count(state, D_LOCAL, U_BOB), 1);
	cJSON_Delete(state);
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

/* No assoc.domains: the lookup by account name, proven by the account's
 * onPremisesDomainName through assoc.netbios_dns (or equal to the domain
 * itself). */
static void test_sam_lookup_netbios_dns(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config_domains(NULL, "{\"CONTOSO\":\"" AD_DNS "\"}");
	ssrp_assoc *a = engine(cfg, 0, 0, &svc_auth);
	const char *users[] = {"CONTOSO\\alice", "CONTOSO\\dave", "FABRIKAM\\bob",
			       "CONTOSO\\zed", "corp.fabrikam.example\\dave"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_DNS, users, 5, g);
	expect(g, "CONTOSO\\alice", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(g->d[find(g, "CONTOSO\\alice")].upn, "alice@contoso.example");
	/* dave's account is in another forest: CONTOSO\dave is not him */
	expect(g, "CONTOSO\\dave", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "CONTOSO\\dave",
		      "onPremisesDomainName is 'corp.fabrikam.example', which is neither CONTOSO "
		      "nor its DNS name " AD_DNS);
	expect(g, "FABRIKAM\\bob", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	/* a known domain without that account: unknown, not refused */
	expect(g, "CONTOSO\\zed", SSRP_ASSOC_UNKNOWN_USER, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect(g, "corp.fabrikam.example\\dave", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_MISSING);
	cJSON *state = admin_state();
	assert_int_equal(owners_total(state, D_DNS), 2);
	assert_int_equal(owner_count(state, D_DNS, U_ALICE), 1);
	assert_int_equal(owner_count(state, D_DNS, U_DAVE), 1);
	cJSON_Delete(state);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
	/* without the DNS name nothing proves CONTOSO: refused */
	cfg = config_domains(NULL, NULL);
	a = engine(cfg, 1, 0, NULL);
	const char *u2[] = {"CONTOSO\\alice"};
	run1(a, D_DNS, u2, 1, g);
	expect(g, "CONTOSO\\alice", SSRP_ASSOC_REFUSED, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	expect_detail(g, "CONTOSO\\alice", "assoc.netbios_dns gives no DNS name for CONTOSO");
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

/* `ssrp assoc run`: refused names on stdout by name, exit 1, the others
 * added; every audit line is JSON and each refusal has its line. */
static void test_cli_refusals_audited(void **st)
{
	(void)st;
	char id[37], cmd[3000], out[800];
	devid(id, D_CLI);
	snprintf(out, sizeof out, "%s/cli-refusals.txt", work);
	snprintf(cmd, sizeof cmd,
		 "'%s' assoc run --config '%s' --device %s --user 'FABRIKAM\\bob' "
		 "--user 'DESKTOP-CLI\\carol' --user 'CONTOSO\\alice' --user 'WORKGROUP\\bob' "
		 ">'%s'",
		 ssrp_bin, config_path, id, out);
	int rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 1);
	char *text = sim_read_text(out);
	assert_non_null(text);
	assert_non_null(strstr(text, "FABRIKAM\\bob \xe2\x86\x92 DESKTOP-CLI: FABRIKAM\\bob: domain "
				     "FABRIKAM is not a known domain"));
	assert_non_null(strstr(text, "DESKTOP-CLI\\carol \xe2\x86\x92 DESKTOP-CLI: DESKTOP-CLI\\carol: "
				     "DESKTOP-CLI is this device's own name"));
	assert_non_null(strstr(text, "WORKGROUP\\bob \xe2\x86\x92 DESKTOP-CLI: WORKGROUP\\bob: WORKGROUP "
				     "is not a directory domain"));
	assert_non_null(strstr(text, "alice@contoso.example \xe2\x86\x92 DESKTOP-CLI: added as owner"));
	assert_null(strstr(text, "bob@contoso.example"));
	assert_null(strstr(text, "carol@contoso.example"));
	free(text);
	cJSON *state = admin_state();
	assert_int_equal(owners_total(state, D_CLI), 1);
	assert_int_equal(owner_count(state, D_CLI, U_ALICE), 1);
	cJSON_Delete(state);
	char audit[800];
	snprintf(audit, sizeof audit, "%s/audit.jsonl", work);
	text = sim_read_text(audit);
	assert_non_null(text);
	int refusals = 0, lines = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(line);
		if (!o)
			fail_msg("audit line %d is not JSON: %s", lines + 1, line);
		lines++;
		const cJSON *dev = cJSON_GetObjectItem(o, "device");
		const cJSON *outcome = cJSON_GetObjectItem(o, "outcome");
		if (cJSON_IsString(dev) && !strcmp(dev->valuestring, id) && cJSON_IsString(outcome) &&
		    !strcmp(outcome->valuestring, "refused")) {
			const char *user = cJSON_GetObjectItem(o, "user")->valuestring;
			const char *detail = cJSON_GetObjectItem(o, "detail")->valuestring;
			assert_true(!strcmp(user, "FABRIKAM\\bob") || !strcmp(user, "DESKTOP-CLI\\carol") ||
				    !strcmp(user, "WORKGROUP\\bob"));
			assert_non_null(strstr(detail, user));
			assert_string_equal(cJSON_GetObjectItem(o, "requester")->valuestring, "cli");
			refusals++;
		}
		cJSON_Delete(o);
	}
	assert_int_equal(refusals, 3);
	free(text);
}

static void test_dry_run(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	cfg->assoc.licence = SSRP_ASSOC_LICENCE_ASSIGN;
	ssrp_assoc *a = engine(cfg, 1, 0, NULL); /* no writer needed */
	const char *users[] = {"alice@contoso.example", "carol@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_DRY, users, 2, g);
	expect(g, "alice@contoso.example", SSRP_ASSOC_WOULD_ADD, SSRP_ASSOC_LICENCE_OK);
	expect(g, "carol@contoso.example", SSRP_ASSOC_WOULD_ADD, SSRP_ASSOC_LICENCE_WOULD_ASSIGN);
	assert_int_equal(g->d[0].dry_run, 1);
	ssrp_assoc_stats s = SSRP_ASSOC_STATS_INIT;
	ssrp_assoc_get_stats(a, &s);
	assert_int_equal(s.token_requests, 1);
	cJSON *state = admin_state();
	assert_int_equal(owners_total(state, D_DRY), 0);
	cJSON_Delete(state);
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

static void test_cap(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 0, 0, &svc_auth);
	const char *users[] = {"alice@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_CAP, users, 1, g);
	expect(g, "alice@contoso.example", SSRP_ASSOC_CAP_REACHED, SSRP_ASSOC_LICENCE_OK);
	assert_non_null(strstr(g->d[0].detail, "max_owners"));
	ssrp_assoc_free(a);
	/* within one job: two of three fit under max_owners 2 */
	cfg->assoc.max_owners = 2;
	a = engine(cfg, 0, 0, &svc_auth);
	const char *three[] = {"alice@contoso.example", "bob@contoso.example",
			       "carol@contoso.example"};
	run1(a, D_SMALLCAP, three, 3, g);
	expect(g, "alice@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	expect(g, "bob@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	expect(g, "carol@contoso.example", SSRP_ASSOC_CAP_REACHED, SSRP_ASSOC_LICENCE_MISSING);
	cJSON *state = admin_state();
	assert_int_equal(owners_total(state, D_SMALLCAP), 2);
	assert_int_equal(owners_total(state, D_CAP), 10);
	cJSON_Delete(state);
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

static void test_licence_assign(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	cfg->assoc.licence = SSRP_ASSOC_LICENCE_ASSIGN;
	ssrp_assoc *a = engine(cfg, 0, 0, &svc_auth);
	const char *users[] = {"carol@contoso.example", "alice@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_ASSIGN, users, 2, g);
	expect(g, "carol@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_ASSIGNED);
	expect(g, "alice@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	run1(a, D_ASSIGN, users, 2, g);
	expect(g, "carol@contoso.example", SSRP_ASSOC_ALREADY, SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(g->d[find(g, "carol@contoso.example")].plan, "AAD_PREMIUM");
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

static void test_refused_change_fails(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	/* alice holds no device-admin role: Graph refuses the $ref */
	ssrp_graph_auth alice = {.kind = SSRP_GRAPH_AUTH_PASSWORD,
				 .username = "alice@contoso.example",
				 .password_file = alice_pw_file,
				 .scope = SCOPE};
	ssrp_assoc *a = engine(cfg, 0, 0, &alice);
	const char *users[] = {"bob@contoso.example", "nobody@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_FAIL, users, 2, g);
	expect(g, "bob@contoso.example", SSRP_ASSOC_FAILED, SSRP_ASSOC_LICENCE_OK);
	int i = find(g, "bob@contoso.example");
	assert_non_null(strstr(g->d[i].detail, "Authorization_RequestDenied"));
	assert_non_null(strstr(g->d[i].detail, "request-id"));
	expect(g, "nobody@contoso.example", SSRP_ASSOC_UNKNOWN_USER, SSRP_ASSOC_LICENCE_NOT_CHECKED);
	free(g);
	ssrp_assoc_free(a);
	/* the rerun with the service account finishes the job */
	a = engine(cfg, 0, 0, &svc_auth);
	g = calloc(1, sizeof *g);
	run1(a, D_FAIL, users, 2, g);
	expect(g, "bob@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

static void test_token_expiry(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 0, 0, &svc_auth);
	const char *u1[] = {"alice@contoso.example"}, *u2[] = {"bob@contoso.example"};
	got *g = calloc(1, sizeof *g);
	run1(a, D_EXPIRE, u1, 1, g);
	expect(g, "alice@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	ssrp_assoc_stats s1 = SSRP_ASSOC_STATS_INIT, s2 = SSRP_ASSOC_STATS_INIT;
	ssrp_assoc_get_stats(a, &s1);
	assert_int_equal(s1.token_requests, 2);
	admin_post("/admin/tokens/expire");
	run1(a, D_EXPIRE, u2, 1, g);
	expect(g, "bob@contoso.example", SSRP_ASSOC_ADDED, SSRP_ASSOC_LICENCE_OK);
	ssrp_assoc_get_stats(a, &s2);
	assert_int_equal(s2.token_requests - s1.token_requests, 2); /* one per client */
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

static void test_batch(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 0, 4, &svc_auth);
	static char devs[N_BATCH][37], names[2 * N_BATCH][64];
	static const char *ulist[2 * N_BATCH];
	ssrp_assoc_job *jobs = calloc(N_BATCH, sizeof *jobs);
	for (int i = 0; i < N_BATCH; i++) {
		devid(devs[i], D_BATCH0 + i);
		for (int k = 0; k < 2; k++) {
			snprintf(names[2 * i + k], 64, "b%d@contoso.example", 2 * i + k);
			ulist[2 * i + k] = names[2 * i + k];
		}
		jobs[i] = (ssrp_assoc_job){.device_id = devs[i], .users = &ulist[2 * i], .n_users = 2};
	}
	got *g = calloc(1, sizeof *g);
	/* The run reads subscribedSkus once, whatever the workers: a second
	 * read would fail, and its users' licences with it. */
	sim_admin_post(sim_config_path, admin_token, "/admin/faults",
		       "GET graph/v1.0/subscribedSkus:503@2+");
	int rc = ssrp_assoc_run(a, jobs, N_BATCH, collect, g);
	sim_admin_post(sim_config_path, admin_token, "/admin/faults", "");
	assert_int_equal(rc, 0);
	assert_int_equal(g->n, 2 * N_BATCH);
	for (int i = 0; i < g->n; i++)
		if (g->d[i].outcome != SSRP_ASSOC_ADDED || g->d[i].licence != SSRP_ASSOC_LICENCE_OK)
			fail_msg("%s: %s (licence %s)", g->d[i].user, g->d[i].detail,
				 ssrp_assoc_licence_name(g->d[i].licence));
	ssrp_assoc_stats s = SSRP_ASSOC_STATS_INIT;
	ssrp_assoc_get_stats(a, &s);
	double rpd = (double)s.http_requests / N_BATCH;
	fprintf(stderr, "batch: %d devices, %lu HTTP requests (%lu token), %.3f per device\n",
		N_BATCH, s.http_requests, s.token_requests, rpd);
	assert_true(rpd <= 0.5);
	cJSON *state = admin_state();
	for (int i = 0; i < N_BATCH; i++) {
		assert_int_equal(owners_total(state, D_BATCH0 + i), 2);
		assert_int_equal(owner_count(state, D_BATCH0 + i, U_BATCH0 + 2 * i), 1);
		assert_int_equal(owner_count(state, D_BATCH0 + i, U_BATCH0 + 2 * i + 1), 1);
	}
	cJSON_Delete(state);
	/* the rerun: all already, nothing changed */
	memset(g, 0, sizeof *g);
	assert_int_equal(ssrp_assoc_run(a, jobs, N_BATCH, collect, g), 0);
	for (int i = 0; i < g->n; i++)
		assert_int_equal(g->d[i].outcome, SSRP_ASSOC_ALREADY);
	free(g);
	free(jobs);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

/* Request-log lines (the simulator's requests.jsonl) so far. */
static int log_lines(int *batches, int *tokens)
{
	char path[700];
	snprintf(path, sizeof path, "%s/requests.jsonl", dir);
	char *text = sim_read_text(path);
	assert_non_null(text);
	int n = 0;
	*batches = *tokens = 0;
	for (char *l = text, *nl; *l; l = nl + 1) {
		if (!(nl = strchr(l, '\n')))
			break;
		*nl = '\0';
		n++;
		*batches += strstr(l, "\"path\":\"/v1.0/$batch\"") != NULL;
		*tokens += strstr(l, "/oauth2/v2.0/token\"") != NULL;
		assert_null(strstr(l, "licenseDetails"));
	}
	free(text);
	return n;
}

/* The licence check reads what Graph serves app-only: the user's
 * assignedLicenses with the lookup and the tenant's subscribedSkus (not
 * licenseDetails, delegated only), in as many requests as before: one
 * token and two $batch posts for one device, dry run. */
static void test_licence_app_only(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 1, 0, NULL);
	const char *users[] = {"alice@contoso.example", "dave@contoso.example",
			       "bob@contoso.example"};
	got *g = calloc(1, sizeof *g);
	int b0, t0, b1, t1;
	int n0 = log_lines(&b0, &t0);
	run1(a, D_DRY, users, 3, g);
	int n1 = log_lines(&b1, &t1);
	fprintf(stderr, "licence check, one device, 3 users: %d HTTP requests (%d $batch, %d token)\n",
		n1 - n0, b1 - b0, t1 - t0);
	assert_int_equal(n1 - n0, 3);
	assert_int_equal(b1 - b0, 2);
	assert_int_equal(t1 - t0, 1);
	expect(g, "alice@contoso.example", SSRP_ASSOC_WOULD_ADD, SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(g->d[find(g, "alice@contoso.example")].plan, "AAD_PREMIUM");
	expect(g, "bob@contoso.example", SSRP_ASSOC_WOULD_ADD, SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(g->d[find(g, "bob@contoso.example")].plan, "INTUNE_A");
	expect(g, "dave@contoso.example", SSRP_ASSOC_WOULD_ADD, SSRP_ASSOC_LICENCE_MISSING);
	ssrp_assoc_stats s = SSRP_ASSOC_STATS_INIT;
	ssrp_assoc_get_stats(a, &s);
	assert_int_equal(s.http_requests, 3);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);

	/* Without a permission to read subscribedSkus the licence is an error
	 * naming it; the owner decision stands. */
	char *text = sim_read_text(config_path);
	cJSON *c = cJSON_Parse(text);
	free(text);
	cJSON_ReplaceItemInObject(c, "app_id", cJSON_CreateString(APP_NO_SKUS));
	text = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	cfg = NULL;
	if (ssrp_cloud_config_parse(&cfg, text, "test configuration"))
		fail_msg("config: %s", ssrp_error_last());
	free(text);
	a = engine(cfg, 1, 0, NULL);
	run1(a, D_DRY, users, 3, g);
	expect(g, "alice@contoso.example", SSRP_ASSOC_WOULD_ADD, SSRP_ASSOC_LICENCE_ERROR);
	expect_detail(g, "alice@contoso.example", "GET /subscribedSkus (HTTP 403)");
	expect_detail(g, "alice@contoso.example", "Authorization_RequestDenied");
	expect_detail(g, "alice@contoso.example", "LicenseAssignment.Read.All");
	expect(g, "dave@contoso.example", SSRP_ASSOC_WOULD_ADD, SSRP_ASSOC_LICENCE_ERROR);
	free(g);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

/* Parts of $batch posts throttled (429 + Retry-After: 1): those of all of a
 * phase's posts are sent again together after one wait, not one wait per
 * post. N_BATCH devices (already owned, dry run) on one worker: chunks of
 * 100 devices, two phases each, every phase 10 and more posts. */
static void test_throttled_parts_retried_together(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = config();
	ssrp_assoc *a = engine(cfg, 1, 1, &svc_auth);
	static char devs[N_BATCH][37], names[2 * N_BATCH][64];
	static const char *ulist[2 * N_BATCH];
	ssrp_assoc_job *jobs = calloc(N_BATCH, sizeof *jobs);
	for (int i = 0; i < N_BATCH; i++) {
		devid(devs[i], D_BATCH0 + i);
		for (int k = 0; k < 2; k++) {
			snprintf(names[2 * i + k], 64, "b%d@contoso.example", 2 * i + k);
			ulist[2 * i + k] = names[2 * i + k];
		}
		jobs[i] = (ssrp_assoc_job){.device_id = devs[i], .users = &ulist[2 * i], .n_users = 2};
	}
	/* inner requests only: the $batch posts themselves are not throttled */
	sim_admin_post(sim_config_path, admin_token, "/admin/faults",
		       "graph/*users*:429:1@rate=0.03,seed=5;graph/*devices*:429:1@rate=0.03,seed=6");
	got *g = calloc(1, sizeof *g);
	int rc = ssrp_assoc_run(a, jobs, N_BATCH, collect, g);
	sim_admin_post(sim_config_path, admin_token, "/admin/faults", "");
	assert_int_equal(rc, 0);
	assert_int_equal(g->n, 2 * N_BATCH);
	for (int i = 0; i < g->n; i++)
		if (g->d[i].outcome != SSRP_ASSOC_ALREADY)
			fail_msg("%s: %s", g->d[i].user, g->d[i].detail);
	ssrp_assoc_stats s = SSRP_ASSOC_STATS_INIT;
	ssrp_assoc_get_stats(a, &s);
	fprintf(stderr, "throttled parts: %lu 429s, %lu retried posts\n", s.throttled, s.retries);
	assert_true(s.throttled >= 10); /* the faults fired */
	/* 3 chunks x 2 phases, each at most two rounds: one wait a round */
	assert_true(s.retries <= 12);
	free(g);
	free(jobs);
	ssrp_assoc_free(a);
	ssrp_cloud_config_free(cfg);
}

static void test_cli_batch(void **st)
{
	(void)st;
	char in[800], cmd[2400], line[4096];
	snprintf(in, sizeof in, "%s/devices.csv", work);
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	fprintf(f, "deviceId,user1,user2\n# %d devices\n", N_CLI);
	for (int i = N_BATCH; i < N_BATCH + N_CLI; i++) {
		char d[37];
		devid(d, D_BATCH0 + i);
		fprintf(f, "%s,b%d@contoso.example,b%d@contoso.example\n", d, 2 * i, 2 * i + 1);
	}
	fclose(f);
	snprintf(cmd, sizeof cmd, "'%s' assoc batch --config '%s' --in '%s' --concurrency 2 --summary-json",
		 ssrp_bin, config_path, in);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof line, p));
	char extra[64];
	assert_null(fgets(extra, sizeof extra, p)); /* one line only */
	assert_int_equal(pclose(p), 0);
	cJSON *o = cJSON_Parse(line);
	assert_non_null(o);
	assert_int_equal(cJSON_GetObjectItem(o, "devices")->valueint, N_CLI);
	assert_int_equal(cJSON_GetObjectItem(o, "added")->valueint, 2 * N_CLI);
	assert_int_equal(cJSON_GetObjectItem(o, "failed")->valueint, 0);
	double rpd = cJSON_GetObjectItem(o, "requests_per_device")->valuedouble;
	fprintf(stderr, "cli batch: %s", line);
	assert_true(rpd <= 0.5);
	cJSON_Delete(o);
	/* the audit file got one line per decision, requester batch:devices.csv */
	char audit[800];
	snprintf(audit, sizeof audit, "%s/audit.jsonl", work);
	char *text = sim_read_text(audit);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"requester\":\"batch:devices.csv\""));
	assert_null(strstr(text, SVC_PW));
	assert_null(strstr(text, APP_SECRET));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_added_already_unknown),
		cmocka_unit_test(test_sam_lookup),
		cmocka_unit_test(test_unknown_domains_refused),
		cmocka_unit_test(test_local_accounts_refused),
		cmocka_unit_test(test_sam_lookup_netbios_dns),
		cmocka_unit_test(test_cli_refusals_audited),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_licence_assign),
		cmocka_unit_test(test_licence_app_only),
		cmocka_unit_test(test_refused_change_fails),
		cmocka_unit_test(test_token_expiry),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_throttled_parts_retried_together),
		cmocka_unit_test(test_cli_batch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
