/* One HTTP request with the retry rules every ssrp client keeps: 429, 500,
 * 502, 503, 504 and transport failures are sent again, never before the
 * Retry-After the answer carried, otherwise after a capped exponential
 * backoff with jitter (ssrp_graph_backoff_ms), at most max_attempts times
 * and never past the deadline. Used by the association client and the
 * Device Registration client (the Graph client has its own, with tokens). */
#ifndef SSRP_ESCROW_HTTP_RETRY_H
#define SSRP_ESCROW_HTTP_RETRY_H

#include <stdint.h>

#include "hal/http.h"

typedef struct ssrp_retry_options {
	unsigned max_attempts;    /* 0: 5 */
	unsigned deadline_ms;     /* all attempts and waits; 0: 120 s */
	unsigned backoff_base_ms; /* 0: 1 s */
	unsigned backoff_cap_ms;  /* 0: 30 s */
	long timeout_ms;          /* one exchange; 0: 60 s */
	uint64_t jitter_seed;     /* 0: from the clock */
} ssrp_retry_options;

/* Send rq on h until a final answer (any status but the retried ones), the
 * attempts run out or the next wait would cross the deadline. Returns what
 * ssrp_http_request returned for the last attempt (SSRP_OK: an answer is in
 * *resp, maybe a 429/5xx when retries ran out); *attempts counts. */
int ssrp_http_request_retrying(ssrp_http *h, ssrp_http_req *rq, ssrp_http_resp *resp,
			       const ssrp_retry_options *opt, unsigned *attempts);

#endif
