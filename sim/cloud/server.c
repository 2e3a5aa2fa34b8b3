/* The simulated cloud's HTTPS server (see server.h). libmicrohttpd runs a
 * small pool of epoll threads (MHD_OPTION_THREAD_POOL_SIZE); a handler never
 * sleeps on one of them: a latency fault or a slow body suspends the
 * connection (MHD_suspend_connection) and a timer thread (the "waker")
 * resumes it when its time has come, so other clients on the same pool
 * thread are not held up. Handlers do hold the pool thread while they run,
 * which is fine: they only ever wait for the state lock. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cjson/cJSON.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "hal/text.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/faults.h"
#include "sim/cloud/jobs.h"
#include "sim/cloud/pki.h"
#include "sim/cloud/reqlog.h"
#include "hal/fs.h"
#include "hal/hex.h"
#include "sim/cloud/token_cache.h"
#include "hal/mem.h"
#include "server/device_cert.h"
#include "server/https_server.h"
#include "sim/cloud/server.h"
#include "sim/cloud/token.h"
#include "ssrp/sys/error.h"

#define LOG_PATH_MAX 1024     /* longest path written to the request log */
#define HEADER_ARENA 16384    /* lower-cased header names of one request */
#define JOB_WORKERS 2
#define SLOW_PIECES 8
#define POOL_THREADS_MAX 8

/* Resumes suspended connections at their deadline. */
typedef struct waker_entry {
	struct waker_entry *next;
	uint64_t due_ms;
	struct MHD_Connection *conn;
} waker_entry;

typedef struct waker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	waker_entry *list; /* unsorted: there are only ever a few */
	int stopping;
	int started;
	pthread_t thread;
} waker;

struct cloud_server {
	char dir[1024];
	char env_path[1100];
	char log_path[1100];
	char config_path[1100];
	char admin_token_path[1100];
	char admin_token[65];
	char *job_command;
	size_t max_body;
	int port;
	int assoc_port; /* reserved for `ssrp assoc serve --config config.json` */
	cloud_ctx ctx;
	int demo;
	cloud_demo_secrets secrets;
	cloud_pki pki;
	cloud_reqlog *log;
	cloud_faults *faults;
	cloud_retry_tracker *retries;
	cloud_jobs *jobs;
	struct MHD_Daemon *mhd;
	waker waker;
	char **webhook_hosts;
	size_t n_webhook_hosts;
	char device_cert_id[CLOUD_ID_LEN + 1]; /* demo device, for the env file */
};

/* Per connection: the verified client certificate, looked at once. */
typedef struct conn_ctx {
	int checked;
	char cn[CLOUD_ID_LEN + 64];
	int has_cn;
} conn_ctx;

/* Per request (made by the URI log callback, freed when it completes). */
typedef struct req_ctx {
	char *raw_uri;
	struct timespec start;
	int started;
	int too_large;
	int prepared;   /* rq built and the fault decided (survives a suspension) */
	int bad_target; /* the path had a bad escape */
	int early;
	uint8_t *body;
	size_t body_len, body_cap;
	cloud_request rq;
	cloud_fault fault;
	const char *svc;
	int admin;
	char *path;
	char request_id[CLOUD_ID_LEN + 1];
	char host[256];
	char addr[64];
	char ip[48];
	char retry_key[1400];
	size_t arena_used;
	char arena[HEADER_ARENA]; /* last: not zeroed at allocation */
} req_ctx;

/* The body of a truncated or slow response. */
typedef struct body_stream {
	char *data;
	size_t len;
	size_t limit;   /* bytes to send before ending (len, or len/2 to truncate) */
	size_t piece;   /* bytes per call */
	unsigned pause_ms;
	uint64_t due_ms; /* when the next piece may go; 0: not waiting */
	struct MHD_Connection *conn;
	waker *waker;
} body_stream;

static uint64_t wall_now(void)
{
	return (uint64_t)time(NULL);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the waker ------------------------------------------------------------ */

static void *waker_main(void *arg)
{
	waker *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		uint64_t now = mono_ms(), next = UINT64_MAX;
		for (waker_entry **pp = &w->list; *pp;) {
			waker_entry *e = *pp;
			if (e->due_ms <= now) {
				*pp = e->next;
				MHD_resume_connection(e->conn);
				free(e);
			} else {
				if (e->due_ms < next)
					next = e->due_ms;
				pp = &e->next;
			}
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&w->cond, &w->lock);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t wait = next - now;
			ts.tv_sec += (time_t)(wait / 1000u);
			ts.tv_nsec += (long)(wait % 1000u) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int waker_start(waker *w)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, waker_main, w) != 0)
		return ssrp_error_set(SSRP_E_GENERIC, "cannot start the timer thread");
	w->started = 1;
	return SSRP_OK;
}

/* Suspend conn and have it resumed ms from now. 0 when the server is
 * stopping (or out of memory): then the caller goes on without waiting. The
 * suspension happens under the waker's lock, so waker_stop() sees it. */
static int waker_sleep(waker *w, struct MHD_Connection *conn, unsigned ms)
{
	if (!w->started || ms == 0)
		return 0;
	waker_entry *e = malloc(sizeof *e);
	if (!e)
		return 0;
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		free(e);
		return 0;
	}
	e->due_ms = mono_ms() + ms;
	e->conn = conn;
	e->next = w->list;
	w->list = e;
	MHD_suspend_connection(conn);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 1;
}

/* Resume every waiting connection (MHD must not stop with one suspended)
 * and end the thread. */
static void waker_stop(waker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	while (w->list) {
		waker_entry *e = w->list;
		w->list = e->next;
		MHD_resume_connection(e->conn);
		free(e);
	}
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	w->started = 0;
}

/* ---- files ------------------------------------------------------------ */

static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	return ssrp_fs_write_atomic(path, data, len, mode);
}

static int write_secret(const cloud_server *srv, const char *name, const char *value, char *path,
			size_t cap)
{
	if ((size_t)snprintf(path, cap, "%s/%s", srv->dir, name) >= cap)
		return ssrp_error_set(SSRP_E_INVALID, "path too long: %s/%s", srv->dir, name);
	return write_file(path, value, strlen(value), 0600);
}

/* The signing key for tokens and its certificate: kept in DIR so that
 * tokens issued before a restart still verify after it. */
static int load_token_key(cloud_server *srv)
{
	return cloud_pki_token_signer(srv->dir, &srv->ctx.token_key, srv->ctx.token_kid, &srv->ctx.token_x5c);
}

/* Webhook hosts named in a state file (for the certificate and the
 * connect-to list), read with cJSON: state.h has no way to list them. */
static int read_webhook_hosts(cloud_server *srv, const char *state_file)
{
	FILE *f = fopen(state_file, "rb");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "cannot open %s: %s", state_file, strerror(errno));
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
	size_t n = text ? fread(text, 1, (size_t)size, f) : 0;
	fclose(f);
	if (!text)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading %s", state_file);
	cJSON *root = cJSON_ParseWithLength(text, n);
	free(text);
	const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(root, "webhooks"), *w;
	cJSON_ArrayForEach(w, hooks) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(w, "host");
		if (!cJSON_IsString(h))
			continue;
		char **grown = realloc(srv->webhook_hosts,
				       (srv->n_webhook_hosts + 1) * sizeof *srv->webhook_hosts);
		if (!grown)
			break;
		srv->webhook_hosts = grown;
		if ((grown[srv->n_webhook_hosts] = strdup(h->valuestring)) != NULL)
			srv->n_webhook_hosts++;
	}
	cJSON_Delete(root);
	return SSRP_OK;
}

/* Single-quoted for sh. */
static void env_line(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s='", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputs("'\n", f);
}

/* A loopback port free right now, for the association service that runs
 * beside the simulator (it binds it when started with config.json). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int port = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* DIR/devices/<deviceId>.json: config.json with that device in "device",
 * what the simulator gives each simulated device's agent. */
static int write_device_config(cloud_server *srv, const cJSON *cfg, const char *device_id)
{
	char cert[1200], key[1200], path[1300];
	int rc = cloud_pki_device_paths(&srv->pki, device_id, cert, sizeof cert, key, sizeof key);
	if (rc)
		return rc;
	cJSON *c = cJSON_Duplicate(cfg, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(c, "device");
	cJSON *d = cJSON_AddObjectToObject(c, "device");
	cJSON_AddStringToObject(d, "device_id", device_id);
	cJSON_AddStringToObject(d, "cert_file", cert);
	cJSON_AddStringToObject(d, "key_file", key);
	cJSON_AddStringToObject(d, "join_type", "azuread");
	char *text = cJSON_Print(c);
	cJSON_Delete(c);
	snprintf(path, sizeof path, "%s/%s.json", srv->pki.device_dir, device_id);
	rc = text ? write_file(path, text, strlen(text), 0644) : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	free(text);
	return rc;
}

static int write_client_files(cloud_server *srv)
{
	int rc;
	char app_secret[1100] = "", admin_pw[1100] = "", user_pw[1100] = "", user2_pw[1100] = "",
	     webhook_url[1100] = "", dev_cert[1200] = "", dev_key[1200] = "", svc_pw[1100] = "",
	     svc_refresh[1100] = "", assoc_cert[1200] = "", assoc_key[1200] = "", device_ca[1200] = "",
	     assoc_audit[1200] = "";
	snprintf(device_ca, sizeof device_ca, "%s/device-ca.pem", srv->pki.dir);
	snprintf(assoc_cert, sizeof assoc_cert, "%s/assoc-server.pem", srv->pki.dir);
	snprintf(assoc_key, sizeof assoc_key, "%s/assoc-server.key", srv->pki.dir);
	snprintf(assoc_audit, sizeof assoc_audit, "%s/assoc-audit.jsonl", srv->dir);
	/* The association service (`ssrp assoc serve`) runs beside the
	 * simulator and needs a server certificate its devices trust. */
	if ((rc = cloud_pki_service_cert(&srv->pki, "assoc-server", CLOUD_HOST_ASSOC)) != SSRP_OK)
		return rc;
	if (srv->demo) {
		char url[512];
		snprintf(url, sizeof url, "https://%s/webhooks?token=%s", srv->secrets.webhook_host,
			 srv->secrets.webhook_token);
		rc = write_secret(srv, "app-secret", srv->secrets.app_secret, app_secret,
				  sizeof app_secret);
		if (!rc)
			rc = write_secret(srv, "admin-password", srv->secrets.admin_password, admin_pw,
					  sizeof admin_pw);
		if (!rc)
			rc = write_secret(srv, "user-password", srv->secrets.user_password, user_pw,
					  sizeof user_pw);
		if (!rc)
			rc = write_secret(srv, "user2-password", srv->secrets.user2_password, user2_pw,
					  sizeof user2_pw);
		if (!rc)
			rc = write_secret(srv, "webhook-url", url, webhook_url, sizeof webhook_url);
		OPENSSL_cleanse(url, sizeof url);
		if (!rc)
			rc = write_secret(srv, "service-password", srv->secrets.service_password, svc_pw,
					  sizeof svc_pw);
		if (!rc) {
			/* As if an administrator had run `ssrp assoc login` once for
			 * the service account. */
			char *refresh = cloud_token_refresh_for(&srv->ctx, srv->secrets.public_client_id,
								srv->secrets.service_upn);
			rc = refresh ? write_secret(srv, "service-refresh-token", refresh, svc_refresh,
						    sizeof svc_refresh)
				     : SSRP_E_GENERIC;
			if (refresh)
				ssrp_free_secret(refresh, strlen(refresh));
		}
		if (!rc)
			rc = cloud_pki_device_paths(&srv->pki, srv->secrets.device_id, dev_cert,
						    sizeof dev_cert, dev_key, sizeof dev_key);
		if (rc)
			return rc;
	}

	/* connect-to entries: the fixed hosts, then every webhook host, then
	 * the association service's host at its own port */
	srv->assoc_port = free_port();
	size_t n_hosts = 4 + srv->n_webhook_hosts;
	const char **hosts = calloc(n_hosts, sizeof *hosts);
	if (!hosts)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	hosts[0] = CLOUD_HOST_LOGIN;
	hosts[1] = CLOUD_HOST_GRAPH;
	hosts[2] = CLOUD_HOST_DRS;
	hosts[3] = CLOUD_HOST_PORTAL;
	for (size_t i = 0; i < srv->n_webhook_hosts; i++)
		hosts[4 + i] = srv->webhook_hosts[i];
	size_t ct_cap = 1;
	for (size_t i = 0; i < n_hosts; i++)
		ct_cap += strlen(hosts[i]) + 32;
	char *connect_to = malloc(ct_cap);
	if (!connect_to) {
		free(hosts);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	size_t ct_len = 0;
	connect_to[0] = '\0';
	cJSON *cfg = cJSON_CreateObject();
	const char *tid = cloud_state_tenant_id(srv->ctx.state);
	const char *tdom = cloud_state_tenant_domain(srv->ctx.state);
	cJSON_AddStringToObject(cfg, "tenant_id", tid ? tid : "");
	cJSON_AddStringToObject(cfg, "tenant_domain", tdom ? tdom : "");
	cJSON *h = cJSON_AddObjectToObject(cfg, "hosts");
	cJSON_AddStringToObject(h, "login", CLOUD_HOST_LOGIN);
	cJSON_AddStringToObject(h, "graph", CLOUD_HOST_GRAPH);
	cJSON_AddStringToObject(h, "drs", CLOUD_HOST_DRS);
	cJSON_AddStringToObject(cfg, "ca_file", srv->pki.ca_file);
	cJSON *ct = cJSON_AddArrayToObject(cfg, "connect_to");
	for (size_t i = 0; i < n_hosts; i++) {
		char entry[400];
		snprintf(entry, sizeof entry, "%s:443:127.0.0.1:%d", hosts[i], srv->port);
		cJSON_AddItemToArray(ct, cJSON_CreateString(entry));
		ct_len += (size_t)snprintf(connect_to + ct_len, ct_cap - ct_len, "%s%s",
					   i ? " " : "", entry);
	}
	free(hosts);
	char assoc_entry[200];
	snprintf(assoc_entry, sizeof assoc_entry, CLOUD_HOST_ASSOC ":443:127.0.0.1:%d", srv->assoc_port);
	cJSON_AddItemToArray(ct, cJSON_CreateString(assoc_entry));
	if (srv->demo) {
		cJSON_AddStringToObject(cfg, "app_id", srv->secrets.app_id);
		cJSON_AddStringToObject(cfg, "app_secret_file", app_secret);
		cJSON_AddStringToObject(cfg, "public_client_id", srv->secrets.public_client_id);
		cJSON *d = cJSON_AddObjectToObject(cfg, "device");
		cJSON_AddStringToObject(d, "device_id", srv->secrets.device_id);
		cJSON_AddStringToObject(d, "cert_file", dev_cert);
		cJSON_AddStringToObject(d, "key_file", dev_key);
		cJSON_AddStringToObject(d, "join_type", "azuread");
		cJSON_AddStringToObject(d, "display_name", srv->secrets.device_name);
		/* SCCM's user-device affinity for the demo device: alice. */
		cJSON *pu = cJSON_AddArrayToObject(d, "primary_users");
		char alice[160];
		snprintf(alice, sizeof alice, "CONTOSO\\%.*s", (int)strcspn(srv->secrets.user_upn, "@"),
			 srv->secrets.user_upn);
		cJSON_AddItemToArray(pu, cJSON_CreateString(alice));
		cJSON_AddStringToObject(cfg, "webhook_url_file", webhook_url);
		cJSON_AddStringToObject(cfg, "refresh_token_file", svc_refresh);
	}
	cJSON *assoc = cJSON_AddObjectToObject(cfg, "assoc");
	if (srv->demo) {
		cJSON *doms = cJSON_AddObjectToObject(assoc, "domains");
		cJSON_AddStringToObject(doms, CLOUD_DEMO_NETBIOS, tdom ? tdom : "");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(assoc, "netbios_dns"),
					CLOUD_DEMO_NETBIOS, CLOUD_DEMO_AD_DOMAIN);
		cJSON_AddStringToObject(assoc, "licence", "check");
		cJSON_AddStringToObject(assoc, "licence_sku", CLOUD_SKU_AAD_PREMIUM);
	}
	cJSON_AddStringToObject(assoc, "audit", assoc_audit);
	cJSON_AddStringToObject(assoc, "tls_cert_file", assoc_cert);
	cJSON_AddStringToObject(assoc, "tls_key_file", assoc_key);
	cJSON_AddStringToObject(assoc, "device_ca_file", device_ca);
	char listen[64];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", srv->assoc_port);
	cJSON_AddStringToObject(assoc, "listen", listen);
	cJSON_AddStringToObject(assoc, "url", "https://" CLOUD_HOST_ASSOC "/");
	/* One configuration per device that has a certificate. */
	cloud_state_lock(srv->ctx.state);
	size_t n_dev = cloud_device_count(srv->ctx.state);
	char(*dev_ids)[CLOUD_ID_LEN + 1] = n_dev ? calloc(n_dev, sizeof *dev_ids) : NULL;
	for (size_t i = 0; dev_ids && i < n_dev; i++)
		memcpy(dev_ids[i], cloud_device_at(srv->ctx.state, i)->device_id, CLOUD_ID_LEN + 1);
	cloud_state_unlock(srv->ctx.state);
	rc = n_dev && !dev_ids ? ssrp_error_set(SSRP_E_NOMEM, "out of memory") : SSRP_OK;
	for (size_t i = 0; rc == SSRP_OK && dev_ids && i < n_dev; i++) {
		char cert[1200], key[1200];
		if (cloud_pki_device_paths(&srv->pki, dev_ids[i], cert, sizeof cert, key, sizeof key) ==
			    SSRP_OK &&
		    access(cert, R_OK) == 0)
			rc = write_device_config(srv, cfg, dev_ids[i]);
	}
	free(dev_ids);
	if (rc) {
		cJSON_Delete(cfg);
		free(connect_to);
		return rc;
	}
	char *cfg_text = cJSON_Print(cfg);
	cJSON_Delete(cfg);
	rc = cfg_text ? write_file(srv->config_path, cfg_text, strlen(cfg_text), 0644)
		      : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	free(cfg_text);
	if (rc) {
		free(connect_to);
		return rc;
	}

	char tmp[1200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", srv->env_path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		free(connect_to);
		return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", tmp, strerror(errno));
	}
	char num[32];
	fprintf(f, "# the ssrp simulated cloud; secrets are files, never values\n");
	snprintf(num, sizeof num, "%ld", (long)getpid());
	env_line(f, "SSRP_SIM_PID", num);
	snprintf(num, sizeof num, "%d", srv->port);
	env_line(f, "SSRP_SIM_PORT", num);
	env_line(f, "SSRP_SIM_DIR", srv->dir);
	env_line(f, "SSRP_SIM_CA", srv->pki.ca_file);
	env_line(f, "SSRP_SIM_CONNECT_TO", connect_to);
	env_line(f, "SSRP_SIM_TENANT_ID", tid ? tid : "");
	env_line(f, "SSRP_SIM_TENANT_DOMAIN", tdom ? tdom : "");
	env_line(f, "SSRP_SIM_ADMIN_TOKEN_FILE", srv->admin_token_path);
	env_line(f, "SSRP_SIM_LOG", srv->log_path);
	env_line(f, "SSRP_SIM_CONFIG", srv->config_path);
	env_line(f, "SSRP_SIM_DEVICE_CERT_DIR", srv->pki.device_dir);
	env_line(f, "SSRP_SIM_PORTAL_URL", "https://" CLOUD_HOST_PORTAL "/");
	env_line(f, "SSRP_SIM_ASSOC_HOST", CLOUD_HOST_ASSOC);
	snprintf(num, sizeof num, "%d", srv->assoc_port);
	env_line(f, "SSRP_SIM_ASSOC_PORT", num);
	if (srv->demo) {
		env_line(f, "SSRP_SIM_APP_ID", srv->secrets.app_id);
		env_line(f, "SSRP_SIM_APP_SECRET_FILE", app_secret);
		env_line(f, "SSRP_SIM_PUBLIC_CLIENT_ID", srv->secrets.public_client_id);
		env_line(f, "SSRP_SIM_ADMIN_UPN", srv->secrets.admin_upn);
		env_line(f, "SSRP_SIM_ADMIN_PASSWORD_FILE", admin_pw);
		env_line(f, "SSRP_SIM_USER_UPN", srv->secrets.user_upn);
		env_line(f, "SSRP_SIM_USER_PASSWORD_FILE", user_pw);
		env_line(f, "SSRP_SIM_USER2_UPN", srv->secrets.user2_upn);
		env_line(f, "SSRP_SIM_USER2_PASSWORD_FILE", user2_pw);
		env_line(f, "SSRP_SIM_DEVICE_ID", srv->secrets.device_id);
		env_line(f, "SSRP_SIM_DEVICE_NAME", srv->secrets.device_name);
		env_line(f, "SSRP_SIM_DEVICE_CERT", dev_cert);
		env_line(f, "SSRP_SIM_DEVICE_KEY", dev_key);
		env_line(f, "SSRP_SIM_WEBHOOK_URL_FILE", webhook_url);
		env_line(f, "SSRP_SIM_SERVICE_UPN", srv->secrets.service_upn);
		env_line(f, "SSRP_SIM_SERVICE_PASSWORD_FILE", svc_pw);
		env_line(f, "SSRP_SIM_SERVICE_REFRESH_TOKEN_FILE", svc_refresh);
	}
	free(connect_to);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, srv->env_path) != 0) {
		int e = errno;
		unlink(tmp);
		return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", srv->env_path, strerror(e));
	}
	return SSRP_OK;
}

/* ---- requests ----------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	req_ctx *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	/* Everything but the header arena (16 KiB) starts zeroed. */
	memset(r, 0, offsetof(req_ctx, arena));
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->raw_uri = strdup(uri ? uri : "/");
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	req_ctx *r = *req_cls;
	if (!r)
		return;
	if (r->raw_uri) {
		/* The query string of a webhook call is its token. */
		OPENSSL_cleanse(r->raw_uri, strlen(r->raw_uri));
		free(r->raw_uri);
	}
	free(r->path);
	if (r->body) {
		/* Bodies carry passwords and recovery keys. */
		OPENSSL_cleanse(r->body, r->body_len);
		free(r->body);
	}
	free(r);
	*req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	(void)conn;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(conn_ctx));
	} else {
		free(*socket_context);
		*socket_context = NULL;
	}
}

static void free_stream(void *cls)
{
	body_stream *s = cls;
	if (s->data)
		ssrp_memzero(s->data, s->len);
	free(s->data);
	free(s);
}

/* A response body handed to libmicrohttpd: it may hold a recovery key or a
 * token, so it is wiped when MHD is done with it. */
typedef struct wiped_body {
	char *data;
	size_t len;
} wiped_body;

static void free_wiped_body(void *cls)
{
	wiped_body *b = cls;
	ssrp_memzero(b->data, b->len);
	free(b->data);
	free(b);
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	body_stream *s = cls;
	if (pos >= s->limit)
		/* Ending with an error makes MHD close the connection with the
		 * announced Content-Length unmet: a truncated body. */
		return s->limit < s->len ? MHD_CONTENT_READER_END_WITH_ERROR
					 : MHD_CONTENT_READER_END_OF_STREAM;
	if (s->pause_ms) {
		/* Pause before every piece: suspend, and send it when resumed. */
		uint64_t now = mono_ms();
		if (!s->due_ms)
			s->due_ms = now + s->pause_ms;
		if (now < s->due_ms && waker_sleep(s->waker, s->conn, (unsigned)(s->due_ms - now)))
			return 0;
		s->due_ms = 0;
	}
	size_t n = s->limit - (size_t)pos;
	if (n > s->piece)
		n = s->piece;
	if (n > max)
		n = max;
	memcpy(buf, s->data + pos, n);
	return (ssize_t)n;
}

/* The subject CN of a device certificate, checked as the association
 * service checks it (server/device_cert.c). */
static void check_client_cert(struct MHD_Connection *conn, conn_ctx *cc)
{
	cc->checked = 1;
	char why[256];
	cc->has_cn = ssrp_device_cert_check(conn, cc->cn, sizeof cc->cn, why, sizeof why);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	(void)kind;
	req_ctx *r = cls;
	cloud_request *rq = &r->rq;
	size_t kl = strlen(key);
	if (rq->n_headers == CLOUD_MAX_REQUEST_HEADERS || r->arena_used + kl + 1 > HEADER_ARENA)
		return MHD_YES;
	char *name = r->arena + r->arena_used;
	for (size_t i = 0; i < kl; i++)
		name[i] = (char)ssrp_ascii_lower((unsigned char)key[i]);
	name[kl] = '\0';
	r->arena_used += kl + 1;
	rq->headers[rq->n_headers].name = name;
	rq->headers[rq->n_headers].value = value ? value : "";
	rq->n_headers++;
	return MHD_YES;
}

/* Split the raw request target into a percent-decoded path (in place in a
 * copy) and the raw query. -1 on a bad escape or an encoded NUL. */
static int split_target(req_ctx *r, char **path, const char **query)
{
	char *t = r->raw_uri;
	/* absolute-form (a proxy-style request line) */
	if (ssrp_ascii_ieq_n(t, "https://", 8) || ssrp_ascii_ieq_n(t, "http://", 7)) {
		char *slash = strchr(strstr(t, "//") + 2, '/');
		t = slash ? slash : (char *)"/";
	}
	size_t pl = strcspn(t, "?#");
	*query = t[pl] == '?' ? t + pl + 1 : "";
	if (t[pl] == '?') {
		/* a fragment never reaches a server, but be safe */
		char *hash = strchr(t + pl + 1, '#');
		if (hash)
			*hash = '\0';
	}
	char *out = malloc(pl + 1);
	if (!out)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < pl; i++) {
		if (t[i] == '%') {
			int hi = i + 2 < pl + 1 ? ssrp_hex_value((unsigned char)t[i + 1]) : -1;
			int lo = hi >= 0 ? ssrp_hex_value((unsigned char)t[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return -1;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = t[i];
		}
	}
	out[o] = '\0';
	*path = out;
	return 0;
}

static char *json_text(cJSON *o)
{
	char *t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return t;
}

/* ---- admin endpoints ------------------------------------------------------ */

static void admin_error(cloud_response *rs, int status, const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cloud_respond_json(rs, status, json_text(o));
}

static const char *job_status_name(cloud_job_status s)
{
	switch (s) {
	case CLOUD_JOB_QUEUED: return "queued";
	case CLOUD_JOB_RUNNING: return "running";
	case CLOUD_JOB_COMPLETED: return "completed";
	default: return "failed";
	}
}

static int token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

static void admin_handle(cloud_server *srv, const cloud_request *rq, const char *ip,
			 cloud_response *rs)
{
	snprintf(rs->identity, sizeof rs->identity, "admin");
	if (strcmp(ip, "127.0.0.1") != 0) {
		admin_error(rs, 403, "Forbidden", "The admin endpoints answer on loopback only.");
		return;
	}
	const char *auth = cloud_request_header(rq, "authorization");
	if (!auth || !ssrp_ascii_ieq_n(auth, "Bearer ", 7) || !token_equal(auth + 7, srv->admin_token)) {
		admin_error(rs, 401, "Unauthorized",
			    "The admin endpoints need 'Authorization: Bearer <admin-token file>'.");
		cloud_response_header(rs, "WWW-Authenticate", "Bearer realm=\"ssrp-sim-admin\"");
		return;
	}
	int get = !strcmp(rq->method, "GET"), post = !strcmp(rq->method, "POST");
	if (get && !strcmp(rq->path, "/admin/state")) {
		cloud_state_lock(srv->ctx.state);
		char *text = cloud_state_to_json(srv->ctx.state);
		cloud_state_unlock(srv->ctx.state);
		if (text)
			cloud_respond_json(rs, 200, text);
		else
			admin_error(rs, 500, "InternalError", "The state could not be serialised.");
	} else if (post && !strcmp(rq->path, "/admin/faults")) {
		char *spec = malloc(rq->body_len + 1);
		if (!spec) {
			admin_error(rs, 500, "InternalError", "Out of memory.");
			return;
		}
		if (rq->body_len)
			memcpy(spec, rq->body, rq->body_len);
		spec[rq->body_len] = '\0';
		if (strlen(spec) != rq->body_len || cloud_faults_set(srv->faults, spec) != SSRP_OK) {
			admin_error(rs, 400, "BadFaultScript",
				    strlen(spec) != rq->body_len ? "The script contains a NUL byte."
								 : ssrp_error_last());
		} else {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "rules", (double)cloud_faults_rule_count(srv->faults));
			cloud_respond_json(rs, 200, json_text(o));
		}
		free(spec);
	} else if (get && !strncmp(rq->path, "/admin/jobs/", 12)) {
		cloud_state_lock(srv->ctx.state);
		cloud_job *j = cloud_job_find(srv->ctx.state, rq->path + 12);
		if (!j) {
			cloud_state_unlock(srv->ctx.state);
			admin_error(rs, 404, "NotFound", "No such job.");
			return;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", j->id);
		cJSON_AddStringToObject(o, "webhook", j->webhook ? j->webhook : "");
		cJSON_AddStringToObject(o, "status", job_status_name(j->status));
		cJSON_AddNumberToObject(o, "created", (double)j->created);
		if (j->output)
			cJSON_AddStringToObject(o, "output", j->output);
		else
			cJSON_AddNullToObject(o, "output");
		cloud_state_unlock(srv->ctx.state);
		cloud_respond_json(rs, 200, json_text(o));
	} else if (post && !strcmp(rq->path, "/admin/keys/delete")) {
		cloud_drs_admin_delete(&srv->ctx, rq, rs);
	} else if (post && !strcmp(rq->path, "/admin/tokens/expire")) {
		cloud_token_expire_all(&srv->ctx);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "expired", 1);
		cloud_respond_json(rs, 200, json_text(o));
	} else if (post && !strcmp(rq->path, "/admin/devicelogin")) {
		cJSON *b = rq->body_len ? cJSON_ParseWithLength((const char *)rq->body, rq->body_len)
					: NULL;
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(b, "user_code");
		const cJSON *upn = cJSON_GetObjectItemCaseSensitive(b, "upn");
		const cJSON *pw = cJSON_GetObjectItemCaseSensitive(b, "password");
		if (!cJSON_IsString(code) || !cJSON_IsString(upn) || !cJSON_IsString(pw)) {
			admin_error(rs, 400, "BadRequest",
				    "Expected {\"user_code\",\"upn\",\"password\"} as strings.");
		} else if (cloud_devicecode_approve(&srv->ctx, code->valuestring, upn->valuestring,
						    pw->valuestring) != 0) {
			const char *msg = ssrp_error_last();
			admin_error(rs, 400, "NotApproved",
				    msg && *msg ? msg : "The device code was not approved.");
		} else {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddBoolToObject(o, "approved", 1);
			cloud_respond_json(rs, 200, json_text(o));
		}
		if (cJSON_IsString(pw))
			OPENSSL_cleanse(pw->valuestring, strlen(pw->valuestring));
		cJSON_Delete(b);
	} else {
		admin_error(rs, 404, "NotFound",
			    "Admin endpoints: GET /admin/state, POST /admin/faults, GET "
			    "/admin/jobs/{id}, POST /admin/devicelogin, POST /admin/tokens/expire, "
			    "POST /admin/keys/delete.");
	}
}

/* ---- the access handler --------------------------------------------------- */

static enum MHD_Result send_response(cloud_server *srv, struct MHD_Connection *conn,
				     cloud_response *rs, const cloud_fault *fault, const char *svc,
				     const cloud_request *rq)
{
	struct MHD_Response *resp;
	int stream = rs->body_len > 0 && (fault->kind == CLOUD_FAULT_TRUNCATE ||
					  fault->kind == CLOUD_FAULT_SLOWBODY);
	if (stream) {
		body_stream *s = calloc(1, sizeof *s);
		if (!s)
			return MHD_NO;
		s->data = rs->body;
		s->len = rs->body_len;
		s->conn = conn;
		s->waker = &srv->waker;
		if (fault->kind == CLOUD_FAULT_TRUNCATE) {
			s->limit = s->len / 2;
			s->piece = s->len;
		} else {
			s->limit = s->len;
			s->piece = (s->len + SLOW_PIECES - 1) / SLOW_PIECES;
			s->pause_ms = fault->ms / SLOW_PIECES;
		}
		rs->body = NULL;
		resp = MHD_create_response_from_callback(s->len, s->piece, read_stream, s, free_stream);
		if (!resp) {
			free_stream(s);
			return MHD_NO;
		}
	} else if (rs->body && rs->body_len) {
		wiped_body *b = malloc(sizeof *b);
		if (!b)
			return MHD_NO;
		b->data = rs->body;
		b->len = rs->body_len;
		resp = MHD_create_response_from_buffer_with_free_callback_cls(rs->body_len, rs->body,
									       free_wiped_body, b);
		if (resp)
			rs->body = NULL; /* MHD frees it through free_wiped_body */
		else
			free(b);
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	if (rs->content_type[0] && rs->status != 204)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	for (size_t i = 0; i < rs->n_headers; i++)
		MHD_add_response_header(resp, rs->headers[i].name, rs->headers[i].value);
	if (svc && !strcmp(svc, "graph")) {
		const char *crid = cloud_request_header(rq, "client-request-id");
		MHD_add_response_header(resp, "request-id", rq->request_id);
		MHD_add_response_header(resp, "client-request-id",
					crid && *crid ? crid : rq->request_id);
	}
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)rs->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Fill r->rq from the connection, and decide the fault and early-retry
 * flag. Everything rq points to lives in r (or in MHD's memory for this
 * request), so it survives a suspension. */
static void prepare(cloud_server *srv, struct MHD_Connection *conn, req_ctx *r, const char *method)
{
	cloud_request *rq = &r->rq;
	cloud_new_id(r->request_id);
	rq->method = method;
	rq->request_id = r->request_id;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, r);
	const char *h = cloud_request_header(rq, "host");
	if (h) {
		size_t hl = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
		if (hl >= sizeof r->host)
			hl = sizeof r->host - 1;
		for (size_t i = 0; i < hl; i++)
			r->host[i] = (char)ssrp_ascii_lower((unsigned char)h[i]);
		r->host[hl] = '\0';
		/* no trailing dot: "graph.microsoft.com." is the same host */
		if (hl && r->host[hl - 1] == '.')
			r->host[hl - 1] = '\0';
	}
	rq->host = r->host;
	snprintf(r->addr, sizeof r->addr, "?");
	snprintf(r->ip, sizeof r->ip, "?");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ci->client_addr;
		inet_ntop(AF_INET, &sin->sin_addr, r->ip, sizeof r->ip);
		snprintf(r->addr, sizeof r->addr, "%s:%u", r->ip, (unsigned)ntohs(sin->sin_port));
	}
	rq->client_addr = r->addr;
	const union MHD_ConnectionInfo *sci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn_ctx *cc = sci ? sci->socket_context : NULL;
	if (cc && !cc->checked)
		check_client_cert(conn, cc);
	rq->client_cert_cn = cc && cc->has_cn ? cc->cn : NULL;
	rq->body = r->body;
	rq->body_len = r->body_len;
	const char *query = "";
	if (split_target(r, &r->path, &query) != 0) {
		r->bad_target = 1;
		rq->path = "/";
		rq->query = "";
		return;
	}
	rq->path = r->path;
	rq->query = query;
	r->admin = !strncmp(r->path, "/admin/", 7) || !strcmp(r->path, "/admin");
	r->svc = r->admin ? NULL : cloud_service_of(r->host);
	if (!r->svc)
		return;
	cloud_retry_key(rq, r->ip, r->retry_key, sizeof r->retry_key);
	r->early = cloud_retry_is_early(srv->retries, r->retry_key, mono_ms());
	char subject[1200];
	snprintf(subject, sizeof subject, "%s%s", r->svc, r->path);
	cloud_faults_decide(srv->faults, method, subject, &r->fault);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	(void)url;
	(void)version;
	cloud_server *srv = cls;
	req_ctx *r = *req_cls;
	if (!r || !r->raw_uri)
		return MHD_NO; /* out of memory in on_uri */
	if (!r->started) {
		r->started = 1;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > srv->max_body)
			r->too_large = 1;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->too_large || r->body_len + n > srv->max_body) {
			r->too_large = 1;
			return MHD_YES; /* read and drop the rest */
		}
		if (r->body_len + n > r->body_cap) {
			size_t cap = r->body_cap ? r->body_cap : 4096;
			while (cap < r->body_len + n)
				cap *= 2;
			uint8_t *grown = malloc(cap);
			if (!grown)
				return MHD_NO;
			/* Copy rather than realloc so no stale copy of a secret
			 * body stays in freed memory. */
			if (r->body) {
				memcpy(grown, r->body, r->body_len);
				OPENSSL_cleanse(r->body, r->body_len);
				free(r->body);
			}
			r->body = grown;
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		return MHD_YES;
	}

	/* The whole request is in. Build the cloud_request and decide the
	 * fault once: with a latency fault the connection is suspended here
	 * and this handler runs again when it is resumed. */
	cloud_request *rq = &r->rq;
	if (!r->prepared) {
		r->prepared = 1;
		prepare(srv, conn, r, method);
		if (r->fault.kind == CLOUD_FAULT_LATENCY && !r->too_large &&
		    waker_sleep(&srv->waker, conn, r->fault.ms))
			return MHD_YES;
	}

	cloud_response rs;
	cloud_response_init(&rs);
	int reset = 0;
	if (r->bad_target) {
		admin_error(&rs, 400, "BadRequest", "The request path has a bad percent escape.");
	} else if (r->too_large) {
		admin_error(&rs, 413, "RequestEntityTooLarge",
			    "The request body is larger than the simulator accepts.");
	} else if (r->fault.kind == CLOUD_FAULT_RESET) {
		reset = 1;
	} else if (r->fault.kind == CLOUD_FAULT_STATUS) {
		cloud_fault_respond(r->svc, rq, &r->fault, &rs);
	} else if (r->admin) {
		admin_handle(srv, rq, r->ip, &rs);
	} else {
		cloud_dispatch(&srv->ctx, rq, &rs);
	}
	if ((rs.status == 429 || rs.status == 503) && r->svc) {
		for (size_t i = 0; i < rs.n_headers; i++)
			if (ssrp_ascii_ieq(rs.headers[i].name, "retry-after"))
				cloud_retry_note(srv->retries, r->retry_key, mono_ms(),
						 rs.headers[i].value);
	}

	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	char log_path[LOG_PATH_MAX + 1];
	snprintf(log_path, sizeof log_path, "%s", rq->path);
	cloud_reqlog_entry e = {
		.request_id = r->request_id,
		.identity = rs.identity,
		.client_addr = r->addr,
		.method = method,
		.host = r->host,
		.path = log_path,
		.status = reset ? 0 : rs.status,
		.ms = (double)(end.tv_sec - r->start.tv_sec) * 1e3 +
		      (double)(end.tv_nsec - r->start.tv_nsec) / 1e6,
		.fault = r->fault.kind != CLOUD_FAULT_NONE ? r->fault.label : NULL,
		.early_retry = r->early,
	};
	cloud_reqlog_write(srv->log, &e);

	enum MHD_Result ret =
		reset ? MHD_NO : send_response(srv, conn, &rs, &r->fault, r->svc, rq);
	cloud_response_free(&rs);
	return ret;
}

/* ---- lifecycle ------------------------------------------------------------ */

static int make_dir(const char *dir)
{
	return ssrp_fs_mkdirs(dir, 0700);
}

static int make_device_certs(cloud_server *srv, long limit)
{
	cloud_state_lock(srv->ctx.state);
	size_t n = cloud_device_count(srv->ctx.state);
	if (limit >= 0 && (size_t)limit < n)
		n = (size_t)limit;
	char(*ids)[CLOUD_ID_LEN + 1] = n ? calloc(n, sizeof *ids) : NULL;
	if (n && !ids) {
		cloud_state_unlock(srv->ctx.state);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		memcpy(ids[i], cloud_device_at(srv->ctx.state, i)->device_id, CLOUD_ID_LEN + 1);
	cloud_state_unlock(srv->ctx.state);
	int rc = SSRP_OK;
	const char *tid = cloud_state_tenant_id(srv->ctx.state);
	for (size_t i = 0; i < n && rc == SSRP_OK; i++)
		rc = cloud_pki_device_cert(&srv->pki, ids[i], tid);
	/* The demo device always gets one, whatever the limit. */
	if (rc == SSRP_OK && srv->demo)
		rc = cloud_pki_device_cert(&srv->pki, srv->secrets.device_id, tid);
	free(ids);
	return rc;
}

/* Loading a tenant parses its whole JSON text (twice: state.c, and here
 * for the webhook hosts); give that memory back so the resident size is
 * what the directory itself needs. */
static int trim_heap(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	return SSRP_OK;
}

static int start_mhd(cloud_server *srv, int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* One epoll thread per CPU: more only adds context switches (measured
	 * with bench/cloud.sh: 2 threads on 2 CPUs beat 4 and one per
	 * connection). */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int pool = cpus < 2 ? 2u : cpus > POOL_THREADS_MAX ? POOL_THREADS_MAX : (unsigned)cpus;
	const ssrp_https_options o = {
		.addr = (const struct sockaddr *)&a,
		.thread_flags = MHD_USE_EPOLL_INTERNAL_THREAD,
		.threads = pool,
		.idle_timeout_s = 120,
		.connection_limit = 1024,
		.key_pem = srv->pki.server_key_pem,
		.cert_pem = srv->pki.server_cert_pem,
		.trust_pem = srv->pki.trust_pem,
		.log_prefix = "ssrp sim cloud: libmicrohttpd: ",
		.on_request = on_request,
		.on_uri = on_uri,
		.on_completed = on_completed,
		.on_connection = on_connection,
		.cls = srv,
	};
	int rc = ssrp_https_start(&srv->mhd, &srv->port, NULL, &o);
	if (rc)
		return ssrp_error_prefix(rc, "the simulated cloud on 127.0.0.1:%d (port taken?)",
					 port);
	return SSRP_OK;
}

int cloud_server_start(cloud_server **out, const cloud_server_config *cfg)
{
	*out = NULL;
	if (!cfg || !cfg->dir || !*cfg->dir)
		return ssrp_error_set(SSRP_E_INVALID, "the simulated cloud needs a directory");
	if (cfg->port < 0 || cfg->port > 65535)
		return ssrp_error_set(SSRP_E_INVALID, "bad port %d", cfg->port);
	cloud_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	int rc = make_dir(cfg->dir);
	char *abs = rc ? NULL : realpath(cfg->dir, NULL);
	if (!rc && (!abs || strlen(abs) >= sizeof srv->dir - 128))
		rc = ssrp_error_set(SSRP_E_INVALID, "cannot use directory %s", cfg->dir);
	if (rc) {
		free(abs);
		free(srv);
		return rc;
	}
	strcpy(srv->dir, abs);
	free(abs);
	snprintf(srv->env_path, sizeof srv->env_path, "%s",
		 cfg->env_out ? cfg->env_out : "");
	if (!cfg->env_out)
		snprintf(srv->env_path, sizeof srv->env_path, "%s/" CLOUD_SERVER_ENV_FILE, srv->dir);
	if (cfg->log_path)
		snprintf(srv->log_path, sizeof srv->log_path, "%s", cfg->log_path);
	else
		snprintf(srv->log_path, sizeof srv->log_path, "%s/requests.jsonl", srv->dir);
	snprintf(srv->config_path, sizeof srv->config_path, "%s/config.json", srv->dir);
	snprintf(srv->admin_token_path, sizeof srv->admin_token_path, "%s/admin-token", srv->dir);
	srv->max_body = cfg->max_body ? cfg->max_body : CLOUD_SERVER_MAX_BODY_DEFAULT;
	srv->ctx.now = wall_now;
	snprintf(srv->ctx.base_dir, sizeof srv->ctx.base_dir, "%s", srv->dir);

	if (cfg->state_file) {
		if ((rc = cloud_state_load(&srv->ctx.state, cfg->state_file)) == SSRP_OK)
			rc = read_webhook_hosts(srv, cfg->state_file);
	} else {
		srv->demo = 1;
		if ((rc = cloud_state_new_demo(&srv->ctx.state, &srv->secrets)) == SSRP_OK) {
			srv->webhook_hosts = calloc(1, sizeof *srv->webhook_hosts);
			if (srv->webhook_hosts &&
			    (srv->webhook_hosts[0] = strdup(srv->secrets.webhook_host)) != NULL)
				srv->n_webhook_hosts = 1;
		}
	}
	if (rc)
		goto fail;
	if (cfg->job_command && !(srv->job_command = strdup(cfg->job_command))) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		goto fail;
	}
	srv->ctx.job_command = srv->job_command;

	unsigned char secret[32];
	if (RAND_bytes(secret, sizeof secret) != 1) {
		rc = ssrp_error_set(SSRP_E_GENERIC, "no randomness for the admin token");
		goto fail;
	}
	for (size_t i = 0; i < sizeof secret; i++)
		snprintf(srv->admin_token + 2 * i, 3, "%02x", secret[i]);
	OPENSSL_cleanse(secret, sizeof secret);
	if ((rc = write_file(srv->admin_token_path, srv->admin_token, strlen(srv->admin_token),
			     0600)) ||
	    (rc = load_token_key(srv)) ||
	    (rc = cloud_pki_setup(&srv->pki, srv->dir, (const char *const *)srv->webhook_hosts,
				  srv->n_webhook_hosts)) ||
	    (rc = make_device_certs(srv, cfg->device_certs)) || (rc = trim_heap()) ||
	    (rc = cloud_reqlog_open(&srv->log, srv->log_path)) ||
	    (rc = cloud_faults_new(&srv->faults)) ||
	    (rc = cloud_faults_set(srv->faults, cfg->faults)) ||
	    (rc = cloud_retry_tracker_new(&srv->retries)) ||
	    (rc = cloud_token_cache_new(&srv->ctx.token_cache)))
		goto fail;
	if (srv->job_command && (rc = cloud_jobs_start(&srv->jobs, &srv->ctx, JOB_WORKERS)))
		goto fail;
	srv->ctx.jobs = srv->jobs;
	srv->ctx.faults = srv->faults;
	if ((rc = waker_start(&srv->waker)) || (rc = start_mhd(srv, cfg->port)) ||
	    (rc = write_client_files(srv)))
		goto fail;
	*out = srv;
	return SSRP_OK;
fail:
	srv->env_path[0] = '\0'; /* nothing of ours to remove there */
	cloud_server_stop(srv);
	return rc;
}

int cloud_server_port(const cloud_server *srv)
{
	return srv->port;
}

const char *cloud_server_env_path(const cloud_server *srv)
{
	return srv->env_path;
}

int cloud_server_dump_state(cloud_server *srv, const char *path)
{
	cloud_state_lock(srv->ctx.state);
	char *text = cloud_state_to_json(srv->ctx.state);
	cloud_state_unlock(srv->ctx.state);
	if (!text)
		return ssrp_error_set(SSRP_E_NOMEM, "cannot serialise the state");
	int rc = write_file(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

void cloud_server_stop(cloud_server *srv)
{
	if (!srv)
		return;
	/* No connection may stay suspended when MHD stops. */
	waker_stop(&srv->waker);
	ssrp_https_stop(srv->mhd);
	cloud_jobs_stop(srv->jobs);
	if (srv->env_path[0])
		unlink(srv->env_path);
	cloud_reqlog_close(srv->log);
	cloud_faults_free(srv->faults);
	cloud_retry_tracker_free(srv->retries);
	cloud_token_cache_free(srv->ctx.token_cache);
	cloud_portal_free(srv->ctx.portal);
	cloud_pki_free(&srv->pki);
	cloud_state_free(srv->ctx.state);
	EVP_PKEY_free(srv->ctx.token_key);
	free(srv->ctx.token_x5c);
	for (size_t i = 0; i < srv->n_webhook_hosts; i++)
		free(srv->webhook_hosts[i]);
	free(srv->webhook_hosts);
	free(srv->job_command);
	OPENSSL_cleanse(&srv->secrets, sizeof srv->secrets);
	OPENSSL_cleanse(srv->admin_token, sizeof srv->admin_token);
	free(srv);
}
