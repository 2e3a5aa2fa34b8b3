/* One HTTP request with ssrp's retry rules (see http_retry.h). Nothing here
 * logs; the thread's error message is whatever the last attempt left. */
#include <stddef.h>
#include <stdint.h>

#include "escrow/graph_client.h"
#include "escrow/http_retry.h"
#include "hal/clock.h"
#include "hal/http.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

static int retryable_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* Rounded up: waiting a fraction of a millisecond short would be early. */
static unsigned seconds_to_ms(double s)
{
	double ms = s * 1000.0;
	if (ms >= 4e9)
		return 4000000000u;
	unsigned w = (unsigned)ms;
	return (double)w < ms ? w + 1 : w;
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
	ssrp_retry_options o = {0};
	if (opt)
		o = *opt;
	if (!o.max_attempts)
		o.max_attempts = 5;
	if (!o.deadline_ms)
		o.deadline_ms = 120000;
	if (!o.backoff_base_ms)
		o.backoff_base_ms = 1000;
	if (!o.backoff_cap_ms)
		o.backoff_cap_ms = 30000;
	if (o.timeout_ms <= 0)
		o.timeout_ms = 60000;
	uint64_t rng = o.jitter_seed ? o.jitter_seed : ssrp_monotonic_ms() * 2654435761u + 1;
	long caller_timeout = rq->timeout_ms;
	uint64_t deadline = ssrp_monotonic_ms() + o.deadline_ms;
	int rc;
	for (unsigned n = 1;; n++) {
		if (attempts)
			*attempts = n;
		/* One exchange never runs past the deadline either. */
		uint64_t now = ssrp_monotonic_ms();
		long left = now < deadline ? (long)(deadline - now) : 1;
		rq->timeout_ms = left < o.timeout_ms ? left : o.timeout_ms;
		rc = ssrp_http_request(h, rq, resp);
		int again = rc == SSRP_E_IO || (rc == SSRP_OK && retryable_status(resp->status));
		if (!again || n >= o.max_attempts)
			break;
		/* A Retry-After came with the answer (also with one cut short
		 * after its headers): never earlier than that. */
		unsigned wait = resp->status && resp->retry_after >= 0
					? seconds_to_ms(resp->retry_after)
					: ssrp_graph_backoff_ms(n, o.backoff_base_ms,
								o.backoff_cap_ms, &rng);
		/* If the wait does not fit in the deadline, stop with the answer
		 * we have rather than ask early. */
		if (ssrp_monotonic_ms() + wait >= deadline)
			break;
		ssrp_http_resp_free(resp);
		ssrp_sleep_ms(wait);
	}
	rq->timeout_ms = caller_timeout;
	return rc;
}
