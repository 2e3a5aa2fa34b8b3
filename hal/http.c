/* hal/http.h over libcurl. */
#include "hal/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#ifndef _WIN32
#include <openssl/ssl.h>
#endif

#include "hal/curl_global.h"
#include "hal/mem.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

#define DEFAULT_MAX_BODY (16u * 1024u * 1024u)

struct ssrp_http {
	CURL *curl;
	struct curl_slist *connect_to;
	char *ca_file, *cert_file, *key_file;
	long connect_timeout_ms, timeout_ms;
	size_t max_body;
	char user_agent[64];
};

typedef struct sink {
	ssrp_http_resp *r;
	size_t cap, max;
	int overflow;
} sink;

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = ssrp_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

#ifndef _WIN32
/* libcurl's OpenSSL backend: OpenSSL keeps decrypted records (a token, a
 * recovery password) in its buffers unless told to wipe them. */
static CURLcode cleanse_plaintext(CURL *c, void *ssl_ctx, void *arg)
{
	(void)c;
	(void)arg;
	SSL_CTX_set_options((SSL_CTX *)ssl_ctx, SSL_OP_CLEANSE_PLAINTEXT);
	return CURLE_OK;
}
#endif

int ssrp_http_new(ssrp_http **out, const ssrp_http_options *opt)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "http: no output pointer");
	*out = NULL;
	ssrp_http_options none = {0};
	if (!opt)
		opt = &none;
	/* A key file needs its certificate; a certificate alone is a Windows
	 * Schannel store path ("LocalMachine\\MY\\<thumbprint>"), key NULL or "". */
	if (opt->key_file && *opt->key_file && !opt->cert_file)
		return ssrp_error_set(SSRP_E_INVALID,
				      "http: a client key file was given without its certificate");
	/* Once per process (never cleaned up: libcurl's global state is not
	 * safe to tear down while another thread may start a client). */
	int grc = ssrp_curl_global_init();
	if (grc)
		return grc;
	ssrp_http *h = ssrp_calloc(1, sizeof *h);
	if (!h)
		return ssrp_error_set(SSRP_E_NOMEM, "http: out of memory");
	h->curl = curl_easy_init();
	h->ca_file = dup_or_null(opt->ca_file);
	h->cert_file = dup_or_null(opt->cert_file);
	h->key_file = dup_or_null(opt->key_file);
	int bad = !h->curl || (opt->ca_file && !h->ca_file) || (opt->cert_file && !h->cert_file) ||
		  (opt->key_file && !h->key_file);
	for (const char *const *c = opt->connect_to; !bad && c && *c; c++) {
		struct curl_slist *n = curl_slist_append(h->connect_to, *c);
		if (!n)
			bad = 1;
		else
			h->connect_to = n;
	}
	if (bad) {
		ssrp_http_free(h);
		return ssrp_error_set(SSRP_E_NOMEM, "http: out of memory");
	}
	h->connect_timeout_ms = opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : 10000;
	h->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 60000;
	h->max_body = opt->max_body ? opt->max_body : DEFAULT_MAX_BODY;
	if (opt->user_agent)
		snprintf(h->user_agent, sizeof h->user_agent, "%s", opt->user_agent);
	else
		snprintf(h->user_agent, sizeof h->user_agent, "ssrp/%d.%d.%d", SSRP_VERSION_MAJOR,
			 SSRP_VERSION_MINOR, SSRP_VERSION_PATCH);
	*out = h;
	return SSRP_OK;
}

void ssrp_http_free(ssrp_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->connect_to);
	ssrp_free(h->ca_file);
	ssrp_free(h->cert_file);
	ssrp_free(h->key_file);
	ssrp_free(h);
}

void ssrp_http_resp_free(ssrp_http_resp *r)
{
	if (!r)
		return;
	if (r->body)
		ssrp_free_secret(r->body, r->body_len);
	r->body = NULL;
	r->body_len = 0;
}

double ssrp_http_parse_retry_after(const char *v)
{
	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v < '0' || *v > '9')
		return -1;
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (errno || *end || d < 0 || d > 86400.0 * 7)
		return -1;
	return d;
}

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	sink *s = cls;
	size_t len = size * n;
	ssrp_http_resp *r = s->r;
	if (r->body_len + len > s->max) {
		s->overflow = 1;
		return 0;
	}
	if (r->body_len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < r->body_len + len + 1)
			cap *= 2;
		/* Grow by copy so a secret never lingers in a block realloc frees. */
		char *grown = ssrp_malloc(cap);
		if (!grown)
			return 0;
		if (r->body) {
			memcpy(grown, r->body, r->body_len);
			ssrp_free_secret(r->body, s->cap);
		}
		r->body = grown;
		s->cap = cap;
	}
	memcpy(r->body + r->body_len, p, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

static void header_value(const char *p, size_t len, size_t name_len, char *out, size_t cap)
{
	const char *v = p + name_len;
	size_t n = len - name_len;
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *cls)
{
	ssrp_http_resp *r = cls;
	size_t len = size * n;
	/* A new status line (a redirect or 100-continue) starts a fresh set. */
	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		r->retry_after = -1;
		r->request_id[0] = r->content_type[0] = '\0';
	} else if (len > 12 && ssrp_ascii_ieq_n(p, "Retry-After:", 12)) {
		char v[48];
		header_value(p, len, 12, v, sizeof v);
		r->retry_after = ssrp_http_parse_retry_after(v);
	} else if (len > 11 && ssrp_ascii_ieq_n(p, "request-id:", 11)) {
		header_value(p, len, 11, r->request_id, sizeof r->request_id);
	} else if (len > 13 && ssrp_ascii_ieq_n(p, "Content-Type:", 13)) {
		header_value(p, len, 13, r->content_type, sizeof r->content_type);
	}
	return len;
}

int ssrp_http_request(ssrp_http *h, const ssrp_http_req *rq, ssrp_http_resp *out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "http: no response structure");
	memset(out, 0, sizeof *out);
	out->retry_after = -1;
	if (!h || !rq || !rq->url || !rq->method)
		return ssrp_error_set(SSRP_E_INVALID, "http: a request needs a method and a URL");
	CURL *c = h->curl;
	curl_easy_reset(c);
	struct curl_slist *hdrs = NULL;
	int rc = SSRP_OK;
	for (const char *const *p = rq->headers; p && *p; p++) {
		struct curl_slist *n = curl_slist_append(hdrs, *p);
		if (!n) {
			curl_slist_free_all(hdrs);
			return ssrp_error_set(SSRP_E_NOMEM, "http: out of memory");
		}
		hdrs = n;
	}
	sink s = {.r = out, .max = h->max_body};
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	if (h->connect_to)
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, h->connect_to);
#ifndef _WIN32
	/* CURLE_NOT_BUILT_IN with another TLS backend: nothing to set there */
	(void)curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, cleanse_plaintext);
#endif
	if (h->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	if (h->cert_file) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
		if (h->key_file && *h->key_file)
			curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
	}
	if (!strcmp(rq->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		/* CURLOPT_POSTFIELDS points at the caller's buffer; what libcurl
		 * copies of it (small bodies go through its send buffer) is wiped
		 * when freed (hal/curl_global.c). */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(rq->body ? rq->body_len : 0));
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		if (strcmp(rq->method, "POST"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	/* Do not keep pointers into the caller's memory in the handle. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	/* Messages name the URL without its query: a webhook's token lives
	 * there, and an OData filter may name people. */
	int url_len = (int)strcspn(rq->url, "?");
	if (s.overflow)
		rc = ssrp_error_set(SSRP_E_BUFSIZE, "%s %.*s: the response is larger than %zu bytes",
				    rq->method, url_len, rq->url, h->max_body);
	else if (cc != CURLE_OK)
		rc = ssrp_error_set(SSRP_E_IO, "%s %.*s: %s", rq->method, url_len, rq->url,
				    curl_easy_strerror(cc));
	if (!out->body) {
		out->body = ssrp_calloc(1, 1);
		if (!out->body && rc == SSRP_OK)
			rc = ssrp_error_set(SSRP_E_NOMEM, "http: out of memory");
	}
	return rc;
}

char *ssrp_http_escape(const char *s)
{
	if (!s)
		return NULL;
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *o = ssrp_malloc(3 * n + 1), *w = o;
	if (!o)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			*w++ = (char)*p;
		} else {
			*w++ = '%';
			*w++ = hex[*p >> 4];
			*w++ = hex[*p & 15];
		}
	}
	*w = '\0';
	return o;
}

