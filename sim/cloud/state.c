/* The simulated tenant: objects, hashed lookups and the rules state.h
 * promises (owners, licences, the 200-key limit). Loading and dumping JSON
 * live in state_json.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bitlocker/recovery_password.h"
#include "hal/crypto.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "hal/text.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/state_private.h"
#include "ssrp/sys/error.h"

/* ---- small helpers ---------------------------------------------------------- */

char *state_strdup(const char *text)
{
	if (!text)
		return NULL;
	size_t n = strlen(text) + 1;
	char *p = ssrp_malloc(n);
	if (p)
		memcpy(p, text, n);
	return p;
}

static int vec_push(cloud_vec *v, void *item)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void **items = ssrp_realloc(v->items, cap * sizeof *items);
		if (!items)
			return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		v->items = items;
		v->cap = cap;
	}
	v->items[v->n++] = item;
	return SSRP_OK;
}

/* Remove item keeping the order (listing and paging rely on it). */
static void vec_remove(cloud_vec *v, const void *item)
{
	for (size_t i = 0; i < v->n; i++) {
		if (v->items[i] == item) {
			memmove(v->items + i, v->items + i + 1, (v->n - i - 1) * sizeof *v->items);
			v->n--;
			return;
		}
	}
}

void cloud_new_id(char out[CLOUD_ID_LEN + 1])
{
	uint8_t b[16];
	/* Ids must never collide, and the simulator has no way to go on
	 * without randomness; OpenSSL's DRBG only fails when the OS gives it
	 * no seed at all. */
	if (ssrp_random_bytes(b, sizeof b) != SSRP_OK)
		abort();
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

int state_recovery_password_valid(const char *text)
{
	uint8_t key[SSRP_RP_KEY_LEN];
	char again[SSRP_RECOVERY_PASSWORD_LEN + 1];
	if (!text || strlen(text) != SSRP_RECOVERY_PASSWORD_LEN)
		return 0;
	int ok = ssrp_rp_parse(key, text, SSRP_RECOVERY_PASSWORD_LEN) == SSRP_OK;
	if (ok) {
		/* The parser also accepts spaces and no separators; the stored
		 * form is the canonical one with dashes. */
		ssrp_rp_format(again, key);
		ok = !strcmp(again, text);
	}
	ssrp_memzero(key, sizeof key);
	ssrp_memzero(again, sizeof again);
	return ok;
}

const char *state_job_status_name(cloud_job_status st)
{
	switch (st) {
	case CLOUD_JOB_QUEUED: return "Queued";
	case CLOUD_JOB_RUNNING: return "Running";
	case CLOUD_JOB_COMPLETED: return "Completed";
	case CLOUD_JOB_FAILED: return "Failed";
	}
	return "Failed";
}

int state_job_status_parse(const char *name)
{
	static const cloud_job_status all[] = {CLOUD_JOB_QUEUED, CLOUD_JOB_RUNNING, CLOUD_JOB_COMPLETED,
					       CLOUD_JOB_FAILED};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (!strcmp(name, state_job_status_name(all[i])))
			return (int)all[i];
	return -1;
}

/* ---- index hashes and matchers --------------------------------------------- */

static uint64_t hash_user_id(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_user *)item)->id, seed, 1);
}

static uint64_t hash_user_upn(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_user *)item)->upn, seed, 1);
}

static uint64_t hash_sam(const char *domain, const char *sam, uint64_t seed)
{
	return cloud_hash_str(sam, cloud_hash_str(domain, seed, 1), 1);
}

static uint64_t hash_user_sam(const void *item, uint64_t seed)
{
	const cloud_user *u = item;
	return hash_sam(u->on_prem_domain, u->sam_account_name, seed);
}

static uint64_t hash_device_id(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_device *)item)->id, seed, 1);
}

static uint64_t hash_device_device_id(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_device *)item)->device_id, seed, 1);
}

static uint64_t hash_app_id(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_app *)item)->app_id, seed, 1);
}

static uint64_t hash_key_id(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_recovery_key *)item)->id, seed, 1);
}

static uint64_t hash_key_group(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_key_group *)item)->device_id, seed, 1);
}

static uint64_t hash_job_id(const void *item, uint64_t seed)
{
	return cloud_hash_str(((const cloud_job *)item)->id, seed, 1);
}

static int match_user_id(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_user *)item)->id, key);
}

static int match_user_upn(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_user *)item)->upn, key);
}

struct sam_key {
	const char *domain, *sam;
};

static int match_user_sam(const void *item, const void *key)
{
	const cloud_user *u = item;
	const struct sam_key *k = key;
	return ssrp_ascii_ieq(u->on_prem_domain, k->domain) &&
	       ssrp_ascii_ieq(u->sam_account_name, k->sam);
}

static int match_device_id(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_device *)item)->id, key);
}

static int match_device_device_id(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_device *)item)->device_id, key);
}

static int match_app_id(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_app *)item)->app_id, key);
}

static int match_key_id(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_recovery_key *)item)->id, key);
}

static int match_key_group(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_key_group *)item)->device_id, key);
}

static int match_job_id(const void *item, const void *key)
{
	return ssrp_ascii_ieq(((const cloud_job *)item)->id, key);
}

/* ---- lifecycle ---------------------------------------------------------------- */

int state_new_empty(cloud_state **out, const char *tenant_id, const char *domain)
{
	*out = NULL;
	cloud_state *s = ssrp_calloc(1, sizeof *s);
	if (!s)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	if (cloud_id_normalize(s->tenant_id, tenant_id) != SSRP_OK) {
		ssrp_free(s);
		return ssrp_error_prefix(SSRP_E_FORMAT, "tenant.id");
	}
	uint8_t seed_bytes[8];
	s->domain = state_strdup(domain);
	if (!s->domain || ssrp_random_bytes(seed_bytes, sizeof seed_bytes) != SSRP_OK) {
		ssrp_free(s->domain);
		ssrp_free(s);
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory or randomness");
	}
	for (char *p = s->domain; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	uint64_t seed;
	memcpy(&seed, seed_bytes, sizeof seed);
	cloud_index_init(&s->user_by_id, hash_user_id, seed);
	cloud_index_init(&s->user_by_upn, hash_user_upn, seed);
	cloud_index_init(&s->user_by_sam, hash_user_sam, seed);
	cloud_index_init(&s->device_by_id, hash_device_id, seed);
	cloud_index_init(&s->device_by_device_id, hash_device_device_id, seed);
	cloud_index_init(&s->app_by_id, hash_app_id, seed);
	cloud_index_init(&s->key_by_id, hash_key_id, seed);
	cloud_index_init(&s->key_groups, hash_key_group, seed);
	cloud_index_init(&s->job_by_id, hash_job_id, seed);
	if (pthread_mutex_init(&s->mutex, NULL) != 0) {
		ssrp_free(s->domain);
		ssrp_free(s);
		return ssrp_error_set(SSRP_E_GENERIC, "tenant state: cannot create its mutex");
	}
	*out = s;
	return SSRP_OK;
}

void state_sku_free(cloud_sku *k)
{
	if (!k)
		return;
	ssrp_free(k->part_number);
	for (unsigned i = 0; i < k->n_plans; i++)
		ssrp_free(k->plans[i].name);
	ssrp_free(k);
}

void state_user_free(cloud_user *u)
{
	if (!u)
		return;
	ssrp_free(u->upn);
	ssrp_free(u->display_name);
	ssrp_free(u->sam_account_name);
	ssrp_free(u->on_prem_domain);
	for (unsigned i = 0; i < u->n_roles; i++)
		ssrp_free(u->roles[i]);
	ssrp_free_secret(u, sizeof *u); /* holds a password hash */
}

void state_device_free(cloud_device *d)
{
	if (!d)
		return;
	ssrp_free(d->display_name);
	ssrp_free(d->operating_system);
	ssrp_free(d->trust_type);
	ssrp_free(d->owners);
	ssrp_free(d->users);
	ssrp_free(d);
}

void state_app_free(cloud_app *a)
{
	if (!a)
		return;
	ssrp_free(a->display_name);
	ssrp_free(a->certificate_pem);
	for (unsigned i = 0; i < a->n_roles; i++)
		ssrp_free(a->roles[i]);
	ssrp_free_secret(a, sizeof *a);
}

void state_webhook_free(cloud_webhook *w)
{
	if (!w)
		return;
	ssrp_free(w->name);
	ssrp_free(w->host);
	ssrp_free_secret(w, sizeof *w);
}

void state_job_free(cloud_job *j)
{
	if (!j)
		return;
	ssrp_free(j->webhook);
	free(j->output); /* malloc'd by contract (cloud_job_finish) */
	ssrp_free(j);
}

static void key_group_free(cloud_key_group *g)
{
	if (!g)
		return;
	ssrp_free(g->keys);
	ssrp_free(g);
}

void cloud_state_free(cloud_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->skus.n; i++)
		state_sku_free(s->skus.items[i]);
	for (size_t i = 0; i < s->users.n; i++)
		state_user_free(s->users.items[i]);
	for (size_t i = 0; i < s->devices.n; i++)
		state_device_free(s->devices.items[i]);
	for (size_t i = 0; i < s->apps.n; i++)
		state_app_free(s->apps.items[i]);
	for (size_t i = 0; i < s->keys.n; i++)
		ssrp_free_secret(s->keys.items[i], sizeof(cloud_recovery_key));
	for (size_t i = 0; i < s->key_groups.cap; i++)
		key_group_free(s->key_groups.slots[i]);
	for (size_t i = 0; i < s->webhooks.n; i++)
		state_webhook_free(s->webhooks.items[i]);
	for (size_t i = 0; i < s->jobs.n; i++)
		state_job_free(s->jobs.items[i]);
	for (size_t i = 0; i < s->n_audit; i++) {
		cloud_audit_entry *e = &s->audit[i];
		ssrp_free(e->actor);
		ssrp_free(e->action);
		ssrp_free(e->target);
		ssrp_free(e->device_id);
	}
	ssrp_free_secret(s->codes, s->cap_codes * sizeof *s->codes);
	cloud_vec *vecs[] = {&s->skus, &s->users, &s->devices, &s->apps, &s->keys, &s->webhooks, &s->jobs};
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		ssrp_free(vecs[i]->items);
	ssrp_free(s->audit);
	cloud_index *ixs[] = {&s->user_by_id, &s->user_by_upn, &s->user_by_sam, &s->device_by_id,
			      &s->device_by_device_id, &s->app_by_id, &s->key_by_id, &s->key_groups,
			      &s->job_by_id};
	for (size_t i = 0; i < sizeof ixs / sizeof ixs[0]; i++)
		cloud_index_free(ixs[i]);
	pthread_mutex_destroy(&s->mutex);
	ssrp_free(s->domain);
	ssrp_free(s);
}

const char *cloud_state_tenant_id(const cloud_state *s)
{
	return s->tenant_id;
}

const char *cloud_state_tenant_domain(const cloud_state *s)
{
	return s->domain;
}

uint64_t cloud_state_tenant_created(const cloud_state *s)
{
	return s->created;
}

void cloud_state_lock(cloud_state *s)
{
	pthread_mutex_lock(&s->mutex);
}

void cloud_state_unlock(cloud_state *s)
{
	pthread_mutex_unlock(&s->mutex);
}

/* ---- adding objects (the loader has validated them) ------------------------ */

int state_add_sku(cloud_state *s, cloud_sku *k)
{
	if (cloud_sku_find(s, k->sku_id))
		return ssrp_error_set(SSRP_E_FORMAT, "skuId %s is used twice", k->sku_id);
	return vec_push(&s->skus, k);
}

int state_add_user(cloud_state *s, cloud_user *u)
{
	if (cloud_index_find(&s->user_by_id, cloud_hash_str(u->id, s->user_by_id.seed, 1), match_user_id,
			     u->id) ||
	    cloud_device_find(s, u->id))
		return ssrp_error_set(SSRP_E_FORMAT, "object id %s is used twice", u->id);
	if (cloud_index_find(&s->user_by_upn, cloud_hash_str(u->upn, s->user_by_upn.seed, 1),
			     match_user_upn, u->upn))
		return ssrp_error_set(SSRP_E_FORMAT, "userPrincipalName %s is used twice", u->upn);
	int has_sam = u->sam_account_name && u->on_prem_domain;
	if (vec_push(&s->users, u) != SSRP_OK)
		return SSRP_E_NOMEM;
	if (cloud_index_insert(&s->user_by_id, u) != SSRP_OK)
		goto nomem;
	if (cloud_index_insert(&s->user_by_upn, u) != SSRP_OK) {
		cloud_index_remove(&s->user_by_id, u);
		goto nomem;
	}
	if (has_sam && cloud_index_insert(&s->user_by_sam, u) != SSRP_OK) {
		cloud_index_remove(&s->user_by_id, u);
		cloud_index_remove(&s->user_by_upn, u);
		goto nomem;
	}
	return SSRP_OK;
nomem:
	s->users.n--;
	return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
}

int state_add_device(cloud_state *s, cloud_device *d)
{
	if (cloud_device_find(s, d->id) || cloud_user_find(s, d->id))
		return ssrp_error_set(SSRP_E_FORMAT, "object id %s is used twice", d->id);
	if (cloud_device_find_by_device_id(s, d->device_id))
		return ssrp_error_set(SSRP_E_FORMAT, "deviceId %s is used twice", d->device_id);
	if (vec_push(&s->devices, d) != SSRP_OK)
		return SSRP_E_NOMEM;
	if (cloud_index_insert(&s->device_by_id, d) != SSRP_OK)
		goto nomem;
	if (cloud_index_insert(&s->device_by_device_id, d) != SSRP_OK) {
		cloud_index_remove(&s->device_by_id, d);
		goto nomem;
	}
	return SSRP_OK;
nomem:
	s->devices.n--;
	return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
}

int state_add_app(cloud_state *s, cloud_app *a)
{
	if (cloud_app_find(s, a->app_id))
		return ssrp_error_set(SSRP_E_FORMAT, "appId %s is used twice", a->app_id);
	if (vec_push(&s->apps, a) != SSRP_OK)
		return SSRP_E_NOMEM;
	if (cloud_index_insert(&s->app_by_id, a) != SSRP_OK) {
		s->apps.n--;
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	}
	return SSRP_OK;
}

int state_add_webhook(cloud_state *s, cloud_webhook *w)
{
	for (size_t i = 0; i < s->webhooks.n; i++) {
		const cloud_webhook *o = s->webhooks.items[i];
		if (!strcmp(o->name, w->name))
			return ssrp_error_set(SSRP_E_FORMAT, "webhook name %s is used twice", w->name);
		if (ssrp_ascii_ieq(o->host, w->host))
			return ssrp_error_set(SSRP_E_FORMAT, "webhook host %s is used twice", w->host);
	}
	return vec_push(&s->webhooks, w);
}

static cloud_webhook *webhook_by_name(cloud_state *s, const char *name)
{
	for (size_t i = 0; i < s->webhooks.n; i++) {
		cloud_webhook *w = s->webhooks.items[i];
		if (!strcmp(w->name, name))
			return w;
	}
	return NULL;
}

int state_add_job(cloud_state *s, cloud_job *j)
{
	if (cloud_job_find(s, j->id))
		return ssrp_error_set(SSRP_E_FORMAT, "job id %s is used twice", j->id);
	if (!webhook_by_name(s, j->webhook))
		return ssrp_error_set(SSRP_E_FORMAT, "no webhook is named %s", j->webhook);
	if (vec_push(&s->jobs, j) != SSRP_OK)
		return SSRP_E_NOMEM;
	if (cloud_index_insert(&s->job_by_id, j) != SSRP_OK) {
		s->jobs.n--;
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	}
	return SSRP_OK;
}

/* Audit text is whatever a handler passes; it is cut to the length the
 * loader accepts and control characters become '?', so a dump always loads
 * again. */
static char *audit_text(const char *text)
{
	size_t n = strnlen(text, STATE_MAX_AUDIT_TEXT);
	char *p = ssrp_malloc(n + 1);
	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
	p[n] = '\0';
	return p;
}

int state_add_audit(cloud_state *s, uint64_t time, const char *actor, const char *action,
		    const char *target, const char *device_id)
{
	if (s->n_audit == s->cap_audit) {
		size_t cap = s->cap_audit ? s->cap_audit * 2 : 16;
		cloud_audit_entry *a = ssrp_realloc(s->audit, cap * sizeof *a);
		if (!a)
			return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		s->audit = a;
		s->cap_audit = cap;
	}
	cloud_audit_entry e = {time, audit_text(actor ? actor : ""), audit_text(action ? action : ""),
			       audit_text(target ? target : ""), NULL};
	if (device_id)
		e.device_id = audit_text(device_id);
	if (!e.actor || !e.action || !e.target || (device_id && !e.device_id)) {
		ssrp_free(e.actor);
		ssrp_free(e.action);
		ssrp_free(e.target);
		ssrp_free(e.device_id);
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	}
	s->audit[s->n_audit++] = e;
	return SSRP_OK;
}

void cloud_audit_add(cloud_state *s, uint64_t time, const char *actor, const char *action,
		     const char *target, const char *device_id)
{
	/* Out of memory is the only failure; the entry is then lost, which
	 * the caller cannot do anything about either. */
	(void)state_add_audit(s, time, actor, action, target, device_id);
}

/* ---- users and licences ------------------------------------------------------ */

cloud_user *cloud_user_find(cloud_state *s, const char *id_or_upn)
{
	if (!id_or_upn)
		return NULL;
	if (strchr(id_or_upn, '@'))
		return cloud_index_find(&s->user_by_upn, cloud_hash_str(id_or_upn, s->user_by_upn.seed, 1),
					match_user_upn, id_or_upn);
	return cloud_index_find(&s->user_by_id, cloud_hash_str(id_or_upn, s->user_by_id.seed, 1),
				match_user_id, id_or_upn);
}

cloud_user *cloud_user_find_sam(cloud_state *s, const char *domain, const char *sam)
{
	if (!domain || !sam)
		return NULL;
	struct sam_key k = {domain, sam};
	return cloud_index_find(&s->user_by_sam, hash_sam(domain, sam, s->user_by_sam.seed),
				match_user_sam, &k);
}

static int check_hash(const uint8_t want[32], int has, const char *secret)
{
	uint8_t got[SSRP_SHA256_LEN];
	if (!has || !secret || ssrp_sha256(got, secret, strlen(secret)) != 0)
		return 0;
	int ok = CRYPTO_memcmp(got, want, sizeof got) == 0;
	ssrp_memzero(got, sizeof got);
	return ok;
}

int cloud_user_check_password(const cloud_user *u, const char *password)
{
	return u && check_hash(u->password_sha256, u->has_password, password);
}

int cloud_user_has_role(const cloud_user *u, const char *role)
{
	if (!u || !role)
		return 0;
	for (unsigned i = 0; i < u->n_roles; i++)
		if (ssrp_ascii_ieq(u->roles[i], role))
			return 1;
	return 0;
}

const cloud_sku *cloud_sku_find(cloud_state *s, const char *sku_id)
{
	if (!sku_id)
		return NULL;
	for (size_t i = 0; i < s->skus.n; i++) {
		const cloud_sku *k = s->skus.items[i];
		if (ssrp_ascii_ieq(k->sku_id, sku_id))
			return k;
	}
	return NULL;
}

size_t cloud_sku_count(cloud_state *s)
{
	return s->skus.n;
}

const cloud_sku *cloud_sku_at(cloud_state *s, size_t index)
{
	return index < s->skus.n ? s->skus.items[index] : NULL;
}

size_t cloud_sku_consumed(cloud_state *s, const char *sku_id)
{
	size_t n = 0;
	for (size_t i = 0; i < s->users.n; i++) {
		const cloud_user *u = s->users.items[i];
		for (unsigned k = 0; k < u->n_licenses; k++)
			n += ssrp_ascii_ieq(u->licenses[k], sku_id);
	}
	return n;
}

int cloud_user_add_license(cloud_state *s, cloud_user *u, const char *sku_id)
{
	const cloud_sku *k = cloud_sku_find(s, sku_id);
	if (!k)
		return ssrp_error_set(SSRP_E_NOTFOUND, "the tenant has no SKU with skuId '%.60s'",
				      sku_id ? sku_id : "(null)");
	for (unsigned i = 0; i < u->n_licenses; i++)
		if (!strcmp(u->licenses[i], k->sku_id))
			return 1;
	if (u->n_licenses == CLOUD_MAX_LICENSES)
		return ssrp_error_set(SSRP_E_REFUSED, "%s already holds %d licences, the simulator's limit",
				      u->upn, CLOUD_MAX_LICENSES);
	memcpy(u->licenses[u->n_licenses++], k->sku_id, CLOUD_ID_LEN + 1);
	return 0;
}

int cloud_user_remove_license(cloud_user *u, const char *sku_id)
{
	for (unsigned i = 0; sku_id && i < u->n_licenses; i++) {
		if (ssrp_ascii_ieq(u->licenses[i], sku_id)) {
			memmove(u->licenses[i], u->licenses[i + 1],
				(u->n_licenses - i - 1) * sizeof u->licenses[0]);
			u->n_licenses--;
			return 0;
		}
	}
	return ssrp_error_set(SSRP_E_NOTFOUND, "%s holds no licence for skuId '%.60s'", u->upn,
			      sku_id ? sku_id : "(null)");
}

size_t cloud_user_count(cloud_state *s)
{
	return s->users.n;
}

cloud_user *cloud_user_at(cloud_state *s, size_t index)
{
	return index < s->users.n ? s->users.items[index] : NULL;
}

/* ---- devices and their owners ------------------------------------------------ */

cloud_device *cloud_device_find(cloud_state *s, const char *object_id)
{
	if (!object_id)
		return NULL;
	return cloud_index_find(&s->device_by_id, cloud_hash_str(object_id, s->device_by_id.seed, 1),
				match_device_id, object_id);
}

cloud_device *cloud_device_find_by_device_id(cloud_state *s, const char *device_id)
{
	if (!device_id)
		return NULL;
	return cloud_index_find(&s->device_by_device_id,
				cloud_hash_str(device_id, s->device_by_device_id.seed, 1),
				match_device_device_id, device_id);
}

size_t cloud_device_count(cloud_state *s)
{
	return s->devices.n;
}

cloud_device *cloud_device_at(cloud_state *s, size_t index)
{
	return index < s->devices.n ? s->devices.items[index] : NULL;
}

static long id_position(char (*list)[CLOUD_ID_LEN + 1], size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (ssrp_ascii_ieq(list[i], id))
			return (long)i;
	return -1;
}

/* The lists are sized exactly to their content: most devices have one or
 * two owners, and a capacity field would not fit in the shared struct. */
static int id_list_add(char (**list)[CLOUD_ID_LEN + 1], size_t *n, const char *user_id,
		       const char *what)
{
	char id[CLOUD_ID_LEN + 1];
	if (cloud_id_normalize(id, user_id) != SSRP_OK)
		return ssrp_error_prefix(SSRP_E_INVALID, "%s", what);
	if (id_position(*list, *n, id) >= 0)
		return 1;
	char (*grown)[CLOUD_ID_LEN + 1] = ssrp_realloc(*list, (*n + 1) * sizeof **list);
	if (!grown)
		return ssrp_error_set(SSRP_E_NOMEM, "%s: out of memory", what);
	memcpy(grown[*n], id, sizeof id);
	*list = grown;
	(*n)++;
	return 0;
}

static int id_list_remove(char (**list)[CLOUD_ID_LEN + 1], size_t *n, const char *user_id,
			  const char *what)
{
	long at = user_id ? id_position(*list, *n, user_id) : -1;
	if (at < 0)
		return ssrp_error_set(SSRP_E_NOTFOUND, "%.60s is not among the device's %s",
				      user_id ? user_id : "(null)", what);
	size_t i = (size_t)at;
	memmove((*list)[i], (*list)[i + 1], (*n - i - 1) * sizeof **list);
	(*n)--;
	if (*n == 0) {
		ssrp_free(*list);
		*list = NULL;
	} else {
		/* Shrinking cannot fail in practice; if it does the old, larger
		 * block is still valid. */
		char (*smaller)[CLOUD_ID_LEN + 1] = ssrp_realloc(*list, *n * sizeof **list);
		if (smaller)
			*list = smaller;
	}
	return SSRP_OK;
}

int cloud_device_add_owner(cloud_device *d, const char *user_id)
{
	return id_list_add(&d->owners, &d->n_owners, user_id, "registeredOwners");
}

int cloud_device_add_user(cloud_device *d, const char *user_id)
{
	return id_list_add(&d->users, &d->n_users, user_id, "registeredUsers");
}

int cloud_device_remove_owner(cloud_device *d, const char *user_id)
{
	return id_list_remove(&d->owners, &d->n_owners, user_id, "registeredOwners");
}

int cloud_device_remove_user(cloud_device *d, const char *user_id)
{
	return id_list_remove(&d->users, &d->n_users, user_id, "registeredUsers");
}

int cloud_device_has_owner(const cloud_device *d, const char *user_id)
{
	return d && user_id && id_position(d->owners, d->n_owners, user_id) >= 0;
}

size_t cloud_devices_owned_by(cloud_state *s, const char *user_id, cloud_device **out, size_t cap)
{
	/* A scan: an owner index would cost every device more memory than the
	 * rare me/ownedDevices request saves (100k devices scan in ~1 ms). */
	size_t count = 0;
	for (size_t i = 0; user_id && i < s->devices.n; i++) {
		cloud_device *d = s->devices.items[i];
		if (cloud_device_has_owner(d, user_id)) {
			if (count < cap)
				out[count] = d;
			count++;
		}
	}
	return count;
}

/* ---- apps ----------------------------------------------------------------------- */

cloud_app *cloud_app_find(cloud_state *s, const char *app_id)
{
	if (!app_id)
		return NULL;
	return cloud_index_find(&s->app_by_id, cloud_hash_str(app_id, s->app_by_id.seed, 1), match_app_id,
				app_id);
}

int cloud_app_check_secret(const cloud_app *a, const char *secret)
{
	return a && check_hash(a->secret_sha256, a->has_secret, secret);
}

int cloud_app_has_role(const cloud_app *a, const char *role)
{
	if (!a || !role)
		return 0;
	for (unsigned i = 0; i < a->n_roles; i++)
		if (ssrp_ascii_ieq(a->roles[i], role))
			return 1;
	return 0;
}

/* ---- recovery keys ---------------------------------------------------------------- */

static cloud_key_group *key_group(cloud_state *s, const char *device_id)
{
	return cloud_index_find(&s->key_groups, cloud_hash_str(device_id, s->key_groups.seed, 1),
				match_key_group, device_id);
}

static int group_add(cloud_state *s, cloud_key_group **gp, const char *device_id, cloud_recovery_key *k)
{
	cloud_key_group *g = *gp;
	int fresh = 0;
	if (!g) {
		g = ssrp_calloc(1, sizeof *g);
		if (!g)
			return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		memcpy(g->device_id, device_id, CLOUD_ID_LEN + 1);
		if (cloud_index_insert(&s->key_groups, g) != SSRP_OK) {
			ssrp_free(g);
			return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		}
		fresh = 1;
	}
	cloud_recovery_key **keys = ssrp_realloc(g->keys, (g->n + 1) * sizeof *keys);
	if (!keys) {
		if (fresh) {
			cloud_index_remove(&s->key_groups, g);
			key_group_free(g);
		}
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	}
	keys[g->n++] = k;
	g->keys = keys;
	*gp = g;
	return SSRP_OK;
}

static void group_remove(cloud_state *s, cloud_key_group *g, const cloud_recovery_key *k)
{
	for (size_t i = 0; i < g->n; i++) {
		if (g->keys[i] == k) {
			memmove(g->keys + i, g->keys + i + 1, (g->n - i - 1) * sizeof *g->keys);
			g->n--;
			break;
		}
	}
	if (!g->n) {
		cloud_index_remove(&s->key_groups, g);
		key_group_free(g);
	}
}

int cloud_key_put(cloud_state *s, const cloud_recovery_key *k)
{
	cloud_recovery_key in = *k;
	if (cloud_id_normalize(in.id, k->id) != SSRP_OK)
		return ssrp_error_prefix(SSRP_E_INVALID, "recovery key id");
	if (cloud_id_normalize(in.device_id, k->device_id) != SSRP_OK) {
		ssrp_memzero(&in, sizeof in);
		return ssrp_error_prefix(SSRP_E_INVALID, "recovery key deviceId");
	}
	int rc = SSRP_OK;
	if (memchr(k->key, '\0', sizeof k->key) == NULL || !state_recovery_password_valid(k->key)) {
		rc = ssrp_error_set(SSRP_E_INVALID, "recovery key %s: the key is not a recovery password "
				    "(8 groups of 6 digits, each a multiple of 11 below 720896, joined by dashes)",
				    in.id);
		goto out;
	}
	if (k->volume_type < 1 || k->volume_type > 3) {
		rc = ssrp_error_set(SSRP_E_INVALID, "recovery key %s: volumeType %d is not 1, 2 or 3", in.id,
				    k->volume_type);
		goto out;
	}
	if (!cloud_device_find_by_device_id(s, in.device_id)) {
		rc = ssrp_error_set(SSRP_E_NOTFOUND, "recovery key %s: no device has deviceId %s", in.id,
				    in.device_id);
		goto out;
	}
	cloud_key_group *g = key_group(s, in.device_id);
	cloud_recovery_key *old = cloud_key_find(s, in.id);
	if (old) {
		/* A device may replace its own key, never take over another
		 * device's: key ids are shown on recovery screens, so they are
		 * not secret enough to authorise anything. */
		if (strcmp(old->device_id, in.device_id)) {
			rc = ssrp_error_set(SSRP_E_REFUSED, "recovery key %s belongs to another device", in.id);
			goto out;
		}
		*old = in;
		goto out;
	}
	if (g && g->n >= CLOUD_MAX_KEYS_PER_DEVICE) {
		rc = ssrp_error_set(SSRP_E_REFUSED, "device %s already has %d recovery keys, Entra's limit",
				    in.device_id, CLOUD_MAX_KEYS_PER_DEVICE);
		goto out;
	}
	cloud_recovery_key *nk = ssrp_malloc(sizeof *nk);
	if (!nk) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		goto out;
	}
	*nk = in;
	if (vec_push(&s->keys, nk) != SSRP_OK) {
		ssrp_free_secret(nk, sizeof *nk);
		rc = SSRP_E_NOMEM;
		goto out;
	}
	if (cloud_index_insert(&s->key_by_id, nk) != SSRP_OK) {
		s->keys.n--;
		ssrp_free_secret(nk, sizeof *nk);
		rc = ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		goto out;
	}
	if (group_add(s, &g, in.device_id, nk) != SSRP_OK) {
		cloud_index_remove(&s->key_by_id, nk);
		s->keys.n--;
		ssrp_free_secret(nk, sizeof *nk);
		rc = SSRP_E_NOMEM;
	}
out:
	ssrp_memzero(&in, sizeof in);
	return rc;
}

cloud_recovery_key *cloud_key_find(cloud_state *s, const char *id)
{
	if (!id)
		return NULL;
	return cloud_index_find(&s->key_by_id, cloud_hash_str(id, s->key_by_id.seed, 1), match_key_id, id);
}

size_t cloud_keys_list(cloud_state *s, const char *device_id, cloud_recovery_key **out, size_t cap)
{
	if (!device_id) {
		for (size_t i = 0; i < s->keys.n && i < cap; i++)
			out[i] = s->keys.items[i];
		return s->keys.n;
	}
	const cloud_key_group *g = key_group(s, device_id);
	if (!g)
		return 0;
	for (size_t i = 0; i < g->n && i < cap; i++)
		out[i] = g->keys[i];
	return g->n;
}

int cloud_key_delete(cloud_state *s, const char *id)
{
	cloud_recovery_key *k = cloud_key_find(s, id);
	if (!k)
		return ssrp_error_set(SSRP_E_NOTFOUND, "no recovery key has id '%.60s'", id ? id : "(null)");
	cloud_key_group *g = key_group(s, k->device_id);
	if (g)
		group_remove(s, g, k);
	cloud_index_remove(&s->key_by_id, k);
	vec_remove(&s->keys, k);
	ssrp_free_secret(k, sizeof *k);
	return SSRP_OK;
}

/* ---- webhooks and jobs ------------------------------------------------------------ */

cloud_webhook *cloud_webhook_find_by_host(cloud_state *s, const char *host)
{
	for (size_t i = 0; host && i < s->webhooks.n; i++) {
		cloud_webhook *w = s->webhooks.items[i];
		if (ssrp_ascii_ieq(w->host, host))
			return w;
	}
	return NULL;
}

int cloud_webhook_check_token(const cloud_webhook *w, const char *token)
{
	return w && check_hash(w->token_sha256, 1, token);
}

int cloud_job_add(cloud_state *s, const char *webhook, uint64_t now, char *out_id)
{
	if (out_id)
		out_id[0] = '\0';
	if (!webhook || !webhook_by_name(s, webhook))
		return ssrp_error_set(SSRP_E_NOTFOUND, "no webhook is named '%.128s'",
				      webhook ? webhook : "(null)");
	cloud_job *j = ssrp_calloc(1, sizeof *j);
	if (!j || !(j->webhook = state_strdup(webhook))) {
		ssrp_free(j);
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	}
	cloud_new_id(j->id);
	j->status = CLOUD_JOB_QUEUED;
	j->created = now;
	int rc = state_add_job(s, j);
	if (rc != SSRP_OK) {
		state_job_free(j);
		return rc;
	}
	if (out_id)
		memcpy(out_id, j->id, CLOUD_ID_LEN + 1);
	return SSRP_OK;
}

cloud_job *cloud_job_find(cloud_state *s, const char *id)
{
	if (!id)
		return NULL;
	return cloud_index_find(&s->job_by_id, cloud_hash_str(id, s->job_by_id.seed, 1), match_job_id, id);
}

void cloud_job_finish(cloud_job *j, cloud_job_status status, char *output)
{
	free(j->output);
	j->output = output;
	j->status = status;
}

/* ---- device codes ------------------------------------------------------------------ */

int cloud_devicecode_add(cloud_state *s, const cloud_device_code *dc, uint64_t now)
{
	size_t kept = 0;
	for (size_t i = 0; i < s->n_codes; i++)
		if (s->codes[i].expires > now)
			s->codes[kept++] = s->codes[i];
	if (s->codes) /* none yet: no pointer arithmetic on NULL */
		ssrp_memzero(s->codes + kept, (s->n_codes - kept) * sizeof *s->codes);
	s->n_codes = kept;
	if (s->n_codes == CLOUD_MAX_DEVICE_CODES)
		return ssrp_error_set(SSRP_E_REFUSED, "%d device codes are already pending",
				      CLOUD_MAX_DEVICE_CODES);
	if (s->n_codes == s->cap_codes) {
		/* Grown by hand rather than realloc'd: the old block holds
		 * device-code hashes and is zeroed before it goes. */
		size_t cap = s->cap_codes ? s->cap_codes * 2 : 4;
		cloud_device_code *codes = ssrp_calloc(cap, sizeof *codes);
		if (!codes)
			return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		if (s->n_codes)
			memcpy(codes, s->codes, s->n_codes * sizeof *codes);
		ssrp_free_secret(s->codes, s->cap_codes * sizeof *s->codes);
		s->codes = codes;
		s->cap_codes = cap;
	}
	s->codes[s->n_codes++] = *dc;
	return SSRP_OK;
}

cloud_device_code *cloud_devicecode_find(cloud_state *s, const char *device_code)
{
	uint8_t h[SSRP_SHA256_LEN];
	if (!device_code || ssrp_sha256(h, device_code, strlen(device_code)) != 0)
		return NULL;
	cloud_device_code *found = NULL;
	for (size_t i = 0; i < s->n_codes; i++)
		if (CRYPTO_memcmp(s->codes[i].code_sha256, h, sizeof h) == 0)
			found = &s->codes[i];
	return found;
}

cloud_device_code *cloud_devicecode_find_user_code(cloud_state *s, const char *user_code)
{
	for (size_t i = 0; user_code && i < s->n_codes; i++)
		if (ssrp_ascii_ieq(s->codes[i].user_code, user_code))
			return &s->codes[i];
	return NULL;
}

void cloud_devicecode_remove(cloud_state *s, cloud_device_code *dc)
{
	if (!dc || dc < s->codes || dc >= s->codes + s->n_codes)
		return;
	size_t i = (size_t)(dc - s->codes);
	memmove(s->codes + i, s->codes + i + 1, (s->n_codes - i - 1) * sizeof *s->codes);
	s->n_codes--;
	ssrp_memzero(s->codes + s->n_codes, sizeof *s->codes);
}
