/* Inside `ssrp assoc serve`: what assoc_server.c (HTTP and lifecycle),
 * assoc_server_conns.c (who may hold a connection) and
 * assoc_server_queue.c (the devices waiting for a decision, the workers)
 * share. Not for other files. */
#ifndef SSRP_TOOLS_ASSOC_SERVER_PRIVATE_H
#define SSRP_TOOLS_ASSOC_SERVER_PRIVATE_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>

#include <ssrp/assoc.h>
#include <ssrp/assoc_report.h>
#include "tools/assoc_server.h"

#define ASSOC_CN_MAX 128

/* ---- connections (assoc_server_conns.c) ------------------------------------ */

/* One TCP connection, from accept to close. Until it shows a valid device
 * certificate (with its request headers) it is "unproven": it must get
 * that far within handshake_timeout_s, and it is what gets shed when the
 * connections not kept in reserve are all taken. */
typedef struct conn_rec {
	struct conn_rec *prev, *next; /* every connection, oldest first */
	int fd;
	uint64_t started_ms;
	int proven; /* showed a valid device certificate */
	int shed;   /* shut down by the limits; closing */
	char ip[INET6_ADDRSTRLEN];
	/* the client certificate, checked once per connection */
	int checked, ok;
	char cn[ASSOC_CN_MAX]; /* the device id when ok */
	char reason[256];      /* why not, when !ok */
} conn_rec;

typedef struct conn_stats {
	unsigned long accepted, over_address_limit, shed_for_devices, timed_out;
} conn_stats;

typedef struct conn_table {
	pthread_mutex_t lock;
	conn_rec *head, *tail;
	unsigned n, n_unproven, n_shed;
	unsigned per_address, max, unproven_max; /* max_connections, - reserve */
	uint64_t handshake_ms;
	conn_stats stats;
} conn_table;

int conns_init(conn_table *t, const ssrp_assoc_serve_limits *sc);
void conns_destroy(conn_table *t);
/* MHD's connection notifications: record or forget, and apply the
 * per-address limit and the reserve (a refused or shed client is written
 * to the audit log through ssrp_audit_refusal). */
void conns_started(conn_table *t, struct MHD_Connection *conn, void **socket_context,
		   ssrp_audit *audit);
void conns_closed(conn_table *t, void **socket_context);
/* The connection showed a valid device certificate: no longer sheddable. */
void conns_prove(conn_table *t, conn_rec *c);
/* Shut down the unproven connections older than the handshake timeout. */
void conns_expire(conn_table *t, ssrp_audit *audit);
void conns_get_stats(conn_table *t, conn_stats *out);

/* ---- requests and the queue (assoc_server_queue.c) ------------------------- */

enum { REQ_NEW = 0, REQ_QUEUED, REQ_ANSWERED, REQ_GONE };

typedef struct assoc_group assoc_group;

typedef struct req_ctx {
	struct req_ctx *gnext; /* the other requests sharing its group's answer */
	struct MHD_Connection *conn;
	int fd;
	int started, state;
	char *body;
	size_t body_len, body_cap;
	ssrp_assoc_request *areq;
	char device[ASSOC_CN_MAX];
	char requester[ASSOC_CN_MAX + 16];
	char addr[80];
	/* the answer */
	int status;
	char *answer;
	const char *retry_after; /* NULL: none */
} req_ctx;

typedef struct queue_stats {
	unsigned long groups, shared, abandoned, busy, runs, devices_run;
} queue_stats;

typedef struct assoc_queue {
	struct assoc_server *srv;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	assoc_group *head, *tail; /* waiting, oldest first */
	unsigned n_waiting;
	assoc_group **by_device; /* waiting or being decided */
	unsigned n_buckets;
	int stopping;
	queue_stats stats;
} assoc_queue;

/* Hand a parsed request to the queue: it joins the decision its device
 * has waiting or under way when it asks the same, and gets 429 when it
 * asks something else meanwhile; 503 when queue_max devices wait. Returns
 * 0 when the request waits (its connection suspended), else the status
 * of the answer set in r. */
int queue_submit(assoc_queue *q, req_ctx *r);
/* Requests whose client has gone (the peer closed) leave the queue; a
 * decision nobody waits for any more is dropped before it starts. */
void queue_drop_abandoned(assoc_queue *q);
void queue_get_stats(assoc_queue *q, queue_stats *out);
/* The workers: each takes up to batch_max waiting devices (oldest first)
 * once batch_wait_ms passed for the oldest, decides them in one engine run
 * and resumes their connections. */
void *queue_worker_main(void *arg);

/* ---- the devices' reports (assoc_server_reports.c) ------------------------- */

/* The latest report of each device (ssrp/assoc_report.h), kept in
 * memory and written now and then, atomically, to STATE_DIR/
 * device-reports.json. Nothing else about a device is kept, and the file
 * can be lost: devices report again. */
typedef struct report_cache {
	pthread_mutex_t lock;
	int made;
	ssrp_device_reports *all;
	char path[1024]; /* "" when the reports are kept in memory only */
	int dirty;
	uint64_t written_ms, complained_ms;
} report_cache;

/* Load what state_dir (NULL: SSRP_DEVICE_REPORTS_DEFAULT_DIR) holds; a
 * file that is not the cache is moved aside and said on stderr, a missing
 * directory too (then the reports live in memory only). Fails only when
 * out of resources. */
int reports_open(report_cache *c, const char *state_dir);
/* Keep device's report (device: the certificate's device id). */
int reports_put(report_cache *c, const char *device, const ssrp_device_report *r);
/* Write the file when something changed, at most every
 * REPORTS_WRITE_EVERY_MS unless force; a failure is said on stderr (at most
 * once a minute) and tried again later. */
void reports_flush(report_cache *c, int force);
void reports_close(report_cache *c);

/* ---- the server -------------------------------------------------------------- */

typedef struct worker {
	struct assoc_server *srv;
	ssrp_assoc *engine;
	pthread_t thread;
	int started;
} worker;

struct assoc_server {
	const ssrp_cloud_config *cfg;
	ssrp_assoc_serve_limits limits;
	int dry_run;
	struct MHD_Daemon *mhd;
	char *cert_pem, *key_pem, *trust_pem;
	size_t key_len;
	ssrp_audit *audit;
	int port;
	char url[320];
	atomic_long in_flight;
	atomic_int draining;
	conn_table conns;
	int conns_made;
	assoc_queue queue;
	int queue_made;
	worker *workers;
	unsigned n_workers;
	pthread_t watchdog;
	int watchdog_started;
	atomic_int stop_watchdog;
	report_cache reports;
	/* The workers' engines share each credential (escrow/assoc.h). */
	ssrp_graph_token_share *reader_tokens, *writer_tokens;
};

/* A JSON error body {"error":{"code","message"}} (malloc'd). */
char *assoc_error_json(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void assoc_audit_event(struct assoc_server *srv, const char *requester, const char *event,
		       const char *device, const char *detail);

#endif
