/* `ssrp assoc batch` under a storm of faults: a seeded tenant of 100
 * devices x 2 users (some owners already registered), the simulated cloud
 * answering about 30% of Graph and login requests with a fault from a
 * fixed-seed script (429 with Retry-After, 500/502/503/504, connection
 * resets, truncated bodies). The batch is run again while it reports failed
 * decisions, as an operator would, at most 3 times. Then:
 *   - every device has exactly its 2 users as owners (GET /admin/state):
 *     none missing, none doubled, no stranger;
 *   - every run decided every user, only as added or already, and failed
 *     only in a run that was followed by another (the summaries and the
 *     audit file agree);
 *   - faults did fire (a test that injected nothing proves nothing), and
 *     the request log has no early retry;
 *   - no secret (the app secret, the service account's password, any
 *     refresh token it held, a JWT's "eyJ") appears in anything the test
 *     saw: stdout and stderr of every run and of the simulator's start, the
 *     audit file, the request log.
 * usage: integration_assoc_soak SSRP_BINARY (or $SSRP_BIN); SSRP_SOAK_FAULTS
 * replaces the fault script, SSRP_TEST_KEEP keeps the files. Runs the ssrp binary,
 * so it is registered without a valgrind twin. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
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
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

extern char **environ;

#define N_DEVICES 100
#define USERS_PER_DEVICE 2
#define MAX_RUNS 3
#define TENANT_ID "5a5a5a5a-0000-4000-8000-00000000500a"
#define DOMAIN "contoso.example"
#define APP_ID "5b5b5b5b-0000-4000-8000-000000000001"
#define PUBLIC_ID "5b5b5b5b-0000-4000-8000-000000000002"
#define SVC_ID "5c5c5c5c-0000-4000-9000-000000000001"
#define SVC_UPN "ssrp-svc@" DOMAIN
#define USER_ID_FMT "5c5c5c5c-0000-4000-8000-%012d"
#define DEVICE_OID_FMT "5d5d5d5d-0000-4000-8000-%012d"
#define DEVICE_ID_FMT "5e5e5e5e-0000-4000-8000-%012d"
#define SKU_AAD_P1 "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
#define PLAN_AAD_P1 "41781fb2-bc02-4b7c-bd55-b576c07bb09d"
/* Devices [0, PRE_ONE) start with their first user as owner, devices
 * [PRE_ONE, PRE_BOTH) with both: "already" decisions from the first run. */
#define PRE_ONE 10
#define PRE_BOTH 15
#define OWNERS_TO_ADD (N_DEVICES * USERS_PER_DEVICE - PRE_ONE - 2 * (PRE_BOTH - PRE_ONE))

/* About 30% of the requests of each service get a fault: the rules are
 * tried in order, each with its own seeded PRNG, and the first that fires
 * decides (1 - 0.94*0.95*0.96*0.97*0.97*0.95*0.95 = 0.29 for Graph). */
#define FAULTS                                                                           \
	"graph/*:429:1@rate=0.06,seed=11;graph/*:503:1@rate=0.05,seed=12;"                   \
	"graph/*:500@rate=0.04,seed=13;graph/*:502@rate=0.03,seed=14;"                       \
	"graph/*:504@rate=0.03,seed=15;graph/*:reset@rate=0.05,seed=16;"                     \
	"graph/*:truncate@rate=0.05,seed=17;"                                                \
	"login/*:429:1@rate=0.07,seed=21;login/*:503@rate=0.07,seed=22;"                     \
	"login/*:500@rate=0.06,seed=23;login/*:reset@rate=0.06,seed=24;"                     \
	"login/*:truncate@rate=0.07,seed=25"

static const char *ssrp_bin;
static char work[256], sim_dir[400], config_path[400], input_path[400], audit_path[400];
static char rt_path[400], ca[600], log_path[600], admin_file[600], sim_config[600];
static int port, sim_started;
static char app_secret[49], svc_password[49];
/* every refresh token the service account's file held */
static char *refresh_tokens[MAX_RUNS + 2];
static int n_refresh_tokens;

/* ---- helpers ---------------------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	size_t got = s ? fread(s, 1, (size_t)n, f) : 0;
	fclose(f);
	if (s)
		s[got] = '\0';
	return s;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];
	assert_true(bytes <= sizeof raw && RAND_bytes(raw, (int)bytes) == 1);
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Run argv with stdout and stderr into files; the exit status. */
static int run(char *const argv[], const char *out_path, const char *err_path)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int env_value(const char *text, const char *name, char *out, size_t cap)
{
	char key[64];
	snprintf(key, sizeof key, "%s='", name);
	const char *p = strstr(text, key);
	if (!p)
		return -1;
	p += strlen(key);
	size_t n = strcspn(p, "'");
	if (n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

typedef struct membuf {
	char *p;
	size_t len;
} membuf;

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	membuf *b = cls;
	size_t add = size * n;
	char *q = realloc(b->p, b->len + add + 1);
	if (!q)
		return 0;
	memcpy(q + b->len, p, add);
	b->p = q;
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

/* A request to the simulator by a real host name; the HTTP status. */
static long sim_curl(const char *host, const char *url, const char *post, const char *bearer,
		     membuf *out)
{
	char connect[300], auth[300];
	snprintf(connect, sizeof connect, "%s:443:127.0.0.1:%d", host, port);
	struct curl_slist *ct = curl_slist_append(NULL, connect), *h = NULL;
	if (bearer) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
		h = curl_slist_append(NULL, auth);
	}
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (h)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	long status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(ct);
	curl_slist_free_all(h);
	return status;
}

static char *admin_token(void)
{
	char *t = slurp(admin_file);
	assert_non_null(t);
	t[strcspn(t, "\r\n")] = '\0';
	return t;
}

static void remember_refresh_token(void)
{
	char *t = slurp(rt_path);
	if (!t || !*t || n_refresh_tokens >= (int)(sizeof refresh_tokens / sizeof *refresh_tokens)) {
		free(t);
		return;
	}
	t[strcspn(t, "\r\n")] = '\0';
	for (int i = 0; i < n_refresh_tokens; i++)
		if (!strcmp(refresh_tokens[i], t)) {
			free(t);
			return;
		}
	refresh_tokens[n_refresh_tokens++] = t;
}

/* ---- the tenant and the files ------------------------------------------------- */

static void user_name(int device, int j, char *out, size_t cap)
{
	int k = device * USERS_PER_DEVICE + j;
	if (j % 2 == 0)
		snprintf(out, cap, "user%d@" DOMAIN, k);
	else
		snprintf(out, cap, "CONTOSO\\\\user%d", k); /* as a JSON string */
}

static void write_tenant(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	char app_hex[65], svc_hex[65];
	sha256_hex(app_secret, app_hex);
	sha256_hex(svc_password, svc_hex);
	fprintf(f, "{\"tenant\":{\"id\":\"" TENANT_ID "\",\"domain\":\"" DOMAIN "\"},\n"
		   "\"skus\":[{\"skuId\":\"" SKU_AAD_P1 "\",\"skuPartNumber\":\"AAD_PREMIUM\","
		   "\"servicePlans\":[{\"servicePlanId\":\"" PLAN_AAD_P1
		   "\",\"servicePlanName\":\"AAD_PREMIUM\"}]}],\n");
	fprintf(f, "\"apps\":[{\"appId\":\"" APP_ID "\",\"displayName\":\"ssrp association\","
		   "\"secretSha256\":\"%s\",\"roles\":[\"User.Read.All\",\"Device.Read.All\",\"LicenseAssignment.Read.All\"]},"
		   "{\"appId\":\"" PUBLIC_ID "\",\"displayName\":\"ssrp public client\","
		   "\"publicClient\":true}],\n",
		app_hex);
	fprintf(f, "\"users\":[{\"id\":\"" SVC_ID "\",\"userPrincipalName\":\"" SVC_UPN "\","
		   "\"displayName\":\"ssrp service\",\"passwordSha256\":\"%s\","
		   "\"roles\":[\"Intune Administrator\",\"License Administrator\"]}\n",
		svc_hex);
	for (int k = 0; k < N_DEVICES * USERS_PER_DEVICE; k++)
		fprintf(f,
			",{\"id\":\"" USER_ID_FMT "\",\"userPrincipalName\":\"user%d@" DOMAIN "\","
			"\"displayName\":\"User %d\",\"onPremisesSamAccountName\":\"user%d\","
			"\"onPremisesDomainName\":\"corp.contoso.example\",\"usageLocation\":\"US\","
			"\"assignedLicenses\":[\"" SKU_AAD_P1 "\"]}\n",
			k, k, k, k);
	fprintf(f, "],\n\"devices\":[\n");
	for (int i = 0; i < N_DEVICES; i++) {
		char owners[200] = "";
		if (i < PRE_ONE)
			snprintf(owners, sizeof owners, ",\"registeredOwners\":[\"" USER_ID_FMT "\"]",
				 2 * i);
		else if (i < PRE_BOTH)
			snprintf(owners, sizeof owners,
				 ",\"registeredOwners\":[\"" USER_ID_FMT "\",\"" USER_ID_FMT "\"]", 2 * i,
				 2 * i + 1);
		fprintf(f,
			"%s{\"id\":\"" DEVICE_OID_FMT "\",\"deviceId\":\"" DEVICE_ID_FMT "\","
			"\"displayName\":\"PC-%04d\",\"accountEnabled\":true%s}\n",
			i ? "," : "", i, i, i, owners);
	}
	fprintf(f, "]}\n");
	assert_int_equal(fclose(f), 0);
}

static void write_input(void)
{
	FILE *f = fopen(input_path, "w");
	assert_non_null(f);
	for (int i = 0; i < N_DEVICES; i++) {
		char u0[64], u1[64];
		user_name(i, 0, u0, sizeof u0);
		user_name(i, 1, u1, sizeof u1);
		fprintf(f, "{\"deviceId\":\"" DEVICE_ID_FMT "\",\"users\":[\"%s\",\"%s\"]}\n", i, u0,
			u1);
	}
	assert_int_equal(fclose(f), 0);
}

/* The service account's refresh token by the password grant (before any
 * fault is switched on). */
static void get_refresh_token(void)
{
	CURL *esc = curl_easy_init();
	char *pw = curl_easy_escape(esc, svc_password, 0);
	char *scope = curl_easy_escape(esc, "https://graph.microsoft.com/.default offline_access", 0);
	char body[1024];
	snprintf(body, sizeof body,
		 "grant_type=password&client_id=" PUBLIC_ID "&username=ssrp-svc%%40" DOMAIN
		 "&password=%s&scope=%s",
		 pw, scope);
	curl_free(pw);
	curl_free(scope);
	curl_easy_cleanup(esc);
	membuf b = {0};
	long st = sim_curl("login.microsoftonline.com",
			   "https://login.microsoftonline.com/" TENANT_ID "/oauth2/v2.0/token", body,
			   NULL, &b);
	assert_int_equal(st, 200);
	cJSON *j = cJSON_Parse(b.p);
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
	assert_true(cJSON_IsString(rt));
	write_file(rt_path, rt->valuestring, 0600);
	cJSON_Delete(j);
	free(b.p);
	remember_refresh_token();
}

static void write_config(void)
{
	char *text = slurp(sim_config);
	assert_non_null(text);
	cJSON *cfg = cJSON_Parse(text);
	free(text);
	assert_non_null(cfg);
	char p[600];
	static const char *const replaced[] = {"app_id", "app_secret_file", "public_client_id",
					       "refresh_token_file", "assoc"};
	for (size_t i = 0; i < sizeof replaced / sizeof *replaced; i++)
		cJSON_DeleteItemFromObject(cfg, replaced[i]);
	cJSON_AddStringToObject(cfg, "app_id", APP_ID);
	snprintf(p, sizeof p, "%s/app-secret", work);
	cJSON_AddStringToObject(cfg, "app_secret_file", p);
	cJSON_AddStringToObject(cfg, "public_client_id", PUBLIC_ID);
	cJSON_AddStringToObject(cfg, "refresh_token_file", rt_path);
	cJSON *a = cJSON_AddObjectToObject(cfg, "assoc");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "domains"), "CONTOSO", DOMAIN);
	cJSON_AddStringToObject(a, "licence", "check");
	cJSON_AddStringToObject(a, "audit", audit_path);
	char *out = cJSON_Print(cfg);
	cJSON_Delete(cfg);
	assert_non_null(out);
	write_file(config_path, out, 0644);
	free(out);
}

/* ---- fixture ---------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(work, sizeof work, "%s/ssrp-assoc-soak.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(work))
		return -1;
	snprintf(sim_dir, sizeof sim_dir, "%s/cloud", work);
	snprintf(config_path, sizeof config_path, "%s/config.json", work);
	snprintf(input_path, sizeof input_path, "%s/devices.jsonl", work);
	snprintf(audit_path, sizeof audit_path, "%s/audit.jsonl", work);
	snprintf(rt_path, sizeof rt_path, "%s/service-refresh-token", work);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (sim_started) {
		char *argv[] = {(char *)ssrp_bin, "cloud", "stop", "--dir", sim_dir, NULL};
		run(argv, NULL, NULL);
		sim_started = 0;
	}
	for (int i = 0; i < n_refresh_tokens; i++)
		free(refresh_tokens[i]);
	curl_global_cleanup();
	if (getenv("SSRP_TEST_KEEP")) {
		fprintf(stderr, "files kept in %s\n", work);
	} else if (work[0]) {
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", work);
	}
	return 0;
}

static void start_sim(void)
{
	char tenant[400], out[400], err[400];
	snprintf(tenant, sizeof tenant, "%s/tenant.json", work);
	snprintf(out, sizeof out, "%s/sim-start.out", work);
	snprintf(err, sizeof err, "%s/sim-start.err", work);
	write_tenant(tenant);
	char *argv[] = {(char *)ssrp_bin, "cloud", "start", "--dir", sim_dir,
			"--state", tenant, "--device-certs", "0", NULL};
	int rc = run(argv, out, err);
	if (rc != 0) {
		char *e = slurp(err);
		fprintf(stderr, "ssrp sim cloud start: %s\n", e ? e : "?");
		free(e);
	}
	assert_int_equal(rc, 0);
	sim_started = 1;
	char envp[500], v[32];
	snprintf(envp, sizeof envp, "%s/cloud.env", sim_dir);
	char *env = slurp(envp);
	assert_non_null(env);
	assert_int_equal(env_value(env, "SSRP_SIM_PORT", v, sizeof v), 0);
	port = atoi(v);
	assert_int_equal(env_value(env, "SSRP_SIM_CA", ca, sizeof ca), 0);
	assert_int_equal(env_value(env, "SSRP_SIM_LOG", log_path, sizeof log_path), 0);
	assert_int_equal(env_value(env, "SSRP_SIM_ADMIN_TOKEN_FILE", admin_file, sizeof admin_file),
			 0);
	assert_int_equal(env_value(env, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config), 0);
	free(env);
}

static void set_faults(const char *script)
{
	char *t = admin_token();
	membuf b = {0};
	long st = sim_curl("graph.microsoft.com", "https://graph.microsoft.com/admin/faults", script, t,
			   &b);
	if (st != 200 && st != 204)
		fprintf(stderr, "POST /admin/faults: %ld %s\n", st, b.p ? b.p : "");
	assert_true(st == 200 || st == 204);
	free(b.p);
	free(t);
}

/* ---- the checks ---------------------------------------------------------------- */

typedef struct summary {
	long devices, decisions, added, already, unknown_user, unknown_device, failed;
	int exit_status;
} summary;

static long num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static void run_batch(int n, summary *s)
{
	char out[400], err[400];
	snprintf(out, sizeof out, "%s/run-%d.out", work, n);
	snprintf(err, sizeof err, "%s/run-%d.err", work, n);
	char *argv[] = {(char *)ssrp_bin, "assoc", "batch", "--config", config_path, "--in",
			input_path, "--summary-json", NULL};
	memset(s, 0, sizeof *s);
	s->exit_status = run(argv, out, err);
	char *text = slurp(out);
	char *line = NULL;
	for (char *p = text ? strtok(text, "\n") : NULL; p; p = strtok(NULL, "\n"))
		line = p;
	cJSON *j = line ? cJSON_Parse(line) : NULL;
	if (!j) {
		char *e = slurp(err);
		fprintf(stderr, "run %d (exit %d) printed no summary; stderr:\n%.3000s\n", n,
			s->exit_status, e ? e : "");
		free(e);
	}
	assert_non_null(j);
	s->devices = num(j, "devices");
	s->decisions = num(j, "decisions");
	s->added = num(j, "added");
	s->already = num(j, "already");
	s->unknown_user = num(j, "unknown_user");
	s->unknown_device = num(j, "unknown_device");
	s->failed = num(j, "failed");
	fprintf(stderr,
		"run %d: exit %d, %ld devices, %ld decisions: %ld added, %ld already, %ld failed\n",
		n, s->exit_status, s->devices, s->decisions, s->added, s->already, s->failed);
	cJSON_Delete(j);
	free(text);
	remember_refresh_token();
}

static long trailing_index(const char *guid)
{
	return strlen(guid) == 36 ? strtol(guid + 24, NULL, 10) : -1;
}

static void check_owners(void)
{
	char *t = admin_token();
	membuf b = {0};
	long st = sim_curl("graph.microsoft.com", "https://graph.microsoft.com/admin/state", NULL, t,
			   &b);
	free(t);
	assert_int_equal(st, 200);
	cJSON *j = cJSON_Parse(b.p);
	free(b.p);
	assert_non_null(j);
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(j, "devices"), *d;
	int seen = 0, wrong = 0;
	cJSON_ArrayForEach(d, devs)
	{
		const cJSON *did = cJSON_GetObjectItemCaseSensitive(d, "deviceId");
		long i = cJSON_IsString(did) ? trailing_index(did->valuestring) : -1;
		assert_true(i >= 0 && i < N_DEVICES);
		seen++;
		const cJSON *owners = cJSON_GetObjectItemCaseSensitive(d, "registeredOwners"), *o;
		int have[USERS_PER_DEVICE] = {0}, n = 0, stray = 0;
		cJSON_ArrayForEach(o, owners)
		{
			n++;
			long k = cJSON_IsString(o) ? trailing_index(o->valuestring) : -1;
			if (k >= i * USERS_PER_DEVICE && k < (i + 1) * USERS_PER_DEVICE)
				have[k - i * USERS_PER_DEVICE]++;
			else
				stray++;
		}
		if (n != USERS_PER_DEVICE || stray || have[0] != 1 || have[1] != 1) {
			if (wrong++ < 5)
				fprintf(stderr,
					"device %ld: %d owners (%d of user A, %d of user B, %d others)\n",
					i, n, have[0], have[1], stray);
		}
	}
	cJSON_Delete(j);
	assert_int_equal(seen, N_DEVICES);
	assert_int_equal(wrong, 0);
}

/* Audit lines in bytes [from, to): decisions by outcome. */
static void audit_outcomes(long from, long to, long *added, long *already, long *failed,
			   long *other)
{
	*added = *already = *failed = *other = 0;
	char *text = slurp(audit_path);
	assert_non_null(text);
	assert_true(from <= to && (size_t)to <= strlen(text));
	text[to] = '\0';
	for (char *p = strtok(text + from, "\n"); p; p = strtok(NULL, "\n")) {
		cJSON *j = cJSON_Parse(p);
		assert_non_null(j);
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "event");
		const cJSON *oc = cJSON_GetObjectItemCaseSensitive(j, "outcome");
		if (cJSON_IsString(ev) && !strcmp(ev->valuestring, "decision")) {
			const char *o = cJSON_IsString(oc) ? oc->valuestring : "";
			if (!strcmp(o, "added"))
				(*added)++;
			else if (!strcmp(o, "already"))
				(*already)++;
			else if (!strcmp(o, "failed"))
				(*failed)++;
			else {
				fprintf(stderr, "audit: unexpected decision: %s\n", p);
				(*other)++;
			}
		}
		cJSON_Delete(j);
	}
	free(text);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The request log: requests, injected faults (not counting latency),
 * early retries. */
static void log_counts(long *requests, long *faults, long *early)
{
	*requests = *faults = *early = 0;
	char *text = slurp(log_path);
	assert_non_null(text);
	for (char *p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) {
		if (strstr(p, "\"path\":\"/admin/"))
			continue;
		(*requests)++;
		if (strstr(p, "\"fault\":\""))
			(*faults)++;
		if (strstr(p, "\"early_retry\":true")) {
			if (*early < 5)
				fprintf(stderr, "early retry: %s\n", p);
			(*early)++;
		}
	}
	free(text);
}

/* Fail when needle is in the file; name says which secret. */
static int leaks(const char *path, const char *needle, const char *name)
{
	char *text = slurp(path);
	if (!text)
		return 0;
	int found = needle[0] && strstr(text, needle) != NULL;
	if (found)
		fprintf(stderr, "%s appears in %s\n", name, path);
	free(text);
	return found;
}

/* ---- the test ---------------------------------------------------------------------- */

static void test_soak(void **state)
{
	(void)state;
	char path[500];
	random_hex(app_secret, 24);
	random_hex(svc_password, 24);
	snprintf(path, sizeof path, "%s/app-secret", work);
	write_file(path, app_secret, 0600);
	snprintf(path, sizeof path, "%s/service-password", work);
	write_file(path, svc_password, 0600);
	start_sim();
	get_refresh_token();
	write_config();
	write_input();
	/* SSRP_SOAK_FAULTS replaces the script (to explore other seeds) */
	const char *script = getenv("SSRP_SOAK_FAULTS");
	set_faults(script && *script ? script : FAULTS);

	summary s[MAX_RUNS];
	long audit_at[MAX_RUNS + 1];
	int runs = 0;
	long added_total = 0;
	do {
		audit_at[runs] = file_size(audit_path);
		run_batch(runs + 1, &s[runs]);
		added_total += s[runs].added;
		runs++;
	} while (s[runs - 1].failed != 0 && runs < MAX_RUNS);
	audit_at[runs] = file_size(audit_path);
	set_faults("");

	/* every run decided every user, as added or already (or failed, but
	 * not in the last run); the audit file says the same */
	for (int r = 0; r < runs; r++) {
		assert_int_equal(s[r].devices, N_DEVICES);
		assert_int_equal(s[r].decisions, N_DEVICES * USERS_PER_DEVICE);
		assert_int_equal(s[r].unknown_user, 0);
		assert_int_equal(s[r].unknown_device, 0);
		assert_int_equal(s[r].added + s[r].already + s[r].failed, s[r].decisions);
		long a, al, f, other;
		audit_outcomes(audit_at[r], audit_at[r + 1], &a, &al, &f, &other);
		assert_int_equal(other, 0);
		assert_int_equal(a, s[r].added);
		assert_int_equal(al, s[r].already);
		assert_int_equal(f, s[r].failed);
	}
	assert_int_equal(s[runs - 1].failed, 0);
	assert_int_equal(s[runs - 1].exit_status, 0);
	/* the pre-registered owners were seen as such, and nothing was added
	 * twice (an add whose answer was lost reads "already" on the retry) */
	assert_true(s[0].already >= PRE_ONE + 2 * (PRE_BOTH - PRE_ONE));
	assert_true(added_total <= OWNERS_TO_ADD);
	assert_true(added_total > 0);

	check_owners();

	long requests, faults, early;
	log_counts(&requests, &faults, &early);
	fprintf(stderr, "%d run(s); request log: %ld requests, %ld faulted, %ld early retries\n",
		runs, requests, faults, early);
	assert_true(faults * 10 >= requests); /* at least 10% did get a fault */
	assert_int_equal(early, 0);

	/* no secret in anything the runs left */
	const char *files[2 * MAX_RUNS + 4];
	static char names[2 * MAX_RUNS + 2][500];
	int nf = 0;
	for (int r = 0; r < runs; r++) {
		snprintf(names[2 * r], sizeof names[0], "%s/run-%d.out", work, r + 1);
		snprintf(names[2 * r + 1], sizeof names[0], "%s/run-%d.err", work, r + 1);
		files[nf++] = names[2 * r];
		files[nf++] = names[2 * r + 1];
	}
	snprintf(names[2 * runs], sizeof names[0], "%s/sim-start.out", work);
	snprintf(names[2 * runs + 1], sizeof names[0], "%s/sim-start.err", work);
	files[nf++] = names[2 * runs];
	files[nf++] = names[2 * runs + 1];
	files[nf++] = audit_path;
	files[nf++] = log_path;
	int leaked = 0;
	for (int i = 0; i < nf; i++) {
		leaked += leaks(files[i], app_secret, "the app secret");
		leaked += leaks(files[i], svc_password, "the service account's password");
		leaked += leaks(files[i], "eyJ", "a JWT (eyJ...)");
		for (int k = 0; k < n_refresh_tokens; k++)
			leaked += leaks(files[i], refresh_tokens[k], "a refresh token");
	}
	assert_int_equal(leaked, 0);
	assert_true(n_refresh_tokens >= 1);
}

int main(int argc, char **argv)
{
	ssrp_bin = argc > 1 ? argv[1] : getenv("SSRP_BIN");
	if (!ssrp_bin) {
		fprintf(stderr, "usage: test_assoc_soak SSRP_BINARY (or SSRP_BIN=...)\n");
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_soak, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
