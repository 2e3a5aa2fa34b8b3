/* Inside the association engine: what assoc_engine.c (the engine, its
 * workers and the caller's thread) and assoc_batch.c (one chunk of jobs
 * through the $batch phases) share. Not for other files. */
#ifndef SSRP_ESCROW_ASSOC_PRIVATE_H
#define SSRP_ESCROW_ASSOC_PRIVATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "escrow/assoc.h"
#include "hal/thread.h"

#define ASSOC_MAX_WORKERS 32
#define ASSOC_CHUNK_MAX 100 /* devices a worker takes at once */
#define ASSOC_CHUNK_MIN 60

typedef struct assoc_ucache assoc_ucache;

/* One worker: a Graph client pair (reads app-only, changes delegated) and
 * the users it resolved during the current run. */
typedef struct assoc_worker {
	ssrp_graph *reader, *writer;
	assoc_ucache *users;
} assoc_worker;

/* A decision whose strings it owns, made by a worker, handed to the
 * caller's thread. */
typedef struct assoc_rec {
	size_t job;  /* index into the run's jobs */
	size_t user; /* index into the job's users */
	int owners;  /* relation */
	ssrp_assoc_outcome outcome;
	ssrp_assoc_licence licence;
	char *device_name, *upn, *user_id, *plan, *detail;
} assoc_rec;

typedef struct assoc_recs {
	assoc_rec *v;
	size_t n, cap;
} assoc_recs;

/* The tenant's subscriptions (the "value" of GET /subscribedSkus) for the
 * licence check, read once per run (assoc_licence.c). */
typedef struct assoc_skus {
	ssrp_mutex lock;
	ssrp_cond cond;
	int state;
	cJSON *value;
	char *why; /* why it could not be read */
} assoc_skus;

struct ssrp_assoc {
	const ssrp_cloud_config *cfg;
	ssrp_assoc_options opt;
	ssrp_graph_options graph_opt; /* every Graph client's retry options */
	char *requester;
	ssrp_graph_auth reader_auth, writer_auth;
	/* The workers' clients of each credential share their tokens: one
	 * token request per credential, and one writer of the refresh token. */
	ssrp_graph_token_share *reader_tokens, *writer_tokens;
	int own_tokens; /* made here (else the caller's, options) */
	unsigned n_workers;
	assoc_worker workers[ASSOC_MAX_WORKERS];
	unsigned long jobs, decisions;
	assoc_skus skus;
};

/* Make the worker's clients if it has none yet. */
int assoc_worker_ready(ssrp_assoc *a, assoc_worker *w);
void assoc_worker_free(assoc_worker *w);
/* Forget the users resolved in a previous run. */
void assoc_worker_reset(assoc_worker *w);

/* Decide jobs[first .. first+n) into out. SSRP_OK when every user got a
 * decision (whatever it is); an error when the run cannot go on (no
 * token): then every user of the chunk has a FAILED decision in out. */
int assoc_chunk_run(ssrp_assoc *a, assoc_worker *w, const ssrp_assoc_job *jobs, size_t first,
		    size_t n, assoc_recs *out);
/* A FAILED decision for every user of jobs[first .. first+n). */
int assoc_chunk_fail(const ssrp_assoc *a, const ssrp_assoc_job *jobs, size_t first, size_t n,
		     const char *why, assoc_recs *out);
void assoc_recs_clear(assoc_recs *r);

void assoc_skus_init(assoc_skus *s);
void assoc_skus_free(assoc_skus *s);
/* Forget the previous run's catalogue (no worker running). */
void assoc_skus_reset(assoc_skus *s);
/* 1 when the caller is the one to read the catalogue (nobody has yet). */
int assoc_skus_claim(assoc_skus *s);
/* The claimer's answer: value (taken) or NULL and why. Wakes the waiters;
 * after the first call, further calls are ignored. */
void assoc_skus_settle(assoc_skus *s, cJSON *value, const char *why);
/* The catalogue, once read (waits while another worker reads it); NULL
 * with why when it could not be read. */
const cJSON *assoc_skus_wait(assoc_skus *s, char *why, size_t cap);
/* OK with *plan the first of plans a user holds: a service plan of one of
 * the assigned SKUs (active in skus, the plan neither in the assignment's
 * disabledPlans nor Disabled for the tenant); else MISSING. */
ssrp_assoc_licence assoc_licence_of(const cJSON *assigned, const cJSON *skus,
				    char *const *plans, const char **plan);

#endif
