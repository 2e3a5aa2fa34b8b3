/* The one retry engine every HTTP caller in escrow/ uses (the Graph and
 * OAuth clients, Device Registration, the association client, recover):
 * one options struct, one set of retried statuses, one Retry-After rule.
 *
 *   Retried:      429, 500, 502, 503, 504 and transport failures.
 *   Wait:         the Retry-After the answer carried (seconds, fractions
 *                 allowed), capped at retry_after_cap_ms (default
 *                 SSRP_RETRY_AFTER_CAP_MS, 60 s: a longer one — a proxy's
 *                 hour, a mistyped header — would otherwise end or stall the
 *                 call; Graph's own are seconds); with no Retry-After, a
 *                 capped exponential backoff with equal jitter.
 *   Bounds:       at most max_attempts sends; never past the deadline (a wait
 *                 that would cross it ends the call with the answer at hand,
 *                 and each exchange's timeout shrinks to what is left); the
 *                 caller's cancel callback is asked before each send and
 *                 during every wait (SSRP_E_CANCELLED).
 *
 * Nothing here logs or knows a client: callers count and explain. */
#ifndef SSRP_ESCROW_HTTP_RETRY_H
#define SSRP_ESCROW_HTTP_RETRY_H

#include <stdint.h>

#include "hal/http.h"
#include "ssrp/retry.h"

/* ssrp_retry_options, SSRP_RETRY_AFTER_CAP_MS and
 * SSRP_RETRY_DEFAULT_DEADLINE_MS: public, ssrp/retry.h. The library's own
 * callers may leave the version 0; a public call takes the caller's
 * options through ssrp_retry_options_take. */

/* A public caller's options (NULL: every default) into *out in this
 * library's layout; SSRP_E_INVALID for a version it does not know. */
int ssrp_retry_options_take(ssrp_retry_options *out, const ssrp_retry_options *given);

/* One call's progress: its resolved options, deadline and jitter state. */
typedef struct ssrp_retry {
	ssrp_retry_options opt; /* defaults filled in */
	uint64_t deadline;      /* monotonic ms; a caller may lower it */
	uint64_t rng;           /* xorshift state, never 0 */
	unsigned attempts;      /* sends so far */
	unsigned throttled;     /* 429s among the answers */
	unsigned waits;         /* pauses taken between sends */
} ssrp_retry;

/* Start a call under opt (NULL: every default). */
void ssrp_retry_begin(ssrp_retry *r, const ssrp_retry_options *opt);

/* 1 for the statuses that are sent again. */
int ssrp_retry_status(long status);

/* The wait before attempt number attempt + 1 when the answer gave no
 * Retry-After: min(cap, base * 2^(attempt-1)), of which the upper half is
 * jittered from *rng (a xorshift state). */
unsigned ssrp_retry_backoff_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms,
			       uint64_t *rng);

/* The wait after r's latest attempt given that answer's Retry-After in
 * seconds (< 0: none): the rule above. */
unsigned ssrp_retry_wait_ms(ssrp_retry *r, double retry_after);

/* Wait wait_ms before the next send, if the deadline allows it. Returns
 * SSRP_OK after waiting, 1 when the wait would cross the deadline (nothing
 * waited: stop with the answer at hand), SSRP_E_CANCELLED (message set)
 * when the caller's cancel asked to stop. */
int ssrp_retry_pause(ssrp_retry *r, unsigned wait_ms);

/* One send of rq on h under r: the cancel asked first, the exchange's
 * timeout cut to the deadline, the attempt (and a 429) counted. Returns
 * ssrp_http_request's code, or SSRP_E_CANCELLED. */
int ssrp_retry_send_once(ssrp_retry *r, ssrp_http *h, ssrp_http_req *rq, ssrp_http_resp *resp);

/* Send rq on h under r until a final answer (any status but the retried
 * ones), the attempts run out or the next wait would cross the deadline.
 * Returns what ssrp_http_request returned for the last attempt (SSRP_OK: an
 * answer is in *resp, maybe a 429/5xx when retries ran out), or
 * SSRP_E_CANCELLED (resp then empty). rq->timeout_ms is left as it was. */
int ssrp_retry_send(ssrp_retry *r, ssrp_http *h, ssrp_http_req *rq, ssrp_http_resp *resp);

/* The same as one call: begin, send; *attempts (may be NULL) counts. */
int ssrp_http_request_retrying(ssrp_http *h, ssrp_http_req *rq, ssrp_http_resp *resp,
			       const ssrp_retry_options *opt, unsigned *attempts);

#endif
