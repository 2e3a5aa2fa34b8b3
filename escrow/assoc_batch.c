/* escrow/assoc_private.h: one chunk of jobs through Graph $batch in three
 * phases, each packed 20 inner requests to a POST:
 *   1. resolve: users (by UPN, or by onPremisesSamAccountName as an advanced
 *      query, taken only when onPremisesDomainName proves the domain), with
 *      their assignedLicenses when licences are checked, devices (by
 *      deviceId), and once per run the tenant's subscribedSkus, app-only;
 *   2. read: the devices' registered owners (and users), app-only;
 *   3. change: $ref adds and licence assignments, delegated (the service
 *      account), skipped in a dry run.
 * Users resolved once stay in the worker's cache for the rest of the run,
 * so a user with many devices costs one lookup, licences included. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/assoc_private.h"
#include "escrow/assoc_util.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

#define UPN_MAX 512

/* ---- the worker's user cache ------------------------------------------------ */

typedef enum { U_PENDING, U_FOUND, U_UNKNOWN, U_REFUSED, U_FAILED } ustate;
typedef enum { L_NONE, L_PENDING, L_DONE } lstate;

typedef struct uentry {
	struct uentry *next;
	char *key; /* the user as given, lower case */
	ustate state;
	int by_sam;
	char *upn, *id, *detail;
	char *sam, *domain; /* by_sam */
	lstate lic;
	ssrp_assoc_licence licence;
	cJSON *assigned; /* assignedLicenses as Graph gave them, until decided */
	char *plan, *lic_detail;
	int assign_queued;
} uentry;

struct assoc_ucache {
	uentry **b;
	size_t nb, n;
};

static void uentry_free(uentry *e)
{
	ssrp_free(e->key);
	ssrp_free(e->upn);
	ssrp_free(e->id);
	ssrp_free(e->detail);
	ssrp_free(e->sam);
	ssrp_free(e->domain);
	ssrp_free(e->plan);
	ssrp_free(e->lic_detail);
	cJSON_Delete(e->assigned);
	ssrp_free(e);
}

void assoc_worker_reset(assoc_worker *w)
{
	assoc_ucache *c = w->users;
	if (!c)
		return;
	for (size_t i = 0; i < c->nb; i++) {
		for (uentry *e = c->b[i], *nx; e; e = nx) {
			nx = e->next;
			uentry_free(e);
		}
	}
	ssrp_free(c->b);
	ssrp_free(c);
	w->users = NULL;
}

void assoc_worker_free(assoc_worker *w)
{
	assoc_worker_reset(w);
	ssrp_graph_free(w->reader);
	ssrp_graph_free(w->writer);
	w->reader = w->writer = NULL;
}

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull & (size_t)-1;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ull;
	return h;
}

static char *lower_dup(const char *s)
{
	char *o = ssrp_strdup(s);
	for (char *p = o; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return o;
}

static int grow(assoc_ucache *c)
{
	size_t nb = c->nb ? 2 * c->nb : 256;
	uentry **b = ssrp_calloc(nb, sizeof *b);
	if (!b)
		return -1;
	for (size_t i = 0; i < c->nb; i++) {
		for (uentry *e = c->b[i], *nx; e; e = nx) {
			nx = e->next;
			size_t h = hash(e->key) % nb;
			e->next = b[h];
			b[h] = e;
		}
	}
	ssrp_free(c->b);
	c->b = b;
	c->nb = nb;
	return 0;
}

/* The entry for user, made (U_PENDING) if new; NULL when out of memory. */
static uentry *ucache_get(assoc_worker *w, const char *user)
{
	if (!w->users && !(w->users = ssrp_calloc(1, sizeof *w->users)))
		return NULL;
	assoc_ucache *c = w->users;
	if ((c->n + 1) * 4 > c->nb * 3 && grow(c))
		return NULL;
	char *key = lower_dup(user);
	if (!key)
		return NULL;
	size_t h = hash(key) % c->nb;
	for (uentry *e = c->b[h]; e; e = e->next) {
		if (!strcmp(e->key, key)) {
			ssrp_free(key);
			return e;
		}
	}
	uentry *e = ssrp_calloc(1, sizeof *e);
	if (!e) {
		ssrp_free(key);
		return NULL;
	}
	e->key = key;
	e->next = c->b[h];
	c->b[h] = e;
	c->n++;
	return e;
}

/* ---- records ------------------------------------------------------------------ */

void assoc_recs_clear(assoc_recs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		assoc_rec *x = &r->v[i];
		ssrp_free(x->device_name);
		ssrp_free(x->upn);
		ssrp_free(x->user_id);
		ssrp_free(x->plan);
		ssrp_free(x->detail);
	}
	ssrp_free(r->v);
	memset(r, 0, sizeof *r);
}

static assoc_rec *rec_add(assoc_recs *r)
{
	if (r->n == r->cap) {
		size_t c = r->cap ? 2 * r->cap : 64;
		assoc_rec *v = ssrp_realloc(r->v, c * sizeof *v);
		if (!v)
			return NULL;
		r->v = v;
		r->cap = c;
	}
	assoc_rec *x = &r->v[r->n++];
	memset(x, 0, sizeof *x);
	return x;
}

static void set_str(char **dst, const char *s)
{
	char *c = ssrp_strdup(s ? s : "");
	if (c) {
		ssrp_free(*dst);
		*dst = c;
	}
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return ssrp_strdup(buf);
}

static void set_fmt(char **dst, char *s)
{
	if (s) {
		ssrp_free(*dst);
		*dst = s;
	}
}

int assoc_chunk_fail(const ssrp_assoc *a, const ssrp_assoc_job *jobs, size_t first, size_t n,
		     const char *why, assoc_recs *out)
{
	const ssrp_assoc_config *ac = &a->cfg->assoc;
	for (size_t j = first; j < first + n; j++) {
		for (int rel = 0; rel < 2; rel++) {
			if (!(rel == 0 ? ac->as_owner : ac->as_user))
				continue;
			for (size_t k = 0; k < jobs[j].n_users; k++) {
				assoc_rec *x = rec_add(out);
				if (!x)
					return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
				x->job = j;
				x->user = k;
				x->owners = rel == 0;
				x->outcome = SSRP_ASSOC_FAILED;
				x->detail = fmt("not decided: %s", why);
			}
		}
	}
	return SSRP_OK;
}

/* ---- one chunk ------------------------------------------------------------------ */

typedef enum { D_PENDING, D_FOUND, D_UNKNOWN, D_FAILED } dstate;

typedef struct relstate {
	int read; /* 1 read, -1 failed */
	char **ids;
	size_t n, cap;
	char *detail;
} relstate;

typedef struct jstate {
	dstate dev;
	char oid[40];
	char *name, *detail;
	relstate rel[2]; /* 0 registeredOwners, 1 registeredUsers */
	uentry **users;
} jstate;

typedef enum { K_USER, K_SAM, K_DEVICE, K_SKUS, K_REFS, K_ADD, K_ASSIGN } kind;

typedef struct preq {
	kind k;
	char *url;
	const char *method;
	cJSON *body;
	const char *const *headers;
	size_t job, rec;
	int rel;
	uentry *u;
} preq;

/* Graph answers $filter on onPremisesSamAccountName only as an advanced
 * query: this header and $count=true. */
static const char *const advanced_query[] = {"ConsistencyLevel: eventual", NULL};

typedef struct plist {
	preq *v;
	size_t n, cap;
} plist;

typedef struct chunk {
	ssrp_assoc *a;
	assoc_worker *w;
	const ssrp_assoc_job *jobs;
	size_t first, n;
	jstate *js;
	assoc_recs *out;
	size_t rec0;     /* first record of this chunk in out */
	uentry **rec_u;  /* the cache entry of each record, by rec - rec0 */
	size_t rec_u_cap;
	plist p;
	int oom;
	int skus_claimed; /* this chunk reads the run's subscribedSkus */
} chunk;

static const char *const rel_name[2] = {"registeredOwners", "registeredUsers"};
static const char *const rel_word[2] = {"owner", "registered user"};

static void plist_clear(plist *p)
{
	for (size_t i = 0; i < p->n; i++) {
		ssrp_free(p->v[i].url);
		cJSON_Delete(p->v[i].body);
	}
	p->n = 0;
}

static preq *plist_add(chunk *c, kind k, char *url)
{
	plist *p = &c->p;
	if (!url) {
		c->oom = 1;
		return NULL;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		preq *v = ssrp_realloc(p->v, cap * sizeof *v);
		if (!v) {
			ssrp_free(url);
			c->oom = 1;
			return NULL;
		}
		p->v = v;
		p->cap = cap;
	}
	preq *r = &p->v[p->n++];
	memset(r, 0, sizeof *r);
	r->k = k;
	r->url = url;
	r->method = "GET";
	return r;
}

static char *cat(const char *a, const char *b)
{
	if (!a)
		return NULL;
	size_t x = strlen(a), y = strlen(b);
	char *o = ssrp_malloc(x + y + 1);
	if (o) {
		memcpy(o, a, x);
		memcpy(o + x, b, y + 1);
	}
	return o;
}

/* "Graph refused GET /devices: Code: message (request-id X)" for a part. */
static char *part_error(const preq *r, long status, const cJSON *body, const char *err)
{
	char shown[160];
	size_t n = strcspn(r->url, "?");
	snprintf(shown, sizeof shown, "%.*s", (int)(n > 150 ? 150 : n), r->url);
	if (err)
		return fmt("%s %s was not answered: %s", r->method, shown, err);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "innerError");
	const cJSON *rid = cJSON_GetObjectItemCaseSensitive(inner, "request-id");
	return fmt("Graph refused %s %s (HTTP %ld): %.96s: %.300s (request-id %.64s)", r->method,
		   shown, status, cJSON_IsString(code) ? code->valuestring : "no error code",
		   cJSON_IsString(msg) ? msg->valuestring : "no message",
		   cJSON_IsString(rid) ? rid->valuestring : "none");
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "DOMAIN\\sam: domain DOMAIN is not a known domain (...)": why the lookup
 * by account name did not prove u's domain; first_dom is the
 * onPremisesDomainName of the first of the accounts found ("" absent),
 * NULL when none was found. */
static char *unproven(const ssrp_assoc_config *ac, const uentry *u, const char *first_dom,
		      int accounts)
{
	const char *dns = ssrp_assoc_dns_name(ac, u->domain, strlen(u->domain));
	char want[400], found[400];
	if (dns)
		snprintf(want, sizeof want, "neither %.100s nor its DNS name %.253s", u->domain, dns);
	else
		snprintf(want, sizeof want,
			 "not %.100s (assoc.netbios_dns gives no DNS name for %.100s)", u->domain,
			 u->domain);
	if (!first_dom)
		snprintf(found, sizeof found, "no account has onPremisesSamAccountName '%.100s'",
			 u->sam);
	else if (!*first_dom)
		snprintf(found, sizeof found, "the account%s has no onPremisesDomainName",
			 accounts > 1 ? " found first (of several)" : "");
	else
		snprintf(found, sizeof found, "the account's onPremisesDomainName is '%.253s'%s",
			 first_dom, accounts > 1 ? " (the first of several)" : "");
	return fmt("%s\\%s: domain %s is not a known domain (not in assoc.domains, and %s%s%s)",
		   u->domain, u->sam, u->domain, found, first_dom ? ", which is " : "",
		   first_dom ? want : "");
}

static void on_user(chunk *c, const preq *r, long st, const cJSON *body, const char *err)
{
	const ssrp_assoc_config *ac = &c->a->cfg->assoc;
	uentry *u = r->u;
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, "value");
	if (err || st != 200 || !cJSON_IsArray(value)) {
		u->state = U_FAILED;
		set_fmt(&u->detail, part_error(r, st, body, err));
		return;
	}
	const cJSON *it, *hit = NULL;
	const char *first_dom = NULL;
	int hits = 0, accounts = 0;
	cJSON_ArrayForEach(it, value) {
		if (!ssrp_guid_is_bare(str_of(it, "id")))
			continue;
		if (r->k == K_SAM) {
			/* the account name alone proves nothing: its domain must */
			const char *dom = str_of(it, "onPremisesDomainName");
			if (!accounts++)
				first_dom = dom ? dom : "";
			if (!ssrp_assoc_domain_proven(ac, u->domain, strlen(u->domain), dom))
				continue;
		}
		hits++;
		if (!hit)
			hit = it;
	}
	if (!hit && r->k == K_SAM &&
	    (accounts || !ssrp_assoc_dns_name(ac, u->domain, strlen(u->domain)))) {
		u->state = U_REFUSED;
		set_fmt(&u->detail, unproven(ac, u, first_dom, accounts));
		return;
	}
	if (!hit || hits > 1) {
		u->state = U_UNKNOWN;
		if (r->k == K_USER)
			set_fmt(&u->detail, fmt("no user %s in the directory", u->upn));
		else if (!hit)
			set_fmt(&u->detail, fmt("no user with onPremisesSamAccountName '%s' in domain "
						"%s in the directory",
						u->sam, u->domain));
		else
			set_fmt(&u->detail, fmt("%d users have onPremisesSamAccountName '%s' in domain "
						"%s; map domain %s in assoc.domains or give a UPN",
						hits, u->sam, u->domain, u->domain));
		return;
	}
	u->state = U_FOUND;
	set_str(&u->id, str_of(hit, "id"));
	if (ac->licence != SSRP_ASSOC_LICENCE_OFF && u->lic == L_NONE) {
		const cJSON *al = cJSON_GetObjectItemCaseSensitive(hit, "assignedLicenses");
		cJSON_Delete(u->assigned);
		u->assigned = NULL;
		if (cJSON_IsArray(al) && !(u->assigned = cJSON_Duplicate(al, 1)))
			c->oom = 1;
		u->lic = L_PENDING;
	}
	const char *upn = str_of(hit, "userPrincipalName");
	if (upn)
		set_str(&u->upn, upn);
	ssrp_free(u->detail);
	u->detail = NULL;
}

static void on_device(chunk *c, const preq *r, long st, const cJSON *body, const char *err)
{
	jstate *j = &c->js[r->job - c->first];
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, "value");
	if (err || st != 200 || !cJSON_IsArray(value)) {
		j->dev = D_FAILED;
		set_fmt(&j->detail, part_error(r, st, body, err));
		return;
	}
	const cJSON *d = cJSON_GetArrayItem(value, 0);
	if (!d) {
		j->dev = D_UNKNOWN;
		set_fmt(&j->detail, fmt("no device with deviceId %s in the directory",
					c->jobs[r->job].device_id));
		return;
	}
	const char *oid = str_of(d, "id");
	if (!ssrp_guid_is_bare(oid)) {
		j->dev = D_FAILED;
		set_fmt(&j->detail, fmt("Graph answered the device %s without an object id",
					c->jobs[r->job].device_id));
		return;
	}
	j->dev = D_FOUND;
	snprintf(j->oid, sizeof j->oid, "%s", oid);
	set_str(&j->name, str_of(d, "displayName"));
}

static int rel_add_id(relstate *rs, const char *id)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		char **v = ssrp_realloc(rs->ids, cap * sizeof *v);
		if (!v)
			return -1;
		rs->ids = v;
		rs->cap = cap;
	}
	if (!(rs->ids[rs->n] = lower_dup(id)))
		return -1;
	rs->n++;
	return 0;
}

static int rel_has(const relstate *rs, const char *id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (ssrp_ascii_ieq(rs->ids[i], id))
			return 1;
	return 0;
}

static int take_ids(relstate *rs, const cJSON *page)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "value")) {
		const char *id = str_of(it, "id");
		if (id && rel_add_id(rs, id))
			return -1;
	}
	return 0;
}

/* Every page after body's @odata.nextLink, read one by one and handed to
 * take until there is no next link or take returns nonzero. SSRP_OK, or
 * the failed read's code (its message in ssrp_error_last()). */
static int follow_next_links(ssrp_graph *g, const cJSON *body, int (*take)(void *ctx, cJSON *page),
			     void *ctx)
{
	const char *next = str_of(body, "@odata.nextLink");
	char *link = next ? ssrp_strdup(next) : NULL;
	while (link) {
		cJSON *page = NULL;
		int rc = ssrp_graph_get(g, link, &page);
		ssrp_free(link);
		if (rc)
			return rc;
		int stop = take(ctx, page);
		next = str_of(page, "@odata.nextLink");
		link = next && !stop ? ssrp_strdup(next) : NULL;
		cJSON_Delete(page);
	}
	return SSRP_OK;
}

typedef struct ref_pages {
	chunk *c;
	relstate *rs;
} ref_pages;

static int take_ref_page(void *ctx, cJSON *page)
{
	ref_pages *p = ctx;
	if (take_ids(p->rs, page))
		p->c->oom = 1;
	return p->c->oom;
}

/* A further page of subscribedSkus: its entries join the first page's. */
static int take_sku_page(void *ctx, cJSON *page)
{
	cJSON *value = ctx;
	cJSON *more = cJSON_DetachItemFromObjectCaseSensitive(page, "value"), *it;
	while (cJSON_IsArray(more) && (it = cJSON_DetachItemViaPointer(more, more->child)))
		cJSON_AddItemToArray(value, it);
	cJSON_Delete(more);
	return 0;
}

static void on_refs(chunk *c, const preq *r, long st, const cJSON *body, const char *err)
{
	relstate *rs = &c->js[r->job - c->first].rel[r->rel];
	if (err || st != 200 || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "value"))) {
		rs->read = -1;
		set_fmt(&rs->detail, part_error(r, st, body, err));
		return;
	}
	if (take_ids(rs, body)) {
		c->oom = 1;
		return;
	}
	/* more than a page (999): the rest one by one, rare */
	ref_pages pages = {c, rs};
	if (follow_next_links(c->w->reader, body, take_ref_page, &pages)) {
		rs->read = -1;
		set_fmt(&rs->detail, fmt("%s", ssrp_error_last()));
		return;
	}
	rs->read = 1;
}

/* The run's catalogue: every page of subscribedSkus (one, in practice). */
static void on_skus(chunk *c, const preq *r, long st, const cJSON *body, const char *err)
{
	cJSON *value = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)body, "value");
	if (err || st != 200 || !cJSON_IsArray(value)) {
		char *why = part_error(r, st, body, err);
		char *text = st == 403 ? fmt("%s; reading the tenant's subscriptions needs the "
					     "application permission LicenseAssignment.Read.All "
					     "(or Organization.Read.All or Directory.Read.All)",
					     why ? why : "")
				       : NULL;
		assoc_skus_settle(&c->a->skus, NULL, text ? text : why);
		ssrp_free(text);
		ssrp_free(why);
		cJSON_Delete(value);
		return;
	}
	if (follow_next_links(c->w->reader, body, take_sku_page, value)) {
		assoc_skus_settle(&c->a->skus, NULL, ssrp_error_last());
		cJSON_Delete(value);
		return;
	}
	assoc_skus_settle(&c->a->skus, value, NULL);
}

static void on_add(chunk *c, const preq *r, long st, const cJSON *body, const char *err)
{
	assoc_rec *x = &c->out->v[r->rec];
	const char *word = rel_word[x->owners ? 0 : 1];
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
	const char *msg = str_of(e, "message");
	if (!err && st >= 200 && st < 300) {
		x->outcome = SSRP_ASSOC_ADDED;
		set_fmt(&x->detail, fmt("added as %s", word));
	} else if (!err && st == 400 && msg && strstr(msg, "already exist")) {
		x->outcome = SSRP_ASSOC_ALREADY;
		set_fmt(&x->detail, fmt("already %s %s", x->owners ? "an" : "a", word));
	} else {
		x->outcome = SSRP_ASSOC_FAILED;
		set_fmt(&x->detail, part_error(r, st, body, err));
	}
}

static void on_assign(chunk *c, const preq *r, long st, const cJSON *body, const char *err)
{
	uentry *u = r->u;
	if (!err && st >= 200 && st < 300) {
		u->licence = SSRP_ASSOC_LICENCE_ASSIGNED;
		set_str(&u->plan, c->a->cfg->assoc.licence_sku);
	} else {
		u->licence = SSRP_ASSOC_LICENCE_ERROR;
		set_fmt(&u->lic_detail, part_error(r, st, body, err));
	}
}

static void dispatch(chunk *c, const preq *r, long st, const cJSON *body, const char *err)
{
	switch (r->k) {
	case K_USER:
	case K_SAM: on_user(c, r, st, body, err); break;
	case K_DEVICE: on_device(c, r, st, body, err); break;
	case K_SKUS: on_skus(c, r, st, body, err); break;
	case K_REFS: on_refs(c, r, st, body, err); break;
	case K_ADD: on_add(c, r, st, body, err); break;
	case K_ASSIGN: on_assign(c, r, st, body, err); break;
	}
}

/* Send the phase's requests, 20 to a $batch, those throttled in any of
 * them again together after one wait, and hand each answer to its
 * handler. A token that cannot be had is the only error returned. */
static int run_phase(chunk *c, ssrp_graph *g)
{
	int rc = SSRP_OK;
	ssrp_graph_batch_req *rq = NULL;
	ssrp_graph_batch_result *res = NULL;
	if (!c->p.n)
		goto out;
	if ((rc = ssrp_graph_token(g)))
		goto out;
	rq = ssrp_calloc(c->p.n, sizeof *rq);
	res = ssrp_calloc(c->p.n, sizeof *res);
	if (!rq || !res) {
		c->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < c->p.n; i++)
		rq[i] = (ssrp_graph_batch_req){.method = c->p.v[i].method,
					       .url = c->p.v[i].url,
					       .body = c->p.v[i].body,
					       .headers = c->p.v[i].headers};
	char err[600] = "";
	int brc = ssrp_graph_batch_all(g, rq, c->p.n, res, err, sizeof err);
	if (brc) {
		snprintf(err, sizeof err, "%s", ssrp_error_last());
		for (size_t i = 0; i < c->p.n; i++)
			res[i] = (ssrp_graph_batch_result){0};
	}
	for (size_t i = 0; i < c->p.n; i++)
		dispatch(c, &c->p.v[i], res[i].status, res[i].body,
			 res[i].status ? NULL : (err[0] ? err : "graph: no answer"));
	ssrp_graph_batch_results_free(res, c->p.n);
out:
	ssrp_free(rq);
	ssrp_free(res);
	plist_clear(&c->p);
	return rc;
}

/* ---- the phases ------------------------------------------------------------------ */

static void phase_resolve(chunk *c)
{
	const ssrp_assoc_config *ac = &c->a->cfg->assoc;
	int lic = ac->licence != SSRP_ASSOC_LICENCE_OFF;
	size_t lookups = 0;
	for (size_t j = 0; j < c->n && !c->oom; j++) {
		const ssrp_assoc_job *job = &c->jobs[c->first + j];
		jstate *js = &c->js[j];
		char *url = ssrp_graph_filter_eq("/devices", "deviceId", job->device_id);
		preq *r = plist_add(c, K_DEVICE, cat(url, "&$select=id,deviceId,displayName"));
		ssrp_free(url);
		if (r)
			r->job = c->first + j;
		if (!(js->users = ssrp_calloc(job->n_users ? job->n_users : 1, sizeof *js->users))) {
			c->oom = 1;
			return;
		}
		for (size_t k = 0; k < job->n_users && !c->oom; k++) {
			uentry *u = ucache_get(c->w, job->users[k]);
			if (!u) {
				c->oom = 1;
				return;
			}
			js->users[k] = u;
			if (u->state == U_FAILED) { /* a new chance in each chunk */
				u->state = U_PENDING;
				ssrp_free(u->upn);
				ssrp_free(u->sam);
				u->upn = u->sam = NULL;
				u->by_sam = 0;
			}
			if (u->state != U_PENDING || u->upn || u->sam)
				continue; /* known, or already asked for in this chunk */
			char upn[UPN_MAX], why[512];
			if (ssrp_assoc_local_account(job->users[k], NULL, why, sizeof why)) {
				u->state = U_REFUSED;
				set_str(&u->detail, why);
				continue;
			}
			int mrc = ssrp_assoc_map_user(ac, job->users[k], upn, sizeof upn);
			if (mrc == SSRP_OK) {
				set_str(&u->upn, upn);
				char *f = ssrp_graph_filter_eq("/users", "userPrincipalName", upn);
				if ((r = plist_add(c, K_USER,
						   cat(f, lic ? "&$select=id,userPrincipalName,"
								"assignedLicenses"
							      : "&$select=id,userPrincipalName")))) {
					r->u = u;
					lookups++;
				}
				ssrp_free(f);
			} else if (mrc == SSRP_E_NOTFOUND && ac->sam_lookup) {
				const char *bs = strchr(job->users[k], '\\');
				u->by_sam = 1;
				set_str(&u->sam, bs + 1);
				set_fmt(&u->domain, fmt("%.*s", (int)(bs - job->users[k]), job->users[k]));
				char *f = ssrp_graph_filter_eq("/users", "onPremisesSamAccountName", u->sam);
				if ((r = plist_add(c, K_SAM,
						   cat(f, lic ? "&$select=id,userPrincipalName,"
								"onPremisesSamAccountName,"
								"onPremisesDomainName,assignedLicenses"
								"&$count=true"
							      : "&$select=id,userPrincipalName,"
								"onPremisesSamAccountName,"
								"onPremisesDomainName&$count=true")))) {
					r->u = u;
					r->headers = advanced_query;
					lookups++;
				}
				ssrp_free(f);
			} else if (mrc == SSRP_E_NOTFOUND) {
				const char *bs = strchr(job->users[k], '\\');
				int dl = (int)(bs - job->users[k]);
				u->state = U_REFUSED;
				set_fmt(&u->detail,
					fmt("%s: domain %.*s is not a known domain (not in "
					    "assoc.domains, and assoc.sam_lookup is off)",
					    job->users[k], dl, job->users[k]));
			} else {
				u->state = U_UNKNOWN;
				set_fmt(&u->detail, fmt("%s", ssrp_error_last()));
			}
		}
	}
	/* the users' licences are decided against the tenant's subscriptions:
	 * the first chunk with users to look up reads them for the run */
	if (lic && lookups && !c->oom && assoc_skus_claim(&c->a->skus)) {
		c->skus_claimed = 1;
		plist_add(c, K_SKUS,
			  ssrp_strdup("/subscribedSkus?$select=skuId,skuPartNumber,"
				      "capabilityStatus,servicePlans"));
	}
}

static void phase_read(chunk *c)
{
	const ssrp_assoc_config *ac = &c->a->cfg->assoc;
	for (size_t j = 0; j < c->n && !c->oom; j++) {
		jstate *js = &c->js[j];
		if (js->dev != D_FOUND)
			continue;
		for (int rel = 0; rel < 2; rel++) {
			if (!(rel == 0 ? ac->as_owner : ac->as_user))
				continue;
			preq *r = plist_add(c, K_REFS,
					    fmt("/devices/%s/%s?$select=id&$top=999", js->oid,
						rel_name[rel]));
			if (r) {
				r->job = c->first + j;
				r->rel = rel;
			}
		}
	}
}

/* Each user found in this chunk holds one of assoc.licence_plans or not,
 * by its assignedLicenses and the run's subscribedSkus. */
static void decide_licences(chunk *c)
{
	char *const *plans = c->a->cfg->assoc.licence_plans;
	const cJSON *skus = NULL;
	char why[600] = "";
	int waited = 0;
	for (size_t j = 0; j < c->n; j++) {
		const ssrp_assoc_job *job = &c->jobs[c->first + j];
		for (size_t k = 0; k < job->n_users; k++) {
			uentry *u = c->js[j].users[k];
			if (u->lic != L_PENDING)
				continue;
			if (!waited++)
				skus = assoc_skus_wait(&c->a->skus, why, sizeof why);
			u->lic = L_DONE;
			const char *plan = NULL;
			if (!skus) {
				u->licence = SSRP_ASSOC_LICENCE_ERROR;
				set_fmt(&u->lic_detail,
					fmt("the tenant's subscriptions were not read: %.500s", why));
			} else if (!cJSON_IsArray(u->assigned)) {
				u->licence = SSRP_ASSOC_LICENCE_ERROR;
				set_fmt(&u->lic_detail,
					fmt("Graph answered %.300s without assignedLicenses",
					    u->upn ? u->upn : u->key));
			} else {
				u->licence = assoc_licence_of(u->assigned, skus, plans, &plan);
				if (plan)
					set_str(&u->plan, plan);
			}
			cJSON_Delete(u->assigned);
			u->assigned = NULL;
		}
	}
}

static int rec_entry(chunk *c, uentry *u)
{
	size_t i = c->out->n - 1 - c->rec0;
	if (i >= c->rec_u_cap) {
		size_t cap = c->rec_u_cap ? 2 * c->rec_u_cap : 64;
		uentry **v = ssrp_realloc(c->rec_u, cap * sizeof *v);
		if (!v)
			return -1;
		c->rec_u = v;
		c->rec_u_cap = cap;
	}
	c->rec_u[i] = u;
	return 0;
}

/* Every (job, relation, user) gets its record; the adds to make are queued. */
static void phase_decide(chunk *c)
{
	ssrp_assoc *a = c->a;
	const ssrp_assoc_config *ac = &a->cfg->assoc;
	for (size_t j = 0; j < c->n && !c->oom; j++) {
		const ssrp_assoc_job *job = &c->jobs[c->first + j];
		jstate *js = &c->js[j];
		for (int rel = 0; rel < 2 && !c->oom; rel++) {
			if (!(rel == 0 ? ac->as_owner : ac->as_user))
				continue;
			relstate *rs = &js->rel[rel];
			for (size_t k = 0; k < job->n_users; k++) {
				uentry *u = js->users[k];
				assoc_rec *x = rec_add(c->out);
				if (!x || rec_entry(c, u)) {
					c->oom = 1;
					return;
				}
				x->job = c->first + j;
				x->user = k;
				x->owners = rel == 0;
				set_str(&x->device_name, js->name);
				set_str(&x->upn, u->state == U_FOUND || u->upn ? u->upn : "");
				set_str(&x->user_id, u->state == U_FOUND ? u->id : "");
				const char *word = rel_word[rel];
				char why[512];
				if (js->dev == D_FOUND &&
				    ssrp_assoc_local_account(job->users[k], js->name, why, sizeof why)) {
					x->outcome = SSRP_ASSOC_REFUSED;
					set_str(&x->upn, "");
					set_str(&x->user_id, "");
					set_str(&x->detail, why);
				} else if (u->state == U_REFUSED) {
					x->outcome = SSRP_ASSOC_REFUSED;
					set_str(&x->upn, "");
					set_str(&x->detail, u->detail);
				} else if (js->dev == D_FAILED) {
					x->outcome = SSRP_ASSOC_FAILED;
					set_str(&x->detail, js->detail);
				} else if (js->dev != D_FOUND) {
					x->outcome = SSRP_ASSOC_UNKNOWN_DEVICE;
					set_str(&x->detail, js->detail);
				} else if (u->state == U_FAILED) {
					x->outcome = SSRP_ASSOC_FAILED;
					set_str(&x->detail, u->detail);
				} else if (u->state != U_FOUND) {
					x->outcome = SSRP_ASSOC_UNKNOWN_USER;
					set_str(&x->detail, u->detail);
				} else if (rs->read != 1) {
					x->outcome = SSRP_ASSOC_FAILED;
					set_str(&x->detail, rs->detail ? rs->detail
								       : "the device's references were "
									 "not read");
				} else if (rel_has(rs, u->id)) {
					x->outcome = SSRP_ASSOC_ALREADY;
					set_fmt(&x->detail,
						fmt("already %s %s", rel ? "a" : "an", word));
				} else if (rs->n >= ac->max_owners) {
					x->outcome = SSRP_ASSOC_CAP_REACHED;
					set_fmt(&x->detail,
						fmt("not added: the device has %zu %ss already "
						    "(assoc.max_owners is %u)",
						    rs->n, word, ac->max_owners));
				} else {
					/* counted now, so the cap holds within the job too */
					if (rel_add_id(rs, u->id)) {
						c->oom = 1;
						return;
					}
					if (a->opt.dry_run) {
						x->outcome = SSRP_ASSOC_WOULD_ADD;
						set_fmt(&x->detail,
							fmt("would be added as %s (dry run)", word));
						continue;
					}
					x->outcome = SSRP_ASSOC_FAILED; /* until Graph says */
					cJSON *b = cJSON_CreateObject();
					char *ref = fmt("https://%s/v1.0/directoryObjects/%s",
							a->cfg->graph_host, u->id);
					int ok = b && ref &&
						 cJSON_AddStringToObject(b, "@odata.id", ref);
					ssrp_free(ref);
					preq *r = ok ? plist_add(c, K_ADD,
								 fmt("/devices/%s/%s/$ref", js->oid,
								     rel_name[rel]))
						     : NULL;
					if (!r) {
						cJSON_Delete(b);
						c->oom = 1;
						return;
					}
					r->method = "POST";
					r->body = b;
					r->rec = c->out->n - 1;
				}
			}
		}
	}
}

/* Licence assignment for users holding none of the plans ("assign"). */
static void phase_assign(chunk *c)
{
	ssrp_assoc *a = c->a;
	const ssrp_assoc_config *ac = &a->cfg->assoc;
	if (ac->licence != SSRP_ASSOC_LICENCE_ASSIGN)
		return;
	for (size_t i = c->rec0; i < c->out->n && !c->oom; i++) {
		assoc_rec *x = &c->out->v[i];
		uentry *u = c->rec_u[i - c->rec0];
		int wanted = x->outcome == SSRP_ASSOC_ALREADY || x->outcome == SSRP_ASSOC_WOULD_ADD ||
			     (x->outcome == SSRP_ASSOC_FAILED && u->state == U_FOUND &&
			      c->js[x->job - c->first].dev == D_FOUND &&
			      c->js[x->job - c->first].rel[x->owners ? 0 : 1].read == 1);
		if (!wanted || u->lic != L_DONE || u->licence != SSRP_ASSOC_LICENCE_MISSING ||
		    u->assign_queued)
			continue;
		u->assign_queued = 1;
		if (a->opt.dry_run) {
			u->licence = SSRP_ASSOC_LICENCE_WOULD_ASSIGN;
			continue;
		}
		/* licence_sku is a GUID (checked by ssrp_assoc_new): nothing to escape */
		char *text = fmt("{\"addLicenses\":[{\"skuId\":\"%s\",\"disabledPlans\":[]}],"
				 "\"removeLicenses\":[]}",
				 ac->licence_sku);
		cJSON *b = text ? cJSON_Parse(text) : NULL;
		ssrp_free(text);
		int ok = b != NULL;
		preq *r = ok ? plist_add(c, K_ASSIGN, fmt("/users/%s/assignLicense", u->id)) : NULL;
		if (!r) {
			cJSON_Delete(b);
			c->oom = 1;
			return;
		}
		r->method = "POST";
		r->body = b;
		r->u = u;
	}
}

static void fill_licences(chunk *c)
{
	const ssrp_assoc_config *ac = &c->a->cfg->assoc;
	for (size_t i = c->rec0; i < c->out->n; i++) {
		assoc_rec *x = &c->out->v[i];
		uentry *u = c->rec_u[i - c->rec0];
		set_str(&x->plan, "");
		x->licence = SSRP_ASSOC_LICENCE_NOT_CHECKED;
		if (ac->licence == SSRP_ASSOC_LICENCE_OFF || u->state != U_FOUND ||
		    u->lic != L_DONE || c->js[x->job - c->first].dev != D_FOUND ||
		    x->outcome == SSRP_ASSOC_REFUSED)
			continue;
		x->licence = u->licence;
		set_str(&x->plan, u->plan);
		if (u->licence == SSRP_ASSOC_LICENCE_ERROR && u->lic_detail)
			set_fmt(&x->detail, fmt("%s; licence: %s", x->detail ? x->detail : "",
						u->lic_detail));
	}
}

static void chunk_free(chunk *c)
{
	for (size_t j = 0; c->js && j < c->n; j++) {
		jstate *js = &c->js[j];
		ssrp_free(js->name);
		ssrp_free(js->detail);
		ssrp_free(js->users);
		for (int r = 0; r < 2; r++) {
			for (size_t i = 0; i < js->rel[r].n; i++)
				ssrp_free(js->rel[r].ids[i]);
			ssrp_free(js->rel[r].ids);
			ssrp_free(js->rel[r].detail);
		}
	}
	ssrp_free(c->js);
	ssrp_free(c->rec_u);
	plist_clear(&c->p);
	ssrp_free(c->p.v);
}

int assoc_chunk_run(ssrp_assoc *a, assoc_worker *w, const ssrp_assoc_job *jobs, size_t first,
		    size_t n, assoc_recs *out)
{
	chunk c = {.a = a, .w = w, .jobs = jobs, .first = first, .n = n, .out = out,
		   .rec0 = out->n};
	int rc = SSRP_OK;
	if (!(c.js = ssrp_calloc(n ? n : 1, sizeof *c.js)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	phase_resolve(&c);
	if (!c.oom)
		rc = run_phase(&c, w->reader);
	if (c.skus_claimed) /* settled by its answer, unless it was never sent */
		assoc_skus_settle(&a->skus, NULL, rc ? ssrp_error_last() : "out of memory");
	if (rc)
		goto fail;
	if (!c.oom)
		phase_read(&c);
	if (!c.oom && (rc = run_phase(&c, w->reader)))
		goto fail;
	if (!c.oom)
		decide_licences(&c);
	if (!c.oom)
		phase_decide(&c);
	if (!c.oom)
		phase_assign(&c);
	if (!c.oom && c.p.n && (rc = run_phase(&c, w->writer)))
		goto fail;
	if (c.oom) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		goto fail;
	}
	fill_licences(&c);
	chunk_free(&c);
	return SSRP_OK;
fail:
	chunk_free(&c);
	{
		char why[600];
		snprintf(why, sizeof why, "%s", ssrp_error_last());
		/* drop what this chunk recorded: every user gets the same FAILED */
		assoc_recs keep = *out;
		for (size_t i = c.rec0; i < keep.n; i++) {
			assoc_rec *x = &keep.v[i];
			ssrp_free(x->device_name);
			ssrp_free(x->upn);
			ssrp_free(x->user_id);
			ssrp_free(x->plan);
			ssrp_free(x->detail);
		}
		out->n = c.rec0;
		assoc_chunk_fail(a, jobs, first, n, why, out);
		ssrp_error_set(rc, "%s", why);
	}
	return rc;
}
