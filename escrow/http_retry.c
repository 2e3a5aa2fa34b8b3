/* The retry engine (see http_retry.h). Nothing here logs; the thread's
 * error message is whatever the last attempt left. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "escrow/http_retry.h"
#include "hal/clock.h"
#include "hal/http.h"
#include "hal/struct_version.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

#define CANCEL_SLICE_MS 100u

int ssrp_retry_options_init(ssrp_retry_options *o, unsigned int version)
{
	int rc = ssrp_struct_version_check("ssrp_retry_options", version,
					   SSRP_RETRY_OPTIONS_VERSION, "SSRP_RETRY_OPTIONS_INIT");
	if (rc)
		return rc;
	memset(o, 0, sizeof *o);
	o->version = version;
	return SSRP_OK;
}

int ssrp_retry_options_take(ssrp_retry_options *out, const ssrp_retry_options *given)
{
	memset(out, 0, sizeof *out);
	out->version = SSRP_RETRY_OPTIONS_VERSION;
	if (!given)
		return SSRP_OK;
	int rc = ssrp_struct_version_check("ssrp_retry_options", given->version,
					   SSRP_RETRY_OPTIONS_VERSION, "SSRP_RETRY_OPTIONS_INIT");
	if (rc)
		return rc;
	*out = *given; /* version 1 is all of it so far */
	return SSRP_OK;
}

void ssrp_retry_begin(ssrp_retry *r, const ssrp_retry_options *opt)
{
	memset(r, 0, sizeof *r);
	if (opt)
		r->opt = *opt;
	ssrp_retry_options *o = &r->opt;
	if (!o->max_attempts)
		o->max_attempts = 10;
	if (!o->deadline_ms)
		o->deadline_ms = SSRP_RETRY_DEFAULT_DEADLINE_MS;
	if (!o->backoff_base_ms)
		o->backoff_base_ms = 500;
	if (!o->backoff_cap_ms)
		o->backoff_cap_ms = 30000;
	if (o->timeout_ms <= 0)
		o->timeout_ms = 60000;
	if (!o->retry_after_cap_ms)
		o->retry_after_cap_ms = SSRP_RETRY_AFTER_CAP_MS;
	uint64_t now = ssrp_monotonic_ms();
	r->rng = o->jitter_seed ? o->jitter_seed : (now * 0x9e3779b97f4a7c15ull) | 1;
	r->deadline = now + o->deadline_ms;
}

int ssrp_retry_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

unsigned ssrp_retry_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint64_t *rng)
{
	if (attempt < 1)
		attempt = 1;
	uint64_t d = base_ms;
	for (unsigned i = 1; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	/* Equal jitter: never less than half the step, so retries keep
	 * spreading out, but clients that failed together do not return
	 * together. */
	uint64_t half = d / 2;
	return (unsigned)(d - half + (half ? xorshift(rng) % (half + 1) : 0));
}

unsigned ssrp_retry_wait_ms(ssrp_retry *r, double retry_after)
{
	if (!(retry_after >= 0)) /* NaN too */
		return ssrp_retry_backoff_ms(r->attempts, r->opt.backoff_base_ms,
					     r->opt.backoff_cap_ms, &r->rng);
	double cap = r->opt.retry_after_cap_ms;
	double ms = retry_after * 1000.0;
	if (ms >= cap)
		return r->opt.retry_after_cap_ms;
	/* Rounded up: waiting a fraction of a millisecond short would be early. */
	unsigned w = (unsigned)ms;
	return (double)w < ms ? w + 1 : w;
}

static int cancelled(const ssrp_retry *r)
{
	return r->opt.cancel && r->opt.cancel(r->opt.cancel_ctx);
}

int ssrp_retry_pause(ssrp_retry *r, unsigned wait_ms)
{
	uint64_t now = ssrp_monotonic_ms();
	if (now + wait_ms >= r->deadline)
		return 1;
	uint64_t until = now + wait_ms;
	r->waits++;
	for (;;) {
		if (cancelled(r))
			return ssrp_error_set(SSRP_E_CANCELLED,
					      "stopped on request while waiting to send again");
		now = ssrp_monotonic_ms();
		if (now >= until)
			return SSRP_OK;
		uint64_t left = until - now;
		ssrp_sleep_ms(!r->opt.cancel || left < CANCEL_SLICE_MS ? (unsigned)left
								      : CANCEL_SLICE_MS);
	}
}

int ssrp_retry_send_once(ssrp_retry *r, ssrp_http *h, ssrp_http_req *rq, ssrp_http_resp *resp)
{
	if (cancelled(r)) {
		memset(resp, 0, sizeof *resp);
		resp->retry_after = -1;
		return ssrp_error_set(SSRP_E_CANCELLED, "stopped on request before sending");
	}
	r->attempts++;
	/* One exchange never runs past the deadline either. */
	uint64_t now = ssrp_monotonic_ms();
	long left = now < r->deadline ? (long)(r->deadline - now) : 1;
	long caller_timeout = rq->timeout_ms;
	rq->timeout_ms = left < r->opt.timeout_ms ? left : r->opt.timeout_ms;
	int rc = ssrp_http_request(h, rq, resp);
	rq->timeout_ms = caller_timeout;
	if (rc == SSRP_OK && resp->status == 429)
		r->throttled++;
	return rc;
}

int ssrp_retry_send(ssrp_retry *r, ssrp_http *h, ssrp_http_req *rq, ssrp_http_resp *resp)
{
	for (;;) {
		int rc = ssrp_retry_send_once(r, h, rq, resp);
		int again = rc == SSRP_E_IO || (rc == SSRP_OK && ssrp_retry_status(resp->status));
		if (!again || r->attempts >= r->opt.max_attempts)
			return rc;
		/* A Retry-After counts only with an answer (also one cut short
		 * after its headers). */
		unsigned wait = ssrp_retry_wait_ms(r, resp->status ? resp->retry_after : -1);
		int p = ssrp_retry_pause(r, wait);
		if (p == 1)
			return rc; /* stop with the answer we have rather than ask early */
		ssrp_http_resp_free(resp);
		if (p == SSRP_E_CANCELLED) {
			memset(resp, 0, sizeof *resp);
			resp->retry_after = -1;
			return p;
		}
	}
}

int ssrp_http_request_retrying(ssrp_http *h, ssrp_http_req *rq, ssrp_http_resp *resp,
			       const ssrp_retry_options *opt, unsigned *attempts)
{
	if (attempts)
		*attempts = 0;
	if (!resp)
		return ssrp_error_set(SSRP_E_INVALID, "http: no response structure");
	if (!h || !rq)
		return ssrp_http_request(h, rq, resp); /* resets resp, says what is missing */
	ssrp_retry r;
	ssrp_retry_begin(&r, opt);
	int rc = ssrp_retry_send(&r, h, rq, resp);
	if (attempts)
		*attempts = r.attempts;
	return rc;
}
