/* escrow/audit.h: one JSON line per decision or refusal, to a file
 * appended to (one write per line), the system log or stderr (hal's line
 * sink). */
#include "escrow/audit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "escrow/assoc_util.h"
#include "escrow/utf8.h"
#include "hal/clock.h"
#include "hal/fs.h"
#include "hal/line_sink.h"
#include "hal/mem.h"
#include "hal/thread.h"
#include "ssrp/sys/error.h"

#define REFUSAL_ADDRESSES_MAX 1024
#define REFUSAL_INTERVAL_DEFAULT_S 60u
#define OTHER_ADDRESSES "*"

/* Refusals from one address in the current interval: the first was
 * written; `count` more are waiting to be written as one line. */
typedef struct refusal {
	char address[64];
	uint64_t since_ms;
	unsigned long count;
	char detail[400]; /* the latest */
} refusal;

struct ssrp_audit {
	ssrp_line_sink *sink;
	ssrp_mutex lock;
	ssrp_mutex refusals_lock;
	refusal *refusals;
	size_t n_refusals;
	unsigned interval_ms;
};

int ssrp_audit_open(ssrp_audit **out, const char *spec)
{
	if (!out || !spec || !spec[0])
		return ssrp_error_set(SSRP_E_INVALID, "audit: no destination given");
	*out = NULL;
	ssrp_audit *a = ssrp_calloc(1, sizeof *a);
	if (!a)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	/* Only the service may write its audit trail (a file: see
	 * ssrp_line_sink_open). */
	int rc = ssrp_line_sink_open(&a->sink, spec, "audit log", "ssrp-assoc");
	if (rc) {
		ssrp_free(a);
		return rc;
	}
	ssrp_mutex_init(&a->lock);
	ssrp_mutex_init(&a->refusals_lock);
	a->interval_ms = REFUSAL_INTERVAL_DEFAULT_S * 1000u;
	*out = a;
	return SSRP_OK;
}

void ssrp_audit_close(ssrp_audit *a)
{
	if (!a)
		return;
	ssrp_audit_flush_refusals(a, 1);
	ssrp_line_sink_close(a->sink);
	ssrp_mutex_destroy(&a->lock);
	ssrp_mutex_destroy(&a->refusals_lock);
	ssrp_free(a->refusals);
	ssrp_free(a);
}

static void utc_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *s(const char *v)
{
	return v ? v : "";
}

/* Every string of a line goes through here: whatever a device, a client
 * or Graph sent, the line stays valid JSON (invalid UTF-8 becomes U+FFFD;
 * cJSON escapes control characters). */
static int add_text(cJSON *o, const char *key, const char *value)
{
	const char *v = s(value);
	size_t n = strlen(v);
	if (ssrp_utf8_invalid_at(v, n) == n)
		return cJSON_AddStringToObject(o, key, v) != NULL;
	char *clean = ssrp_utf8_clean(v);
	int ok = clean && cJSON_AddStringToObject(o, key, clean) != NULL;
	ssrp_free(clean);
	return ok;
}

/* cJSON's printed text, copied to our heap with room for a newline. */
static char *print_line(cJSON *o)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *copy = ssrp_malloc(n + 2);
	if (copy)
		memcpy(copy, text, n + 1);
	cJSON_free(text);
	return copy;
}

char *ssrp_audit_decision_json(const ssrp_assoc_decision *d, const char *time)
{
	if (!d)
		return NULL;
	char now[32];
	if (!time) {
		utc_now(now);
		time = now;
	}
	cJSON *o = cJSON_CreateObject();
	int ok = o && add_text(o, "time", time) &&
		 add_text(o, "requester", s(d->requester)) &&
		 add_text(o, "event", "decision") &&
		 add_text(o, "device", s(d->device_id)) &&
		 add_text(o, "device_name", s(d->device_name)) &&
		 add_text(o, "user", s(d->user)) &&
		 add_text(o, "upn", s(d->upn)) &&
		 add_text(o, "relation", s(d->relation)) &&
		 add_text(o, "outcome", ssrp_assoc_outcome_name(d->outcome)) &&
		 add_text(o, "licence", ssrp_assoc_licence_name(d->licence)) &&
		 add_text(o, "licence_plan", s(d->licence_plan)) &&
		 cJSON_AddBoolToObject(o, "dry_run", d->dry_run) &&
		 add_text(o, "detail", s(d->detail));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_line(o);
}

static int emit(ssrp_audit *a, char *line)
{
	if (!line)
		return ssrp_error_set(SSRP_E_NOMEM, "audit: out of memory");
	size_t n = strlen(line);
	int rc = SSRP_OK;
	line[n++] = '\n'; /* print_line left room for it */
	ssrp_mutex_lock(&a->lock);
	rc = ssrp_line_sink_write(a->sink, line, n);
	ssrp_mutex_unlock(&a->lock);
	ssrp_free(line);
	return rc;
}

int ssrp_audit_decision(ssrp_audit *a, const ssrp_assoc_decision *d)
{
	if (!a || !d)
		return ssrp_error_set(SSRP_E_INVALID, "audit: no sink or decision");
	return emit(a, ssrp_audit_decision_json(d, NULL));
}

int ssrp_audit_event(ssrp_audit *a, const char *requester, const char *event, const char *device_id,
		     const char *detail)
{
	if (!a || !event)
		return ssrp_error_set(SSRP_E_INVALID, "audit: no sink or event");
	char now[32];
	utc_now(now);
	cJSON *o = cJSON_CreateObject();
	int ok = o && add_text(o, "time", now) &&
		 add_text(o, "requester", s(requester)) &&
		 add_text(o, "event", event) &&
		 (!device_id || add_text(o, "device", device_id)) &&
		 add_text(o, "detail", s(detail));
	if (!ok) {
		cJSON_Delete(o);
		return ssrp_error_set(SSRP_E_NOMEM, "audit: out of memory");
	}
	return emit(a, print_line(o));
}

/* ---- refusals, at most one line per address per interval ------------------ */

void ssrp_audit_set_refusal_interval(ssrp_audit *a, unsigned seconds)
{
	if (a)
		a->interval_ms = (seconds ? seconds : 1u) * 1000u;
}

static char *refusal_line(const char *address, unsigned long count, const char *detail)
{
	char now[32];
	utc_now(now);
	cJSON *o = cJSON_CreateObject();
	int ok = o && add_text(o, "time", now) && add_text(o, "requester", "anonymous") &&
		 add_text(o, "event", "refused") && add_text(o, "address", address) &&
		 cJSON_AddNumberToObject(o, "count", (double)count) && add_text(o, "detail", detail);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_line(o);
}

static refusal *find_refusal(ssrp_audit *a, const char *address)
{
	for (size_t i = 0; i < a->n_refusals; i++)
		if (!strcmp(a->refusals[i].address, address))
			return &a->refusals[i];
	return NULL;
}

int ssrp_audit_refusal(ssrp_audit *a, const char *address, const char *detail)
{
	if (!a)
		return ssrp_error_set(SSRP_E_INVALID, "audit: no sink");
	address = address && address[0] ? address : "?";
	uint64_t now = ssrp_monotonic_ms();
	char *line = NULL, *earlier = NULL;
	ssrp_mutex_lock(&a->refusals_lock);
	refusal *r = find_refusal(a, address);
	if (!r && a->n_refusals >= REFUSAL_ADDRESSES_MAX - 1) {
		/* Too many addresses at once: the rest share the last entry. */
		address = OTHER_ADDRESSES;
		r = find_refusal(a, address);
	}
	if (r && now - r->since_ms >= a->interval_ms) {
		/* The interval is over: what it counted, then a new one. */
		if (r->count)
			earlier = refusal_line(r->address, r->count, r->detail);
		r->since_ms = now;
		r->count = 0;
		line = refusal_line(address, 1, detail);
	} else if (r) {
		r->count++;
		snprintf(r->detail, sizeof r->detail, "%.*s", ssrp_utf8_prefix(s(detail), 399),
			 s(detail));
	} else {
		if (!a->refusals &&
		    !(a->refusals = ssrp_calloc(REFUSAL_ADDRESSES_MAX, sizeof *a->refusals))) {
			ssrp_mutex_unlock(&a->refusals_lock);
			return ssrp_error_set(SSRP_E_NOMEM, "audit: out of memory");
		}
		r = &a->refusals[a->n_refusals++];
		snprintf(r->address, sizeof r->address, "%s", address);
		r->since_ms = now;
		r->count = 0;
		line = refusal_line(address, 1, detail);
	}
	ssrp_mutex_unlock(&a->refusals_lock);
	int rc = SSRP_OK;
	if (earlier)
		rc = emit(a, earlier);
	if (line) {
		int rc2 = emit(a, line);
		rc = rc ? rc : rc2;
	}
	return rc;
}

int ssrp_audit_flush_refusals(ssrp_audit *a, int all)
{
	if (!a)
		return SSRP_OK;
	uint64_t now = ssrp_monotonic_ms();
	int rc = SSRP_OK;
	ssrp_mutex_lock(&a->refusals_lock);
	for (size_t i = 0; i < a->n_refusals;) {
		refusal *r = &a->refusals[i];
		if (!all && now - r->since_ms < a->interval_ms) {
			i++;
			continue;
		}
		if (r->count) {
			int e = emit(a, refusal_line(r->address, r->count, r->detail));
			rc = rc ? rc : e;
		}
		/* the interval is over: the address is forgotten */
		a->refusals[i] = a->refusals[--a->n_refusals];
	}
	ssrp_mutex_unlock(&a->refusals_lock);
	return rc;
}
