/* The association service's HTTPS endpoint (see assoc_server.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include <ssrp/assoc.h>
#include <ssrp/buf.h>
#include <ssrp/clock.h>
#include <ssrp/config.h>
#include "server/device_cert.h"
#include "server/https_server.h"
#include <ssrp/error.h>
#include <ssrp/sys/error.h>
#include <ssrp/text.h>
#include "tools/assoc_server_private.h"

#define CN_MAX ASSOC_CN_MAX
/* Workers mostly wait on Graph: a throttled part of a $batch call holds
 * its whole run for the Retry-After. */
#define WORKERS_DEFAULT 16u
#define WORKERS_MAX 64u
#define POOL_THREADS_MAX 8
#define GRAPH_DEADLINE_MS 30000u /* a device waits for its answer */
#define WATCHDOG_TICK_MS 100u
#define FDS_SPARE 64u /* descriptors besides the connections */

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

char *assoc_error_json(const char *code, const char *fmt, ...)
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

static void check_client_cert(struct MHD_Connection *conn, conn_rec *cc)
{
	cc->checked = 1;
	cc->ok = ssrp_device_cert_check(conn, cc->cn, sizeof cc->cn, cc->reason, sizeof cc->reason);
}

/* ---- answering ------------------------------------------------------------------ */

/* close: the connection ends after this answer (a client refused before
 * its body was read, or the server stopping). */
static enum MHD_Result reply(assoc_server *srv, struct MHD_Connection *conn, int status,
			     char *json, const char *allow, const char *retry_after, int close)
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
	if (retry_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
	if (close || atomic_load(&srv->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

void assoc_audit_event(assoc_server *srv, const char *requester, const char *event,
		       const char *device, const char *detail)
{
	if (srv->audit && ssrp_audit_event(srv->audit, requester, event, device, detail) != SSRP_OK)
		fprintf(stderr, "ssrp assoc serve: audit: %s\n", ssrp_error_last());
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
	assoc_server *srv = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		conns_started(&srv->conns, conn, socket_context, srv->audit);
	else
		conns_closed(&srv->conns, socket_context);
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

/* The request headers are in, no byte of a body is read yet: whatever can
 * be refused without the body is refused now, first of all a client
 * without a valid device certificate. MHD_YES with nothing queued: read
 * the body. */
static enum MHD_Result headers_in(assoc_server *srv, struct MHD_Connection *conn, req_ctx *r,
				  const char *url, const char *method)
{
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	if (!strcmp(url, "/healthz")) {
		if (!get)
			return reply(srv, conn, 405,
				     assoc_error_json("MethodNotAllowed", "/healthz answers GET only."),
				     "GET, HEAD", NULL, 1);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "status", "ok");
		return reply(srv, conn, 200, json_text(o), NULL, NULL, 0);
	}

	client_addr(conn, r->addr, sizeof r->addr);
	const union MHD_ConnectionInfo *sci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	conn_rec *cc = sci ? sci->socket_context : NULL;
	if (cc && !cc->checked)
		check_client_cert(conn, cc);
	if (!cc || !cc->ok) {
		const char *why = cc ? cc->reason : "out of memory";
		char detail[512];
		snprintf(detail, sizeof detail, "%.10s %.100s from %s: %s", method, url, r->addr,
			 why);
		if (srv->audit && ssrp_audit_refusal(srv->audit, cc ? cc->ip : "?", detail))
			fprintf(stderr, "ssrp assoc serve: audit: %s\n", ssrp_error_last());
		return reply(srv, conn, 401,
			     assoc_error_json("Unauthorized",
					      "A device certificate issued by " SSRP_DEVICE_ISSUER_CN
					      " is required: %s.",
					      why),
			     NULL, NULL, 1);
	}
	conns_prove(&srv->conns, cc);
	snprintf(r->device, sizeof r->device, "%s", cc->cn);
	snprintf(r->requester, sizeof r->requester, "device:%s", cc->cn);

	if (strcmp(url, "/v1/associate") != 0)
		return reply(srv, conn, 404,
			     assoc_error_json("NotFound", "No such endpoint: POST /v1/associate and "
							  "GET /healthz are served."),
			     NULL, NULL, 1);
	if (strcmp(method, "POST") != 0)
		return reply(srv, conn, 405,
			     assoc_error_json("MethodNotAllowed", "/v1/associate answers POST only."),
			     "POST", NULL, 1);
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > SSRP_ASSOC_SERVICE_MAX_BODY) {
		char detail[200];
		snprintf(detail, sizeof detail, "a request body over %u bytes from %s",
			 SSRP_ASSOC_SERVICE_MAX_BODY, r->addr);
		assoc_audit_event(srv, r->requester, "bad-request", r->device, detail);
		return reply(srv, conn, 413,
			     assoc_error_json("RequestTooLarge",
					      "The request body is larger than %u bytes.",
					      SSRP_ASSOC_SERVICE_MAX_BODY),
			     NULL, NULL, 1);
	}
	const union MHD_ConnectionInfo *fi =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	r->fd = fi ? fi->connect_fd : -1;
	r->conn = conn;
	return MHD_YES;
}

/* The whole body is in. */
static enum MHD_Result body_in(assoc_server *srv, struct MHD_Connection *conn, req_ctx *r)
{
	if (ssrp_assoc_request_parse(&r->areq, r->body ? r->body : "", r->body_len) != SSRP_OK) {
		char msg[1100];
		snprintf(msg, sizeof msg, "%s", ssrp_error_last());
		r->areq = NULL;
		assoc_audit_event(srv, r->requester, "bad-request", r->device, msg);
		return reply(srv, conn, 400,
			     assoc_error_json("BadRequest", "The request body is not valid: %s", msg),
			     NULL, NULL, 0);
	}
	if (!ssrp_ascii_ieq(r->areq->device_id, r->device)) {
		/* A device may only ask about itself: refused, nothing decided. */
		char detail[400];
		snprintf(detail, sizeof detail,
			 "device %s (by its certificate) asked about device %.100s", r->device,
			 r->areq->device_id);
		assoc_audit_event(srv, r->requester, "refused", r->areq->device_id, detail);
		return reply(srv, conn, 403,
			     assoc_error_json("OtherDevice",
					      "This device (%s) may only ask about itself, not about "
					      "device %.100s.",
					      r->device, r->areq->device_id),
			     NULL, NULL, 0);
	}
	if (r->areq->report && reports_put(&srv->reports, r->device, r->areq->report) != SSRP_OK)
		fprintf(stderr, "ssrp-assocd: the report of device %s was not kept: %s\n", r->device,
			ssrp_error_last());
	int status = queue_submit(&srv->queue, r);
	if (!status)
		return MHD_YES; /* suspended until decided */
	char *answer = r->answer;
	r->answer = NULL;
	return reply(srv, conn, status, answer, NULL, r->retry_after, 0);
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
		return headers_in(srv, conn, r, url ? url : "/", method ? method : "");
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->body_len + n > SSRP_ASSOC_SERVICE_MAX_BODY)
			return MHD_NO; /* a chunked body over the limit: the connection ends */
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
		return reply(srv, conn, r->status, answer, NULL, r->retry_after, 0);
	}
	if (r->state == REQ_GONE)
		return MHD_NO; /* its client went away while it waited */
	if (r->state == REQ_QUEUED)
		return MHD_YES;
	return body_in(srv, conn, r);
}

/* libmicrohttpd's messages (a failed TLS handshake is one), at most
 * MHD_LOG_PER_S a second, so clients cannot flood the service's log; the
 * number left out is said with the next one written. */
#define MHD_LOG_PER_S 5
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t second;
	static unsigned written;
	static unsigned long left_out;
	uint64_t now = ssrp_monotonic_ms() / 1000u;
	char msg[300];
	vsnprintf(msg, sizeof msg, fmt, ap);
	pthread_mutex_lock(&lock);
	if (now != second) {
		second = now;
		written = 0;
	}
	if (written < MHD_LOG_PER_S) {
		written++;
		if (left_out)
			fprintf(stderr, "ssrp assoc serve: (%lu libmicrohttpd messages left out)\n",
				left_out);
		left_out = 0;
		fprintf(stderr, "ssrp assoc serve: libmicrohttpd: %s%s", msg,
			msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
	} else {
		left_out++;
	}
	pthread_mutex_unlock(&lock);
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
	ssrp_assoc_options opt = SSRP_ASSOC_OPTIONS_INIT;
	opt.reader_tokens = srv->reader_tokens;
	opt.writer_tokens = srv->writer_tokens;
	opt.dry_run = srv->dry_run;
	opt.concurrency = 1;
	opt.requester = "assoc-serve";
	opt.audit = NULL; /* audited per request, with its requester */
	opt.graph_deadline_ms = GRAPH_DEADLINE_MS;
	for (unsigned i = 0; i < n; i++) {
		int rc = ssrp_assoc_new(&srv->workers[i].engine, srv->cfg, &opt);
		if (rc)
			return rc;
		srv->workers[i].srv = srv;
	}
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&srv->workers[i].thread, NULL, queue_worker_main, &srv->workers[i]))
			return ssrp_error_set(SSRP_E_GENERIC, "cannot start a worker thread");
		srv->workers[i].started = 1;
	}
	return SSRP_OK;
}

static void stop_workers(assoc_server *srv)
{
	if (!srv->queue_made)
		return;
	pthread_mutex_lock(&srv->queue.lock);
	srv->queue.stopping = 1;
	pthread_cond_broadcast(&srv->queue.cond);
	pthread_mutex_unlock(&srv->queue.lock);
	for (unsigned i = 0; i < srv->n_workers; i++) {
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].thread, NULL);
		srv->workers[i].started = 0;
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Now and then: connections past their handshake time go, requests whose
 * client has gone leave the queue, counted refusals are written. */
static void *watchdog_main(void *arg)
{
	assoc_server *srv = arg;
	while (!atomic_load(&srv->stop_watchdog)) {
		sleep_ms(WATCHDOG_TICK_MS);
		conns_expire(&srv->conns, srv->audit);
		queue_drop_abandoned(&srv->queue);
		if (srv->audit)
			ssrp_audit_flush_refusals(srv->audit, 0);
		reports_flush(&srv->reports, 0);
	}
	return NULL;
}

static int make_queue(assoc_server *srv)
{
	assoc_queue *q = &srv->queue;
	q->srv = srv;
	q->n_buckets = 4096;
	if (!(q->by_device = calloc(q->n_buckets, sizeof *q->by_device)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int bad = pthread_mutex_init(&q->lock, NULL) || pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (bad)
		return ssrp_error_set(SSRP_E_GENERIC, "cannot make a lock");
	srv->queue_made = 1;
	return SSRP_OK;
}

/* Room for max_connections descriptors: the soft limit raised as far as
 * the hard one allows, else fewer connections (said on stderr). */
static void fit_descriptors(ssrp_assoc_serve_limits *l)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t want = (rlim_t)l->max_connections + FDS_SPARE;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want && rl.rlim_cur > FDS_SPARE + 16) {
		unsigned fit = (unsigned)(rl.rlim_cur - FDS_SPARE);
		fprintf(stderr,
			"ssrp assoc serve: the descriptor limit (%lu) allows %u connections, not "
			"assoc.serve.max_connections %u\n",
			(unsigned long)rl.rlim_cur, fit, l->max_connections);
		if (l->reserve >= fit / 2)
			l->reserve = fit / 4;
		l->max_connections = fit;
	}
}

static int start_mhd(assoc_server *srv, const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int rc = resolve(host, port, &ss, &sl);
	if (rc)
		return rc;
	/* libmicrohttpd shares its connection limit out among the pool's
	 * threads; max_connections is enforced over all of them by
	 * assoc_server_conns.c, so each thread may take them all. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int pool = cpus < 2 ? 2u : cpus > POOL_THREADS_MAX ? POOL_THREADS_MAX : (unsigned)cpus;
	/* poll(), not epoll: libmicrohttpd 0.9.75's epoll loop keeps a
	 * connection whose TLS handshake waits for data on its ready list and
	 * calls it again and again, so a few idle connections keep a thread
	 * spinning and every device waits; with poll() such a connection costs
	 * nothing until its bytes come (or its handshake deadline passes). */
	const ssrp_https_options o = {
		.addr = (const struct sockaddr *)&ss,
		.thread_flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC,
		.threads = pool,
		.idle_timeout_s = srv->limits.idle_timeout_s,
		.connection_limit = srv->limits.max_connections * pool,
		.key_pem = srv->key_pem,
		.cert_pem = srv->cert_pem,
		.trust_pem = srv->trust_pem,
		.logger = mhd_log,
		.logger_cls = srv,
		.on_request = on_request,
		.on_uri = on_uri,
		.on_completed = on_completed,
		.on_connection = on_connection,
		.cls = srv,
	};
	struct sockaddr_storage bound;
	rc = ssrp_https_start(&srv->mhd, &srv->port, &bound, &o);
	if (rc)
		return ssrp_error_prefix(rc, "%s:%d (address taken, or the certificate and key do "
					 "not match?)",
					 host, port);
	char ip[INET6_ADDRSTRLEN] = "?";
	if (bound.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&bound;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
		snprintf(srv->url, sizeof srv->url, "https://[%s]:%d/", ip, srv->port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&bound;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
		snprintf(srv->url, sizeof srv->url, "https://%s:%d/", ip, srv->port);
	}
	return SSRP_OK;
}

static void server_free(assoc_server *srv)
{
	if (srv->watchdog_started) {
		atomic_store(&srv->stop_watchdog, 1);
		pthread_join(srv->watchdog, NULL);
	}
	stop_workers(srv);
	ssrp_https_stop(srv->mhd);
	for (unsigned i = 0; i < srv->n_workers; i++)
		ssrp_assoc_free(srv->workers[i].engine);
	free(srv->workers);
	ssrp_graph_token_share_free(srv->reader_tokens);
	ssrp_graph_token_share_free(srv->writer_tokens);
	if (srv->queue_made) {
		pthread_cond_destroy(&srv->queue.cond);
		pthread_mutex_destroy(&srv->queue.lock);
	}
	free(srv->queue.by_device);
	if (srv->conns_made)
		conns_destroy(&srv->conns);
	reports_close(&srv->reports);
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
	const char *tls_cert = ssrp_cloud_config_string(cfg, "assoc.tls_cert_file");
	const char *tls_key = ssrp_cloud_config_string(cfg, "assoc.tls_key_file");
	const char *device_ca = ssrp_cloud_config_string(cfg, "assoc.device_ca_file");
	const char *audit = ssrp_cloud_config_string(cfg, "assoc.audit");
	const char *cfg_listen = ssrp_cloud_config_string(cfg, "assoc.listen");
	if (!tls_cert || !tls_key)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration has no \"assoc.tls_cert_file\" and "
				      "\"assoc.tls_key_file\" (the service's certificate)");
	if (!device_ca)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration has no \"assoc.device_ca_file\" (the CA "
				      "that issues device certificates)");
	ssrp_assoc_serve_limits limits = SSRP_ASSOC_SERVE_LIMITS_INIT;
	int rc = ssrp_cloud_config_serve_limits(cfg, &limits);
	if (rc)
		return rc;
	if (!limits.max_connections || !limits.batch_max)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration's assoc.serve limits are not set (load it "
				      "with ssrp_cloud_config_load)");
	const char *listen = c->listen ? c->listen : cfg_listen ? cfg_listen : "127.0.0.1:8443";
	char host[256];
	int port = 0;
	rc = assoc_parse_listen(listen, host, sizeof host, &port);
	if (rc)
		return rc;
	unsigned workers = c->workers ? c->workers : WORKERS_DEFAULT;
	if (workers > WORKERS_MAX)
		workers = WORKERS_MAX;

	assoc_server *srv = calloc(1, sizeof *srv);
	if (!srv)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	srv->cfg = cfg;
	srv->limits = limits;
	srv->dry_run = c->dry_run;
	atomic_init(&srv->in_flight, 0);
	atomic_init(&srv->draining, 0);
	size_t len = 0;
	if ((rc = read_text(tls_cert, "the TLS certificate", &srv->cert_pem, &len)) ||
	    (rc = read_text(device_ca, "the device CA file", &srv->trust_pem, &len)))
		goto fail;
	/* The key: a secret file (no group or other access). */
	if ((rc = ssrp_cloud_config_secret(tls_key, &srv->key_pem, &srv->key_len))) {
		ssrp_error_prefix(rc, "cannot read the TLS key (assoc.tls_key_file)");
		goto fail;
	}
	if ((rc = ssrp_audit_open(&srv->audit, audit ? audit : "-"))) {
		ssrp_error_prefix(rc, "cannot open the audit log (assoc.audit)");
		goto fail;
	}
	ssrp_audit_set_refusal_interval(srv->audit, srv->limits.refusal_log_interval_s);
	fit_descriptors(&srv->limits);
	if (conns_init(&srv->conns, &srv->limits)) {
		rc = ssrp_error_set(SSRP_E_GENERIC, "cannot make a lock");
		goto fail;
	}
	srv->conns_made = 1;
	if ((rc = reports_open(&srv->reports, c->state_dir)) || (rc = make_queue(srv)) || (rc = start_workers(srv, workers)) ||
	    (rc = start_mhd(srv, host, port)))
		goto fail;
	if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv)) {
		rc = ssrp_error_set(SSRP_E_GENERIC, "cannot start the connection watchdog");
		goto fail;
	}
	srv->watchdog_started = 1;
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
	conn_stats cs;
	queue_stats qs;
	conns_get_stats(&srv->conns, &cs);
	queue_get_stats(&srv->queue, &qs);
	fprintf(stderr,
		"ssrp assoc serve: %lu connections: %lu over the per-address limit, %lu shed "
		"for devices, %lu timed out before their request; %lu decisions for %lu devices "
		"in %lu runs, %lu requests shared one, %lu abandoned, %lu refused as busy\n",
		cs.accepted, cs.over_address_limit, cs.shed_for_devices, cs.timed_out, qs.groups,
		qs.devices_run, qs.runs, qs.shared, qs.abandoned, qs.busy);
	server_free(srv);
}
