/* Fault scripts and the early-retry tracker (see faults.h). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hal/text.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/faults.h"
#include "ssrp/sys/error.h"

#define MAX_RULES 64
#define MAX_PATTERN 256
#define MAX_LATENCY_MS 600000u

typedef enum { WHEN_ALWAYS, WHEN_RANGE, WHEN_RATE } when_kind;

typedef struct rule {
	char method[16]; /* "" for any */
	char pattern[MAX_PATTERN];
	cloud_fault fault;
	when_kind when;
	uint64_t from, to; /* WHEN_RANGE, 1-based, inclusive; to = UINT64_MAX for "N+" */
	double rate;
	uint64_t rng;      /* WHEN_RATE: PRNG state */
	uint64_t count;    /* requests matched so far */
} rule;

struct cloud_faults {
	pthread_mutex_t lock;
	size_t n;
	rule rules[MAX_RULES];
};

/* splitmix64: small, good enough, and the same on every platform. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* '*' glob, case-insensitive, iterative with one backtrack point. */
static int glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat && ssrp_ascii_lower((unsigned char)*pat) == ssrp_ascii_lower((unsigned char)*s)) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 19)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* A Retry-After value: digits with at most one '.', at most 10 characters. */
static int valid_seconds(const char *s, size_t len)
{
	int dots = 0, digits = 0;
	if (len == 0 || len > 10)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.' && i > 0 && i + 1 < len)
			dots++;
		else if (isdigit((unsigned char)s[i]))
			digits++;
		else
			return 0;
	}
	return dots <= 1 && digits > 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

#define RULE_ERROR(fmt, ...)                                                                   \
	ssrp_error_set(SSRP_E_INVALID, "fault rule %u ('%.*s'): " fmt, index, (int)text_len, text, \
		       __VA_ARGS__)

static int parse_when(rule *r, const char *w, size_t wl, unsigned index, const char *text,
		      size_t text_len)
{
	if (wl >= 5 && !strncmp(w, "rate=", 5)) {
		const char *comma = memchr(w, ',', wl);
		size_t rl = comma ? (size_t)(comma - w) - 5 : wl - 5;
		char buf[32];
		if (rl == 0 || rl >= sizeof buf)
			return RULE_ERROR("bad rate '%.*s' (a number from 0 to 1)", (int)rl, w + 5);
		memcpy(buf, w + 5, rl);
		buf[rl] = '\0';
		char *end;
		errno = 0;
		double rate = strtod(buf, &end);
		if (errno || *end || !(rate >= 0.0 && rate <= 1.0))
			return RULE_ERROR("bad rate '%s' (a number from 0 to 1)", buf);
		uint64_t seed = 1;
		if (comma) {
			const char *sp = comma + 1;
			size_t sl = wl - (size_t)(sp - w);
			if (sl < 5 || strncmp(sp, "seed=", 5) || parse_u64(sp + 5, sl - 5, &seed))
				return RULE_ERROR("after the rate only 'seed=N' may follow, not '%.*s'",
						  (int)sl, sp);
		}
		r->when = WHEN_RATE;
		r->rate = rate;
		r->rng = seed;
		return SSRP_OK;
	}
	uint64_t from, to;
	const char *dash = memchr(w, '-', wl);
	if (wl > 1 && w[wl - 1] == '+') {
		if (parse_u64(w, wl - 1, &from) || from == 0)
			return RULE_ERROR("bad '@%.*s' (expected @N+ with N >= 1)", (int)wl, w);
		to = UINT64_MAX;
	} else if (dash) {
		size_t fl = (size_t)(dash - w);
		if (parse_u64(w, fl, &from) || parse_u64(dash + 1, wl - fl - 1, &to) || from == 0 ||
		    to < from)
			return RULE_ERROR("bad range '@%.*s' (expected @N-M with 1 <= N <= M)", (int)wl,
					  w);
	} else {
		if (parse_u64(w, wl, &from) || from == 0)
			return RULE_ERROR("bad '@%.*s' (expected @N, @N-M, @N+ or @rate=R[,seed=S])",
					  (int)wl, w);
		to = from;
	}
	r->when = WHEN_RANGE;
	r->from = from;
	r->to = to;
	return SSRP_OK;
}

static int parse_kind(rule *r, const char *k, size_t kl, const char *arg, size_t al, int has_arg,
		      unsigned index, const char *text, size_t text_len)
{
	cloud_fault *f = &r->fault;
	char kind[16];
	if (kl == 0 || kl >= sizeof kind)
		return RULE_ERROR("missing or unknown kind '%.*s' (429, 500, 502, 503, 504, latency, "
				  "reset, truncate, slowbody)",
				  (int)kl, k);
	memcpy(kind, k, kl);
	kind[kl] = '\0';
	if (!strcmp(kind, "429") || !strcmp(kind, "500") || !strcmp(kind, "502") ||
	    !strcmp(kind, "503") || !strcmp(kind, "504")) {
		f->kind = CLOUD_FAULT_STATUS;
		f->status = atoi(kind);
		if (has_arg && al == 4 && !strncmp(arg, "none", 4)) {
			f->retry_after[0] = '\0';
		} else if (has_arg) {
			if (!valid_seconds(arg, al))
				return RULE_ERROR("bad Retry-After '%.*s' for %s (seconds, e.g. 2 or "
						  "2.128, or 'none')",
						  (int)al, arg, kind);
			memcpy(f->retry_after, arg, al);
			f->retry_after[al] = '\0';
		} else if (f->status == 429) {
			strcpy(f->retry_after, "1");
		}
		if (f->retry_after[0])
			snprintf(f->label, sizeof f->label, "%d:%s", f->status, f->retry_after);
		else
			snprintf(f->label, sizeof f->label, "%d", f->status);
		return SSRP_OK;
	}
	if (!strcmp(kind, "latency") || !strcmp(kind, "slowbody")) {
		uint64_t ms;
		if (!has_arg || parse_u64(arg, al, &ms) || ms > MAX_LATENCY_MS)
			return RULE_ERROR("%s needs milliseconds, e.g. %s:200 (at most %u), not '%.*s'",
					  kind, kind, MAX_LATENCY_MS, (int)al, has_arg ? arg : "");
		f->kind = kind[0] == 'l' ? CLOUD_FAULT_LATENCY : CLOUD_FAULT_SLOWBODY;
		f->ms = (unsigned)ms;
		snprintf(f->label, sizeof f->label, "%s:%u", kind, f->ms);
		return SSRP_OK;
	}
	if (!strcmp(kind, "reset") || !strcmp(kind, "truncate")) {
		if (has_arg)
			return RULE_ERROR("%s takes no argument, got '%.*s'", kind, (int)al, arg);
		f->kind = kind[0] == 'r' ? CLOUD_FAULT_RESET : CLOUD_FAULT_TRUNCATE;
		snprintf(f->label, sizeof f->label, "%s", kind);
		return SSRP_OK;
	}
	return RULE_ERROR("unknown kind '%s' (429, 500, 502, 503, 504, latency, reset, truncate, "
			  "slowbody)",
			  kind);
}

/* One rule from text[0..text_len) (already trimmed, not empty). */
static int parse_rule(rule *r, const char *text, size_t text_len, unsigned index)
{
	memset(r, 0, sizeof *r);
	const char *p = text;
	size_t len = text_len;

	/* "@WHEN" is whatever follows the last '@' after the first ':' (the
	 * pattern may hold '@', as UPNs in paths do). */
	const char *first_colon = memchr(p, ':', len);
	const char *at = NULL;
	for (size_t i = first_colon ? (size_t)(first_colon - p) : len; i < len; i++)
		if (p[i] == '@')
			at = p + i;
	size_t main_len = at ? (size_t)(at - p) : len;
	r->when = WHEN_ALWAYS;
	if (at) {
		const char *w = at + 1;
		size_t wl = len - main_len - 1;
		trim(&w, &wl);
		if (wl == 0)
			return RULE_ERROR("'@' with nothing after it%s", "");
		int rc = parse_when(r, w, wl, index, text, text_len);
		if (rc)
			return rc;
	}

	/* "[METHOD ]PATTERN:KIND[:ARG]" */
	const char *colon = memchr(p, ':', main_len);
	if (!colon)
		return RULE_ERROR("expected PATTERN:KIND, found no ':'%s", "");
	const char *pat = p;
	size_t pl = (size_t)(colon - p);
	trim(&pat, &pl);
	const char *space = memchr(pat, ' ', pl);
	if (space) {
		size_t ml = (size_t)(space - pat);
		if (ml == 0 || ml >= sizeof r->method)
			return RULE_ERROR("bad method '%.*s'", (int)ml, pat);
		for (size_t i = 0; i < ml; i++) {
			if (!isupper((unsigned char)pat[i]))
				return RULE_ERROR("bad method '%.*s' (upper-case letters, e.g. GET)",
						  (int)ml, pat);
			r->method[i] = pat[i];
		}
		r->method[ml] = '\0';
		pat = space + 1;
		pl -= ml + 1;
		trim(&pat, &pl);
	}
	if (pl == 0)
		return RULE_ERROR("empty pattern (use '*' for every request)%s", "");
	if (pl >= sizeof r->pattern)
		return RULE_ERROR("pattern longer than %zu characters", sizeof r->pattern - 1);
	for (size_t i = 0; i < pl; i++)
		if (isspace((unsigned char)pat[i]) || (unsigned char)pat[i] < 0x20)
			return RULE_ERROR("white space inside the pattern '%.*s'", (int)pl, pat);
	memcpy(r->pattern, pat, pl);
	r->pattern[pl] = '\0';

	const char *k = colon + 1;
	size_t rest = main_len - (size_t)(k - p);
	const char *colon2 = memchr(k, ':', rest);
	size_t kl = colon2 ? (size_t)(colon2 - k) : rest;
	const char *arg = colon2 ? colon2 + 1 : NULL;
	size_t al = colon2 ? rest - kl - 1 : 0;
	trim(&k, &kl);
	if (arg) {
		trim(&arg, &al);
		if (memchr(arg, ':', al))
			return RULE_ERROR("too many ':' in '%.*s'", (int)rest, colon + 1);
		if (al == 0)
			return RULE_ERROR("empty argument after '%.*s:'", (int)kl, k);
	}
	return parse_kind(r, k, kl, arg, al, arg != NULL, index, text, text_len);
}

int cloud_faults_new(cloud_faults **out)
{
	cloud_faults *f = calloc(1, sizeof *f);
	if (!f)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for the fault script");
	pthread_mutex_init(&f->lock, NULL);
	*out = f;
	return SSRP_OK;
}

void cloud_faults_free(cloud_faults *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int cloud_faults_set(cloud_faults *f, const char *spec)
{
	rule *rules = calloc(MAX_RULES, sizeof *rules);
	if (!rules)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory parsing the fault script");
	size_t n = 0;
	unsigned index = 0;
	const char *p = spec ? spec : "";
	int rc = SSRP_OK;
	while (*p) {
		size_t len = strcspn(p, ";\n");
		const char *t = p;
		size_t tl = len;
		trim(&t, &tl);
		if (tl) {
			index++;
			if (n == MAX_RULES) {
				rc = ssrp_error_set(SSRP_E_INVALID, "more than %d fault rules",
						    MAX_RULES);
				break;
			}
			if ((rc = parse_rule(&rules[n], t, tl, index)) != SSRP_OK)
				break;
			rules[n].fault.rule = (int)index;
			n++;
		}
		p += len;
		if (*p)
			p++;
	}
	if (rc == SSRP_OK) {
		pthread_mutex_lock(&f->lock);
		memcpy(f->rules, rules, n * sizeof *rules);
		f->n = n;
		pthread_mutex_unlock(&f->lock);
	}
	free(rules);
	return rc;
}

size_t cloud_faults_rule_count(cloud_faults *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void cloud_faults_decide(cloud_faults *f, const char *method, const char *subject,
			 cloud_fault *out)
{
	memset(out, 0, sizeof *out);
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n; i++) {
		rule *r = &f->rules[i];
		if (r->method[0] && strcmp(r->method, method))
			continue;
		if (!glob_match(r->pattern, subject))
			continue;
		r->count++;
		int fires;
		switch (r->when) {
		case WHEN_RANGE: fires = r->count >= r->from && r->count <= r->to; break;
		case WHEN_RATE:
			/* Draw for every match, fired or not, so that each rule's
			 * sequence depends only on its own matches. */
			fires = (double)(next_random(&r->rng) >> 11) * 0x1.0p-53 < r->rate;
			break;
		default: fires = 1; break;
		}
		if (fires && out->kind == CLOUD_FAULT_NONE)
			*out = r->fault;
	}
	pthread_mutex_unlock(&f->lock);
}

/* ---- early retries ---------------------------------------------------- */

#define TRACKER_SLOTS 4096 /* power of two */
#define TRACKER_PROBE 16

typedef struct retry_slot {
	uint64_t hash;      /* 0 = empty */
	uint64_t until_ms;  /* Retry-After expiry */
	uint64_t noted_ms;  /* when it was given, to evict the oldest */
} retry_slot;

struct cloud_retry_tracker {
	pthread_mutex_t lock;
	retry_slot slots[TRACKER_SLOTS];
};

/* FNV-1a, 64 bit. */
static uint64_t value_hash(const char *v, int fold_case)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		h ^= fold_case ? (unsigned char)ssrp_ascii_lower(*p) : *p;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* "client:<id>" for a form naming client_id, with the user's credential
 * when the grant has one; 0 when the body is no such form. A client
 * assertion is new in every request, so the application is its client_id. */
static int form_caller(const cloud_request *rq, char *who, size_t cap)
{
	if (!rq->body || !rq->body_len)
		return 0;
	cloud_form f;
	memset(&f, 0, sizeof f);
	if (cloud_form_parse(&f, (const char *)rq->body, rq->body_len) != SSRP_OK)
		return 0;
	const char *client = cloud_form_get(&f, "client_id");
	int found = client && *client;
	if (found) {
		static const char *const user_fields[] = {"username", "refresh_token", "device_code",
							  "code"};
		const char *field = NULL, *value = NULL;
		for (size_t i = 0; i < sizeof user_fields / sizeof *user_fields && !value; i++)
			if ((value = cloud_form_get(&f, user_fields[i])) != NULL)
				field = user_fields[i];
		if (value)
			snprintf(who, cap, "client:%.128s %s:%016llx", client, field,
				 (unsigned long long)value_hash(value, field == user_fields[0]));
		else
			snprintf(who, cap, "client:%.128s", client);
	}
	cloud_form_free(&f);
	return found;
}

/* 0 is reserved for "empty". */
static uint64_t key_hash(const char *key)
{
	uint64_t h = value_hash(key, 0);
	return h ? h : 1;
}

void cloud_retry_key(const cloud_request *rq, const char *ip, char *out, size_t cap)
{
	const char *auth = cloud_request_header(rq, "authorization");
	char who[200];
	if (auth && *auth)
		snprintf(who, sizeof who, "auth:%016llx", (unsigned long long)value_hash(auth, 0));
	else if (rq->client_cert_cn)
		snprintf(who, sizeof who, "cert:%.128s", rq->client_cert_cn);
	else if (!form_caller(rq, who, sizeof who))
		snprintf(who, sizeof who, "ip:%.64s", ip);
	snprintf(out, cap, "%s %s %s%s", who, rq->method, rq->host, rq->path);
}

int cloud_retry_tracker_new(cloud_retry_tracker **out)
{
	cloud_retry_tracker *t = calloc(1, sizeof *t);
	if (!t)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for the retry tracker");
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return SSRP_OK;
}

void cloud_retry_tracker_free(cloud_retry_tracker *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int cloud_retry_is_early(cloud_retry_tracker *t, const char *key, uint64_t now_ms)
{
	uint64_t h = key_hash(key);
	int early = 0;
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < TRACKER_PROBE; i++) {
		retry_slot *s = &t->slots[(h + i) & (TRACKER_SLOTS - 1)];
		if (s->hash == h) {
			early = now_ms < s->until_ms;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return early;
}

void cloud_retry_note(cloud_retry_tracker *t, const char *key, uint64_t now_ms,
		      const char *retry_after)
{
	char *end;
	errno = 0;
	double s = strtod(retry_after, &end);
	if (errno || end == retry_after || *end || !(s >= 0.0) || s > 86400.0)
		return;
	uint64_t h = key_hash(key);
	uint64_t until = now_ms + (uint64_t)(s * 1000.0 + 0.5);
	pthread_mutex_lock(&t->lock);
	retry_slot *victim = NULL;
	for (unsigned i = 0; i < TRACKER_PROBE; i++) {
		retry_slot *slot = &t->slots[(h + i) & (TRACKER_SLOTS - 1)];
		if (slot->hash == h || slot->hash == 0) {
			victim = slot;
			break;
		}
		/* Otherwise replace an expired entry, else the oldest one. */
		if (!victim || (slot->until_ms <= now_ms && victim->until_ms > now_ms) ||
		    ((slot->until_ms <= now_ms) == (victim->until_ms <= now_ms) &&
		     slot->noted_ms < victim->noted_ms))
			victim = slot;
	}
	victim->hash = h;
	victim->until_ms = until;
	victim->noted_ms = now_ms;
	pthread_mutex_unlock(&t->lock);
}
