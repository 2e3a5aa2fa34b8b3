/* ssrp: how a call that talks to a service retries: the escrow to the
 * Device Registration Service (ssrp/escrow.h) and the device's association
 * client (ssrp/assoc_client.h). One set of rules for every HTTP caller in
 * the library:
 *
 *   Retried:  429, 500, 502, 503, 504 and transport failures.
 *   Wait:     the Retry-After the answer carried (seconds, fractions
 *             allowed), capped at retry_after_cap_ms; with none, a capped
 *             exponential backoff with equal jitter.
 *   Bounds:   at most max_attempts sends; never past the deadline (a wait
 *             that would cross it ends the call with the answer at hand,
 *             and each exchange's timeout shrinks to what is left); cancel
 *             is asked before each send and during every wait
 *             (SSRP_E_CANCELLED).
 *
 * Threads: plain data the caller owns; the cancel callback runs on the
 * calling thread. */
#ifndef SSRP_RETRY_H
#define SSRP_RETRY_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SSRP_RETRY_AFTER_CAP_MS 60000u
#define SSRP_RETRY_DEFAULT_DEADLINE_MS 120000u

/* Versioned: start from SSRP_RETRY_OPTIONS_INIT (or
 * ssrp_retry_options_init()), then set what you need; 0 is each field's
 * default. A call given NULL options takes every default. */
#define SSRP_RETRY_OPTIONS_VERSION 1
typedef struct ssrp_retry_options {
	unsigned int version;        /* SSRP_RETRY_OPTIONS_VERSION */
	unsigned max_attempts;       /* 0: 10 */
	unsigned deadline_ms;        /* all attempts and waits of one call; 0: 120 s
				      * (SSRP_RETRY_DEFAULT_DEADLINE_MS) */
	unsigned backoff_base_ms;    /* 0: 500 ms */
	unsigned backoff_cap_ms;     /* 0: 30 s */
	long timeout_ms;             /* one exchange; 0: 60 s */
	uint64_t jitter_seed;        /* 0: from the clock */
	unsigned retry_after_cap_ms; /* 0: SSRP_RETRY_AFTER_CAP_MS */
	/* Nonzero: stop. Asked before each send and every 100 ms of a wait. */
	int (*cancel)(void *cancel_ctx);
	void *cancel_ctx;
} ssrp_retry_options;

#define SSRP_RETRY_OPTIONS_INIT {.version = SSRP_RETRY_OPTIONS_VERSION}

/** *o = SSRP_RETRY_OPTIONS_INIT for that version; SSRP_E_INVALID for a
 * version this library does not know. */
SSRP_API int ssrp_retry_options_init(ssrp_retry_options *o, unsigned int version);

#ifdef __cplusplus
}
#endif

#endif
