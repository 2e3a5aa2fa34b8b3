/* The simulated cloud's request log: one JSON object per line, e.g.
 *   {"time":"2026-01-02T03:04:05.678Z","request_id":"<guid>","identity":"app:<appId>",
 *    "client_addr":"127.0.0.1:50312","method":"GET","host":"graph.microsoft.com",
 *    "path":"/v1.0/users/alice@contoso.example","status":200,"ms":0.412,
 *    "fault":null,"early_retry":false}
 * "identity" is null when the caller was not identified; "fault" is the
 * label of the injected fault ("429:2", "latency:200", "reset", ...) or null.
 * The path never carries the query string (the webhook token travels there),
 * and no header or body is ever written, so tokens, passwords and recovery
 * passwords stay out of the log. Lines are written whole (one write(2) under
 * a mutex), so concurrent requests never interleave. */
#ifndef SSRP_SIM_CLOUD_REQLOG_H
#define SSRP_SIM_CLOUD_REQLOG_H

typedef struct cloud_reqlog cloud_reqlog;

typedef struct cloud_reqlog_entry {
	const char *request_id;
	const char *identity;    /* NULL or "" for unknown */
	const char *client_addr;
	const char *method;
	const char *host;
	const char *path;        /* without the query */
	int status;              /* 0 when no response was sent (reset) */
	double ms;               /* time from the request line to the response */
	const char *fault;       /* NULL or "" for none */
	int early_retry;
} cloud_reqlog_entry;

/* Append to path (created 0600). */
int cloud_reqlog_open(cloud_reqlog **out, const char *path);
void cloud_reqlog_close(cloud_reqlog *log);
void cloud_reqlog_write(cloud_reqlog *log, const cloud_reqlog_entry *e);
/* The line for e, NUL-terminated, into buf (truncated to fit); its length. */
size_t cloud_reqlog_format(char *buf, size_t cap, const cloud_reqlog_entry *e, const char *time_iso);

#endif
