/* bench_assoc: associating devices with their primary users, the way the
 * original runbook did it against `ssrp assoc batch`.
 *
 *   1. a seed tenant: N devices (10,000) with no owners, 2N users (two
 *      distinct ones per device, all with an AAD_PREMIUM licence and an
 *      on-premises name CONTOSO\userK), the app (User.Read.All,
 *      Device.Read.All), a public client and a service account holding
 *      Intune Administrator + License Administrator;
 *   2. the simulated cloud started on it with a fault script that answers
 *      every Graph request LATENCY ms late (20; the connection is suspended,
 *      no server thread sleeps) and throttles a seeded 1% of Graph requests
 *      with 429 + Retry-After;
 *   3. the naive client, in this program: one request at a time through the
 *      project's Graph client (so its retries are ssrp's), per device and
 *      user GET the user (by UPN, or by $filter on onPremisesSamAccountName
 *      for CONTOSO\user), GET the device by $filter on deviceId, GET its
 *      registeredOwners, POST registeredOwners/$ref when missing; on a
 *      sample of the devices (200), since all of them would take too long;
 *   4. `ssrp assoc batch --summary-json` on the other devices (all of them
 *      by default);
 *   5. the simulator's request log, split at the phase boundaries, gives
 *      HTTP requests (Graph and login), 429s and early retries per phase;
 *      GET /admin/state checks that every device ended with exactly its two
 *      users as owners (and untouched devices with none).
 * A human table goes to stdout and, as the last line, one JSON object.
 * Exit 0 when it measured (whether or not the goals were met), 1 on errors,
 * 2 on wrong arguments. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bench/bench_util.h"
#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "hal/mem.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

extern char **environ;

#define GOAL_SPEEDUP_MIN 50.0
#define GOAL_REQUESTS_PER_DEVICE_MAX 0.5
#define USERS_PER_DEVICE 2
#define TENANT_ID "0c0c0c0c-0000-4000-8000-0000000a5500"
#define DOMAIN "contoso.example"
#define NETBIOS "CONTOSO"
#define AD_DNS "corp.contoso.example" /* onPremisesDomainName: the DNS name */
#define APP_ID "0b0b0b0b-0000-4000-8000-0000000a5501"
#define PUBLIC_ID "0b0b0b0b-0000-4000-8000-0000000a5502"
#define SVC_ID "0d0d0d0d-0000-4000-9000-0000000a5503"
#define SVC_UPN "ssrp-svc@" DOMAIN
#define USER_ID_FMT "0d0d0d0d-0000-4000-8000-%012ld"
#define DEVICE_OID_FMT "0e0e0e0e-0000-4000-8000-%012ld"
#define DEVICE_ID_FMT "0f0f0f0f-0000-4000-8000-%012ld"
#define SKU_AAD_P1 "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
#define PLAN_AAD_P1 "41781fb2-bc02-4b7c-bd55-b576c07bb09d"

typedef struct opts {
	const char *ssrp;
	long devices, naive_devices, ssrp_devices; /* ssrp_devices 0: all the rest */
	const char *concurrency;                   /* NULL: the CLI's default */
	int latency_ms;
	double throttle_rate;
	const char *keep;
} opts;

typedef struct phase_log {
	long requests, graph, login, throttled, early, faults;
} phase_log;

static char work[512];

/* ---- small helpers ------------------------------------------------------ */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static int write_private(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		return -1;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	return close(fd) == 0 && w == (ssize_t)n ? 0 : -1;
}

static int random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];
	if (bytes > sizeof raw || RAND_bytes(raw, (int)bytes) != 1)
		return -1;
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- the tenant ---------------------------------------------------------- */

/* User k of the tenant; device i has users 2i and 2i+1: the first listed
 * by UPN, the second as CONTOSO\userK. */
static int write_state(const char *path, long devices, const char *app_secret,
		       const char *svc_password)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	char app_hex[65], svc_hex[65];
	sha256_hex(app_secret, app_hex);
	sha256_hex(svc_password, svc_hex);
	fprintf(f, "{\"tenant\":{\"id\":\"" TENANT_ID "\",\"domain\":\"" DOMAIN "\"},\n");
	fprintf(f, "\"skus\":[{\"skuId\":\"" SKU_AAD_P1 "\",\"skuPartNumber\":\"AAD_PREMIUM\","
		   "\"servicePlans\":[{\"servicePlanId\":\"" PLAN_AAD_P1
		   "\",\"servicePlanName\":\"AAD_PREMIUM\"}]}],\n");
	fprintf(f, "\"apps\":[{\"appId\":\"" APP_ID "\",\"displayName\":\"ssrp association\","
		   "\"secretSha256\":\"%s\",\"roles\":[\"User.Read.All\",\"Device.Read.All\",\"LicenseAssignment.Read.All\"]},\n"
		   "{\"appId\":\"" PUBLIC_ID "\",\"displayName\":\"ssrp public client\","
		   "\"publicClient\":true}],\n",
		app_hex);
	fprintf(f, "\"users\":[\n{\"id\":\"" SVC_ID "\",\"userPrincipalName\":\"" SVC_UPN "\","
		   "\"displayName\":\"ssrp service\",\"passwordSha256\":\"%s\","
		   "\"roles\":[\"Intune Administrator\",\"License Administrator\"]}\n",
		svc_hex);
	for (long k = 0; k < devices * USERS_PER_DEVICE; k++)
		fprintf(f,
			",{\"id\":\"" USER_ID_FMT "\",\"userPrincipalName\":\"user%ld@" DOMAIN "\","
			"\"displayName\":\"User %ld\",\"onPremisesSamAccountName\":\"user%ld\","
			"\"onPremisesDomainName\":\"" AD_DNS "\",\"usageLocation\":\"US\","
			"\"assignedLicenses\":[\"" SKU_AAD_P1 "\"]}\n",
			k, k, k, k);
	fprintf(f, "],\n\"devices\":[\n");
	for (long i = 0; i < devices; i++)
		fprintf(f,
			"%s{\"id\":\"" DEVICE_OID_FMT "\",\"deviceId\":\"" DEVICE_ID_FMT "\","
			"\"displayName\":\"PC-%06ld\",\"accountEnabled\":true}\n",
			i ? "," : "", i, i, i);
	fprintf(f, "]}\n");
	return fclose(f) == 0 ? 0 : -1;
}

static void device_user(long device, int j, char *out, size_t cap)
{
	long k = device * USERS_PER_DEVICE + j;
	if (j % 2 == 0)
		snprintf(out, cap, "user%ld@" DOMAIN, k);
	else
		snprintf(out, cap, NETBIOS "\\user%ld", k);
}

/* The batch input: one JSON line per device. */
static int write_batch(const char *path, long first, long count)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	for (long i = first; i < first + count; i++) {
		char u0[64], u1[64];
		device_user(i, 0, u0, sizeof u0);
		device_user(i, 1, u1, sizeof u1);
		fprintf(f, "{\"deviceId\":\"" DEVICE_ID_FMT "\",\"users\":[\"%s\",\"" NETBIOS
			   "\\\\%s\"]}\n",
			i, u0, strchr(u1, '\\') + 1);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- the simulator -------------------------------------------------------- */

static int sim_start(const opts *o, bench_cloud *s, const char *state)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/cloud", work);
	char faults[256];
	/* The 429s first: the first rule that fires decides, so a throttled
	 * request is answered at once and every other one LATENCY ms late. */
	if (o->throttle_rate > 0)
		snprintf(faults, sizeof faults, "graph/*:429:1@rate=%g,seed=7;graph/*:latency:%d",
			 o->throttle_rate, o->latency_ms);
	else
		snprintf(faults, sizeof faults, "graph/*:latency:%d", o->latency_ms);
	char *extra[] = {"--state", (char *)state, "--device-certs", "0", "--faults", faults, NULL};
	return bench_cloud_start(s, o->ssrp, dir, extra, "bench_assoc");
}


/* A request to the simulator by its real host name; the body in *out. */
static long sim_curl(const bench_cloud *s, const char *host, const char *url, const char *post,
		     const char *bearer, bench_body *out)
{
	char connect[300], auth[600];
	snprintf(connect, sizeof connect, "%s:443:127.0.0.1:%d", host, s->port);
	struct curl_slist *ct = curl_slist_append(NULL, connect), *h = NULL;
	if (bearer) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
		h = curl_slist_append(NULL, auth);
		OPENSSL_cleanse(auth, sizeof auth);
	}
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
	if (h)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	long status = 0;
	CURLcode cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "bench_assoc: %s: %s\n", url, curl_easy_strerror(cc));
	curl_easy_cleanup(c);
	curl_slist_free_all(ct);
	curl_slist_free_all(h);
	return status;
}

/* The service account's refresh token, by the password grant to the
 * public client, written to path (0600). */
static int get_refresh_token(const bench_cloud *s, const char *password, const char *path)
{
	CURL *esc = curl_easy_init();
	char *pw = curl_easy_escape(esc, password, 0);
	char *scope = curl_easy_escape(esc, "https://graph.microsoft.com/.default offline_access", 0);
	char body[1024];
	snprintf(body, sizeof body,
		 "grant_type=password&client_id=" PUBLIC_ID "&username=%s&password=%s&scope=%s",
		 "ssrp-svc%40" DOMAIN, pw, scope);
	curl_free(pw);
	curl_free(scope);
	curl_easy_cleanup(esc);
	bench_body b = {0};
	long st = sim_curl(s, "login.microsoftonline.com",
			   "https://login.microsoftonline.com/" TENANT_ID "/oauth2/v2.0/token", body,
			   NULL, &b);
	OPENSSL_cleanse(body, sizeof body);
	cJSON *j = b.p ? cJSON_Parse(b.p) : NULL;
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
	int rc = -1;
	if (st == 200 && cJSON_IsString(rt))
		rc = write_private(path, rt->valuestring);
	else
		fprintf(stderr, "bench_assoc: no refresh token for " SVC_UPN " (HTTP %ld)\n", st);
	if (b.p)
		OPENSSL_cleanse(b.p, b.len);
	cJSON_Delete(j); /* the parsed copy is not zeroed: a throw-away bench token */
	free(b.p);
	return rc;
}

/* The configuration: the simulator's config.json plus the app, the public
 * client, the service account's refresh token and the "assoc" member.
 * *graph_text gets the same without "assoc" (what the naive client loads). */
static int write_config(const bench_cloud *s, const char *path, char **graph_text)
{
	char *text = bench_read_file(s->config, NULL);
	cJSON *cfg = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!cfg) {
		fprintf(stderr, "bench_assoc: cannot read %s\n", s->config);
		return -1;
	}
	char p[1100];
	cJSON_DeleteItemFromObject(cfg, "app_id");
	cJSON_AddStringToObject(cfg, "app_id", APP_ID);
	snprintf(p, sizeof p, "%s/app-secret", work);
	cJSON_DeleteItemFromObject(cfg, "app_secret_file");
	cJSON_AddStringToObject(cfg, "app_secret_file", p);
	cJSON_DeleteItemFromObject(cfg, "public_client_id");
	cJSON_AddStringToObject(cfg, "public_client_id", PUBLIC_ID);
	snprintf(p, sizeof p, "%s/service-refresh-token", work);
	cJSON_DeleteItemFromObject(cfg, "refresh_token_file");
	cJSON_AddStringToObject(cfg, "refresh_token_file", p);
	cJSON_DeleteItemFromObject(cfg, "assoc");
	*graph_text = cJSON_Print(cfg);
	cJSON *a = cJSON_AddObjectToObject(cfg, "assoc");
	cJSON *d = cJSON_AddObjectToObject(a, "domains");
	cJSON_AddStringToObject(d, NETBIOS, DOMAIN);
	cJSON_AddStringToObject(a, "licence", "check");
	snprintf(p, sizeof p, "%s/assoc-audit.jsonl", work);
	cJSON_AddStringToObject(a, "audit", p);
	char *out = cJSON_Print(cfg);
	cJSON_Delete(cfg);
	FILE *f = out ? fopen(path, "w") : NULL;
	int rc = f && fputs(out, f) >= 0 ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	free(out);
	return *graph_text ? rc : -1;
}

/* ---- the request log ------------------------------------------------------- */

/* Count the log's lines in [from, to) (byte offsets). */
static int read_log(const bench_cloud *s, long from, long to, phase_log *pl)
{
	memset(pl, 0, sizeof *pl);
	size_t len;
	char *text = bench_read_file(s->log, &len);
	if (!text)
		return -1;
	if ((size_t)to > len)
		to = (long)len;
	char *p = text + from, *end = text + to;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = '\0';
		if (!strstr(p, "\"path\":\"/admin/")) {
			pl->requests++;
			if (strstr(p, "\"host\":\"login.microsoftonline.com\""))
				pl->login++;
			else if (strstr(p, "\"host\":\"graph.microsoft.com\""))
				pl->graph++;
			if (strstr(p, "\"status\":429"))
				pl->throttled++;
			if (strstr(p, "\"early_retry\":true"))
				pl->early++;
			if (strstr(p, "\"fault\":\"") && !strstr(p, "\"fault\":\"latency"))
				pl->faults++;
		}
		p = nl + 1;
	}
	free(text);
	return 0;
}

/* ---- the naive client -------------------------------------------------------- */

static const char *item_id(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first element of a list answer's "value". */
static const cJSON *first_value(const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
	return cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 0) : NULL;
}

/* One (device, user), the runbook's four steps; 0 or -1. */
static int naive_one(ssrp_graph *reader, ssrp_graph *writer, long device, int j, long *added)
{
	char user[64], device_id[64], path[256];
	device_user(device, j, user, sizeof user);
	snprintf(device_id, sizeof device_id, DEVICE_ID_FMT, device);
	cJSON *u = NULL, *d = NULL, *owners = NULL;
	char *q = NULL;
	int rc = -1;
	char uid[40] = "", oid[40] = "";
	/* 1. the user */
	const char *bs = strchr(user, '\\');
	if (bs) {
		/* An advanced query (ConsistencyLevel: eventual, $count=true), as
		 * Graph requires for this filter: a $batch of one carries the
		 * header, one request as a plain GET would be. */
		char *f = ssrp_graph_filter_eq("/users", "onPremisesSamAccountName", bs + 1);
		size_t fl = f ? strlen(f) : 0;
		if (!f || !(q = ssrp_malloc(fl + sizeof "&$count=true"))) {
			ssrp_free(f);
			goto out;
		}
		memcpy(q, f, fl);
		memcpy(q + fl, "&$count=true", sizeof "&$count=true");
		ssrp_free(f);
		static const char *const advanced[] = {"ConsistencyLevel: eventual", NULL};
		ssrp_graph_batch_req one = {.method = "GET", .url = q, .headers = advanced};
		ssrp_graph_batch_result res = {0};
		if (ssrp_graph_batch(reader, &one, 1, &res) != SSRP_OK || res.status != 200) {
			ssrp_graph_batch_results_free(&res, 1);
			goto out;
		}
		u = res.body;
		res.body = NULL;
		ssrp_graph_batch_results_free(&res, 1);
		const char *id = item_id(first_value(u));
		if (!id)
			goto out;
		snprintf(uid, sizeof uid, "%s", id);
		ssrp_free(q);
		q = NULL;
	} else {
		snprintf(path, sizeof path, "/v1.0/users/%s", user);
		if (ssrp_graph_get(reader, path, &u) != SSRP_OK || !item_id(u))
			goto out;
		snprintf(uid, sizeof uid, "%s", item_id(u));
	}
	/* 2. the device */
	q = ssrp_graph_filter_eq("/v1.0/devices", "deviceId", device_id);
	if (!q || ssrp_graph_get(reader, q, &d) != SSRP_OK || !item_id(first_value(d)))
		goto out;
	snprintf(oid, sizeof oid, "%s", item_id(first_value(d)));
	/* 3. its owners */
	snprintf(path, sizeof path, "/v1.0/devices/%s/registeredOwners", oid);
	if (ssrp_graph_get(reader, path, &owners) != SSRP_OK)
		goto out;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(owners, "value"), *it;
	cJSON_ArrayForEach(it, v)
	{
		const char *id = item_id(it);
		if (id && !strcmp(id, uid)) {
			rc = 0;
			goto out;
		}
	}
	/* 4. add */
	snprintf(path, sizeof path, "/v1.0/devices/%s/registeredOwners/$ref", oid);
	int already = 0;
	if (ssrp_graph_add_ref(writer, path, uid, &already) != SSRP_OK)
		goto out;
	if (!already)
		(*added)++;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_assoc: naive client, device %s user %s: %s\n", device_id, user,
			ssrp_error_last());
	ssrp_free(q);
	cJSON_Delete(u);
	cJSON_Delete(d);
	cJSON_Delete(owners);
	return rc;
}

typedef struct naive_result {
	double seconds;
	long added, failed;
	unsigned long http, tokens, retries;
} naive_result;

static int run_naive(const char *graph_text, long devices, naive_result *r)
{
	memset(r, 0, sizeof *r);
	ssrp_cloud_config *cfg = NULL;
	ssrp_graph *reader = NULL, *writer = NULL;
	char pw_file[700];
	snprintf(pw_file, sizeof pw_file, "%s/service-password", work);
	ssrp_graph_auth ra = {SSRP_GRAPH_AUTH_APP_SECRET, NULL, NULL, NULL};
	ssrp_graph_auth wa = {SSRP_GRAPH_AUTH_PASSWORD, SVC_UPN, pw_file, NULL};
	int rc = -1;
	if (ssrp_cloud_config_parse(&cfg, graph_text, "bench config") != SSRP_OK ||
	    ssrp_graph_new(&reader, cfg, &ra, NULL) != SSRP_OK ||
	    ssrp_graph_new(&writer, cfg, &wa, NULL) != SSRP_OK) {
		fprintf(stderr, "bench_assoc: naive client: %s\n", ssrp_error_last());
		goto out;
	}
	double t0 = now_s();
	for (long i = 0; i < devices; i++)
		for (int j = 0; j < USERS_PER_DEVICE; j++)
			if (naive_one(reader, writer, i, j, &r->added))
				r->failed++;
	r->seconds = now_s() - t0;
	ssrp_graph_stats a, b;
	ssrp_graph_get_stats(reader, &a);
	ssrp_graph_get_stats(writer, &b);
	r->tokens = a.token_requests + b.token_requests;
	r->http = a.graph_requests + b.graph_requests + r->tokens;
	r->retries = a.retries + b.retries;
	rc = 0;
out:
	ssrp_graph_free(reader);
	ssrp_graph_free(writer);
	ssrp_cloud_config_free(cfg);
	return rc;
}

/* ---- ssrp ---------------------------------------------------------------------- */

typedef struct ssrp_result {
	double seconds, wall_seconds, devices_per_s;
	long devices, decisions, added, already, unknown_user, unknown_device, failed;
	long http_requests, throttled, retries;
	int exit_status;
} ssrp_result;

static long num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static int run_ssrp(const opts *o, const char *config, const char *in, ssrp_result *r)
{
	memset(r, 0, sizeof *r);
	char out[700], err[700];
	snprintf(out, sizeof out, "%s/assoc-batch.out", work);
	snprintf(err, sizeof err, "%s/assoc-batch.err", work);
	char *argv[12];
	int n = 0;
	argv[n++] = (char *)o->ssrp;
	argv[n++] = "assoc";
	argv[n++] = "batch";
	argv[n++] = "--config";
	argv[n++] = (char *)config;
	argv[n++] = "--in";
	argv[n++] = (char *)in;
	argv[n++] = "--summary-json";
	if (o->concurrency) {
		argv[n++] = "--concurrency";
		argv[n++] = (char *)o->concurrency;
	}
	argv[n] = NULL;
	double t0 = now_s();
	r->exit_status = bench_run(argv, out, err);
	r->wall_seconds = now_s() - t0;
	char *text = bench_read_file(out, NULL);
	/* the last non-empty line */
	char *line = NULL;
	for (char *p = text ? strtok(text, "\n") : NULL; p; p = strtok(NULL, "\n"))
		line = p;
	cJSON *j = line ? cJSON_Parse(line) : NULL;
	if (!j) {
		char *e = bench_read_file(err, NULL);
		fprintf(stderr, "bench_assoc: `ssrp assoc batch` gave no summary (exit %d): %.2000s\n",
			r->exit_status, e ? e : "");
		free(e);
		free(text);
		return -1;
	}
	r->devices = num(j, "devices");
	r->decisions = num(j, "decisions");
	r->added = num(j, "added");
	r->already = num(j, "already");
	r->unknown_user = num(j, "unknown_user");
	r->unknown_device = num(j, "unknown_device");
	r->failed = num(j, "failed");
	r->http_requests = num(j, "http_requests");
	r->throttled = num(j, "throttled");
	r->retries = num(j, "retries");
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(j, "seconds");
	r->seconds = cJSON_IsNumber(sec) && sec->valuedouble > 0 ? sec->valuedouble : r->wall_seconds;
	cJSON_Delete(j);
	free(text);
	return 0;
}

/* ---- the check ------------------------------------------------------------------ */

static long trailing_index(const char *guid)
{
	size_t n = strlen(guid);
	return n == 36 ? strtol(guid + 24, NULL, 10) : -1;
}

/* Devices [0, touched) must have exactly their two users as owners, the
 * rest none. The number of devices that do not into *wrong. */
static int check_state(const bench_cloud *s, long devices, long touched, long *wrong)
{
	*wrong = 0;
	char *admin = bench_read_file(s->admin_token_file, NULL);
	if (!admin)
		return -1;
	admin[strcspn(admin, "\r\n")] = '\0';
	bench_body b = {0};
	long st = sim_curl(s, "graph.microsoft.com", "https://graph.microsoft.com/admin/state", NULL,
			   admin, &b);
	OPENSSL_cleanse(admin, strlen(admin));
	free(admin);
	cJSON *j = st == 200 && b.p ? cJSON_Parse(b.p) : NULL;
	free(b.p);
	if (!j) {
		fprintf(stderr, "bench_assoc: GET /admin/state: HTTP %ld\n", st);
		return -1;
	}
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(j, "devices"), *d;
	long seen = 0, reported = 0;
	cJSON_ArrayForEach(d, devs)
	{
		const cJSON *did = cJSON_GetObjectItemCaseSensitive(d, "deviceId");
		long i = cJSON_IsString(did) ? trailing_index(did->valuestring) : -1;
		if (i < 0 || i >= devices)
			continue;
		seen++;
		const cJSON *owners = cJSON_GetObjectItemCaseSensitive(d, "registeredOwners"), *ow;
		int n = 0, have[USERS_PER_DEVICE] = {0}, stray = 0;
		cJSON_ArrayForEach(ow, owners)
		{
			n++;
			long k = cJSON_IsString(ow) ? trailing_index(ow->valuestring) : -1;
			if (k >= i * USERS_PER_DEVICE && k < (i + 1) * USERS_PER_DEVICE)
				have[k - i * USERS_PER_DEVICE]++;
			else
				stray++;
		}
		int ok = i < touched ? n == USERS_PER_DEVICE && !stray : n == 0;
		for (int u = 0; ok && i < touched && u < USERS_PER_DEVICE; u++)
			ok = have[u] == 1;
		if (!ok) {
			(*wrong)++;
			if (reported++ < 5)
				fprintf(stderr, "bench_assoc: device %ld has %d owners (%s)\n", i, n,
					i < touched ? "expected its 2 users" : "expected none");
		}
	}
	cJSON_Delete(j);
	if (seen != devices) {
		fprintf(stderr, "bench_assoc: /admin/state lists %ld of %ld devices\n", seen, devices);
		*wrong += devices - seen;
	}
	return 0;
}

/* ---- main --------------------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_assoc --ssrp PATH [--devices N] [--naive-devices N] [--ssrp-devices N]\n"
		"                   [--concurrency N] [--latency-ms MS] [--throttle-rate R] "
		"[--keep DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	opts o = {NULL, 10000, 200, 0, NULL, 20, 0.01, NULL};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage();
		if (!strcmp(a, "--ssrp"))
			o.ssrp = v;
		else if (!strcmp(a, "--devices"))
			o.devices = atol(v);
		else if (!strcmp(a, "--naive-devices"))
			o.naive_devices = atol(v);
		else if (!strcmp(a, "--ssrp-devices"))
			o.ssrp_devices = atol(v);
		else if (!strcmp(a, "--concurrency"))
			o.concurrency = v;
		else if (!strcmp(a, "--latency-ms"))
			o.latency_ms = atoi(v);
		else if (!strcmp(a, "--throttle-rate"))
			o.throttle_rate = atof(v);
		else if (!strcmp(a, "--keep"))
			o.keep = v;
		else
			return usage();
		i++;
	}
	if (!o.ssrp || o.devices < 2 || o.naive_devices < 1 || o.naive_devices >= o.devices ||
	    o.ssrp_devices < 0 || o.latency_ms < 0 || o.throttle_rate < 0 || o.throttle_rate >= 1)
		return usage();
	long rest = o.devices - o.naive_devices;
	if (!o.ssrp_devices || o.ssrp_devices > rest)
		o.ssrp_devices = rest;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	if (o.keep) {
		snprintf(work, sizeof work, "%s", o.keep);
		mkdir(work, 0700);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(work, sizeof work, "%s/ssrp-bench-assoc.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(work)) {
			perror("bench_assoc: mkdtemp");
			return 1;
		}
	}
	char state[600], app_secret_file[600], pw_file[600], rt_file[600], config[600], batch[600];
	snprintf(state, sizeof state, "%s/tenant.json", work);
	snprintf(app_secret_file, sizeof app_secret_file, "%s/app-secret", work);
	snprintf(pw_file, sizeof pw_file, "%s/service-password", work);
	snprintf(rt_file, sizeof rt_file, "%s/service-refresh-token", work);
	snprintf(config, sizeof config, "%s/config.json", work);
	snprintf(batch, sizeof batch, "%s/batch.jsonl", work);

	int failed = 1;
	bench_cloud s = {0};
	char *graph_text = NULL;
	char app_secret[65], svc_password[65];
	if (random_hex(app_secret, 24) || random_hex(svc_password, 24) ||
	    write_private(app_secret_file, app_secret) || write_private(pw_file, svc_password) ||
	    write_state(state, o.devices, app_secret, svc_password)) {
		fprintf(stderr, "bench_assoc: cannot write the tenant in %s\n", work);
		goto out;
	}
	double t0 = now_s();
	if (sim_start(&o, &s, state))
		goto out;
	double start_s = now_s() - t0;
	if (get_refresh_token(&s, svc_password, rt_file) || write_config(&s, config, &graph_text) ||
	    write_batch(batch, o.naive_devices, o.ssrp_devices))
		goto out;

	/* phase 1: the naive client */
	long off0 = file_size(s.log);
	naive_result nv;
	if (run_naive(graph_text, o.naive_devices, &nv))
		goto out;
	long off1 = file_size(s.log);
	/* phase 2: ssrp */
	ssrp_result sr;
	if (run_ssrp(&o, config, batch, &sr))
		goto out;
	long off2 = file_size(s.log);
	phase_log nl, sl;
	if (read_log(&s, off0, off1, &nl) || read_log(&s, off1, off2, &sl)) {
		fprintf(stderr, "bench_assoc: cannot read the request log %s\n", s.log);
		goto out;
	}
	long wrong = 0;
	if (check_state(&s, o.devices, o.naive_devices + o.ssrp_devices, &wrong))
		goto out;

	double naive_dps = nv.seconds > 0 ? (double)o.naive_devices / nv.seconds : 0;
	double ssrp_dps = sr.seconds > 0 ? (double)o.ssrp_devices / sr.seconds : 0;
	double naive_rpd = (double)nl.requests / (double)o.naive_devices;
	double ssrp_rpd = (double)sl.requests / (double)o.ssrp_devices;
	double speedup = naive_dps > 0 ? ssrp_dps / naive_dps : 0;
	long early = nl.early + sl.early;
	int correct = wrong == 0 && nv.failed == 0 && sr.failed == 0 && sr.exit_status == 0;
	int met = correct && speedup >= GOAL_SPEEDUP_MIN &&
		  ssrp_rpd <= GOAL_REQUESTS_PER_DEVICE_MAX && early == 0;

	printf("association: %ld devices x %d users, Graph latency %d ms, %.1f%% throttled (429, "
	       "Retry-After 1 s)\n",
	       o.devices, USERS_PER_DEVICE, o.latency_ms, o.throttle_rate * 100);
	printf("simulator start-up with the tenant: %.2f s\n", start_s);
	printf("%-22s %8s %10s %12s %10s %8s %8s %8s\n", "client", "devices", "seconds", "devices/s",
	       "req/device", "login", "429", "early");
	printf("%-22s %8ld %10.2f %12.2f %10.2f %8ld %8ld %8ld\n", "naive (runbook)",
	       o.naive_devices, nv.seconds, naive_dps, naive_rpd, nl.login, nl.throttled, nl.early);
	printf("%-22s %8ld %10.2f %12.2f %10.2f %8ld %8ld %8ld\n", "ssrp assoc batch",
	       o.ssrp_devices, sr.seconds, ssrp_dps, ssrp_rpd, sl.login, sl.throttled, sl.early);
	printf("ssrp: wall %.2f s (process), exit %d; its summary: %ld decisions, %ld added, %ld "
	       "already, %ld unknown user, %ld unknown device, %ld failed, %ld HTTP requests, %ld "
	       "throttled, %ld retries\n",
	       sr.wall_seconds, sr.exit_status, sr.decisions, sr.added, sr.already,
	       sr.unknown_user, sr.unknown_device, sr.failed, sr.http_requests, sr.throttled,
	       sr.retries);
	printf("naive: %ld added, %ld failed, %lu HTTP requests (%lu token), %lu retries\n",
	       nv.added, nv.failed, nv.http, nv.tokens, nv.retries);
	printf("owners checked in /admin/state: %ld devices wrong\n", wrong);
	printf("speedup %.1fx (goal >= %.0f), ssrp requests/device %.3f (goal <= %.1f), early "
	       "retries %ld (goal 0): %s\n",
	       speedup, GOAL_SPEEDUP_MIN, ssrp_rpd, GOAL_REQUESTS_PER_DEVICE_MAX, early,
	       met ? "met" : "NOT met");
	printf("{\"bench\":\"assoc\",\"devices\":%ld,\"users_per_device\":%d,\"latency_ms\":%d,"
	       "\"throttle_rate\":%g,\"naive_devices\":%ld,\"naive_seconds\":%.3f,"
	       "\"naive_devices_per_s\":%.3f,\"naive_requests_per_device\":%.3f,"
	       "\"ssrp_devices\":%ld,\"ssrp_seconds\":%.3f,\"ssrp_wall_seconds\":%.3f,"
	       "\"ssrp_devices_per_s\":%.3f,\"ssrp_requests_per_device\":%.3f,\"speedup\":%.2f,"
	       "\"throttled_429\":%ld,\"early_retries\":%ld,\"naive_failed\":%ld,"
	       "\"ssrp_failed\":%ld,\"devices_wrong\":%ld,\"correct\":%s,"
	       "\"goal_speedup_min\":%.0f,\"goal_requests_per_device_max\":%.1f,"
	       "\"goal_early_retries\":0,\"met\":%s}\n",
	       o.devices, USERS_PER_DEVICE, o.latency_ms, o.throttle_rate, o.naive_devices,
	       nv.seconds, naive_dps, naive_rpd, o.ssrp_devices, sr.seconds, sr.wall_seconds,
	       ssrp_dps, ssrp_rpd, speedup, nl.throttled + sl.throttled, early, nv.failed,
	       sr.failed, wrong, correct ? "true" : "false", GOAL_SPEEDUP_MIN, GOAL_REQUESTS_PER_DEVICE_MAX,
	       met ? "true" : "false");
	failed = 0;
out:
	bench_cloud_stop(&s, o.ssrp);
	OPENSSL_cleanse(app_secret, sizeof app_secret);
	OPENSSL_cleanse(svc_password, sizeof svc_password);
	free(graph_text);
	if (!o.keep && !failed) {
		char cmd[700];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_assoc: could not remove %s\n", work);
	} else if (failed) {
		fprintf(stderr, "bench_assoc: failed; files kept in %s\n", work);
	}
	curl_global_cleanup();
	return failed;
}
