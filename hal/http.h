/* A thin HTTP client over libcurl, one reusable handle per client so
 * connections are kept alive between requests. Nothing here logs: headers
 * and bodies may hold secrets (Authorization, client secrets, passwords).
 *
 * The connect-to list uses CURLOPT_CONNECT_TO syntax
 * ("login.microsoftonline.com:443:127.0.0.1:PORT"), so the caller builds the
 * production URLs and tests point the host names at the simulator. */
#ifndef SSRP_HAL_HTTP_H
#define SSRP_HAL_HTTP_H

#include <stddef.h>

typedef struct ssrp_http ssrp_http;

typedef struct ssrp_http_options {
	const char *ca_file;             /* NULL: the system trust store */
	const char *const *connect_to;   /* NULL-terminated, or NULL */
	/* TLS client certificate (DRS), or NULL: a PEM file and its key file,
	 * or on Windows (Schannel) a store path "LocalMachine\\MY\\<thumbprint>"
	 * with key_file NULL or "". */
	const char *cert_file, *key_file;
	long connect_timeout_ms;         /* 0: 10 s */
	long timeout_ms;                 /* per request; 0: 60 s */
	size_t max_body;                 /* response cap; 0: 16 MiB */
	const char *user_agent;          /* NULL: "ssrp/<version>" */
} ssrp_http_options;

typedef struct ssrp_http_req {
	const char *method;               /* "GET", "POST", "DELETE", "PATCH" */
	const char *url;
	const char *const *headers;       /* "Name: value", NULL-terminated, or NULL */
	const char *body;                 /* NULL: none */
	size_t body_len;
	long timeout_ms;                  /* this request; 0: the handle's */
} ssrp_http_req;

typedef struct ssrp_http_resp {
	long status;          /* 0 when no response arrived */
	char *body;           /* NUL-terminated, never NULL after a call */
	size_t body_len;
	double retry_after;   /* seconds; < 0 when absent or unreadable */
	char request_id[64];  /* request-id header, or "" */
	char content_type[96];
} ssrp_http_resp;

/* SSRP_OK, SSRP_E_INVALID for bad options, SSRP_E_NOMEM. */
int ssrp_http_new(ssrp_http **out, const ssrp_http_options *opt);
void ssrp_http_free(ssrp_http *h);

/* Perform one request. SSRP_OK whenever an HTTP response arrived (any
 * status); SSRP_E_IO with curl's reason (and the URL without its query
 * string, which may hold a token) when none did or it was cut short
 * (out->status then tells whether headers came), SSRP_E_BUFSIZE when the
 * body exceeds max_body. out is reset first; free it with
 * ssrp_http_resp_free() in every case. The request body is sent from the
 * caller's buffer without a copy and the handle keeps no pointer to it or
 * to the headers afterwards, so a caller whose body or Authorization header
 * holds a secret zeroes its own buffer and no other copy exists. */
int ssrp_http_request(ssrp_http *h, const ssrp_http_req *rq, ssrp_http_resp *out);
/* Free the body, zeroed first (a token response is a secret). */
void ssrp_http_resp_free(ssrp_http_resp *r);

/* Parse a Retry-After value in seconds ("10", "2.128"); < 0 if it is not
 * one (HTTP dates are not used by Graph and are treated as absent). */
double ssrp_http_parse_retry_after(const char *v);

/* Percent-encode s for a URL or x-www-form-urlencoded body; caller frees
 * with ssrp_free_secret(p, strlen(p)) when s was secret, else ssrp_free. */
char *ssrp_http_escape(const char *s);

#endif
