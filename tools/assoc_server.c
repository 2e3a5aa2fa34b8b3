/* The association service's HTTPS endpoint (see assoc_server.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "escrow/assoc.h"
#include "escrow/assoc_client.h"
#include "escrow/audit.h"
#include "hal/mem.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"
#include "tools/assoc_server.h"

#define DEVICE_ISSUER_CN "MS-Organization-Access"
#define CN_MAX 128
#define WORKERS_DEFAULT 4u
#define WORKERS_MAX 64u
#define POOL_THREADS_MAX 8
#define GRAPH_DEADLINE_MS 30000u /* a device waits for its answer */
#define RETRY_AFTER_S "30"

enum { REQ_NEW = 0, REQ_QUEUED, REQ_ANSWERED };

typedef struct conn_ctx {
	int checked;
	int ok;              /* the certificate verified and was issued right */
	char cn[CN_MAX];     /* the device id when ok */
	char reason[256];    /* why not, when !ok */
} conn_ctx;

typedef struct req_ctx {
	struct req_ctx *next; /* the job queue */
	struct MHD_Connection *conn;
	int started, too_large, state;
	char *body;
	size_t body_len, body_cap;
	ssrp_assoc_request *areq;
	char device[CN_MAX];
	char requester[CN_MAX + 16];
	char addr[80];
	/* the answer a worker made */
	int status;
	char *answer;
	int retry;
} req_ctx;

typedef struct worker {
	struct assoc_server *srv;
	ssrp_assoc *engine;
	pthread_t thread;
	int started;
} worker;

struct assoc_server {
	const ssrp_cloud_config *cfg;
	int dry_run;
	struct MHD_Daemon *mhd;
	char *cert_pem, *key_pem, *trust_pem;
	size_t key_len;
	ssrp_audit *audit;
	int port;
	char url[320];
	atomic_long in_flight;
	atomic_int draining;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int lock_made;
	req_ctx *head, *tail;
	int stop_workers;
	worker *workers;
	unsigned n_workers;
	/* The workers' engines share each credential (escrow/assoc.h). */
	ssrp_graph_token_share *reader_tokens, *writer_tokens;
};

/* ---- small helpers -------------------------------------------------------- */

int assoc_parse_listen(const char *text, char *host, size_t cap, int *port)
{
	if (!text || !*text)
		return ssrp_error_set(SSRP_E_INVALID, "no listen address was given (HOST:PORT)");
	const char *colon, *h = text;
	size_t hl;
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':')
			return ssrp_error_set(SSRP_E_INVALID,
					      "listen address '%s': expected [IPv6]:PORT", text);
		h = text + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return ssrp_error_set(SSRP_E_INVALID,
					      "listen address '%s': expected HOST:PORT (an IPv6 "
					      "address in brackets)",
					      text);
		hl = (size_t)(colon - text);
	}
	if (!hl || hl >= cap)
		return ssrp_error_set(SSRP_E_INVALID, "listen address '%s': no usable host", text);
	const char *p = colon + 1;
	long v = 0;
	if (!*p || strlen(p) > 5)
		return ssrp_error_set(SSRP_E_INVALID, "listen address '%s': bad port", text);
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return ssrp_error_set(SSRP_E_INVALID, "listen address '%s': bad port", text);
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		return ssrp_error_set(SSRP_E_INVALID, "listen address '%s': port above 65535",
				      text);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)v;
	return SSRP_OK;
}

static char *json_text(cJSON *o)
{
	char *t = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return t;
}

static char *error_json(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	return json_text(o);
}

static int read_text(const char *path, const char *what, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "cannot open %s '%s': %s", what, path,
				      strerror(errno));
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > 4u * 1024 * 1024) {
				fclose(f);
				free(buf);
				return ssrp_error_set(SSRP_E_INVALID, "%s '%s' is too large", what,
						      path);
			}
			char *g = realloc(buf, cap);
			if (!g) {
				fclose(f);
				free(buf);
				return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			}
			buf = g;
		}
		size_t got = fread(buf + n, 1, 4096, f);
		n += got;
		if (got < 4096)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad || !n) {
		free(buf);
		return ssrp_error_set(SSRP_E_IO, "cannot read %s '%s'%s", what, path,
				      bad ? "" : ": it is empty");
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return SSRP_OK;
}

/* ---- the client certificate ------------------------------------------------- */

static void check_client_cert(struct MHD_Connection *conn, conn_ctx *cc)
{
	cc->checked = 1;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session) {
		snprintf(cc->reason, sizeof cc->reason, "no TLS session");
		return;
	}
	gnutls_session_t session = (gnutls_session_t)ci->tls_session;
	unsigned int n = 0, status = 0;
	const gnutls_datum_t *peers = gnutls_certificate_type_get(session) == GNUTLS_CRT_X509
					      ? gnutls_certificate_get_peers(session, &n)
					      : NULL;
	if (!peers || n == 0) {
		snprintf(cc->reason, sizeof cc->reason, "no client certificate was presented");
		return;
	}
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) < 0 || status != 0) {
		gnutls_datum_t txt = {NULL, 0};
		if (status && gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
									    &txt, 0) >= 0 &&
		    txt.data)
			snprintf(cc->reason, sizeof cc->reason,
				 "the client certificate does not verify against the device CA: %s",
				 (const char *)txt.data);
		else
			snprintf(cc->reason, sizeof cc->reason,
				 "the client certificate does not verify against the device CA");
		gnutls_free(txt.data);
		return;
	}
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0) {
		snprintf(cc->reason, sizeof cc->reason, "out of memory");
		return;
	}
	char issuer[256] = "", cn[CN_MAX] = "";
	size_t il = sizeof issuer, cl = sizeof cn;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0) {
		snprintf(cc->reason, sizeof cc->reason, "the client certificate cannot be read");
	} else if (gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
							 issuer, &il) < 0 ||
		   strcmp(issuer, DEVICE_ISSUER_CN) != 0) {
		snprintf(cc->reason, sizeof cc->reason,
			 "the client certificate was not issued by " DEVICE_ISSUER_CN
			 " (issuer CN '%.100s')",
			 issuer);
	} else if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn,
						 &cl) < 0 ||
		   !cn[0]) {
		snprintf(cc->reason, sizeof cc->reason,
			 "the client certificate has no subject CN (the device id)");
	} else {
		int plain = 1;
		for (const char *p = cn; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '{' && *p != '}')
				plain = 0;
		if (!plain) {
			snprintf(cc->reason, sizeof cc->reason,
				 "the client certificate's subject CN is not a device id");
		} else {
			memcpy(cc->cn, cn, sizeof cn);
			cc->ok = 1;
		}
	}
	gnutls_x509_crt_deinit(crt);
}

/* ---- answering ------------------------------------------------------------------ */

static enum MHD_Result reply(assoc_server *srv, struct MHD_Connection *conn, int status,
			     char *json, const char *allow, int retry)
{
	if (!json)
		return MHD_NO;
	size_t len = strlen(json);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, json, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(json);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (retry)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
	if (atomic_load(&srv->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void audit_event(assoc_server *srv, const char *requester, const char *event,
			const char *device, const char *detail)
{
	if (srv->audit && ssrp_audit_event(srv->audit, requester, event, device, detail) != SSRP_OK)
		fprintf(stderr, "ssrp assoc serve: audit: %s\n", ssrp_error_last());
}

/* ---- the workers ----------------------------------------------------------------- */

typedef struct decide_ctx {
	assoc_server *srv;
	req_ctx *r;
	cJSON *list;
} decide_ctx;

static void on_decision(const ssrp_assoc_decision *d, void *arg)
{
	decide_ctx *c = arg;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "user", d->user ? d->user : "");
	cJSON_AddStringToObject(o, "upn", d->upn ? d->upn : "");
	cJSON_AddStringToObject(o, "relation", d->relation ? d->relation : "");
	cJSON_AddStringToObject(o, "outcome", ssrp_assoc_outcome_name(d->outcome));
	cJSON_AddStringToObject(o, "licence", ssrp_assoc_licence_name(d->licence));
	cJSON_AddStringToObject(o, "licence_plan", d->licence_plan ? d->licence_plan : "");
	cJSON_AddStringToObject(o, "detail", d->detail ? d->detail : "");
	cJSON_AddItemToArray(c->list, o);
	if (c->srv->audit) {
		/* The engines are shared between devices: the requester is this
		 * request's, set here rather than in the engine's options. */
		ssrp_assoc_decision copy = *d;
		copy.requester = c->r->requester;
		if (ssrp_audit_decision(c->srv->audit, &copy) != SSRP_OK)
			fprintf(stderr, "ssrp assoc serve: audit: %s\n", ssrp_error_last());
	}
}

static void decide(worker *w, req_ctx *r)
{
	assoc_server *srv = w->srv;
	cJSON *o = cJSON_CreateObject();
	decide_ctx c = {.srv = srv, .r = r, .list = cJSON_CreateArray()};
	ssrp_assoc_job job = {
		.device_id = r->areq->device_id,
		.users = (const char *const *)r->areq->users,
		.n_users = r->areq->n_users,
	};
	int rc = ssrp_assoc_run(w->engine, &job, 1, on_decision, &c);
	cJSON_AddStringToObject(o, "deviceId", r->device);
	cJSON_AddItemToObject(o, "decisions", c.list);
	r->status = 200;
	if (rc != SSRP_OK) {
		/* The run itself could not go on (no token, Graph down): the
		 * device tries again later; what was decided is in the answer. */
		char detail[1100];
		snprintf(detail, sizeof detail, "the association could not be completed: %s",
			 ssrp_error_last());
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", "ServiceUnavailable");
		cJSON_AddStringToObject(e, "message", detail);
		audit_event(srv, r->requester, "failed", r->device, detail);
		r->status = 503;
		r->retry = 1;
	}
	r->answer = json_text(o);
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	assoc_server *srv = w->srv;
	pthread_mutex_lock(&srv->lock);
	for (;;) {
		while (!srv->head && !srv->stop_workers)
			pthread_cond_wait(&srv->cond, &srv->lock);
		req_ctx *r = srv->head;
		if (!r)
			break; /* stopping, and nothing left to do */
		srv->head = r->next;
		if (!srv->head)
			srv->tail = NULL;
		pthread_mutex_unlock(&srv->lock);
		decide(w, r);
		r->state = REQ_ANSWERED;
		MHD_resume_connection(r->conn);
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static void enqueue(assoc_server *srv, struct MHD_Connection *conn, req_ctx *r)
{
	r->conn = conn;
	r->state = REQ_QUEUED;
	/* Suspended before a worker can see it, so its resume never comes
	 * first. */
	MHD_suspend_connection(conn);
	pthread_mutex_lock(&srv->lock);
	r->next = NULL;
	if (srv->tail)
		srv->tail->next = r;
	else
		srv->head = r;
	srv->tail = r;
	pthread_cond_signal(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
}

/* ---- requests -------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)uri;
	(void)conn;
	assoc_server *srv = cls;
	req_ctx *r = calloc(1, sizeof *r);
	if (r)
		atomic_fetch_add(&srv->in_flight, 1);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	(void)toe;
	assoc_server *srv = cls;
	req_ctx *r = *req_cls;
	if (!r)
		return;
	free(r->body);
	free(r->answer);
	ssrp_assoc_request_free(r->areq);
	free(r);
	*req_cls = NULL;
	atomic_fetch_sub(&srv->in_flight, 1);
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

static void client_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
	snprintf(out, cap, "?");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ci->client_addr;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(s->sin_port));
	} else if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ci->client_addr;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(s->sin6_port));
	}
}

static enum MHD_Result route(assoc_server *srv, struct MHD_Connection *conn, req_ctx *r,
			     const char *url, const char *method)
{
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	if (!strcmp(url, "/healthz")) {
		if (!get)
			return reply(srv, conn, 405,
				     error_json("MethodNotAllowed", "/healthz answers GET only."),
				     "GET, HEAD", 0);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "status", "ok");
		return reply(srv, conn, 200, json_text(o), NULL, 0);
	}

	client_addr(conn, r->addr, sizeof r->addr);
	const union MHD_ConnectionInfo *sci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn_ctx *cc = sci ? sci->socket_context : NULL;
	if (cc && !cc->checked)
		check_client_cert(conn, cc);
	if (!cc || !cc->ok) {
		const char *why = cc ? cc->reason : "out of memory";
		char detail[400];
		snprintf(detail, sizeof detail, "%s %s from %s: %s", method, url, r->addr, why);
		audit_event(srv, "anonymous", "refused", NULL, detail);
		return reply(srv, conn, 401,
			     error_json("Unauthorized",
					"A device certificate issued by " DEVICE_ISSUER_CN
					" is required: %s.",
					why),
			     NULL, 0);
	}
	snprintf(r->device, sizeof r->device, "%s", cc->cn);
	snprintf(r->requester, sizeof r->requester, "device:%s", cc->cn);

	if (strcmp(url, "/v1/associate") != 0)
		return reply(srv, conn, 404,
			     error_json("NotFound", "No such endpoint: POST /v1/associate and GET "
						    "/healthz are served."),
			     NULL, 0);
	if (strcmp(method, "POST") != 0)
		return reply(srv, conn, 405,
			     error_json("MethodNotAllowed", "/v1/associate answers POST only."),
			     "POST", 0);
	if (r->too_large) {
		char detail[200];
		snprintf(detail, sizeof detail, "a request body over %u bytes from %s",
			 SSRP_ASSOC_SERVICE_MAX_BODY, r->addr);
		audit_event(srv, r->requester, "bad-request", r->device, detail);
		return reply(srv, conn, 413,
			     error_json("RequestTooLarge",
					"The request body is larger than %u bytes.",
					SSRP_ASSOC_SERVICE_MAX_BODY),
			     NULL, 0);
	}
	if (ssrp_assoc_request_parse(&r->areq, r->body ? r->body : "", r->body_len) != SSRP_OK) {
		char msg[1100];
		snprintf(msg, sizeof msg, "%s", ssrp_error_last());
		r->areq = NULL;
		audit_event(srv, r->requester, "bad-request", r->device, msg);
		return reply(srv, conn, 400,
			     error_json("BadRequest", "The request body is not valid: %s", msg),
			     NULL, 0);
	}
	if (strcasecmp(r->areq->device_id, r->device) != 0) {
		/* A device may only ask about itself: refused, nothing decided. */
		char detail[400];
		snprintf(detail, sizeof detail,
			 "device %s (by its certificate) asked about device %.100s", r->device,
			 r->areq->device_id);
		audit_event(srv, r->requester, "refused", r->areq->device_id, detail);
		return reply(srv, conn, 403,
			     error_json("OtherDevice",
					"This device (%s) may only ask about itself, not about "
					"device %.100s.",
					r->device, r->areq->device_id),
			     NULL, 0);
	}
	enqueue(srv, conn, r);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	(void)version;
	assoc_server *srv = cls;
	req_ctx *r = *req_cls;
	if (!r)
		return MHD_NO; /* out of memory in on_uri */
	if (!r->started) {
		r->started = 1;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > SSRP_ASSOC_SERVICE_MAX_BODY)
			r->too_large = 1;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->too_large || r->body_len + n > SSRP_ASSOC_SERVICE_MAX_BODY) {
			r->too_large = 1;
			return MHD_YES; /* read and drop the rest */
		}
		if (r->body_len + n + 1 > r->body_cap) {
			size_t cap = r->body_cap ? r->body_cap : 2048;
			while (cap < r->body_len + n + 1)
				cap *= 2;
			char *g = realloc(r->body, cap);
			if (!g)
				return MHD_NO;
			r->body = g;
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		r->body[r->body_len] = '\0';
		return MHD_YES;
	}
	if (r->state == REQ_ANSWERED) {
		char *answer = r->answer;
		r->answer = NULL;
		return reply(srv, conn, r->status, answer, NULL, r->retry);
	}
	if (r->state == REQ_QUEUED)
		return MHD_YES;
	return route(srv, conn, r, url ? url : "/", method ? method : "");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("ssrp assoc serve: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- lifecycle ------------------------------------------------------------------- */

static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
	int e = getaddrinfo(host, NULL, &hints, &res);
	if (e || !res) {
		if (res)
			freeaddrinfo(res);
		return ssrp_error_set(SSRP_E_INVALID, "cannot resolve the listen host '%s': %s",
				      host, gai_strerror(e));
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		return ssrp_error_set(SSRP_E_INVALID, "the listen host '%s' is not IPv4 or IPv6",
				      host);
	return SSRP_OK;
}

static int start_workers(assoc_server *srv, unsigned n)
{
	srv->workers = calloc(n, sizeof *srv->workers);
	if (!srv->workers)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	srv->n_workers = n;
	int share_rc = ssrp_graph_token_share_new(&srv->reader_tokens);
	if (share_rc || (share_rc = ssrp_graph_token_share_new(&srv->writer_tokens)))
		return share_rc;
	ssrp_assoc_options opt = {
		.reader_tokens = srv->reader_tokens,
		.writer_tokens = srv->writer_tokens,
		.dry_run = srv->dry_run,
		.concurrency = 1,
		.requester = "assoc-serve",
		.audit = NULL, /* audited per request, with its requester */
		.graph = {.deadline_ms = GRAPH_DEADLINE_MS},
	};
	for (unsigned i = 0; i < n; i++) {
		int rc = ssrp_assoc_new(&srv->workers[i].engine, srv->cfg, &opt);
		if (rc)
			return rc;
		srv->workers[i].srv = srv;
	}
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]))
			return ssrp_error_set(SSRP_E_GENERIC, "cannot start a worker thread");
		srv->workers[i].started = 1;
	}
	return SSRP_OK;
}

static void stop_workers(assoc_server *srv)
{
	if (!srv->lock_made)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->stop_workers = 1;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; i < srv->n_workers; i++) {
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].thread, NULL);
		srv->workers[i].started = 0;
	}
}

static int start_mhd(assoc_server *srv, const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int rc = resolve(host, port, &ss, &sl);
	if (rc)
		return rc;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int pool = cpus < 2 ? 2u : cpus > POOL_THREADS_MAX ? POOL_THREADS_MAX : (unsigned)cpus;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TLS |
			     MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
		MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem, MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
		MHD_OPTION_HTTPS_MEM_TRUST, srv->trust_pem, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024, MHD_OPTION_END);
	if (!srv->mhd)
		return ssrp_error_set(SSRP_E_IO,
				      "cannot start the HTTPS server on %s:%d (address taken, or "
				      "the certificate and key do not match?)",
				      host, port);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage bound;
	socklen_t bl = sizeof bound;
	if (!di || getsockname(di->listen_fd, (struct sockaddr *)&bound, &bl) != 0)
		return ssrp_error_set(SSRP_E_IO, "cannot learn the server's port: %s",
				      strerror(errno));
	char ip[INET6_ADDRSTRLEN] = "?";
	if (bound.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&bound;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		srv->port = ntohs(s6->sin6_port);
		snprintf(srv->url, sizeof srv->url, "https://[%s]:%d/", ip, srv->port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&bound;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		srv->port = ntohs(s4->sin_port);
		snprintf(srv->url, sizeof srv->url, "https://%s:%d/", ip, srv->port);
	}
	return SSRP_OK;
}

static void server_free(assoc_server *srv)
{
	stop_workers(srv);
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	for (unsigned i = 0; i < srv->n_workers; i++)
		ssrp_assoc_free(srv->workers[i].engine);
	free(srv->workers);
	ssrp_graph_token_share_free(srv->reader_tokens);
	ssrp_graph_token_share_free(srv->writer_tokens);
	if (srv->lock_made) {
		pthread_cond_destroy(&srv->cond);
		pthread_mutex_destroy(&srv->lock);
	}
	ssrp_audit_close(srv->audit);
	if (srv->key_pem)
		ssrp_free_secret(srv->key_pem, srv->key_len);
	free(srv->cert_pem);
	free(srv->trust_pem);
	free(srv);
}

int assoc_server_start(assoc_server **out, const assoc_server_config *c)
{
	*out = NULL;
	const ssrp_cloud_config *cfg = c ? c->cfg : NULL;
	if (!cfg)
		return ssrp_error_set(SSRP_E_INVALID, "no configuration");
	const ssrp_assoc_config *ac = &cfg->assoc;
	if (!ac->tls_cert_file || !ac->tls_key_file)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration has no \"assoc.tls_cert_file\" and "
				      "\"assoc.tls_key_file\" (the service's certificate)");
	if (!ac->device_ca_file)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration has no \"assoc.device_ca_file\" (the CA "
				      "that issues device certificates)");
	const char *listen = c->listen ? c->listen : ac->listen ? ac->listen : "127.0.0.1:8443";
	char host[256];
	int port = 0;
	int rc = assoc_parse_listen(listen, host, sizeof host, &port);
	if (rc)
		return rc;
	unsigned workers = c->workers ? c->workers : WORKERS_DEFAULT;
	if (workers > WORKERS_MAX)
		workers = WORKERS_MAX;

	assoc_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	srv->cfg = cfg;
	srv->dry_run = c->dry_run;
	atomic_init(&srv->in_flight, 0);
	atomic_init(&srv->draining, 0);
	size_t len = 0;
	if ((rc = read_text(ac->tls_cert_file, "the TLS certificate", &srv->cert_pem, &len)) ||
	    (rc = read_text(ac->device_ca_file, "the device CA file", &srv->trust_pem, &len)))
		goto fail;
	/* The key: a secret file (no group or other access). */
	if ((rc = ssrp_cloud_config_secret(ac->tls_key_file, &srv->key_pem, &srv->key_len))) {
		ssrp_error_prefix(rc, "cannot read the TLS key (assoc.tls_key_file)");
		goto fail;
	}
	if ((rc = ssrp_audit_open(&srv->audit, ac->audit ? ac->audit : "-"))) {
		ssrp_error_prefix(rc, "cannot open the audit log (assoc.audit)");
		goto fail;
	}
	if (pthread_mutex_init(&srv->lock, NULL) || pthread_cond_init(&srv->cond, NULL)) {
		rc = ssrp_error_set(SSRP_E_GENERIC, "cannot make a lock");
		goto fail;
	}
	srv->lock_made = 1;
	if ((rc = start_workers(srv, workers)) || (rc = start_mhd(srv, host, port)))
		goto fail;
	*out = srv;
	return SSRP_OK;
fail:
	server_free(srv);
	return rc;
}

int assoc_server_port(const assoc_server *s)
{
	return s->port;
}

const char *assoc_server_url(const assoc_server *s)
{
	return s->url;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void wait_idle(assoc_server *srv, unsigned timeout_ms)
{
	for (unsigned waited = 0; atomic_load(&srv->in_flight) > 0 && waited < timeout_ms;
	     waited += 10)
		sleep_ms(10);
}

void assoc_server_stop(assoc_server *srv, unsigned timeout_ms)
{
	if (!srv)
		return;
	/* No new connections; answers from now on close theirs. */
	atomic_store(&srv->draining, 1);
	if (srv->mhd) {
		MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	/* Requests in flight are answered (their workers finish them). */
	wait_idle(srv, timeout_ms);
	/* The workers finish what is queued and resume those connections, so
	 * none is left suspended when the daemon stops. */
	stop_workers(srv);
	wait_idle(srv, 2000);
	server_free(srv);
}
