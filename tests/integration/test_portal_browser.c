/* The simulator's "My devices" page in a real browser: headless Chromium
 * driven over the W3C WebDriver protocol by Debian's chromedriver.
 *
 * Setup: `ssrp sim cloud start` (demo tenant; $SSRP_BIN), alice made a
 * registered owner of the demo device by the admin's delegated token (ROPC
 * through escrow/graph_client), a recovery key uploaded for the device
 * through DRS with the device certificate, chromedriver on a free loopback
 * port, and a Chromium session whose resolver sends myaccount.microsoft.com
 * to the simulator and which trusts exactly the simulator's server key
 * (--ignore-certificate-errors-spki-list with its SPKI hash).
 *
 * Checked: alice signs in through the form, sees her device, presses "Show
 * BitLocker key" and reads exactly the uploaded key (screenshots of both
 * pages are left in $SSRP_ARTEFACT_DIR); the read left one audit record;
 * sign-out ends the session; bob signs in and sees no device, and the key
 * form posted with bob's session cookie and CSRF token for alice's key is
 * refused with "This device is not yours."; the request log never holds the
 * key, a password or a cookie.
 *
 * Without chromium and chromedriver the test fails and says to run
 * scripts/bootstrap. chromedriver (and the browser under it) runs in a
 * process group of its own, ended in teardown whatever happened. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bitlocker/recovery_password.h"
#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "hal/clock.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "ssrp/error.h"
#include "tests/integration/sim_helpers.h"

#define PORTAL_HOST "myaccount.microsoft.com"
#define DRS_HOST "enterpriseregistration.windows.net"
#define ELEMENT_KEY "element-6066-11e4-a52e-4f735466cecf"
#define COOKIE_NAME "__Host-ssrp-portal"
#define DELEGATED_SCOPE                                                                        \
	"https://graph.microsoft.com/Directory.AccessAsUser.All "                            \
	"https://graph.microsoft.com/Device.Read.All https://graph.microsoft.com/User.Read"

/* What the simulator wrote (cloud.env) and what the test made. */
static struct {
	const char *ssrp_bin;
	char work[256], dir[512];
	int sim_started;
	char port[16], ca[600], config[600], log[600], portal_url[256], tenant[64];
	char admin_upn[128], admin_pw_file[600], admin_token_file[600];
	char alice[128], alice_pw_file[600], bob[128], bob_pw_file[600];
	char device_id[64], device_name[128], device_cert[700], device_key[700];
	char kid[40];
	char key[SSRP_RECOVERY_PASSWORD_LEN + 1]; /* the recovery password uploaded */
	char chromium[600], chromedriver[600];
	pid_t driver_pid;
	char driver_url[64];
	char session[128]; /* WebDriver session id */
	char artefacts[600];
} T;

/* ---- small helpers ------------------------------------------------------------ */

static int find_in_path(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && n + strlen(name) + 2 <= cap) {
			snprintf(out, cap, "%.*s/%s", (int)n, path, name);
			if (access(out, X_OK) == 0)
				return 0;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	out[0] = '\0';
	return -1;
}

static char *read_secret(const char *path)
{
	char *s = sim_read_text(path);
	assert_non_null(s);
	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

static void free_secret(char *s)
{
	if (s) {
		ssrp_memzero(s, strlen(s));
		free(s);
	}
}

/* base64 of SHA-256 over the certificate's SubjectPublicKeyInfo: what
 * --ignore-certificate-errors-spki-list takes. */
static void spki_hash(const char *pem_path, char out[64])
{
	FILE *f = fopen(pem_path, "r");
	assert_non_null(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	unsigned char *der = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	assert_true(n > 0);
	unsigned char md[32];
	unsigned int mdlen = 0;
	assert_true(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1);
	EVP_EncodeBlock((unsigned char *)out, md, 32);
	OPENSSL_free(der);
	X509_free(x);
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	int port = -1;
	if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* ---- HTTP through libcurl ------------------------------------------------------- */

typedef struct http_out {
	long status;
	char *body;
	size_t len;
	char headers[4096];
	size_t hlen;
} http_out;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	http_out *o = ctx;
	size_t add = size * n;
	char *b = realloc(o->body, o->len + add + 1);
	if (!b)
		return 0;
	memcpy(b + o->len, p, add);
	o->body = b;
	o->len += add;
	o->body[o->len] = '\0';
	return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	http_out *o = ctx;
	size_t add = size * n;
	if (o->hlen + add < sizeof o->headers) {
		memcpy(o->headers + o->hlen, p, add);
		o->hlen += add;
		o->headers[o->hlen] = '\0';
	}
	return add;
}

typedef struct http_in {
	const char *method, *url, *body, *content_type, *cookie;
	int simulator;   /* through the simulator's CA and connect-to list */
	int device_cert; /* present the demo device's certificate */
	long timeout_s;
} http_in;

static void http(const http_in *in, http_out *out)
{
	memset(out, 0, sizeof *out);
	CURL *c = curl_easy_init();
	assert_non_null(c);
	struct curl_slist *hdrs = NULL, *connect = NULL;
	char line[1200];
	curl_easy_setopt(c, CURLOPT_URL, in->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, in->method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, in->timeout_s ? in->timeout_s : 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (in->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, in->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(in->body));
	}
	if (in->content_type) {
		snprintf(line, sizeof line, "Content-Type: %s", in->content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (in->cookie) {
		snprintf(line, sizeof line, "Cookie: %s", in->cookie);
		hdrs = curl_slist_append(hdrs, line);
		ssrp_memzero(line, sizeof line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (in->simulator) {
		curl_easy_setopt(c, CURLOPT_CAINFO, T.ca);
		const char *hosts[] = {PORTAL_HOST, DRS_HOST, "graph.microsoft.com"};
		for (size_t i = 0; i < 3; i++) {
			snprintf(line, sizeof line, "%s:443:127.0.0.1:%s", hosts[i], T.port);
			connect = curl_slist_append(connect, line);
		}
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect);
	}
	if (in->device_cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, T.device_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, T.device_key);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(connect);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(out->body);
		out->body = NULL;
		fail_msg("%s %s: %s", in->method, in->url, curl_easy_strerror(rc));
	}
}

static void http_free(http_out *o)
{
	if (o->body) {
		ssrp_memzero(o->body, o->len);
		free(o->body);
	}
	memset(o, 0, sizeof *o);
}

/* ---- WebDriver ------------------------------------------------------------------------ */

/* One WebDriver command; returns its "value" (a detached cJSON the caller
 * deletes). Any error answer fails the test with WebDriver's message. */
static cJSON *wd(const char *method, const char *path, const cJSON *body)
{
	char url[512];
	if (path[0] == '/')
		snprintf(url, sizeof url, "%s%s", T.driver_url, path);
	else
		snprintf(url, sizeof url, "%s/session/%s/%s", T.driver_url, T.session, path);
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	http_in in = {.method = method,
		      .url = url,
		      .body = text ? text : (strcmp(method, "POST") ? NULL : "{}"),
		      .content_type = "application/json; charset=utf-8",
		      .timeout_s = 90};
	http_out out;
	http(&in, &out);
	if (text) {
		ssrp_memzero(text, strlen(text)); /* may hold a typed password */
		free(text);
	}
	cJSON *j = out.body ? cJSON_Parse(out.body) : NULL;
	if (!j)
		fail_msg("WebDriver %s %s: HTTP %ld, not JSON: %.300s", method, path, out.status,
			 out.body ? out.body : "");
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(j, "value");
	cJSON_Delete(j);
	if (out.status != 200) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "error");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "message");
		fail_msg("WebDriver %s %s: HTTP %ld %s: %.400s", method, path, out.status,
			 cJSON_IsString(e) ? e->valuestring : "?", cJSON_IsString(m) ? m->valuestring : "");
	}
	http_free(&out);
	return v;
}

static void wd_void(const char *method, const char *path, const cJSON *body)
{
	cJSON_Delete(wd(method, path, body));
}

/* A string result as a malloc'd copy. */
static char *wd_string(const char *method, const char *path)
{
	cJSON *v = wd(method, path, NULL);
	assert_true(cJSON_IsString(v));
	char *s = strdup(v->valuestring);
	cJSON_Delete(v);
	assert_non_null(s);
	return s;
}

static void wd_navigate(const char *url)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "url", url);
	wd_void("POST", "url", b);
	cJSON_Delete(b);
}

/* The element a CSS selector finds (fails the test when none), its id into out. */
static void wd_find(const char *css, char out[128])
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "using", "css selector");
	cJSON_AddStringToObject(b, "value", css);
	cJSON *v = wd("POST", "element", b);
	cJSON_Delete(b);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, ELEMENT_KEY);
	assert_true(cJSON_IsString(id));
	snprintf(out, 128, "%s", id->valuestring);
	cJSON_Delete(v);
}

/* How many elements a selector finds. */
static int wd_count(const char *css)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "using", "css selector");
	cJSON_AddStringToObject(b, "value", css);
	cJSON *v = wd("POST", "elements", b);
	cJSON_Delete(b);
	int n = cJSON_GetArraySize(v);
	cJSON_Delete(v);
	return n;
}

static char *wd_text(const char *css)
{
	char el[128], path[256];
	wd_find(css, el);
	snprintf(path, sizeof path, "element/%s/text", el);
	return wd_string("GET", path);
}

static void wd_type(const char *css, const char *text)
{
	char el[128], path[256];
	wd_find(css, el);
	snprintf(path, sizeof path, "element/%s/value", el);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "text", text);
	wd_void("POST", path, b);
	cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "text");
	ssrp_memzero(t->valuestring, strlen(t->valuestring));
	cJSON_Delete(b);
}

static void wd_click(const char *css)
{
	char el[128], path[256];
	wd_find(css, el);
	snprintf(path, sizeof path, "element/%s/click", el);
	wd_void("POST", path, NULL);
}

/* Wait (up to 15 s) until the page's path is want. */
static void wd_wait_path(const char *want)
{
	char full[300];
	snprintf(full, sizeof full, "https://" PORTAL_HOST "%s", want);
	char *url = NULL;
	for (int i = 0; i < 150; i++) {
		free(url);
		url = wd_string("GET", "url");
		if (!strcmp(url, full))
			break;
		ssrp_sleep_ms(100);
	}
	if (strcmp(url, full)) {
		char *src = wd_string("GET", "source");
		fail_msg("expected %s, the browser is at %s showing: %.600s", full, url, src);
	}
	free(url);
}

static void wd_screenshot(const char *name)
{
	cJSON *v = wd("GET", "screenshot", NULL);
	assert_true(cJSON_IsString(v));
	const char *b64 = v->valuestring;
	size_t n = strlen(b64);
	unsigned char *png = malloc(n);
	assert_non_null(png);
	int len = EVP_DecodeBlock(png, (const unsigned char *)b64, (int)n);
	assert_true(len > 8);
	while (n && b64[n - 1] == '=') { /* EVP_DecodeBlock counts the padding */
		len--;
		n--;
	}
	assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
	char path[700];
	snprintf(path, sizeof path, "%s/%s", T.artefacts, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(png, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	printf("screenshot: %s\n", path);
	fflush(stdout);
	free(png);
	cJSON_Delete(v);
}

static void sign_in(const char *upn, const char *pw_file)
{
	wd_navigate(T.portal_url);
	char *title = wd_string("GET", "title");
	assert_non_null(strstr(title, "Sign in"));
	free(title);
	wd_type("#username", upn);
	char *pw = read_secret(pw_file);
	wd_type("#password", pw);
	free_secret(pw);
	wd_click("#signin");
	wd_wait_path("/devices");
}

/* ---- setup: simulator, owner, key, chromedriver, session ------------------------ */

static void read_env(void)
{
	char path[600];
	snprintf(path, sizeof path, "%s/cloud.env", T.dir);
	char *env = sim_read_text(path);
	assert_non_null(env);
	struct {
		const char *name;
		char *out;
		size_t cap;
	} v[] = {
		{"SSRP_SIM_PORT", T.port, sizeof T.port},
		{"SSRP_SIM_CA", T.ca, sizeof T.ca},
		{"SSRP_SIM_CONFIG", T.config, sizeof T.config},
		{"SSRP_SIM_LOG", T.log, sizeof T.log},
		{"SSRP_SIM_PORTAL_URL", T.portal_url, sizeof T.portal_url},
		{"SSRP_SIM_TENANT_ID", T.tenant, sizeof T.tenant},
		{"SSRP_SIM_ADMIN_UPN", T.admin_upn, sizeof T.admin_upn},
		{"SSRP_SIM_ADMIN_PASSWORD_FILE", T.admin_pw_file, sizeof T.admin_pw_file},
		{"SSRP_SIM_ADMIN_TOKEN_FILE", T.admin_token_file, sizeof T.admin_token_file},
		{"SSRP_SIM_USER_UPN", T.alice, sizeof T.alice},
		{"SSRP_SIM_USER_PASSWORD_FILE", T.alice_pw_file, sizeof T.alice_pw_file},
		{"SSRP_SIM_USER2_UPN", T.bob, sizeof T.bob},
		{"SSRP_SIM_USER2_PASSWORD_FILE", T.bob_pw_file, sizeof T.bob_pw_file},
		{"SSRP_SIM_DEVICE_ID", T.device_id, sizeof T.device_id},
		{"SSRP_SIM_DEVICE_NAME", T.device_name, sizeof T.device_name},
		{"SSRP_SIM_DEVICE_CERT", T.device_cert, sizeof T.device_cert},
		{"SSRP_SIM_DEVICE_KEY", T.device_key, sizeof T.device_key},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (sim_env_value(env, v[i].name, v[i].out, v[i].cap))
			fail_msg("cloud.env has no %s", v[i].name);
	free(env);
}

static int take_id(const cJSON *item, void *ctx)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
	if (cJSON_IsString(id))
		snprintf(ctx, 64, "%s", id->valuestring);
	return 0;
}

/* alice becomes a registered owner of the demo device: the admin's
 * delegated token (ROPC), as a device administrator would. */
static void make_alice_owner(void)
{
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, T.config))
		fail_msg("config: %s", ssrp_error_last());
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_PASSWORD,
				.username = T.admin_upn,
				.password_file = T.admin_pw_file,
				.scope = DELEGATED_SCOPE};
	ssrp_graph_options opt = {.deadline_ms = 60000};
	ssrp_graph *g = NULL;
	if (ssrp_graph_new(&g, cfg, &auth, &opt))
		fail_msg("graph client: %s", ssrp_error_last());
	ssrp_cloud_config_free(cfg);

	char device_oid[64] = "", alice_id[64] = "", path[300];
	char *q = ssrp_graph_filter_eq("/v1.0/devices", "deviceId", T.device_id);
	assert_non_null(q);
	if (ssrp_graph_list(g, q, take_id, device_oid))
		fail_msg("devices: %s", ssrp_error_last());
	ssrp_free(q);
	assert_true(device_oid[0]);
	cJSON *u = NULL;
	snprintf(path, sizeof path, "/v1.0/users/%s?$select=id", T.alice);
	if (ssrp_graph_get(g, path, &u))
		fail_msg("user: %s", ssrp_error_last());
	take_id(u, alice_id);
	cJSON_Delete(u);
	assert_true(alice_id[0]);
	snprintf(path, sizeof path, "/v1.0/devices/%s/registeredOwners/$ref", device_oid);
	int already = -1;
	if (ssrp_graph_add_ref(g, path, alice_id, &already))
		fail_msg("add owner: %s", ssrp_error_last());
	assert_int_equal(already, 0);
	ssrp_graph_free(g);
}

/* A fresh recovery password and protector id, uploaded as the device
 * does: DRS with the device certificate. */
static void upload_key(void)
{
	uint8_t raw[SSRP_RP_KEY_LEN], id[16];
	assert_int_equal(ssrp_rp_generate(raw), SSRP_OK);
	ssrp_rp_format(T.key, raw);
	ssrp_memzero(raw, sizeof raw);
	assert_int_equal(ssrp_random_bytes(id, sizeof id), SSRP_OK);
	id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
	id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
	snprintf(T.kid, sizeof T.kid, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12],
		 id[13], id[14], id[15]);
	char url[300], body[200];
	snprintf(url, sizeof url, "https://" DRS_HOST "/manage/%s/device/%s?api-version=1.0", T.tenant,
		 T.device_id);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"kid\":\"%s\",\"vol\":\"OSV\"}", T.key, T.kid);
	http_in in = {.method = "POST",
		      .url = url,
		      .body = body,
		      .content_type = "application/json",
		      .simulator = 1,
		      .device_cert = 1};
	http_out out;
	http(&in, &out);
	ssrp_memzero(body, sizeof body);
	if (out.status != 200)
		fail_msg("DRS key upload: HTTP %ld %s", out.status, out.body ? out.body : "");
	http_free(&out);
}

static void start_chromedriver(void)
{
	int port = free_port();
	assert_true(port > 0);
	snprintf(T.driver_url, sizeof T.driver_url, "http://127.0.0.1:%d", port);
	char port_arg[32], log_arg[700];
	snprintf(port_arg, sizeof port_arg, "--port=%d", port);
	snprintf(log_arg, sizeof log_arg, "--log-path=%s/chromedriver.log", T.work);
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A process group of its own (the browser joins it), ended with
		 * this test even if it is killed. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		execl(T.chromedriver, T.chromedriver, port_arg, log_arg, "--allowed-ips=127.0.0.1",
		      (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	T.driver_pid = pid;
	/* Ready when /status says so. */
	for (int i = 0; i < 200; i++) {
		char url[128];
		snprintf(url, sizeof url, "%s/status", T.driver_url);
		CURL *c = curl_easy_init();
		http_out out;
		memset(&out, 0, sizeof out);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
		CURLcode rc = curl_easy_perform(c);
		curl_easy_cleanup(c);
		int ready = rc == CURLE_OK && out.body && strstr(out.body, "\"ready\":true");
		http_free(&out);
		if (ready)
			return;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			T.driver_pid = 0;
			fail_msg("chromedriver exited before it was ready (see %s/chromedriver.log)", T.work);
		}
		ssrp_sleep_ms(100);
	}
	fail_msg("chromedriver did not get ready on port %d in 20 s", port);
}

static void start_session(void)
{
	char spki[64], arg_rules[128], arg_spki[128], arg_dir[700];
	char server_pem[600];
	snprintf(server_pem, sizeof server_pem, "%s/server.pem", T.dir);
	spki_hash(server_pem, spki);
	snprintf(arg_rules, sizeof arg_rules, "--host-resolver-rules=MAP " PORTAL_HOST " 127.0.0.1:%s", T.port);
	snprintf(arg_spki, sizeof arg_spki, "--ignore-certificate-errors-spki-list=%s", spki);
	snprintf(arg_dir, sizeof arg_dir, "--user-data-dir=%s/chromium-profile", T.work);
	const char *args[] = {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			      "--no-first-run", "--no-default-browser-check", "--disable-extensions",
			      "--disable-background-networking", "--disable-sync", "--lang=en-US",
			      "--window-size=1000,760", arg_dir, arg_rules, arg_spki};
	cJSON *b = cJSON_CreateObject();
	cJSON *always = cJSON_AddObjectToObject(cJSON_AddObjectToObject(b, "capabilities"), "alwaysMatch");
	cJSON_AddStringToObject(always, "browserName", "chrome");
	/* Certificate errors are not accepted: only the pinned key passes. */
	cJSON_AddBoolToObject(always, "acceptInsecureCerts", 0);
	cJSON *opts = cJSON_AddObjectToObject(always, "goog:chromeOptions");
	cJSON_AddStringToObject(opts, "binary", T.chromium);
	cJSON *a = cJSON_AddArrayToObject(opts, "args");
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
	cJSON *v = wd("POST", "/session", b);
	cJSON_Delete(b);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "sessionId");
	assert_true(cJSON_IsString(id));
	snprintf(T.session, sizeof T.session, "%s", id->valuestring);
	cJSON_Delete(v);
	/* Page loads and element lookups: wait at most 30 s / 5 s. */
	b = cJSON_CreateObject();
	cJSON_AddNumberToObject(b, "pageLoad", 30000);
	cJSON_AddNumberToObject(b, "implicit", 2000);
	wd_void("POST", "timeouts", b);
	cJSON_Delete(b);
}

static int setup(void **st)
{
	(void)st;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	T.ssrp_bin = getenv("SSRP_BIN");
	if (!T.ssrp_bin || !*T.ssrp_bin) {
		fprintf(stderr, "SSRP_BIN must name the ssrp command\n");
		return -1;
	}
	const char *chromium = getenv("SSRP_CHROMIUM"), *driver = getenv("SSRP_CHROMEDRIVER");
	if (chromium && *chromium)
		snprintf(T.chromium, sizeof T.chromium, "%s", chromium);
	else
		find_in_path("chromium", T.chromium, sizeof T.chromium);
	if (driver && *driver)
		snprintf(T.chromedriver, sizeof T.chromedriver, "%s", driver);
	else
		find_in_path("chromedriver", T.chromedriver, sizeof T.chromedriver);
	if (!T.chromium[0] || access(T.chromium, X_OK) || !T.chromedriver[0] || access(T.chromedriver, X_OK)) {
		fprintf(stderr,
			"The browser test needs Chromium and chromedriver (%s%s%s missing): run scripts/bootstrap, "
			"which installs the Debian packages chromium and chromium-driver.\n",
			T.chromium[0] && !access(T.chromium, X_OK) ? "" : "chromium",
			(!T.chromium[0] || access(T.chromium, X_OK)) &&
					(!T.chromedriver[0] || access(T.chromedriver, X_OK))
				? " and "
				: "",
			T.chromedriver[0] && !access(T.chromedriver, X_OK) ? "" : "chromedriver");
		return -1;
	}
	const char *art = getenv("SSRP_ARTEFACT_DIR");
	snprintf(T.artefacts, sizeof T.artefacts, "%s", art && *art ? art : ".");
	mkdir(T.artefacts, 0755);
	if (sim_make_work(T.work, sizeof T.work, "ssrp-portal-test"))
		return -1;
	snprintf(T.dir, sizeof T.dir, "%s/cloud", T.work);
	const char *args[] = {"cloud", "start", "--dir", T.dir, NULL};
	if (sim_run(T.ssrp_bin, args) != 0) {
		fprintf(stderr, "ssrp sim cloud start failed\n");
		return -1;
	}
	T.sim_started = 1;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	if (T.session[0]) {
		/* Closing the session ends the browser; errors no longer matter. */
		char url[256];
		snprintf(url, sizeof url, "%s/session/%s", T.driver_url, T.session);
		CURL *c = curl_easy_init();
		if (c) {
			curl_easy_setopt(c, CURLOPT_URL, url);
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
			curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
			http_out out;
			memset(&out, 0, sizeof out);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
			curl_easy_perform(c);
			curl_easy_cleanup(c);
			free(out.body);
		}
		T.session[0] = '\0';
	}
	if (T.driver_pid > 0) {
		kill(-T.driver_pid, SIGTERM);
		int st2;
		int reaped = 0;
		for (int i = 0; i < 50 && !reaped; i++) {
			if (waitpid(T.driver_pid, &st2, WNOHANG) == T.driver_pid)
				reaped = 1;
			else
				ssrp_sleep_ms(100);
		}
		/* Whatever of the group is still there (a browser process that
		 * ignored SIGTERM) goes now. */
		kill(-T.driver_pid, SIGKILL);
		if (!reaped)
			waitpid(T.driver_pid, &st2, 0);
		T.driver_pid = 0;
	}
	if (T.sim_started) {
		const char *args[] = {"cloud", "stop", "--dir", T.dir, NULL};
		sim_run(T.ssrp_bin, args);
		T.sim_started = 0;
	}
	if (T.work[0])
		sim_remove_work(T.work);
	curl_global_cleanup();
	return 0;
}

/* ---- the test ---------------------------------------------------------------------- */

static size_t audit_reads(const char *actor, const char *kid)
{
	char *token = read_secret(T.admin_token_file);
	char auth[256], url[128];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	free_secret(token);
	snprintf(url, sizeof url, "https://graph.microsoft.com/admin/state");
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	char connect[128];
	snprintf(connect, sizeof connect, "graph.microsoft.com:443:127.0.0.1:%s", T.port);
	struct curl_slist *ct = curl_slist_append(NULL, connect);
	http_out out;
	memset(&out, 0, sizeof out);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(c, CURLOPT_CAINFO, T.ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	curl_slist_free_all(ct);
	ssrp_memzero(auth, sizeof auth);
	assert_int_equal(out.status, 200);
	cJSON *j = cJSON_Parse(out.body);
	http_free(&out);
	assert_non_null(j);
	size_t n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "audit"))
	{
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "action");
		const cJSON *who = cJSON_GetObjectItemCaseSensitive(e, "actor");
		const cJSON *target = cJSON_GetObjectItemCaseSensitive(e, "target");
		if (cJSON_IsString(a) && !strcmp(a->valuestring, "Read BitLocker key") && cJSON_IsString(who) &&
		    !strcmp(who->valuestring, actor) && cJSON_IsString(target) && !strcmp(target->valuestring, kid))
			n++;
	}
	cJSON_Delete(j);
	return n;
}

static void portal_in_browser(void **st)
{
	(void)st;
	read_env();
	make_alice_owner();
	upload_key();
	start_chromedriver();
	start_session();

	/* alice: sign in, her device, its key. */
	sign_in(T.alice, T.alice_pw_file);
	char sel[200];
	snprintf(sel, sizeof sel, "#device-%s .device-name", T.device_id);
	char *name = wd_text(sel);
	assert_string_equal(name, T.device_name);
	free(name);
	char *upn = wd_text("#upn");
	assert_string_equal(upn, T.alice);
	free(upn);
	char *src = wd_string("GET", "source");
	assert_non_null(strstr(src, T.kid));
	assert_null(strstr(src, T.key)); /* the list never shows a key */
	free(src);
	wd_screenshot("portal-my-devices.png");
	assert_int_equal(audit_reads("user:alice@contoso.example", T.kid), 0);

	snprintf(sel, sizeof sel, "#show-%s", T.kid);
	wd_click(sel);
	wd_wait_path("/devices/key");
	char *key = wd_text("#recovery-key");
	assert_string_equal(key, T.key);
	free(key);
	wd_screenshot("portal-bitlocker-key.png");
	assert_int_equal(audit_reads("user:alice@contoso.example", T.kid), 1);

	/* Sign out: the cookie is gone and /devices sends the browser to the form. */
	wd_navigate("https://" PORTAL_HOST "/devices");
	wd_click("#signout");
	wd_wait_path("/");
	assert_int_equal(wd_count("#username"), 1);
	wd_navigate("https://" PORTAL_HOST "/devices");
	wd_wait_path("/");

	/* bob: no device, and alice's key refused to his session. */
	sign_in(T.bob, T.bob_pw_file);
	char *none = wd_text("#no-devices");
	assert_string_equal(none, "You have no devices.");
	free(none);
	src = wd_string("GET", "source");
	assert_null(strstr(src, T.device_name));
	assert_null(strstr(src, T.kid));
	free(src);
	assert_int_equal(wd_count(".device"), 0);

	char el[128], path[256];
	wd_find("form[action='/signout'] input[name=csrf]", el);
	snprintf(path, sizeof path, "element/%s/property/value", el);
	char *csrf = wd_string("GET", path);
	assert_int_equal(strlen(csrf), 43);
	cJSON *ck = wd("GET", "cookie/" COOKIE_NAME, NULL);
	const cJSON *cv = cJSON_GetObjectItemCaseSensitive(ck, "value");
	assert_true(cJSON_IsString(cv));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "httpOnly")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ck, "secure")));
	const cJSON *ss = cJSON_GetObjectItemCaseSensitive(ck, "sameSite");
	assert_true(cJSON_IsString(ss));
	assert_string_equal(ss->valuestring, "Strict");
	char cookie[200], body[300];
	snprintf(cookie, sizeof cookie, COOKIE_NAME "=%s", cv->valuestring);
	cJSON_Delete(ck);
	snprintf(body, sizeof body, "csrf=%s&key_id=%s", csrf, T.kid);
	free(csrf);
	http_in in = {.method = "POST",
		      .url = "https://" PORTAL_HOST "/devices/key",
		      .body = body,
		      .content_type = "application/x-www-form-urlencoded",
		      .cookie = cookie,
		      .simulator = 1};
	http_out out;
	http(&in, &out);
	assert_int_equal(out.status, 403);
	assert_non_null(strstr(out.body, "This device is not yours."));
	assert_null(strstr(out.body, T.key));
	assert_non_null(strstr(out.headers, "Cache-Control: no-store"));
	assert_non_null(strstr(out.headers, "X-Frame-Options: DENY"));
	assert_non_null(strstr(out.headers, "Content-Security-Policy: default-src 'none'"));
	http_free(&out);
	/* The same session and token do work where bob may go. */
	in.url = "https://" PORTAL_HOST "/devices";
	in.method = "GET";
	in.body = NULL;
	in.content_type = NULL;
	http(&in, &out);
	assert_int_equal(out.status, 200);
	assert_non_null(strstr(out.body, T.bob));
	http_free(&out);
	ssrp_memzero(cookie, sizeof cookie);
	assert_int_equal(audit_reads("user:bob@contoso.example", T.kid), 0);

	/* Nothing secret reached the request log. */
	char *log = sim_read_text(T.log);
	assert_non_null(log);
	assert_null(strstr(log, T.key));
	char *pw = read_secret(T.alice_pw_file);
	assert_null(strstr(log, pw));
	free_secret(pw);
	assert_null(strstr(log, COOKIE_NAME));
	assert_non_null(strstr(log, "\"path\":\"/devices/key\",\"status\":403"));
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(portal_in_browser),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
