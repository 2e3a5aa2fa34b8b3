/* `ssrp assoc serve` (tools/assoc_server.c) and the device's client
 * (escrow/assoc_client.c) against the simulated cloud's demo tenant: the
 * simulator and the service both run as the real `ssrp` command ($SSRP_BIN),
 * over HTTPS with real certificates (the simulator's device certificate
 * for the demo device; more minted here from the simulator's
 * MS-Organization-Access intermediate, and some deliberately wrong ones).
 *
 * Covered: /healthz without a certificate; 404/405; no client certificate
 * → 401 and a "refused" audit line (requester "anonymous"); a self-made
 * "MS-Organization-Access" CA and a certificate issued straight by the
 * simulator's root → 401; malformed body → 400 naming the member; > 64 KiB
 * → 413; another device asking about the demo device → 403 OtherDevice, an
 * audit line naming both, the demo device's owners unchanged; the client
 * function associating alice (CONTOSO\alice) and bob as owners, seen in
 * /admin/state and the audit; two devices at once; the client's refusal
 * message; the webhook client against the simulator's webhook (the job
 * receives the body) and with a wrong token (refused, token not in the
 * message); SIGTERM with a request in flight (answered, exit 0).
 *
 * The limits (assoc.serve, small here so the test is quick): 1100 idle TCP
 * connections from one address do not keep a device waiting; a connection
 * trickling bytes is cut at the handshake deadline; with the connections
 * not kept in reserve all taken, the oldest anonymous ones are shed for
 * new ones; a client without a certificate gets 401 before its 20 MB body
 * is read; refusals from one address are one audit line per interval with
 * a count. One device's abandoned requests are dropped and do not hold up
 * another device; identical requests of a device share one decision, a
 * different one meanwhile gets 429. Invalid UTF-8 and \u0000 get 400 with
 * the reason; every audit line is valid UTF-8 (iconv) and JSON throughout. */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <valgrind/valgrind.h>

#include "escrow/assoc_client.h"
#include "escrow/config.h"
#include "hal/http.h"
#include "ssrp/error.h"
#include "tests/integration/sim_helpers.h"

extern char **environ;

#define OTHER_DEVICE "0c0c0c0c-1111-4222-8333-444444444444"
#define ASSOC_HOST "ssrp-assoc.contoso.example"
/* assoc.serve for this test: small, so that each limit is reached quickly.
 * The handshake deadline is longer under memcheck, where this process's own
 * TLS handshakes (libcurl, OpenSSL) take seconds on a loaded machine. */
static unsigned handshake_s = 2;
#define PER_ADDRESS 8
#define MAX_CONNECTIONS 64
#define RESERVE 16
#define SERVE_LIMITS_FMT                                                                   \
	"{\"handshake_timeout_s\":%u,\"per_address\":8,\"max_connections\":64,"               \
	"\"reserve\":16,\"refusal_log_interval_s\":1,\"batch_wait_ms\":50}"

static const char *ssrp_bin;
static char work[256], dir[512], sim_config[700], admin_token[128];
static char demo_id[64], demo_cert[700], demo_key[700], ca_file[700], audit_path[700];
static char other_cert[700], other_key[700], selfca_cert[700], selfca_key[700];
static char rootca_cert[700], rootca_key[700], webhook_url_file[700];
static char serve_config[700], client_config[700], other_config[700], port_file[700];
static char serve_log[700];
static int port;
static pid_t server_pid = -1;
static char connect_to_assoc[200];

/* ---- certificates ------------------------------------------------------------ */

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* A client certificate CN=cn issued by issuer/issuer_key (NULL: a CA named
 * "MS-Organization-Access" made here and now, i.e. not the real one). */
static void mint(const char *cert_path, const char *key_path, const char *cn, X509 *issuer,
		 EVP_PKEY *issuer_key)
{
	EVP_PKEY *fake_key = NULL;
	X509 *fake = NULL;
	if (!issuer) {
		fake_key = EVP_EC_gen("P-256");
		fake = X509_new();
		ASN1_INTEGER_set(X509_get_serialNumber(fake), 99);
		X509_gmtime_adj(X509_getm_notBefore(fake), -60);
		X509_gmtime_adj(X509_getm_notAfter(fake), 86400);
		X509_set_pubkey(fake, fake_key);
		X509_NAME *n = X509_get_subject_name(fake);
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					   (const unsigned char *)"MS-Organization-Access", -1, -1, 0);
		X509_set_issuer_name(fake, n);
		assert_true(X509_sign(fake, fake_key, EVP_sha256()) > 0);
		issuer = fake;
		issuer_key = fake_key;
	}
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "clientAuth");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	FILE *f = fopen(cert_path, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	PEM_write_X509(f, issuer);
	fclose(f);
	f = fopen(key_path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(key_path, 0600);
	X509_free(x);
	EVP_PKEY_free(k);
	X509_free(fake);
	EVP_PKEY_free(fake_key);
}

/* ---- configs --------------------------------------------------------------------- */

/* The simulator's config.json, with changes. */
static void write_config(const char *path, const char *cert, const char *key,
			 const char *device_id, const char *webhook_file)
{
	char *text = sim_read_text(sim_config);
	assert_non_null(text);
	cJSON *c = cJSON_Parse(text);
	free(text);
	assert_non_null(c);
	cJSON *ct = cJSON_GetObjectItemCaseSensitive(c, "connect_to");
	/* The simulator reserves a port for a service started with its own
	 * config; this test's service listens elsewhere, so its entry goes. */
	for (int i = cJSON_GetArraySize(ct) - 1; i >= 0; i--) {
		const cJSON *e = cJSON_GetArrayItem(ct, i);
		if (cJSON_IsString(e) && !strncmp(e->valuestring, ASSOC_HOST ":", strlen(ASSOC_HOST ":")))
			cJSON_DeleteItemFromArray(ct, i);
	}
	if (port)
		cJSON_AddItemToArray(ct, cJSON_CreateString(connect_to_assoc));
	cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "assoc");
	assert_non_null(a);
	cJSON_DeleteItemFromObject(a, "url");
	cJSON_AddStringToObject(a, "url", "https://" ASSOC_HOST "/");
	if (cert) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "device");
		cJSON_ReplaceItemInObject(d, "cert_file", cJSON_CreateString(cert));
		cJSON_ReplaceItemInObject(d, "key_file", cJSON_CreateString(key));
		cJSON_ReplaceItemInObject(d, "device_id", cJSON_CreateString(device_id));
	}
	if (webhook_file)
		cJSON_ReplaceItemInObject(c, "webhook_url_file", cJSON_CreateString(webhook_file));
	text = cJSON_Print(c);
	cJSON_Delete(c);
	sim_write_text(path, text, 0600);
	free(text);
}

/* A device as the client calls take it: its id, name and certificate. */
static void identity_of(ssrp_device_identity *id, const char *device_id, const char *name,
			const char *cert, const char *key)
{
	*id = (ssrp_device_identity)SSRP_DEVICE_IDENTITY_INIT;
	id->join = SSRP_JOIN_AZUREAD;
	snprintf(id->device_id, sizeof id->device_id, "%s", device_id);
	snprintf(id->display_name, sizeof id->display_name, "%s", name ? name : "");
	snprintf(id->cert, sizeof id->cert, "%s", cert ? cert : "");
	snprintf(id->key, sizeof id->key, "%s", key ? key : "");
}

/* ---- the server ------------------------------------------------------------------- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int start_server(void)
{
	unlink(port_file);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, serve_log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	const char *assocd = getenv("SSRP_ASSOCD_BIN");
	if (!assocd) {
		fprintf(stderr, "SSRP_ASSOCD_BIN must name the ssrp-assocd command\n");
		return -1;
	}
	char *argv[] = {(char *)assocd, "--config", serve_config,
			"--listen", "127.0.0.1:0", "--port-file", port_file, "--workers", "3",
			NULL};
	int e = posix_spawn(&server_pid, assocd, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e)
		return -1;
	for (int i = 0; i < 3000; i++) {
		char *t = sim_read_text(port_file);
		if (t) {
			port = atoi(t);
			free(t);
			if (port > 0)
				return 0;
		}
		int st;
		if (waitpid(server_pid, &st, WNOHANG) == server_pid) {
			server_pid = -1;
			char *log = sim_read_text(serve_log);
			fprintf(stderr, "ssrp-assocd exited early:\n%s\n", log ? log : "");
			free(log);
			return -1;
		}
		sleep_ms(10);
	}
	return -1;
}

/* SIGTERM and the exit status (-1 if it did not exit within 60 s). */
static int stop_server(void)
{
	if (server_pid <= 0)
		return -1;
	kill(server_pid, SIGTERM);
	int st = 0;
	for (int i = 0; i < 6000; i++) {
		pid_t p = waitpid(server_pid, &st, WNOHANG);
		if (p == server_pid) {
			server_pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		sleep_ms(10);
	}
	kill(server_pid, SIGKILL);
	waitpid(server_pid, &st, 0);
	server_pid = -1;
	return -1;
}

static int setup(void **st)
{
	(void)st;
	ssrp_bin = sim_bin();
	if (!ssrp_bin || sim_make_work(work, sizeof work, "ssrp-assoc-serve"))
		return -1;
	snprintf(dir, sizeof dir, "%s/cloud", work);
	char job[700];
	snprintf(job, sizeof job, "%s/job.sh", work);
	/* The runbook: print the WebhookData it was given. */
	sim_write_text(job, "#!/bin/sh\ncat\n", 0700);
	const char *args[] = {"--job-command", job, NULL};
	char *env;
	if (sim_cloud_start(ssrp_bin, dir, args, &env))
		return -1;
	if (!env || sim_env_value(env, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config) ||
	    sim_admin_token(env, admin_token, sizeof admin_token) ||
	    sim_env_value(env, "SSRP_SIM_DEVICE_ID", demo_id, sizeof demo_id) ||
	    sim_env_value(env, "SSRP_SIM_DEVICE_CERT", demo_cert, sizeof demo_cert) ||
	    sim_env_value(env, "SSRP_SIM_DEVICE_KEY", demo_key, sizeof demo_key) ||
	    sim_env_value(env, "SSRP_SIM_CA", ca_file, sizeof ca_file) ||
	    sim_env_value(env, "SSRP_SIM_WEBHOOK_URL_FILE", webhook_url_file,
			  sizeof webhook_url_file)) {
		free(env);
		return -1;
	}
	free(env);

	/* Another device's certificate from the real intermediate; wrong ones. */
	char msorg[700], msorg_key[700], root[700], root_key[700];
	snprintf(msorg, sizeof msorg, "%s/msorg-ca.pem", dir);
	snprintf(msorg_key, sizeof msorg_key, "%s/msorg-ca.key", dir);
	snprintf(root, sizeof root, "%s/ca.pem", dir);
	snprintf(root_key, sizeof root_key, "%s/ca.key", dir);
	snprintf(other_cert, sizeof other_cert, "%s/other.pem", work);
	snprintf(other_key, sizeof other_key, "%s/other.key", work);
	snprintf(selfca_cert, sizeof selfca_cert, "%s/selfca.pem", work);
	snprintf(selfca_key, sizeof selfca_key, "%s/selfca.key", work);
	snprintf(rootca_cert, sizeof rootca_cert, "%s/rootca.pem", work);
	snprintf(rootca_key, sizeof rootca_key, "%s/rootca.key", work);
	X509 *mx = load_cert(msorg), *rx = load_cert(root);
	EVP_PKEY *mk = load_key(msorg_key), *rk = load_key(root_key);
	mint(other_cert, other_key, OTHER_DEVICE, mx, mk);
	mint(selfca_cert, selfca_key, demo_id, NULL, NULL);
	mint(rootca_cert, rootca_key, demo_id, rx, rk);
	X509_free(mx);
	X509_free(rx);
	EVP_PKEY_free(mk);
	EVP_PKEY_free(rk);

	snprintf(serve_config, sizeof serve_config, "%s/serve.json", work);
	snprintf(port_file, sizeof port_file, "%s/port", work);
	snprintf(serve_log, sizeof serve_log, "%s/serve.log", work);
	write_config(serve_config, NULL, NULL, NULL, NULL);
	/* The audit file the simulator's config names; small limits. */
	char *t = sim_read_text(serve_config);
	cJSON *c = cJSON_Parse(t);
	free(t);
	char limits_text[200];
	snprintf(limits_text, sizeof limits_text, SERVE_LIMITS_FMT, handshake_s);
	cJSON *limits = cJSON_Parse(limits_text);
	cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(c, "assoc"), "serve", limits);
	t = cJSON_Print(c);
	sim_write_text(serve_config, t, 0600);
	free(t);
	const cJSON *au = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(c, "assoc"), "audit");
	if (!cJSON_IsString(au)) {
		cJSON_Delete(c);
		return -1;
	}
	snprintf(audit_path, sizeof audit_path, "%s", au->valuestring);
	cJSON_Delete(c);
	if (start_server() != 0)
		return -1;
	snprintf(connect_to_assoc, sizeof connect_to_assoc, ASSOC_HOST ":443:127.0.0.1:%d", port);
	snprintf(client_config, sizeof client_config, "%s/client.json", work);
	snprintf(other_config, sizeof other_config, "%s/other.json", work);
	write_config(client_config, NULL, NULL, NULL, NULL);
	write_config(other_config, other_cert, other_key, OTHER_DEVICE, NULL);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	if (server_pid > 0)
		stop_server();
	const char *args[] = {"cloud", "stop", "--dir", dir, NULL};
	sim_run(ssrp_bin, args);
	sim_remove_work(work);
	return 0;
}

/* ---- requests ------------------------------------------------------------------ */

/* One request to the service at 127.0.0.1:port (its certificate names that
 * address too), with a client certificate or none. */
static long call(const char *method, const char *path, const char *cert, const char *key,
		 const char *body, size_t body_len, char **resp_body)
{
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = ca_file, .cert_file = cert, .key_file = key};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char url[200];
	snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
	/* A large body goes as well-behaved clients send one: after
	 * "Expect: 100-continue", so a service that refuses it before reading
	 * it (413) is heard instead of cutting the upload short (which curl
	 * reports as "Failed sending data to the peer" when it is still
	 * sending, as under memcheck). */
	const char *hdrs[] = {"Content-Type: application/json",
			      body_len > 64 * 1024 ? "Expect: 100-continue" : NULL, NULL};
	ssrp_http_req rq = {.method = method, .url = url, .headers = hdrs, .body = body,
			    .body_len = body_len};
	ssrp_http_resp r;
	if (ssrp_http_request(h, &rq, &r) != 0)
		fail_msg("%s %s: %s", method, path, ssrp_error_last());
	long st = r.status;
	if (resp_body)
		*resp_body = strdup(r.body);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	return st;
}

static long post_json(const char *cert, const char *key, const char *body, char **resp)
{
	return call("POST", "/v1/associate", cert, key, body, strlen(body), resp);
}

static char *admin_get(const char *path)
{
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, sim_config), 0);
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char auth[200], url[300];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", admin_token);
	snprintf(url, sizeof url, "https://graph.microsoft.com%s", path);
	const char *hdrs[] = {auth, NULL};
	ssrp_http_req rq = {.method = "GET", .url = url, .headers = hdrs};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), 0);
	assert_int_equal(r.status, 200);
	char *out = strdup(r.body);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	ssrp_cloud_config_free(cfg);
	return out;
}

static void set_faults(const char *spec)
{
	sim_admin_post(sim_config, admin_token, "/admin/faults", spec);
}

/* The demo device's owners as UPNs, sorted by the state's order, joined by
 * ','. */
static void demo_owners(char *out, size_t cap)
{
	char *text = admin_get("/admin/state");
	cJSON *s = cJSON_Parse(text);
	free(text);
	assert_non_null(s);
	out[0] = '\0';
	const cJSON *d, *u, *id;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(s, "devices"))
	{
		const cJSON *did = cJSON_GetObjectItemCaseSensitive(d, "deviceId");
		if (!cJSON_IsString(did) || strcmp(did->valuestring, demo_id))
			continue;
		cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(d, "registeredOwners"))
		{
			cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(s, "users"))
			{
				const cJSON *uid = cJSON_GetObjectItemCaseSensitive(u, "id");
				const cJSON *upn =
					cJSON_GetObjectItemCaseSensitive(u, "userPrincipalName");
				if (cJSON_IsString(id) && cJSON_IsString(uid) &&
				    !strcmp(uid->valuestring, id->valuestring) && cJSON_IsString(upn)) {
					size_t l = strlen(out);
					snprintf(out + l, cap - l, "%s%s", l ? "," : "",
						 upn->valuestring);
				}
			}
		}
	}
	cJSON_Delete(s);
}

/* UTF-8 by glibc's iconv: converting to UTF-32 fails on any invalid byte. */
static int valid_utf8(const char *s, size_t n)
{
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	char *in = (char *)s;
	size_t left = n;
	int ok = 1;
	while (left && ok) {
		char out[1024], *o = out;
		size_t room = sizeof out;
		if (iconv(cd, &in, &left, &o, &room) == (size_t)-1 && errno != E2BIG)
			ok = 0;
	}
	iconv_close(cd);
	return ok;
}

/* Audit lines with this event whose text holds every needle; every line
 * must be valid UTF-8 and JSON. */
static int audit_count(const char *event, const char *needle1, const char *needle2)
{
	char *text = sim_read_text(audit_path);
	if (!text)
		return 0;
	int n = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		if (!valid_utf8(l, strlen(l)))
			fail_msg("an audit line is not UTF-8: %s", l);
		cJSON *o = cJSON_Parse(l);
		if (!o)
			fail_msg("an audit line is not JSON: %s", l);
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "event");
		if (cJSON_IsString(e) && !strcmp(e->valuestring, event) &&
		    (!needle1 || strstr(l, needle1)) && (!needle2 || strstr(l, needle2)))
			n++;
		cJSON_Delete(o);
	}
	free(text);
	return n;
}

static char *request_body(const char *device_id)
{
	char *b = malloc(400);
	snprintf(b, 400,
		 "{\"deviceId\":\"%s\",\"users\":[\"CONTOSO\\\\alice\",\"bob@contoso.example\"],"
		 "\"deviceName\":\"DESKTOP-SSRP01\"}",
		 device_id);
	return b;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_healthz_and_routes(void **st)
{
	(void)st;
	char *b = NULL;
	assert_int_equal(call("GET", "/healthz", NULL, NULL, NULL, 0, &b), 200);
	assert_non_null(strstr(b, "\"status\":\"ok\""));
	free(b);
	assert_int_equal(call("GET", "/nowhere", demo_cert, demo_key, NULL, 0, NULL), 404);
	assert_int_equal(call("GET", "/v1/associate", demo_cert, demo_key, NULL, 0, NULL), 405);
	assert_int_equal(call("POST", "/healthz", NULL, NULL, "{}", 2, NULL), 405);
}

static void test_no_certificate_refused(void **st)
{
	(void)st;
	int before = audit_count("refused", "anonymous", NULL);
	char *body = request_body(demo_id), *resp = NULL;
	assert_int_equal(post_json(NULL, NULL, body, &resp), 401);
	assert_non_null(strstr(resp, "\"code\":\"Unauthorized\""));
	assert_non_null(strstr(resp, "no client certificate"));
	free(resp);
	free(body);
	assert_int_equal(audit_count("refused", "anonymous", NULL), before + 1);
	assert_int_equal(audit_count("refused", "\"address\":\"127.0.0.1\"", "\"count\":1"), 1);
}

static void test_foreign_certificates_refused(void **st)
{
	(void)st;
	char *body = request_body(demo_id), *resp = NULL;
	/* Refusals from one address are one line per interval (1 s here):
	 * each of these is the first of its interval. */
	sleep_ms(1200);
	/* A CA of our own, calling itself MS-Organization-Access. */
	assert_int_equal(post_json(selfca_cert, selfca_key, body, &resp), 401);
	assert_non_null(strstr(resp, "does not verify"));
	free(resp);
	/* Trusted root, but not the device-issuing intermediate. */
	sleep_ms(1200);
	assert_int_equal(post_json(rootca_cert, rootca_key, body, &resp), 401);
	assert_non_null(strstr(resp, "not issued by MS-Organization-Access"));
	free(resp);
	free(body);
	assert_true(audit_count("refused", "anonymous", "does not verify") >= 1);
	assert_true(audit_count("refused", "anonymous", "not issued by") >= 1);
}

static void test_malformed_and_large_bodies(void **st)
{
	(void)st;
	char *resp = NULL;
	assert_int_equal(post_json(demo_cert, demo_key, "{\"deviceId\":42,\"users\":[]}", &resp),
			 400);
	assert_non_null(strstr(resp, "BadRequest"));
	assert_non_null(strstr(resp, "deviceId"));
	free(resp);
	assert_int_equal(post_json(demo_cert, demo_key, "not json", &resp), 400);
	free(resp);
	size_t big = 70 * 1024;
	char *huge = malloc(big + 1);
	memset(huge, ' ', big);
	huge[big] = '\0';
	huge[0] = '{';
	huge[big - 1] = '}';
	assert_int_equal(call("POST", "/v1/associate", demo_cert, demo_key, huge, big, &resp), 413);
	free(resp);
	free(huge);
	assert_true(audit_count("bad-request", demo_id, NULL) >= 3);
}

static void test_other_device_refused(void **st)
{
	(void)st;
	char before[1024], after[1024];
	demo_owners(before, sizeof before);
	char *body = request_body(demo_id), *resp = NULL;
	assert_int_equal(post_json(other_cert, other_key, body, &resp), 403);
	assert_non_null(strstr(resp, "\"code\":\"OtherDevice\""));
	free(resp);
	free(body);
	assert_int_equal(audit_count("refused", OTHER_DEVICE, demo_id), 1);
	assert_int_equal(audit_count("decision", "device:" OTHER_DEVICE, NULL), 0);
	demo_owners(after, sizeof after);
	assert_string_equal(before, after);

	/* The client says so in words. */
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, other_config), 0);
	const char *users[] = {"CONTOSO\\alice"};
	ssrp_assoc_client_result r = SSRP_ASSOC_CLIENT_RESULT_INIT;
	ssrp_device_identity id;
	identity_of(&id, demo_id, NULL, other_cert, other_key);
	int rc = ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, NULL, &r);
	assert_int_equal(rc, SSRP_E_REFUSED);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.error_code, "OtherDevice");
	assert_non_null(strstr(ssrp_error_last(), "the association service refused"));
	assert_non_null(strstr(ssrp_error_last(), "OtherDevice: "));
	ssrp_assoc_client_result_free(&r);
	ssrp_cloud_config_free(cfg);
}

static void test_demo_device_associates(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, client_config), 0);
	const char *users[] = {"CONTOSO\\alice", "bob@contoso.example"};
	ssrp_assoc_client_result r = SSRP_ASSOC_CLIENT_RESULT_INIT;
	ssrp_device_identity id;
	identity_of(&id, demo_id, "DESKTOP-SSRP01", demo_cert, demo_key);
	int rc = ssrp_assoc_client_send_service(cfg, &id, users, 2, NULL, NULL, &r);
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(r.status, 200);
	assert_string_equal(r.device_id, demo_id);
	assert_int_equal(r.n_decisions, 2);
	assert_int_equal(r.n_settled, 2);
	assert_string_equal(r.decisions[0].user, "CONTOSO\\alice");
	assert_string_equal(r.decisions[0].upn, "alice@contoso.example");
	assert_string_equal(r.decisions[0].outcome, "added");
	assert_string_equal(r.decisions[0].relation, "registeredOwners");
	assert_string_equal(r.decisions[1].upn, "bob@contoso.example");
	assert_string_equal(r.decisions[1].outcome, "added");
	char summary[512];
	ssrp_assoc_client_summary(&r, summary, sizeof summary);
	assert_non_null(strstr(summary, "CONTOSO\\alice: added"));
	ssrp_assoc_client_result_free(&r);

	char owners[1024];
	demo_owners(owners, sizeof owners);
	assert_non_null(strstr(owners, "alice@contoso.example"));
	assert_non_null(strstr(owners, "bob@contoso.example"));
	char req[200];
	snprintf(req, sizeof req, "\"requester\":\"device:%s\"", demo_id);
	assert_true(audit_count("decision", req, "alice@contoso.example") >= 1);

	/* Again: nothing to do, said so. */
	id.display_name[0] = '\0';
	rc = ssrp_assoc_client_send_service(cfg, &id, users, 2, NULL, NULL, &r);
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_string_equal(r.decisions[0].outcome, "already");
	assert_string_equal(r.decisions[1].outcome, "already");
	ssrp_assoc_client_result_free(&r);
	ssrp_cloud_config_free(cfg);
}

typedef struct conc {
	const char *cert, *key, *device;
	long status;
	char *body;
} conc;

static void *conc_main(void *arg)
{
	conc *c = arg;
	char *body = request_body(c->device);
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = ca_file, .cert_file = c->cert, .key_file = c->key};
	char url[200];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/associate", port);
	ssrp_http_req rq = {.method = "POST", .url = url, .body = body, .body_len = strlen(body)};
	ssrp_http_resp r;
	if (ssrp_http_new(&h, &ho) == 0 && ssrp_http_request(h, &rq, &r) == 0) {
		c->status = r.status;
		c->body = strdup(r.body);
	}
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	free(body);
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void run_conc(conc *a, conc *b)
{
	pthread_t ta, tb;
	pthread_create(&ta, NULL, conc_main, a);
	if (b)
		pthread_create(&tb, NULL, conc_main, b);
	pthread_join(ta, NULL);
	if (b)
		pthread_join(tb, NULL);
}

static void test_two_devices_at_once(void **st)
{
	(void)st;
	/* Graph answers slowly, so that two requests decided one after the
	 * other take about twice as long as two decided side by side. */
	set_faults("graph/v1.0/$batch:latency:400");
	conc a = {demo_cert, demo_key, demo_id, 0, NULL};
	conc b = {other_cert, other_key, OTHER_DEVICE, 0, NULL};
	uint64_t t0 = now_ms();
	run_conc(&a, NULL);
	uint64_t t1 = now_ms();
	run_conc(&b, NULL);
	uint64_t t2 = now_ms();
	assert_int_equal(a.status, 200);
	assert_int_equal(b.status, 200);
	free(a.body);
	free(b.body);
	a.body = b.body = NULL;
	run_conc(&a, &b);
	uint64_t t3 = now_ms();
	set_faults("");
	uint64_t alone = (t1 - t0) + (t2 - t1), together = t3 - t2;
	print_message("one after the other %llu ms, side by side %llu ms\n",
		      (unsigned long long)alone, (unsigned long long)together);
	/* Under memcheck the client's own TLS work dominates: no timing claim. */
	if (!getenv("SSRP_UNDER_VALGRIND"))
		assert_true(together * 10 < alone * 9);
	assert_int_equal(a.status, 200);
	assert_int_equal(b.status, 200);
	assert_non_null(strstr(a.body, demo_id));
	assert_non_null(strstr(a.body, "\"outcome\":\"already\""));
	/* The other device is not in the directory: decided as such. */
	assert_non_null(strstr(b.body, OTHER_DEVICE));
	assert_non_null(strstr(b.body, "\"outcome\":\"unknown-device\""));
	free(a.body);
	free(b.body);
}


/* ---- the limits: raw clients from chosen loopback addresses ------------------ */

/* A TCP connection to the service from src (any 127.x address). */
static int tcp_from(const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, src, &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
		fail_msg("bind %s: %s", src, strerror(errno));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0)
		fail_msg("connect from %s: %s", src, strerror(errno));
	struct timeval tv = {3, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

/* 1 when the server has closed fd (end of stream or reset) within wait_ms;
 * what it sends before (a TLS alert) is read and dropped. */
static int closed_by_server(int fd, unsigned wait_ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, spent >= (long)wait_ms ? 0 : (int)(wait_ms - (unsigned)spent)) <= 0)
			return 0;
		char b[4096];
		ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 1;
	}
}

static uint64_t now_ms(void);

typedef struct tls_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
} tls_conn;

/* TLS from src, with a client certificate or none; 0 when the handshake
 * completed. */
static int tls_open(tls_conn *t, const char *src, const char *cert, const char *key)
{
	t->fd = tcp_from(src);
	t->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(t->ctx);
	if (cert) {
		assert_int_equal(SSL_CTX_use_certificate_chain_file(t->ctx, cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM), 1);
	}
	assert_int_equal(SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL), 1);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	t->ssl = SSL_new(t->ctx);
	SSL_set_fd(t->ssl, t->fd);
	return SSL_connect(t->ssl) == 1 ? 0 : -1;
}

static void tls_close(tls_conn *t)
{
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	close(t->fd);
}

static void tls_send(tls_conn *t, const char *text, size_t n)
{
	assert_int_equal(SSL_write(t->ssl, text, (int)n), (int)n);
}

/* The status of the answer, or 0 when none came within wait_ms. */
static int tls_status(tls_conn *t, unsigned wait_ms, char *out, size_t cap)
{
	size_t got = 0;
	uint64_t end = now_ms() + wait_ms;
	out[0] = '\0';
	while (got + 1 < cap && now_ms() < end) {
		struct pollfd p = {.fd = t->fd, .events = POLLIN};
		if (!SSL_pending(t->ssl) && poll(&p, 1, 100) <= 0)
			continue;
		int n = SSL_read(t->ssl, out + got, (int)(cap - 1 - got));
		if (n <= 0)
			break;
		got += (size_t)n;
		out[got] = '\0';
		if (strstr(out, "\r\n\r\n") && strstr(out, "}"))
			break;
	}
	int status = 0;
	if (sscanf(out, "HTTP/1.1 %d", &status) != 1)
		return 0;
	return status;
}

static void test_idle_connections_do_not_lock_out(void **st)
{
	(void)st;
	/* One anonymous client holds 1100 idle TCP connections (no TLS). */
	enum { IDLE = 1100 };
	static int fds[IDLE];
	for (int i = 0; i < IDLE; i++)
		fds[i] = tcp_from("127.0.0.2");
	/* A device is answered as ever. */
	uint64_t t0 = now_ms();
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = ca_file, .cert_file = demo_cert, .key_file = demo_key,
				.connect_timeout_ms = 5000, .timeout_ms = 8000};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char url[200], *body = request_body(demo_id);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/associate", port);
	ssrp_http_req rq = {.method = "POST", .url = url, .body = body, .body_len = strlen(body)};
	ssrp_http_resp r;
	int rc = ssrp_http_request(h, &rq, &r);
	uint64_t took = now_ms() - t0;
	if (rc)
		fail_msg("the device got no answer after %llu ms: %s", (unsigned long long)took,
			 ssrp_error_last());
	assert_int_equal(r.status, 200);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	free(body);
	print_message("device answered in %llu ms beside %d idle connections\n",
		      (unsigned long long)took, IDLE);
	if (!getenv("SSRP_UNDER_VALGRIND"))
		assert_true(took < 4000);
	/* All but PER_ADDRESS were refused at once; those went at the
	 * handshake deadline. */
	int closed = 0;
	for (int i = 0; i < IDLE; i++)
		closed += closed_by_server(fds[i], 0);
	print_message("%d of %d closed at once\n", closed, IDLE);
	assert_true(closed >= IDLE - PER_ADDRESS - 2);
	int later = 0;
	for (int i = 0; i < IDLE; i++) {
		later += closed_by_server(fds[i], (handshake_s + 2) * 1000);
		close(fds[i]);
	}
	assert_int_equal(later, IDLE);
	/* Refused from one address in one interval: one line at once. */
	assert_true(audit_count("refused", "\"address\":\"127.0.0.2\"", NULL) <= 3);
}

/* The CPU time (user + system) a process has used, in seconds. */
static double process_cpu_s(pid_t pid)
{
	char path[64], text[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *p = strrchr(text, ')');
	unsigned long ut = 0, stime = 0;
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
				&stime),
			 2);
	return (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void test_idle_connections_cost_nothing(void **st)
{
	(void)st;
	/* Connections that sent the start of a TLS handshake and went quiet,
	 * each address within its limit: the service waits for their bytes
	 * instead of spinning on them. */
	enum { IDLE = 40 };
	int fds[IDLE];
	char src[32];
	static const char partial[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	for (int i = 0; i < IDLE; i++) {
		snprintf(src, sizeof src, "127.0.3.%d", 1 + i / 4);
		fds[i] = tcp_from(src);
		assert_int_equal(send(fds[i], partial, sizeof partial - 1, MSG_NOSIGNAL),
				 (ssize_t)(sizeof partial - 1));
	}
	sleep_ms(200);
	double cpu0 = process_cpu_s(server_pid);
	sleep_ms(1000);
	double used = process_cpu_s(server_pid) - cpu0;
	for (int i = 0; i < IDLE; i++)
		close(fds[i]);
	print_message("the service used %.2f s of CPU in 1 s beside %d idle connections\n", used,
		      IDLE);
	assert_true(used < 0.15);
}

static void test_trickle_cut_at_handshake_deadline(void **st)
{
	(void)st;
	/* A handshake record of 512 bytes announced, then one byte of it
	 * every 300 ms: never idle, never done. */
	int fd = tcp_from("127.0.0.3");
	uint64_t t0 = now_ms();
	assert_int_equal(send(fd, "\x16\x03\x01\x02\x00", 5, MSG_NOSIGNAL), 5);
	int closed = 0;
	while (!closed && now_ms() - t0 < (handshake_s + 3) * 1000u) {
		if (send(fd, "\x01", 1, MSG_NOSIGNAL) != 1)
			closed = 1;
		else
			closed = closed_by_server(fd, 300);
	}
	uint64_t took = now_ms() - t0;
	close(fd);
	print_message("a trickling connection was cut after %llu ms\n", (unsigned long long)took);
	assert_true(closed);
	assert_true(took >= handshake_s * 1000u - 200);
}

static void test_anonymous_shed_for_devices(void **st)
{
	(void)st;
	/* max_connections - reserve anonymous connections from several
	 * addresses (each within per_address), then PER_ADDRESS more: the
	 * oldest are shed for the newcomers, at once, and a device is served. */
	enum { HELD = MAX_CONNECTIONS - RESERVE, MORE = PER_ADDRESS };
	int fds[HELD + MORE];
	char src[32];
	/* A few ms apart, so that the service's poll threads register them in
	 * the order they were opened: "oldest" is the service's order. */
	for (int i = 0; i < HELD; i++) {
		snprintf(src, sizeof src, "127.0.1.%d", 1 + i / PER_ADDRESS);
		fds[i] = tcp_from(src);
		sleep_ms(3);
	}
	sleep_ms(100);
	for (int i = 0; i < HELD; i++)
		assert_false(closed_by_server(fds[i], 0));
	for (int i = HELD; i < HELD + MORE; i++)
		fds[i] = tcp_from("127.0.1.200");
	char *body = request_body(demo_id), *resp = NULL;
	assert_int_equal(post_json(demo_cert, demo_key, body, &resp), 200);
	free(resp);
	free(body);
	/* well before the handshake deadline */
	int shed = 0, oldest_first = 1;
	for (int i = 0; i < HELD; i++) {
		int c = closed_by_server(fds[i], 0);
		shed += c;
		if (i < MORE && !c)
			oldest_first = 0;
	}
	print_message("%d of the %d oldest anonymous connections were shed\n", shed, HELD);
	assert_true(shed >= MORE);
	assert_true(oldest_first);
	for (int i = 0; i < HELD + MORE; i++)
		close(fds[i]);
}

static void test_refused_before_body_is_read(void **st)
{
	(void)st;
	static const char head[] = "POST /v1/associate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: 20000000\r\n\r\n";
	char answer[4096];
	/* No certificate: 401 with the headers alone, and the connection ends. */
	tls_conn t;
	assert_int_equal(tls_open(&t, "127.0.0.4", NULL, NULL), 0);
	tls_send(&t, head, sizeof head - 1);
	assert_int_equal(tls_status(&t, 2000, answer, sizeof answer), 401);
	assert_non_null(strstr(answer, "no client certificate"));
	assert_true(closed_by_server(t.fd, 2000));
	tls_close(&t);
	/* A device announcing 20 MB: 413 without waiting for them. */
	assert_int_equal(tls_open(&t, "127.0.0.4", demo_cert, demo_key), 0);
	tls_send(&t, head, sizeof head - 1);
	assert_int_equal(tls_status(&t, 2000, answer, sizeof answer), 413);
	tls_close(&t);
}

static void test_refusals_one_line_per_interval(void **st)
{
	(void)st;
	static const char req[] = "GET /v1/associate HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	char answer[4096];
	uint64_t t0 = now_ms();
	for (int i = 0; i < 20; i++) {
		tls_conn t;
		assert_int_equal(tls_open(&t, "127.0.0.5", NULL, NULL), 0);
		tls_send(&t, req, sizeof req - 1);
		assert_int_equal(tls_status(&t, 2000, answer, sizeof answer), 401);
		tls_close(&t);
	}
	uint64_t took = now_ms() - t0;
	sleep_ms(1500); /* the last interval is over: its count is written */
	/* Every refusal counted, in at most two lines per interval (1 s). */
	char *text = sim_read_text(audit_path);
	assert_non_null(text);
	int lines = 0;
	long counted = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strstr(l, "\"address\":\"127.0.0.5\""))
			continue;
		cJSON *o = cJSON_Parse(l);
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "count");
		assert_true(cJSON_IsNumber(c));
		counted += (long)c->valuedouble;
		lines++;
		cJSON_Delete(o);
	}
	free(text);
	print_message("20 refusals in %llu ms: %d audit lines\n", (unsigned long long)took, lines);
	assert_int_equal(counted, 20);
	assert_true(lines >= 1 && lines <= 2 * (int)(took / 1000 + 1));
	assert_true(lines < 20);
}

/* ---- the queue ------------------------------------------------------------------ */

static char *users_body(const char *device_id, const char *user)
{
	char *b = malloc(300);
	snprintf(b, 300, "{\"deviceId\":\"%s\",\"users\":[\"%s\"]}", device_id, user);
	return b;
}

static void test_abandoned_requests_dropped(void **st)
{
	(void)st;
	/* Graph answers slowly: each decision takes about 3 x 400 ms. */
	set_faults("graph/v1.0/$batch:latency:400");
	/* The other device sends 20 requests and hangs up on each at once. */
	enum { ABANDONED = 20 };
	for (int i = 0; i < ABANDONED; i++) {
		char user[64], head[256];
		snprintf(user, sizeof user, "gone%d@contoso.example", i);
		char *body = users_body(OTHER_DEVICE, user);
		int n = snprintf(head, sizeof head,
				 "POST /v1/associate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
				 strlen(body));
		tls_conn t;
		assert_int_equal(tls_open(&t, "127.0.0.6", other_cert, other_key), 0);
		tls_send(&t, head, (size_t)n);
		tls_send(&t, body, strlen(body));
		free(body);
		tls_close(&t);
	}
	sleep_ms(300);
	/* The demo device is not kept waiting behind them. */
	uint64_t t0 = now_ms();
	char *body = request_body(demo_id), *resp = NULL;
	assert_int_equal(post_json(demo_cert, demo_key, body, &resp), 200);
	uint64_t took = now_ms() - t0;
	free(resp);
	free(body);
	set_faults("");
	print_message("the demo device was answered in %llu ms\n", (unsigned long long)took);
	if (!getenv("SSRP_UNDER_VALGRIND"))
		assert_true(took < 3500);
	/* At most the first of the abandoned requests was decided. */
	sleep_ms(1500);
	int decided = audit_count("decision", "\"requester\":\"device:" OTHER_DEVICE "\"", "gone");
	print_message("%d abandoned requests were decided\n", decided);
	assert_true(decided <= 1);
}

static void test_identical_requests_share_a_decision(void **st)
{
	(void)st;
	/* Under memcheck the clients' handshakes alone take seconds. */
	unsigned slow = getenv("SSRP_UNDER_VALGRIND") ? 10 : 1;
	char faults[64];
	snprintf(faults, sizeof faults, "graph/v1.0/$batch:latency:%u", 300 * slow);
	set_faults(faults);
	char req[200];
	snprintf(req, sizeof req, "\"requester\":\"device:%s\"", demo_id);
	int before = audit_count("decision", req, NULL);
	enum { SAME = 6 };
	conc c[SAME];
	pthread_t th[SAME];
	for (int i = 0; i < SAME; i++) {
		c[i] = (conc){demo_cert, demo_key, demo_id, 0, NULL};
		pthread_create(&th[i], NULL, conc_main, &c[i]);
	}
	sleep_ms(150 * slow);
	/* Something else while that is decided: come back later. */
	char *other = users_body(demo_id, "carol@contoso.example"), *resp = NULL;
	long st_other = post_json(demo_cert, demo_key, other, &resp);
	free(other);
	for (int i = 0; i < SAME; i++)
		pthread_join(th[i], NULL);
	set_faults("");
	assert_int_equal(st_other, 429);
	assert_non_null(strstr(resp, "AlreadyDeciding"));
	free(resp);
	for (int i = 0; i < SAME; i++) {
		assert_int_equal(c[i].status, 200);
		assert_string_equal(c[i].body, c[0].body);
	}
	for (int i = 0; i < SAME; i++)
		free(c[i].body);
	/* one decision per user, not one per request */
	assert_int_equal(audit_count("decision", req, NULL), before + 2);
}

/* ---- text ------------------------------------------------------------------------- */

static void test_invalid_text_refused(void **st)
{
	(void)st;
	char *resp = NULL, body[300];
	snprintf(body, sizeof body,
		 "{\"deviceId\":\"%s\",\"users\":[\"al\xff\xfeice@contoso.example\"]}", demo_id);
	assert_int_equal(post_json(demo_cert, demo_key, body, &resp), 400);
	assert_non_null(strstr(resp, "not valid UTF-8"));
	assert_true(valid_utf8(resp, strlen(resp)));
	free(resp);
	snprintf(body, sizeof body,
		 "{\"deviceId\":\"%s\",\"users\":[\"bob@contoso.example\\u0000CONTOSO\\\\mallory\"]}",
		 demo_id);
	assert_int_equal(post_json(demo_cert, demo_key, body, &resp), 400);
	assert_non_null(strstr(resp, "\\\\u0000"));
	free(resp);
	/* Raw bytes in the request line of a client without a certificate. */
	sleep_ms(1200);
	static const char req[] = "GET /\xff\xc0\xaf\x1b[2J HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	tls_conn t;
	char answer[4096];
	assert_int_equal(tls_open(&t, "127.0.0.7", NULL, NULL), 0);
	tls_send(&t, req, sizeof req - 1);
	int status = tls_status(&t, 2000, answer, sizeof answer);
	tls_close(&t);
	assert_true(status == 401 || status == 400);
	/* every line of the audit log is UTF-8 and JSON (audit_count checks) */
	assert_true(audit_count("bad-request", "UTF-8", NULL) >= 1);
	assert_true(audit_count("bad-request", "u0000", NULL) >= 1);
	assert_int_equal(audit_count("decision", "mallory", NULL), 0);
}

static void test_webhook_client(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, client_config), 0);
	const char *users[] = {"CONTOSO\\alice", "bob@contoso.example"};
	ssrp_assoc_client_result r = SSRP_ASSOC_CLIENT_RESULT_INIT;
	ssrp_device_identity id;
	identity_of(&id, demo_id, "DESKTOP-SSRP01", NULL, NULL);
	int rc = ssrp_assoc_client_send_webhook(cfg, &id, users, 2, NULL, &r);
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(r.status, 202);
	assert_true(strlen(r.job_id) > 0);
	/* The runbook got the body (the job prints its WebhookData). */
	char path[200];
	snprintf(path, sizeof path, "/admin/jobs/%s", r.job_id);
	int done = 0;
	for (int i = 0; i < 500 && !done; i++) {
		char *j = admin_get(path);
		if (strstr(j, "\"status\":\"completed\"")) {
			done = 1;
			assert_non_null(strstr(j, demo_id));
			assert_non_null(strstr(j, "bob@contoso.example"));
		}
		free(j);
		if (!done)
			sleep_ms(20);
	}
	assert_true(done);
	ssrp_assoc_client_result_free(&r);
	ssrp_cloud_config_free(cfg);

	/* A wrong token: refused, and the token is in no message. */
	char *url = sim_read_text(webhook_url_file);
	assert_non_null(url);
	char *tok = strstr(url, "token=");
	assert_non_null(tok);
	tok += 6;
	tok[strcspn(tok, "\r\n")] = '\0';
	char wrong[700], wrong_file[700], wrong_config[700];
	snprintf(wrong, sizeof wrong, "%.*sWRONGTOKENx9", (int)(tok - url), url);
	snprintf(wrong_file, sizeof wrong_file, "%s/webhook-wrong", work);
	snprintf(wrong_config, sizeof wrong_config, "%s/wrong.json", work);
	sim_write_text(wrong_file, wrong, 0600);
	write_config(wrong_config, NULL, NULL, NULL, wrong_file);
	assert_int_equal(ssrp_cloud_config_load(&cfg, wrong_config), 0);
	id.display_name[0] = '\0';
	rc = ssrp_assoc_client_send_webhook(cfg, &id, users, 1, NULL, &r);
	assert_int_equal(rc, SSRP_E_PERMISSION);
	assert_int_equal(r.status, 400);
	assert_null(strstr(ssrp_error_last(), "WRONGTOKEN"));
	assert_null(strstr(ssrp_error_last(), tok));
	assert_non_null(strstr(ssrp_error_last(), "webhook"));
	ssrp_assoc_client_result_free(&r);
	ssrp_cloud_config_free(cfg);

	/* Unreachable (the webhook host sent to a closed port): the transport
	 * message keeps curl's reason but not the URL. */
	char *cfgtext = sim_read_text(wrong_config);
	cJSON *c = cJSON_Parse(cfgtext);
	free(cfgtext);
	char closed[400];
	const char *host = url + strlen("https://");
	snprintf(closed, sizeof closed, "%.*s:443:127.0.0.1:1", (int)strcspn(host, "/:"), host);
	cJSON *ct = cJSON_CreateArray();
	cJSON_AddItemToArray(ct, cJSON_CreateString(closed));
	cJSON_ReplaceItemInObject(c, "connect_to", ct);
	cfgtext = cJSON_Print(c);
	cJSON_Delete(c);
	sim_write_text(wrong_config, cfgtext, 0600);
	free(cfgtext);
	assert_int_equal(ssrp_cloud_config_load(&cfg, wrong_config), 0);
	ssrp_retry_options o = SSRP_RETRY_OPTIONS_INIT;
	o.max_attempts = 1;
	o.timeout_ms = 3000;
	rc = ssrp_assoc_client_send_webhook(cfg, &id, users, 1, &o, &r);
	assert_int_equal(rc, SSRP_E_IO);
	assert_null(strstr(ssrp_error_last(), "WRONGTOKEN"));
	assert_null(strstr(ssrp_error_last(), "token="));
	ssrp_assoc_client_result_free(&r);
	ssrp_cloud_config_free(cfg);
	free(url);
}

static void *late_request(void *arg)
{
	conc *c = arg;
	return conc_main(c);
}

static void test_sigterm_finishes_in_flight(void **st)
{
	(void)st;
	/* Slower under memcheck: the client's handshake alone takes a while. */
	unsigned slow = getenv("SSRP_UNDER_VALGRIND") ? 6 : 1;
	char faults[64];
	snprintf(faults, sizeof faults, "graph/v1.0/$batch:latency:%u", 1000 * slow);
	set_faults(faults);
	conc a = {demo_cert, demo_key, demo_id, 0, NULL};
	pthread_t t;
	pthread_create(&t, NULL, late_request, &a);
	sleep_ms(600 * slow); /* the request is in the service, waiting on Graph */
	int code = stop_server();
	pthread_join(t, NULL);
	set_faults("");
	assert_int_equal(code, 0);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "\"outcome\":\"already\""));
	free(a.body);
	char *log = sim_read_text(serve_log);
	assert_non_null(log);
	assert_non_null(strstr(log, "ssrp-assocd: listening on https://127.0.0.1:"));
	/* Nothing secret in what the service printed. */
	assert_null(strstr(log, "PRIVATE KEY"));
	free(log);
}

int main(void)
{
	/* The timing allowances below are keyed to SSRP_UNDER_VALGRIND: under
	 * memcheck without it, they would silently not apply. */
	if (RUNNING_ON_VALGRIND && !getenv("SSRP_UNDER_VALGRIND")) {
		fprintf(stderr, "running under valgrind without SSRP_UNDER_VALGRIND=1 in the "
				"environment (the test's ENVIRONMENT property replaced, not appended?)\n");
		return 1;
	}
	if (getenv("SSRP_UNDER_VALGRIND"))
		handshake_s = 10;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz_and_routes),
		cmocka_unit_test(test_no_certificate_refused),
		cmocka_unit_test(test_foreign_certificates_refused),
		cmocka_unit_test(test_malformed_and_large_bodies),
		cmocka_unit_test(test_other_device_refused),
		cmocka_unit_test(test_demo_device_associates),
		cmocka_unit_test(test_two_devices_at_once),
		cmocka_unit_test(test_idle_connections_do_not_lock_out),
		cmocka_unit_test(test_idle_connections_cost_nothing),
		cmocka_unit_test(test_trickle_cut_at_handshake_deadline),
		cmocka_unit_test(test_anonymous_shed_for_devices),
		cmocka_unit_test(test_refused_before_body_is_read),
		cmocka_unit_test(test_refusals_one_line_per_interval),
		cmocka_unit_test(test_abandoned_requests_dropped),
		cmocka_unit_test(test_identical_requests_share_a_decision),
		cmocka_unit_test(test_invalid_text_refused),
		cmocka_unit_test(test_webhook_client),
		cmocka_unit_test(test_sigterm_finishes_in_flight),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
