/* bench_serve: "the check-in storm" against `ssrp assoc serve`.
 *
 *   1. a seed tenant: REFERENCE + DEVICES devices (1,000 + 10,000) with no
 *      owners, two licensed users each (one listed as a UPN, one as
 *      CONTOSO\userK), the app, a public client and a service account
 *      (Intune Administrator + License Administrator) whose refresh token
 *      is fetched by the password grant;
 *   2. the simulated cloud on it with a certificate for every device
 *      (--device-certs), Graph answering LATENCY ms late (20) and a seeded
 *      1% of Graph requests throttled with 429 + Retry-After;
 *   3. the reference, in the same run: the service set to decide each
 *      device alone (assoc.serve batch_max 1, batch_wait_ms 0: one engine
 *      run per request, as before it coalesced devices), REFERENCE devices
 *      at the storm's rate, no attacker;
 *   4. the storm: the service with its default limits, DEVICES devices
 *      asking about themselves (each its own TLS connection with its
 *      certificate, POST /v1/associate) spread evenly over DURATION seconds
 *      (60), open loop, each device from its own loopback address (127.1.x.y),
 *      while an attacker holds ATTACKERS (1,000) idle TCP
 *      connections from 50 loopback addresses and opens a new one whenever
 *      one is closed;
 *   5. the simulator's request log, split at the phase boundaries, gives
 *      Graph and login requests, 429s and early retries per phase; the
 *      service's peak resident size comes from /proc.
 * The devices' client is OpenSSL on one SSL_CTX with every device's
 * certificate and key parsed beforehand, so that on a small machine the
 * bench's own TLS set-up does not crowd out the service.
 * Answer time runs from a device's scheduled start to its answer. A human
 * table goes to stdout and, as the last line, one JSON object. Exit 0 when
 * it measured (whether or not the goals were met), 1 on errors, 2 on wrong
 * arguments. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench/bench_util.h"

#define GOAL_P99_MS 2000.0
#define GOAL_REQUESTS_PER_DEVICE_MAX 0.5
#define HANDSHAKE_TIMEOUT_S 5 /* assoc.serve's default */
#define ATTACKER_ADDRESSES 50
#define TENANT_ID "0c0c0c0c-0000-4000-8000-0000000a5500"
#define DOMAIN "contoso.example"
#define NETBIOS "CONTOSO"
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
	const char *ssrp;   /* ssrp-sim: the simulated cloud */
	const char *assocd; /* ssrp-assocd: the service measured */
	long devices, reference, attackers;
	double duration_s;
	int latency_ms;
	double throttle_rate;
	const char *workers; /* NULL: the service's default */
	const char *keep;
} opts;

typedef struct phase_log {
	long requests, graph, login, throttled, early;
} phase_log;

typedef struct storm_result {
	long devices, answered, failed;
	double p50_ms, p99_ms, max_ms, seconds;
} storm_result;

static char work[512];

/* ---- small helpers ------------------------------------------------------ */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ---- the tenant ---------------------------------------------------------- */

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
	for (long k = 0; k < devices * 2; k++)
		fprintf(f,
			",{\"id\":\"" USER_ID_FMT "\",\"userPrincipalName\":\"user%ld@" DOMAIN "\","
			"\"displayName\":\"User %ld\",\"onPremisesSamAccountName\":\"user%ld\","
			"\"onPremisesDomainName\":\"corp." DOMAIN "\",\"usageLocation\":\"US\","
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

/* ---- the simulator -------------------------------------------------------- */

static int sim_start(const opts *o, bench_cloud *s, const char *state)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/cloud", work);
	char faults[256];
	/* The 429s first: the first rule that fires decides. */
	if (o->throttle_rate > 0)
		snprintf(faults, sizeof faults, "graph/*:429:1@rate=%g,seed=7;graph/*:latency:%d",
			 o->throttle_rate, o->latency_ms);
	else
		snprintf(faults, sizeof faults, "graph/*:latency:%d", o->latency_ms);
	char *extra[] = {"--state", (char *)state, "--faults", faults, NULL};
	return bench_cloud_start(s, o->ssrp, dir, extra, "bench_serve");
}


/* The service account's refresh token, by the password grant to the
 * public client, written to path (0600). */
static int get_refresh_token(const bench_cloud *s, const char *password, const char *path)
{
	CURL *c = curl_easy_init();
	char *pw = curl_easy_escape(c, password, 0);
	char *scope = curl_easy_escape(c, "https://graph.microsoft.com/.default offline_access", 0);
	char body[1024], connect[300];
	snprintf(body, sizeof body,
		 "grant_type=password&client_id=" PUBLIC_ID "&username=%s&password=%s&scope=%s",
		 "ssrp-svc%40" DOMAIN, pw, scope);
	curl_free(pw);
	curl_free(scope);
	snprintf(connect, sizeof connect, "login.microsoftonline.com:443:127.0.0.1:%d", s->port);
	struct curl_slist *ct = curl_slist_append(NULL, connect);
	bench_body b = {0};
	curl_easy_setopt(c, CURLOPT_URL,
			 "https://login.microsoftonline.com/" TENANT_ID "/oauth2/v2.0/token");
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)&b);
	long st = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	curl_slist_free_all(ct);
	OPENSSL_cleanse(body, sizeof body);
	cJSON *j = b.p ? cJSON_Parse(b.p) : NULL;
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
	int rc = -1;
	if (st == 200 && cJSON_IsString(rt))
		rc = write_private(path, rt->valuestring);
	else
		fprintf(stderr, "bench_serve: no refresh token for " SVC_UPN " (HTTP %ld)\n", st);
	if (b.p)
		OPENSSL_cleanse(b.p, b.len);
	cJSON_Delete(j); /* the parsed copy is not zeroed: a throw-away bench token */
	free(b.p);
	return rc;
}

/* The service's configuration: the simulator's, plus the app, the service
 * account and the "assoc" member's domains; serve_limits (JSON, or NULL
 * for the defaults) as assoc.serve. */
static int write_config(const bench_cloud *s, const char *path, const char *serve_limits)
{
	char *text = bench_read_file(s->config, NULL);
	cJSON *cfg = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!cfg) {
		fprintf(stderr, "bench_serve: cannot read %s\n", s->config);
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
	cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, "assoc");
	cJSON_DeleteItemFromObject(a, "domains");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(a, "domains"), NETBIOS, DOMAIN);
	cJSON_DeleteItemFromObject(a, "licence");
	cJSON_AddStringToObject(a, "licence", "check");
	snprintf(p, sizeof p, "%s/assoc-audit.jsonl", work);
	cJSON_DeleteItemFromObject(a, "audit");
	cJSON_AddStringToObject(a, "audit", p);
	if (serve_limits)
		cJSON_AddItemToObject(a, "serve", cJSON_Parse(serve_limits));
	char *out = cJSON_Print(cfg);
	cJSON_Delete(cfg);
	FILE *f = out ? fopen(path, "w") : NULL;
	int rc = f && fputs(out, f) >= 0 ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	free(out);
	return rc;
}

/* ---- the request log ------------------------------------------------------- */

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
		}
		p = nl + 1;
	}
	free(text);
	return 0;
}

/* ---- the service ------------------------------------------------------------ */

typedef struct service {
	pid_t pid;
	int port;
	char err[700];
} service;

static int service_start(const opts *o, service *sv, const char *config, const char *name)
{
	char port_file[700];
	snprintf(port_file, sizeof port_file, "%s/%s.port", work, name);
	snprintf(sv->err, sizeof sv->err, "%s/%s.err", work, name);
	unlink(port_file);
	char *argv[12];
	int n = 0;
	argv[n++] = (char *)o->assocd;
	argv[n++] = "--config";
	argv[n++] = (char *)config;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	if (o->workers) {
		argv[n++] = "--workers";
		argv[n++] = (char *)o->workers;
	}
	argv[n] = NULL;
	sv->pid = bench_spawn(argv, NULL, sv->err);
	if (sv->pid < 0)
		return -1;
	for (int i = 0; i < 3000; i++) {
		char *t = bench_read_file(port_file, NULL);
		sv->port = t ? atoi(t) : 0;
		free(t);
		if (sv->port > 0)
			return 0;
		int st;
		if (waitpid(sv->pid, &st, WNOHANG) == sv->pid) {
			char *e = bench_read_file(sv->err, NULL);
			fprintf(stderr, "bench_serve: ssrp assoc serve exited: %s\n", e ? e : "");
			free(e);
			sv->pid = -1;
			return -1;
		}
		sleep_s(0.01);
	}
	return -1;
}

/* The peak resident size (VmHWM) in KiB. */
static long service_peak_rss(const service *sv)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", (long)sv->pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

/* The CPU time it used so far (user + system), in seconds. */
static double service_cpu_s(const service *sv)
{
	char path[64], text[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)sv->pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	const char *p = strrchr(text, ')');
	unsigned long ut = 0, st = 0;
	/* after the name: state and 10 fields, then utime and stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double own_cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SIGTERM; its last stderr line (the summary) into line. */
static void service_stop(service *sv, char *line, size_t cap)
{
	line[0] = '\0';
	if (sv->pid <= 0)
		return;
	kill(sv->pid, SIGTERM);
	int st;
	waitpid(sv->pid, &st, 0);
	sv->pid = -1;
	char *e = bench_read_file(sv->err, NULL);
	const char *s = e ? strstr(e, " connections: ") : NULL;
	while (s && s > e && s[-1] != '\n')
		s--;
	if (s)
		snprintf(line, cap, "%.*s", (int)strcspn(s, "\n"), s);
	free(e);
}

/* ---- the attacker ------------------------------------------------------------- */

typedef struct attacker {
	int port;
	long target;
	volatile int stop;
	long opened, shed, refused;
	double max_hold_s;
	pthread_t thread;
} attacker;

static int attack_connect(const attacker *a, long k)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	char ip[32];
	snprintf(ip, sizeof ip, "127.0.2.%ld", 1 + k % ATTACKER_ADDRESSES);
	inet_pton(AF_INET, ip, &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons((uint16_t)a->port);
	if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
	    (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Holds `target` idle connections (no TLS, nothing sent); one closed by
 * the service is replaced at once. */
static void *attacker_main(void *arg)
{
	attacker *a = arg;
	long n = a->target;
	struct pollfd *pf = calloc((size_t)n, sizeof *pf);
	double *since = calloc((size_t)n, sizeof *since);
	if (!pf || !since) {
		free(pf);
		free(since);
		return NULL;
	}
	for (long k = 0; k < n; k++) {
		pf[k].fd = attack_connect(a, k);
		pf[k].events = POLLIN;
		since[k] = now_s();
		if (pf[k].fd >= 0)
			a->opened++;
	}
	while (!a->stop) {
		poll(pf, (nfds_t)n, 50);
		double now = now_s();
		for (long k = 0; k < n; k++) {
			if (pf[k].fd >= 0) {
				if (!pf[k].revents)
					continue;
				char b[512];
				ssize_t r = recv(pf[k].fd, b, sizeof b, MSG_DONTWAIT);
				if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
					continue;
				a->shed++;
				if (now - since[k] > a->max_hold_s)
					a->max_hold_s = now - since[k];
				close(pf[k].fd);
			}
			pf[k].fd = attack_connect(a, k);
			pf[k].revents = 0;
			since[k] = now;
			if (pf[k].fd >= 0)
				a->opened++;
			else
				a->refused++;
		}
	}
	for (long k = 0; k < n; k++)
		if (pf[k].fd >= 0)
			close(pf[k].fd);
	free(pf);
	free(since);
	return NULL;
}

/* ---- the devices -------------------------------------------------------------- */

/* A device's TLS client: one SSL_CTX for all (the CA loaded once), each
 * connection with its device's certificate and key, parsed before the
 * storm, so the bench spends its time on handshakes rather than on setting
 * up OpenSSL for every device (as a client library would). */
typedef struct device_creds {
	X509 *cert, *issuer;
	EVP_PKEY *key;
} device_creds;

static int load_creds(const bench_cloud *s, long dev, device_creds *c)
{
	char id[64], path[1200];
	snprintf(id, sizeof id, DEVICE_ID_FMT, dev);
	snprintf(path, sizeof path, "%s/devices/%s.pem", s->dir, id);
	FILE *f = fopen(path, "r");
	if (f) {
		c->cert = PEM_read_X509(f, NULL, NULL, NULL);
		c->issuer = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/devices/%s.key", s->dir, id);
	if ((f = fopen(path, "r"))) {
		c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (c->cert && c->issuer && c->key)
		return 0;
	fprintf(stderr, "bench_serve: cannot load the certificate of device %s\n", id);
	return -1;
}

static void free_creds(device_creds *c)
{
	X509_free(c->cert);
	X509_free(c->issuer);
	EVP_PKEY_free(c->key);
}

enum { DEV_CONNECTING, DEV_HANDSHAKE, DEV_SENDING, DEV_READING };

typedef struct dev_conn {
	long device;
	double due;
	int fd, state;
	SSL *ssl;
	char req[600];
	size_t req_len;
	char resp[8192];
	size_t resp_len;
} dev_conn;

static int dev_open(dev_conn *d, SSL_CTX *ctx, const device_creds *cr, int port)
{
	d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -1;
	/* Each device from its own address, as on a network (all from
	 * 127.0.0.1 would meet the per-address limit). */
	struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	char ip[32];
	snprintf(ip, sizeof ip, "127.1.%ld.%ld", (d->device >> 8) & 255, 1 + (d->device & 255) % 254);
	inet_pton(AF_INET, ip, &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons((uint16_t)port);
	if (bind(d->fd, (struct sockaddr *)&from, sizeof from) != 0 ||
	    (connect(d->fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS))
		return -1;
	d->ssl = SSL_new(ctx);
	if (!d->ssl || SSL_use_certificate(d->ssl, cr->cert) != 1 ||
	    SSL_use_PrivateKey(d->ssl, cr->key) != 1 || SSL_add1_chain_cert(d->ssl, cr->issuer) != 1)
		return -1;
	SSL_set_fd(d->ssl, d->fd);
	SSL_set_tlsext_host_name(d->ssl, "127.0.0.1");
	d->state = DEV_CONNECTING;
	return 0;
}

static void dev_close(dev_conn *d)
{
	SSL_free(d->ssl);
	d->ssl = NULL;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* Step a connection on; the poll events it waits for next, 0 when it is
 * finished (then *ok says whether it got a settled answer). */
static short dev_step(dev_conn *d, int *ok)
{
	int r = 0;
	for (;;) {
		switch (d->state) {
		case DEV_CONNECTING:
			d->state = DEV_HANDSHAKE;
			continue;
		case DEV_HANDSHAKE:
			r = SSL_connect(d->ssl);
			if (r == 1) {
				d->state = DEV_SENDING;
				continue;
			}
			break;
		case DEV_SENDING:
			r = SSL_write(d->ssl, d->req, (int)d->req_len);
			if (r == (int)d->req_len) {
				d->state = DEV_READING;
				continue;
			}
			break;
		case DEV_READING:
			r = SSL_read(d->ssl, d->resp + d->resp_len, (int)(sizeof d->resp - 1 - d->resp_len));
			if (r > 0) {
				d->resp_len += (size_t)r;
				d->resp[d->resp_len] = '\0';
				if (d->resp_len + 1 < sizeof d->resp)
					continue;
			}
			if (r > 0 || (SSL_get_error(d->ssl, r) != SSL_ERROR_WANT_READ &&
				       SSL_get_error(d->ssl, r) != SSL_ERROR_WANT_WRITE)) {
				/* the service closes after its answer */
				*ok = !strncmp(d->resp, "HTTP/1.1 200", 12) &&
				      strstr(d->resp, "\"decisions\":[{") &&
				      !strstr(d->resp, "\"outcome\":\"failed\"");
				return 0;
			}
			break;
		}
		int e = SSL_get_error(d->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			return POLLIN;
		if (e == SSL_ERROR_WANT_WRITE)
			return POLLOUT;
		*ok = 0;
		return 0;
	}
}

/* Devices [first, first+count) ask about themselves, device k at start +
 * k * spacing_s; answer times into r. */
static int run_devices(const bench_cloud *s, int port, long first, long count, double spacing_s,
		       storm_result *r)
{
	memset(r, 0, sizeof *r);
	r->devices = count;
	double *times = calloc((size_t)count, sizeof *times);
	device_creds *creds = calloc((size_t)count, sizeof *creds);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int rc = -1;
	if (!times || !creds || !ctx || SSL_CTX_load_verify_locations(ctx, s->ca, NULL) != 1)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	for (long k = 0; k < count; k++)
		if (load_creds(s, first + k, &creds[k]))
			goto out;
	size_t cap = 16384, n = 0;
	dev_conn **act = calloc(cap, sizeof *act);
	struct pollfd *pf = calloc(cap, sizeof *pf);
	if (!act || !pf) {
		free(act);
		free(pf);
		goto out;
	}
	double start = now_s() + 0.2;
	long next = 0, done = 0, n_times = 0;
	while (done < count) {
		double now = now_s();
		while (next < count && start + (double)next * spacing_s <= now && n < cap) {
			dev_conn *d = calloc(1, sizeof *d);
			if (!d)
				break;
			d->device = first + next;
			d->due = start + (double)next * spacing_s;
			d->fd = -1;
			char id[64], body[300];
			snprintf(id, sizeof id, DEVICE_ID_FMT, d->device);
			int bl = snprintf(body, sizeof body,
					  "{\"deviceId\":\"%s\",\"users\":[\"user%ld@" DOMAIN
					  "\",\"" NETBIOS "\\\\user%ld\"]}",
					  id, 2 * d->device, 2 * d->device + 1);
			d->req_len = (size_t)snprintf(d->req, sizeof d->req,
						      "POST /v1/associate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
						      "Content-Type: application/json\r\n"
						      "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
						      bl, body);
			if (dev_open(d, ctx, &creds[next], port)) {
				r->failed++;
				done++;
				dev_close(d);
				free(d);
			} else {
				act[n] = d;
				pf[n] = (struct pollfd){.fd = d->fd, .events = POLLOUT};
				n++;
			}
			next++;
		}
		double wait = next < count ? start + (double)next * spacing_s - now_s() : 0.05;
		int ms = wait <= 0 ? 0 : wait > 0.05 ? 50 : (int)(wait * 1000.0) + 1;
		poll(pf, (nfds_t)n, ms);
		for (size_t i = 0; i < n;) {
			dev_conn *d = act[i];
			if (!pf[i].revents) {
				i++;
				continue;
			}
			int ok = 0;
			short ev = dev_step(d, &ok);
			if (ev) {
				pf[i].events = ev;
				pf[i].revents = 0;
				i++;
				continue;
			}
			double took = (now_s() - d->due) * 1000.0;
			if (ok) {
				r->answered++;
				times[n_times++] = took;
			} else if (++r->failed <= 3) {
				fprintf(stderr, "bench_serve: device %ld: no settled answer: %.120s\n",
					d->device, d->resp_len ? d->resp : "(nothing)");
			}
			done++;
			dev_close(d);
			free(d);
			act[i] = act[--n];
			pf[i] = pf[n];
		}
	}
	r->seconds = now_s() - start;
	free(act);
	free(pf);
	if (n_times) {
		qsort(times, (size_t)n_times, sizeof *times, cmp_double);
		r->p50_ms = times[n_times / 2];
		r->p99_ms = times[(size_t)((double)(n_times - 1) * 0.99)];
		r->max_ms = times[n_times - 1];
	}
	rc = 0;
out:
	for (long k = 0; creds && k < count; k++)
		free_creds(&creds[k]);
	free(creds);
	free(times);
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_serve --ssrp PATH --assocd PATH [--devices N] [--duration S] [--attackers N]\n"
		"                   [--reference-devices N] [--workers N] [--latency-ms MS]\n"
		"                   [--throttle-rate R] [--keep DIR]\n");
	return 2;
}

typedef struct phase {
	storm_result r;
	phase_log log;
	long rss_kib;
	double service_cpu_s, client_cpu_s;
	char summary[600];
} phase;

/* One phase: the service with serve_limits, devices [first, first+count)
 * at the storm's rate, an attacker when attackers > 0. */
static int run_phase(const opts *o, const bench_cloud *s, const char *name, const char *serve_limits,
		     long first, long count, long attackers, phase *ph, attacker *atk)
{
	char config[700];
	snprintf(config, sizeof config, "%s/%s.json", work, name);
	service sv = {-1, 0, ""};
	if (write_config(s, config, serve_limits) || service_start(o, &sv, config, name))
		return -1;
	if (attackers > 0) {
		atk->port = sv.port;
		atk->target = attackers;
		if (pthread_create(&atk->thread, NULL, attacker_main, atk)) {
			service_stop(&sv, ph->summary, sizeof ph->summary);
			return -1;
		}
		sleep_s(1.0); /* the attacker is in place before the devices come */
	}
	long log_from = file_size(s->log);
	double spacing = o->duration_s / (double)o->devices;
	double cpu0 = service_cpu_s(&sv), own0 = own_cpu_s();
	int rc = run_devices(s, sv.port, first, count, spacing, &ph->r);
	ph->service_cpu_s = service_cpu_s(&sv) - cpu0;
	ph->client_cpu_s = own_cpu_s() - own0;
	sleep_s(0.5); /* the log's last lines */
	long log_to = file_size(s->log);
	if (attackers > 0) {
		atk->stop = 1;
		pthread_join(atk->thread, NULL);
	}
	ph->rss_kib = service_peak_rss(&sv);
	service_stop(&sv, ph->summary, sizeof ph->summary);
	if (!rc)
		rc = read_log(s, log_from, log_to, &ph->log);
	return rc;
}

int main(int argc, char **argv)
{
	opts o = {NULL, NULL, 10000, 1000, 1000, 60.0, 20, 0.01, NULL, NULL};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage();
		if (!strcmp(a, "--ssrp"))
			o.ssrp = v;
		else if (!strcmp(a, "--assocd"))
			o.assocd = v;
		else if (!strcmp(a, "--devices"))
			o.devices = atol(v);
		else if (!strcmp(a, "--duration"))
			o.duration_s = atof(v);
		else if (!strcmp(a, "--attackers"))
			o.attackers = atol(v);
		else if (!strcmp(a, "--reference-devices"))
			o.reference = atol(v);
		else if (!strcmp(a, "--workers"))
			o.workers = v;
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
	if (!o.ssrp || !o.assocd || o.devices < 1 || o.reference < 1 || o.attackers < 0 || o.duration_s <= 0 ||
	    o.latency_ms < 0 || o.throttle_rate < 0 || o.throttle_rate >= 1)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (o.keep) {
		snprintf(work, sizeof work, "%s", o.keep);
		mkdir(work, 0700);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(work, sizeof work, "%s/ssrp-bench-serve.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(work)) {
			perror("bench_serve: mkdtemp");
			return 1;
		}
	}
	char state[600], app_secret_file[600], rt_file[600];
	snprintf(state, sizeof state, "%s/tenant.json", work);
	snprintf(app_secret_file, sizeof app_secret_file, "%s/app-secret", work);
	snprintf(rt_file, sizeof rt_file, "%s/service-refresh-token", work);

	int failed = 1;
	bench_cloud s = {0};
	char app_secret[65], svc_password[65];
	phase ref = {0}, storm = {0};
	attacker atk = {0};
	double t0 = now_s();
	if (random_hex(app_secret, 24) || random_hex(svc_password, 24) ||
	    write_private(app_secret_file, app_secret) ||
	    write_state(state, o.reference + o.devices, app_secret, svc_password)) {
		fprintf(stderr, "bench_serve: cannot write the tenant in %s\n", work);
		goto out;
	}
	fprintf(stderr, "bench_serve: starting the simulated cloud (%ld devices with certificates)\n",
		o.reference + o.devices);
	if (sim_start(&o, &s, state) || get_refresh_token(&s, svc_password, rt_file))
		goto out;
	double setup_s = now_s() - t0;
	fprintf(stderr, "bench_serve: reference (one engine run per device), %ld devices\n",
		o.reference);
	if (run_phase(&o, &s, "reference", "{\"batch_max\":1,\"batch_wait_ms\":0}", 0, o.reference,
		      0, &ref, NULL))
		goto out;
	fprintf(stderr, "bench_serve: the storm, %ld devices in %g s beside %ld idle connections\n",
		o.devices, o.duration_s, o.attackers);
	if (run_phase(&o, &s, "storm", NULL, o.reference, o.devices, o.attackers, &storm, &atk))
		goto out;

	double ref_rpd = (double)(ref.log.graph + ref.log.login) / (double)o.reference;
	double rpd = (double)(storm.log.graph + storm.log.login) / (double)o.devices;
	int shed_ok = o.attackers == 0 ||
		      (atk.shed > 0 && atk.max_hold_s <= HANDSHAKE_TIMEOUT_S + 1.0);
	int met = storm.r.answered == o.devices && storm.r.p99_ms <= GOAL_P99_MS &&
		  rpd <= GOAL_REQUESTS_PER_DEVICE_MAX && storm.log.early == 0 && shed_ok;

	printf("check-in storm: %ld devices in %.0f s, %ld idle attacker connections, Graph %d ms "
	       "late, %g%% 429s (setup %.0f s)\n",
	       o.devices, o.duration_s, o.attackers, o.latency_ms, o.throttle_rate * 100.0,
	       setup_s);
	printf("%-28s %12s %12s\n", "", "reference", "storm");
	printf("%-28s %12ld %12ld\n", "devices", o.reference, o.devices);
	printf("%-28s %12ld %12ld\n", "answered", ref.r.answered, storm.r.answered);
	printf("%-28s %12.0f %12.0f\n", "p50 answer ms", ref.r.p50_ms, storm.r.p50_ms);
	printf("%-28s %12.0f %12.0f\n", "p99 answer ms", ref.r.p99_ms, storm.r.p99_ms);
	printf("%-28s %12.0f %12.0f\n", "max answer ms", ref.r.max_ms, storm.r.max_ms);
	printf("%-28s %12.3f %12.3f\n", "Graph+login req/device", ref_rpd, rpd);
	printf("%-28s %12ld %12ld\n", "429s", ref.log.throttled, storm.log.throttled);
	printf("%-28s %12ld %12ld\n", "early retries", ref.log.early, storm.log.early);
	printf("%-28s %12ld %12ld\n", "service peak RSS KiB", ref.rss_kib, storm.rss_kib);
	printf("%-28s %12.1f %12.1f\n", "service CPU s", ref.service_cpu_s, storm.service_cpu_s);
	printf("%-28s %12.1f %12.1f\n", "bench (devices+attacker) CPU s", ref.client_cpu_s,
	       storm.client_cpu_s);
	printf("attacker: %ld connections opened, %ld closed by the service (longest held %.1f "
	       "s), %ld not accepted\n",
	       atk.opened, atk.shed, atk.max_hold_s, atk.refused);
	printf("service: %s\n", storm.summary);

	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "devices", (double)o.devices);
	cJSON_AddNumberToObject(j, "duration_s", o.duration_s);
	cJSON_AddNumberToObject(j, "devices_answered", (double)storm.r.answered);
	cJSON_AddNumberToObject(j, "p50_ms", storm.r.p50_ms);
	cJSON_AddNumberToObject(j, "p99_ms", storm.r.p99_ms);
	cJSON_AddNumberToObject(j, "max_ms", storm.r.max_ms);
	cJSON_AddNumberToObject(j, "graph_requests_per_device", rpd);
	cJSON_AddNumberToObject(j, "graph_requests", (double)storm.log.graph);
	cJSON_AddNumberToObject(j, "login_requests", (double)storm.log.login);
	cJSON_AddNumberToObject(j, "throttled_429", (double)storm.log.throttled);
	cJSON_AddNumberToObject(j, "early_retries", (double)storm.log.early);
	cJSON_AddNumberToObject(j, "service_peak_rss_kib", (double)storm.rss_kib);
	cJSON_AddNumberToObject(j, "service_cpu_s", storm.service_cpu_s);
	cJSON_AddNumberToObject(j, "bench_cpu_s", storm.client_cpu_s);
	cJSON_AddNumberToObject(j, "attacker_connections", (double)o.attackers);
	cJSON_AddNumberToObject(j, "attacker_connections_opened", (double)atk.opened);
	cJSON_AddNumberToObject(j, "attacker_connections_shed", (double)atk.shed);
	cJSON_AddNumberToObject(j, "attacker_longest_hold_s", atk.max_hold_s);
	cJSON_AddNumberToObject(j, "reference_devices", (double)o.reference);
	cJSON_AddNumberToObject(j, "reference_graph_requests_per_device", ref_rpd);
	cJSON_AddNumberToObject(j, "reference_p99_ms", ref.r.p99_ms);
	cJSON_AddNumberToObject(j, "ratio_requests_vs_reference", ref_rpd > 0 ? rpd / ref_rpd : 0);
	cJSON_AddNumberToObject(j, "goal_p99_ms", GOAL_P99_MS);
	cJSON_AddNumberToObject(j, "goal_graph_requests_per_device", GOAL_REQUESTS_PER_DEVICE_MAX);
	cJSON_AddNumberToObject(j, "goal_early_retries", 0);
	cJSON_AddNumberToObject(j, "goal_attacker_longest_hold_s", HANDSHAKE_TIMEOUT_S + 1.0);
	cJSON_AddBoolToObject(j, "met", met);
	char *line = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	printf("%s\n", line ? line : "{}");
	free(line);
	failed = 0;
out:
	bench_cloud_stop(&s, o.ssrp);
	if (!o.keep) {
		char *rm[] = {"rm", "-rf", work, NULL};
		bench_run(rm, NULL, NULL);
	}
	curl_global_cleanup();
	return failed;
}
