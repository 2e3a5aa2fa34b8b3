/* escrow/assoc.h: the engine, its workers and the run. Jobs are cut into
 * chunks; with more than one chunk, worker threads (each with its own pair
 * of Graph clients) take chunks in turn and queue their decisions back;
 * the caller's thread calls the callbacks and writes the audit lines. One
 * chunk runs on the caller's thread: a single job (the webhook, `assoc
 * run`) goes through the same phases as a batch of ten thousand. */
#include <stdio.h>
#include <string.h>

#include "escrow/assoc_private.h"
#include "escrow/assoc_util.h"
#include "escrow/audit.h"
#include "hal/clock.h"
#include "hal/thread.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "ssrp/sys/error.h"

#define PROGRESS_EVERY_MS 250

const char *ssrp_assoc_outcome_name(ssrp_assoc_outcome o)
{
	switch (o) {
	case SSRP_ASSOC_ADDED: return "added";
	case SSRP_ASSOC_ALREADY: return "already";
	case SSRP_ASSOC_WOULD_ADD: return "would-add";
	case SSRP_ASSOC_UNKNOWN_USER: return "unknown-user";
	case SSRP_ASSOC_UNKNOWN_DEVICE: return "unknown-device";
	case SSRP_ASSOC_CAP_REACHED: return "cap-reached";
	case SSRP_ASSOC_REFUSED: return "refused";
	case SSRP_ASSOC_FAILED: return "failed";
	}
	return "unknown";
}

const char *ssrp_assoc_licence_name(ssrp_assoc_licence l)
{
	switch (l) {
	case SSRP_ASSOC_LICENCE_NOT_CHECKED: return "not-checked";
	case SSRP_ASSOC_LICENCE_OK: return "ok";
	case SSRP_ASSOC_LICENCE_MISSING: return "missing";
	case SSRP_ASSOC_LICENCE_ASSIGNED: return "assigned";
	case SSRP_ASSOC_LICENCE_WOULD_ASSIGN: return "would-assign";
	case SSRP_ASSOC_LICENCE_ERROR: return "error";
	}
	return "unknown";
}

int ssrp_assoc_options_init(ssrp_assoc_options *o, unsigned int version)
{
	int rc = ssrp_struct_version_check("ssrp_assoc_options", version,
					   SSRP_ASSOC_OPTIONS_VERSION, "SSRP_ASSOC_OPTIONS_INIT");
	if (rc)
		return rc;
	memset(o, 0, sizeof *o);
	o->version = version;
	return SSRP_OK;
}

int ssrp_assoc_new(ssrp_assoc **out, const ssrp_cloud_config *cfg, const ssrp_assoc_options *opt)
{
	return ssrp_assoc_new_tuned(out, cfg, opt, NULL);
}

int ssrp_assoc_new_tuned(ssrp_assoc **out, const ssrp_cloud_config *cfg,
			 const ssrp_assoc_options *opt, const ssrp_assoc_tuning *tuning)
{
	if (!out || !cfg)
		return ssrp_error_set(SSRP_E_INVALID, "assoc: no configuration");
	*out = NULL;
	const ssrp_assoc_config *ac = &cfg->assoc;
	ssrp_assoc_options o = SSRP_ASSOC_OPTIONS_INIT;
	if (opt) {
		int vrc = ssrp_struct_version_check("ssrp_assoc_options", opt->version,
						    SSRP_ASSOC_OPTIONS_VERSION,
						    "SSRP_ASSOC_OPTIONS_INIT");
		if (vrc)
			return vrc;
		o = *opt;
	}
	const ssrp_assoc_tuning none = {0};
	const ssrp_assoc_tuning *t = tuning ? tuning : &none;
	if (!ac->as_owner && !ac->as_user)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration registers users as neither owner nor user "
				      "(assoc.register)");
	if (!ac->max_owners)
		return ssrp_error_set(SSRP_E_INVALID, "assoc.max_owners must be at least 1");
	if (ac->licence == SSRP_ASSOC_LICENCE_ASSIGN && !ac->licence_sku)
		return ssrp_error_set(SSRP_E_INVALID,
				      "assoc.licence is \"assign\" but no assoc.licence_sku says which "
				      "licence to assign; add the skuId or set assoc.licence to "
				      "\"check\"");
	if (ac->licence == SSRP_ASSOC_LICENCE_ASSIGN && !ssrp_guid_is_bare(ac->licence_sku))
		return ssrp_error_set(SSRP_E_INVALID,
				      "assoc.licence_sku must be a skuId (a GUID), not \"%.60s\"",
				      ac->licence_sku);
	ssrp_graph_auth reader = {0}, writer = {0};
	if (t->reader) {
		reader = *t->reader;
	} else if (cfg->app_id && cfg->app_cert_file) {
		reader.kind = SSRP_GRAPH_AUTH_APP_CERT;
	} else if (cfg->app_id && cfg->app_secret_file) {
		reader.kind = SSRP_GRAPH_AUTH_APP_SECRET;
	} else {
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration has no app credential to read the directory: "
				      "give app_id with app_secret_file or app_cert_file");
	}
	if (t->writer) {
		writer = *t->writer;
	} else if (!o.dry_run) {
		if (!cfg->refresh_token_file || !cfg->public_client_id)
			return ssrp_error_set(SSRP_E_INVALID,
					      "changing device owners needs a service account's "
					      "delegated token: the configuration has no "
					      "refresh_token_file and public_client_id (run 'ssrp assoc "
					      "login' first, or use --dry-run)");
		writer.kind = SSRP_GRAPH_AUTH_REFRESH_TOKEN;
	}
	ssrp_assoc *a = ssrp_calloc(1, sizeof *a);
	if (!a)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	a->cfg = cfg;
	assoc_skus_init(&a->skus);
	a->opt = o;
	a->graph_opt = t->graph;
	if (o.graph_deadline_ms)
		a->graph_opt.deadline_ms = o.graph_deadline_ms;
	a->reader_auth = reader;
	a->writer_auth = writer;
	a->n_workers = o.concurrency ? o.concurrency : 4;
	if (a->n_workers > ASSOC_MAX_WORKERS)
		a->n_workers = ASSOC_MAX_WORKERS;
	int rc;
	if (!(a->requester = ssrp_strdup(o.requester ? o.requester : "cli"))) {
		assoc_skus_free(&a->skus);
		ssrp_free(a);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	a->opt.reader_tokens = a->opt.writer_tokens = NULL;
	if (o.reader_tokens && o.writer_tokens) {
		a->reader_tokens = o.reader_tokens;
		a->writer_tokens = o.writer_tokens;
	} else {
		a->own_tokens = 1;
		if ((rc = ssrp_graph_token_share_new(&a->reader_tokens)) ||
		    (rc = ssrp_graph_token_share_new(&a->writer_tokens))) {
			ssrp_assoc_free(a);
			return rc;
		}
	}
	a->opt.requester = a->requester;
	*out = a;
	return SSRP_OK;
}

void ssrp_assoc_free(ssrp_assoc *a)
{
	if (!a)
		return;
	for (unsigned i = 0; i < ASSOC_MAX_WORKERS; i++)
		assoc_worker_free(&a->workers[i]);
	if (a->own_tokens) {
		ssrp_graph_token_share_free(a->reader_tokens);
		ssrp_graph_token_share_free(a->writer_tokens);
	}
	assoc_skus_free(&a->skus);
	ssrp_free(a->requester);
	ssrp_free(a);
}

int assoc_worker_ready(ssrp_assoc *a, assoc_worker *w)
{
	int rc;
	if (!w->reader) {
		if ((rc = ssrp_graph_new(&w->reader, a->cfg, &a->reader_auth, &a->graph_opt)))
			return ssrp_error_prefix(rc, "cannot set up the directory reader");
		ssrp_graph_use_token_share(w->reader, a->reader_tokens);
	}
	if (!a->opt.dry_run && !w->writer) {
		if ((rc = ssrp_graph_new(&w->writer, a->cfg, &a->writer_auth, &a->graph_opt)))
			return ssrp_error_prefix(rc, "cannot set up the service account's client");
		ssrp_graph_use_token_share(w->writer, a->writer_tokens);
	}
	return SSRP_OK;
}

int ssrp_assoc_get_stats(const ssrp_assoc *a, ssrp_assoc_stats *out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "assoc: no stats to fill");
	unsigned int version = out->version;
	int rc = ssrp_struct_version_check("ssrp_assoc_stats", version, SSRP_ASSOC_STATS_VERSION,
					   "SSRP_ASSOC_STATS_INIT");
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	out->version = version;
	if (!a)
		return SSRP_OK;
	out->jobs = a->jobs;
	out->decisions = a->decisions;
	for (unsigned i = 0; i < ASSOC_MAX_WORKERS; i++) {
		const ssrp_graph *gs[2] = {a->workers[i].reader, a->workers[i].writer};
		for (int k = 0; k < 2; k++) {
			if (!gs[k])
				continue;
			ssrp_graph_stats s;
			ssrp_graph_get_stats(gs[k], &s);
			/* every attempt: a retry of a call is one more exchange */
			out->http_requests += s.token_requests + s.graph_requests + s.retries;
			out->token_requests += s.token_requests;
			out->throttled += s.throttled;
			out->retries += s.retries;
		}
	}
	return SSRP_OK;
}

/* ---- a run ---------------------------------------------------------------- */

typedef struct done_chunk {
	struct done_chunk *next;
	size_t first, n;
	assoc_recs recs;
	int rc;
	char why[600];
} done_chunk;

typedef struct run_state {
	ssrp_assoc *a;
	const ssrp_assoc_job *jobs;
	size_t n_jobs, chunk, n_chunks;
	ssrp_mutex lock;
	ssrp_cond cond;
	size_t next_chunk; /* to hand out */
	int stop;          /* a fatal error: the rest fail without trying */
	char stop_why[600];
	int stop_rc;
	done_chunk *done, **done_tail;
} run_state;

typedef struct worker_arg {
	run_state *rs;
	assoc_worker *w;
} worker_arg;

static void do_chunk(run_state *rs, assoc_worker *w, size_t idx, done_chunk *d)
{
	ssrp_assoc *a = rs->a;
	d->first = idx * rs->chunk;
	d->n = rs->n_jobs - d->first < rs->chunk ? rs->n_jobs - d->first : rs->chunk;
	ssrp_mutex_lock(&rs->lock);
	int stop = rs->stop;
	char why[600];
	snprintf(why, sizeof why, "%s", rs->stop_why);
	ssrp_mutex_unlock(&rs->lock);
	int rc;
	if (stop) {
		rc = assoc_chunk_fail(a, rs->jobs, d->first, d->n, why, &d->recs);
		d->rc = rs->stop_rc;
		snprintf(d->why, sizeof d->why, "%s", why);
		return;
	}
	rc = assoc_worker_ready(a, w);
	if (rc) {
		snprintf(d->why, sizeof d->why, "%s", ssrp_error_last());
		assoc_chunk_fail(a, rs->jobs, d->first, d->n, d->why, &d->recs);
	} else if ((rc = assoc_chunk_run(a, w, rs->jobs, d->first, d->n, &d->recs))) {
		snprintf(d->why, sizeof d->why, "%s", ssrp_error_last());
	}
	d->rc = rc;
	if (rc) {
		ssrp_mutex_lock(&rs->lock);
		if (!rs->stop) {
			rs->stop = 1;
			rs->stop_rc = rc;
			snprintf(rs->stop_why, sizeof rs->stop_why, "%s", d->why);
		}
		ssrp_mutex_unlock(&rs->lock);
	}
}

static void *worker_main(void *p)
{
	worker_arg *wa = p;
	run_state *rs = wa->rs;
	for (;;) {
		ssrp_mutex_lock(&rs->lock);
		size_t idx = rs->next_chunk < rs->n_chunks ? rs->next_chunk++ : (size_t)-1;
		ssrp_mutex_unlock(&rs->lock);
		if (idx == (size_t)-1)
			break;
		done_chunk *d = ssrp_calloc(1, sizeof *d);
		if (!d) {
			/* cannot even report: the caller notices the missing chunk */
			ssrp_mutex_lock(&rs->lock);
			rs->stop = 1;
			rs->stop_rc = SSRP_E_NOMEM;
			snprintf(rs->stop_why, sizeof rs->stop_why, "out of memory");
			ssrp_cond_signal(&rs->cond);
			ssrp_mutex_unlock(&rs->lock);
			continue;
		}
		do_chunk(rs, wa->w, idx, d);
		ssrp_mutex_lock(&rs->lock);
		*rs->done_tail = d;
		rs->done_tail = &d->next;
		ssrp_cond_signal(&rs->cond);
		ssrp_mutex_unlock(&rs->lock);
	}
	return NULL;
}

typedef struct emit_ctx {
	ssrp_assoc *a;
	const ssrp_assoc_job *jobs;
	ssrp_assoc_decision_fn fn;
	void *ctx;
} emit_ctx;

static void emit(emit_ctx *e, const assoc_rec *x)
{
	const ssrp_assoc_job *job = &e->jobs[x->job];
	ssrp_assoc_decision d = {
		.requester = e->a->requester,
		.device_id = job->device_id ? job->device_id : "",
		.device_name = x->device_name ? x->device_name : "",
		.user = job->users[x->user] ? job->users[x->user] : "",
		.upn = x->upn ? x->upn : "",
		.user_object_id = x->user_id ? x->user_id : "",
		.relation = x->owners ? "registeredOwners" : "registeredUsers",
		.outcome = x->outcome,
		.licence = x->licence,
		.licence_plan = x->plan ? x->plan : "",
		.detail = x->detail ? x->detail : "",
		.dry_run = e->a->opt.dry_run,
	};
	e->a->decisions++;
	if (e->a->opt.audit)
		ssrp_audit_decision(e->a->opt.audit, &d); /* a failed audit write is not a decision */
	if (e->fn)
		e->fn(&d, e->ctx);
}

int ssrp_assoc_run(ssrp_assoc *a, const ssrp_assoc_job *jobs, size_t n, ssrp_assoc_decision_fn fn,
		   void *ctx)
{
	if (!a || (n && !jobs))
		return ssrp_error_set(SSRP_E_INVALID, "assoc: no engine or jobs");
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].device_id || (jobs[i].n_users && !jobs[i].users))
			return ssrp_error_set(SSRP_E_INVALID, "assoc: job %zu has no device or users",
					      i + 1);
	for (unsigned i = 0; i < ASSOC_MAX_WORKERS; i++)
		assoc_worker_reset(&a->workers[i]);
	assoc_skus_reset(&a->skus);
	if (n == 0)
		return SSRP_OK;
	run_state rs = {.a = a, .jobs = jobs, .n_jobs = n};
	/* Chunks of 60 to 100 devices, a multiple of 20: each device costs
	 * about 3 + 3 + 2 inner requests in the three phases, so a phase of a
	 * chunk fills its $batch posts; small inputs are not split thinner than
	 * that, as every worker also fetches its own tokens. */
	size_t per = (n + a->n_workers - 1) / a->n_workers;
	per = (per + SSRP_GRAPH_BATCH_MAX - 1) / SSRP_GRAPH_BATCH_MAX * SSRP_GRAPH_BATCH_MAX;
	if (per < ASSOC_CHUNK_MIN)
		per = ASSOC_CHUNK_MIN;
	rs.chunk = per < ASSOC_CHUNK_MAX ? per : ASSOC_CHUNK_MAX;
	rs.n_chunks = (n + rs.chunk - 1) / rs.chunk;
	rs.done_tail = &rs.done;
	emit_ctx e = {.a = a, .jobs = jobs, .fn = fn, .ctx = ctx};
	int rc = SSRP_OK;
	char why[600] = "";
	size_t jobs_done = 0;
	uint64_t last = ssrp_monotonic_ms();

	if (rs.n_chunks == 1) {
		done_chunk d = {0};
		ssrp_mutex_init(&rs.lock);
		do_chunk(&rs, &a->workers[0], 0, &d);
		ssrp_mutex_destroy(&rs.lock);
		for (size_t i = 0; i < d.recs.n; i++)
			emit(&e, &d.recs.v[i]);
		assoc_recs_clear(&d.recs);
		a->jobs += n;
		if (a->opt.progress)
			a->opt.progress(n, n, a->opt.progress_ctx);
		if (d.rc)
			return ssrp_error_set(d.rc, "%s", d.why);
		return SSRP_OK;
	}

	unsigned nw = a->n_workers < rs.n_chunks ? a->n_workers : (unsigned)rs.n_chunks;
	ssrp_thread th[ASSOC_MAX_WORKERS];
	worker_arg wa[ASSOC_MAX_WORKERS];
	unsigned started = 0;
	ssrp_mutex_init(&rs.lock);
	ssrp_cond_init(&rs.cond);
	for (unsigned i = 0; i < nw; i++) {
		wa[i] = (worker_arg){.rs = &rs, .w = &a->workers[i]};
		if (ssrp_thread_start(&th[i], worker_main, &wa[i]) != SSRP_OK)
			break;
		started++;
	}
	if (!started) {
		/* no thread at all: the caller's thread does the work */
		wa[0] = (worker_arg){.rs = &rs, .w = &a->workers[0]};
		worker_main(&wa[0]);
	}
	size_t chunks_seen = 0;
	for (;;) {
		ssrp_mutex_lock(&rs.lock);
		while (!rs.done && chunks_seen < rs.n_chunks &&
		       !(rs.stop_rc == SSRP_E_NOMEM && rs.next_chunk >= rs.n_chunks && started == 0))
			ssrp_cond_wait(&rs.cond, &rs.lock);
		done_chunk *list = rs.done;
		rs.done = NULL;
		rs.done_tail = &rs.done;
		ssrp_mutex_unlock(&rs.lock);
		if (!list)
			break;
		for (done_chunk *d = list, *nx; d; d = nx) {
			nx = d->next;
			for (size_t i = 0; i < d->recs.n; i++)
				emit(&e, &d->recs.v[i]);
			if (d->rc && !rc) {
				rc = d->rc;
				snprintf(why, sizeof why, "%s", d->why);
			}
			jobs_done += d->n;
			chunks_seen++;
			assoc_recs_clear(&d->recs);
			ssrp_free(d);
		}
		uint64_t now = ssrp_monotonic_ms();
		if (a->opt.progress && (now - last >= PROGRESS_EVERY_MS || jobs_done == n)) {
			a->opt.progress(jobs_done, n, a->opt.progress_ctx);
			last = now;
		}
		if (chunks_seen >= rs.n_chunks)
			break;
	}
	for (unsigned i = 0; i < started; i++)
		ssrp_thread_join(&th[i]);
	/* anything queued after the last wait (cannot happen, but never drop) */
	for (done_chunk *d = rs.done, *nx; d; d = nx) {
		nx = d->next;
		for (size_t i = 0; i < d->recs.n; i++)
			emit(&e, &d->recs.v[i]);
		jobs_done += d->n;
		chunks_seen++;
		assoc_recs_clear(&d->recs);
		ssrp_free(d);
	}
	ssrp_cond_destroy(&rs.cond);
	ssrp_mutex_destroy(&rs.lock);
	a->jobs += n;
	if (chunks_seen < rs.n_chunks && !rc) {
		rc = SSRP_E_NOMEM;
		snprintf(why, sizeof why, "out of memory: %zu jobs were not decided", n - jobs_done);
	}
	if (rc)
		return ssrp_error_set(rc, "%s", why);
	return SSRP_OK;
}
