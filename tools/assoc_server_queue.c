/* The devices waiting for a decision in `ssrp assoc serve`
 * (assoc_server_private.h). A device has at most one decision waiting or
 * under way (a group): a request asking the same joins it and shares its
 * answer, one asking something else is told to come back (429). Groups
 * wait in arrival order, so every device is served in turn however often
 * it asks. A worker takes up to batch_max of them once the oldest has
 * waited batch_wait_ms (or at once when that many wait), so concurrent
 * devices share the engine's $batch calls. A request whose client has gone
 * leaves its group; a group nobody waits for is dropped before it starts. */
#define _GNU_SOURCE /* POLLRDHUP: the peer closed its end, seen without reading */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include <ssrp/clock.h>
#include <ssrp/error.h>
#include <ssrp/text.h>
#include "tools/assoc_server_private.h"

#define BUSY_RETRY_AFTER "30"  /* the queue is full */
#define AGAIN_RETRY_AFTER "5"  /* this device's decision is under way */
#define FAILED_RETRY_AFTER "30"

struct assoc_group {
	assoc_group *next;  /* the waiting list */
	assoc_group *hnext; /* the device's bucket */
	char device[ASSOC_CN_MAX]; /* as the certificate names it; compared without case */
	char shown[ASSOC_CN_MAX];  /* as its certificate has it */
	char *key;                 /* what is asked: the users, in order */
	ssrp_assoc_request *areq;  /* the first request's */
	req_ctx *waiters;
	uint64_t queued_ms;
	int running;
	cJSON *decisions;
};

static unsigned bucket_of(const assoc_queue *q, const char *device)
{
	unsigned h = 2166136261u;
	for (const char *p = device; *p; p++) {
		unsigned c = (unsigned char)*p;
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c)) * 16777619u;
	}
	return h % q->n_buckets;
}

static assoc_group *find(assoc_queue *q, const char *device)
{
	for (assoc_group *g = q->by_device[bucket_of(q, device)]; g; g = g->hnext)
		if (ssrp_ascii_ieq(g->device, device))
			return g;
	return NULL;
}

static void unlink_device(assoc_queue *q, assoc_group *g)
{
	assoc_group **pp = &q->by_device[bucket_of(q, g->device)];
	while (*pp && *pp != g)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = g->hnext;
}

static void group_free(assoc_group *g)
{
	if (!g)
		return;
	free(g->key);
	ssrp_assoc_request_free(g->areq);
	cJSON_Delete(g->decisions);
	free(g);
}

/* The users in order, each ended by '\n' (they hold no control character). */
static char *request_key(const ssrp_assoc_request *a)
{
	size_t n = 1;
	for (size_t i = 0; i < a->n_users; i++)
		n += strlen(a->users[i]) + 1;
	char *k = malloc(n), *p = k;
	if (!k)
		return NULL;
	for (size_t i = 0; i < a->n_users; i++) {
		size_t l = strlen(a->users[i]);
		memcpy(p, a->users[i], l);
		p[l] = '\n';
		p += l + 1;
	}
	*p = '\0';
	return k;
}

static int answer_now(req_ctx *r, int status, char *json, const char *retry_after)
{
	r->status = status;
	r->answer = json;
	r->retry_after = retry_after;
	return status;
}

int queue_submit(assoc_queue *q, req_ctx *r)
{
	assoc_server *srv = q->srv;
	const char *device = r->device; /* compared without case */
	char *key = request_key(r->areq);
	if (!key)
		return answer_now(r, 503, assoc_error_json("ServiceUnavailable", "Out of memory."),
				  BUSY_RETRY_AFTER);
	pthread_mutex_lock(&q->lock);
	assoc_group *g = find(q, device);
	int status = 0, fresh = !g;
	if (g && strcmp(g->key, key) != 0) {
		status = 429;
	} else if (!g && (q->n_waiting >= srv->limits.queue_max || q->stopping)) {
		status = 503;
		q->stats.busy++;
	} else if (!g && !(g = calloc(1, sizeof *g))) {
		status = 503;
	} else {
		/* Suspended before a worker can see it, so its resume never
		 * comes first. */
		r->state = REQ_QUEUED;
		MHD_suspend_connection(r->conn);
		if (!fresh) {
			q->stats.shared++;
		} else {
			snprintf(g->device, sizeof g->device, "%s", device);
			snprintf(g->shown, sizeof g->shown, "%s", r->device);
			g->key = key;
			key = NULL;
			g->areq = r->areq;
			r->areq = NULL;
			g->queued_ms = ssrp_monotonic_ms();
			unsigned b = bucket_of(q, device);
			g->hnext = q->by_device[b];
			q->by_device[b] = g;
			if (q->tail)
				q->tail->next = g;
			else
				q->head = g;
			q->tail = g;
			q->n_waiting++;
			q->stats.groups++;
			pthread_cond_signal(&q->cond);
		}
		r->gnext = g->waiters;
		g->waiters = r;
	}
	pthread_mutex_unlock(&q->lock);
	free(key);
	if (!status)
		return 0;
	if (status == 429)
		return answer_now(r, 429,
				  assoc_error_json("AlreadyDeciding",
						   "A request of this device (%s) with other users "
						   "is being decided; ask again when it is answered.",
						   r->device),
				  AGAIN_RETRY_AFTER);
	return answer_now(r, 503,
			  assoc_error_json("ServiceBusy",
					   "Too many devices are waiting for a decision; ask again "
					   "later."),
			  BUSY_RETRY_AFTER);
}

/* ---- clients that have gone -------------------------------------------------- */

/* The peer closed its end (or the socket failed): nobody reads an answer. */
static int client_gone(const req_ctx *r)
{
	struct pollfd p = {.fd = r->fd, .events = POLLRDHUP};
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* Lock held: the group's requests whose client has gone leave it, their
 * connections resumed to be closed. */
static void detach_gone(assoc_queue *q, assoc_group *g)
{
	for (req_ctx **pp = &g->waiters; *pp;) {
		req_ctx *r = *pp;
		if (!client_gone(r)) {
			pp = &r->gnext;
			continue;
		}
		*pp = r->gnext;
		r->state = REQ_GONE;
		q->stats.abandoned++;
		MHD_resume_connection(r->conn);
	}
}

#define POLL_MAX 4096

void queue_drop_abandoned(assoc_queue *q)
{
	struct pollfd pf[POLL_MAX];
	req_ctx *rs[POLL_MAX];
	nfds_t n = 0;
	pthread_mutex_lock(&q->lock);
	for (unsigned b = 0; b < q->n_buckets; b++)
		for (assoc_group *g = q->by_device[b]; g; g = g->hnext)
			for (req_ctx *r = g->waiters; r && n < POLL_MAX; r = r->gnext) {
				pf[n] = (struct pollfd){.fd = r->fd, .events = POLLRDHUP};
				rs[n++] = r;
			}
	if (n && poll(pf, n, 0) > 0) {
		for (nfds_t i = 0; i < n; i++) {
			if (!(pf[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
				continue;
			req_ctx *r = rs[i];
			/* find and unlink it from its group */
			assoc_group *g = find(q, r->device);
			if (!g)
				continue;
			req_ctx **pp = &g->waiters;
			while (*pp && *pp != r)
				pp = &(*pp)->gnext;
			if (!*pp)
				continue;
			*pp = r->gnext;
			r->state = REQ_GONE;
			q->stats.abandoned++;
			MHD_resume_connection(r->conn);
			if (!g->waiters && !g->running) {
				/* nobody waits for it: it never starts */
				assoc_group **wp = &q->head;
				assoc_group *prev = NULL;
				while (*wp && *wp != g) {
					prev = *wp;
					wp = &(*wp)->next;
				}
				if (*wp) {
					*wp = g->next;
					if (q->tail == g)
						q->tail = prev;
					q->n_waiting--;
				}
				unlink_device(q, g);
				group_free(g);
			}
		}
	}
	pthread_mutex_unlock(&q->lock);
}

void queue_get_stats(assoc_queue *q, queue_stats *out)
{
	pthread_mutex_lock(&q->lock);
	*out = q->stats;
	pthread_mutex_unlock(&q->lock);
}

/* ---- the workers -------------------------------------------------------------- */

typedef struct run_ctx {
	assoc_server *srv;
	assoc_group **groups;
	const ssrp_assoc_job *jobs;
	size_t n;
} run_ctx;

static void on_decision(const ssrp_assoc_decision *d, void *arg)
{
	run_ctx *c = arg;
	assoc_group *g = NULL;
	for (size_t i = 0; i < c->n && !g; i++)
		if (c->jobs[i].device_id == d->device_id ||
		    ssrp_ascii_ieq(c->jobs[i].device_id, d->device_id))
			g = c->groups[i];
	if (!g)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "user", d->user ? d->user : "");
	cJSON_AddStringToObject(o, "upn", d->upn ? d->upn : "");
	cJSON_AddStringToObject(o, "relation", d->relation ? d->relation : "");
	cJSON_AddStringToObject(o, "outcome", ssrp_assoc_outcome_name(d->outcome));
	cJSON_AddStringToObject(o, "licence", ssrp_assoc_licence_name(d->licence));
	cJSON_AddStringToObject(o, "licence_plan", d->licence_plan ? d->licence_plan : "");
	cJSON_AddStringToObject(o, "detail", d->detail ? d->detail : "");
	cJSON_AddItemToArray(g->decisions, o);
	if (c->srv->audit) {
		/* The engines are shared between devices: the requester is the
		 * device's, set here rather than in the engine's options. */
		char requester[ASSOC_CN_MAX + 16];
		snprintf(requester, sizeof requester, "device:%s", g->shown);
		ssrp_assoc_decision copy = *d;
		copy.requester = requester;
		if (ssrp_audit_decision(c->srv->audit, &copy) != SSRP_OK)
			fprintf(stderr, "ssrp assoc serve: audit: %s\n", ssrp_error_last());
	}
}

/* The answer of one group (JSON, malloc'd) and its status. */
static char *group_answer(assoc_server *srv, assoc_group *g, int rc, const char *why,
			  int *status)
{
	cJSON *o = cJSON_CreateObject();
	const char *device = g->shown;
	cJSON_AddStringToObject(o, "deviceId", device);
	cJSON_AddItemToObject(o, "decisions", g->decisions);
	g->decisions = NULL;
	*status = 200;
	if (rc != SSRP_OK) {
		/* The run itself could not go on (no token, Graph down): the
		 * device tries again later; what was decided is in the answer. */
		char detail[1100];
		snprintf(detail, sizeof detail, "the association could not be completed: %s", why);
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", "ServiceUnavailable");
		cJSON_AddStringToObject(e, "message", detail);
		char requester[ASSOC_CN_MAX + 16];
		snprintf(requester, sizeof requester, "device:%s", device);
		assoc_audit_event(srv, requester, "failed", device, detail);
		*status = 503;
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static void run_groups(worker *w, assoc_group **groups, size_t n)
{
	assoc_server *srv = w->srv;
	assoc_queue *q = &srv->queue;
	ssrp_assoc_job *jobs = calloc(n, sizeof *jobs);
	int rc;
	char why[1024] = "out of memory";
	run_ctx c = {.srv = srv, .groups = groups, .jobs = jobs, .n = n};
	if (jobs) {
		for (size_t i = 0; i < n; i++) {
			groups[i]->decisions = cJSON_CreateArray();
			jobs[i] = (ssrp_assoc_job){
				.device_id = groups[i]->areq->device_id,
				.users = (const char *const *)groups[i]->areq->users,
				.n_users = groups[i]->areq->n_users,
			};
		}
		rc = ssrp_assoc_run(w->engine, jobs, n, on_decision, &c);
		if (rc)
			snprintf(why, sizeof why, "%s", ssrp_error_last());
	} else {
		rc = SSRP_E_NOMEM;
		for (size_t i = 0; i < n; i++)
			groups[i]->decisions = cJSON_CreateArray();
	}
	free(jobs);
	pthread_mutex_lock(&q->lock);
	q->stats.runs++;
	q->stats.devices_run += n;
	for (size_t i = 0; i < n; i++) {
		assoc_group *g = groups[i];
		int status = 200;
		char *text = group_answer(srv, g, rc, why, &status);
		for (req_ctx *r = g->waiters, *nx; r; r = nx) {
			nx = r->gnext;
			r->status = text ? status : 500;
			r->answer = text ? strdup(text) : NULL;
			r->retry_after = status == 503 ? FAILED_RETRY_AFTER : NULL;
			r->state = REQ_ANSWERED;
			MHD_resume_connection(r->conn);
		}
		free(text);
		unlink_device(q, g);
		group_free(g);
	}
	pthread_mutex_unlock(&q->lock);
}

static void deadline_ts(uint64_t wait_ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(wait_ms / 1000u);
	ts->tv_nsec += (long)(wait_ms % 1000u) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void *queue_worker_main(void *arg)
{
	worker *w = arg;
	assoc_server *srv = w->srv;
	assoc_queue *q = &srv->queue;
	unsigned max = srv->limits.batch_max;
	assoc_group **batch = calloc(max, sizeof *batch);
	if (!batch)
		return NULL;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (!q->head) {
			if (q->stopping)
				break;
			pthread_cond_wait(&q->cond, &q->lock);
			continue;
		}
		uint64_t waited = ssrp_monotonic_ms() - q->head->queued_ms;
		if (q->n_waiting < max && waited < srv->limits.batch_wait_ms && !q->stopping) {
			/* Company for the $batch calls: wait for more devices. */
			struct timespec ts;
			deadline_ts(srv->limits.batch_wait_ms - waited, &ts);
			pthread_cond_timedwait(&q->cond, &q->lock, &ts);
			continue;
		}
		size_t n = 0;
		while (q->head && n < max) {
			assoc_group *g = q->head;
			q->head = g->next;
			if (!q->head)
				q->tail = NULL;
			q->n_waiting--;
			g->next = NULL;
			/* A decision nobody waits for any more is not started. */
			detach_gone(q, g);
			if (!g->waiters) {
				unlink_device(q, g);
				group_free(g);
				continue;
			}
			g->running = 1;
			batch[n++] = g;
		}
		if (!n)
			continue;
		if (q->head)
			pthread_cond_signal(&q->cond); /* more for another worker */
		pthread_mutex_unlock(&q->lock);
		run_groups(w, batch, n);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	free(batch);
	return NULL;
}
