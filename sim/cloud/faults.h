/* Deterministic fault injection for the simulated cloud, and the early-retry
 * tracker.
 *
 * A fault script (`ssrp sim cloud start --faults SPEC`, or POST /admin/faults
 * at run time) is a list of rules separated by ';':
 *
 *     [METHOD ]PATTERN:KIND[:ARG][@WHEN]
 *
 * PATTERN is matched, case-insensitively, against "<service><path>", where
 * service is login, graph, drs or webhook and path is the percent-decoded
 * request path without the query: "graph/v1.0/users/alice@contoso.example",
 * "login/<tenant>/oauth2/v2.0/token", "drs/manage/...", "webhook/webhooks".
 * '*' matches any run of characters (also '/'); nothing else is special. A
 * pattern holds no ':' or ';' (an '@' is fine: UPNs). An optional METHOD ("GET ", "POST ")
 * restricts the rule to that method.
 *
 * KIND[:ARG]:
 *   429[:S]      429 Too Many Requests, Graph's throttling body, Retry-After S
 *                seconds (default 1; decimals such as 2.128 allowed; "none"
 *                sends no Retry-After, as some identity APIs do)
 *   500 502 503 504 [:S]  that status in the service's error shape, with
 *                Retry-After S only when S is given
 *   latency:MS   answer normally, MS milliseconds late
 *   reset        close the connection without any response
 *   truncate     announce the full Content-Length, send half the body, close
 *   slowbody:MS  headers at once, the body dribbled out in 8 pieces over MS ms
 *
 * WHEN (which of the requests matching this rule, counted from 1 per rule):
 *   (none)       every one
 *   @N           the Nth only
 *   @N-M         the Nth to the Mth
 *   @N+          the Nth and every later one
 *   @rate=R[,seed=S]  each with probability R (0..1) from a PRNG seeded
 *                with S (default 1): the same sequence of requests gets the
 *                same faults in every run
 *
 * Every rule whose pattern matches counts the request; the first rule (in
 * script order) that fires decides the fault. Admin endpoints are never
 * faulted. Nothing is injected with an empty script.
 *
 * Example: "graph/v1.0/devices*:429:2@3; *:503@rate=0.1,seed=42". */
#ifndef SSRP_SIM_CLOUD_FAULTS_H
#define SSRP_SIM_CLOUD_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/cloud/cloud.h"

typedef enum {
	CLOUD_FAULT_NONE = 0,
	CLOUD_FAULT_STATUS,   /* answer with status (and Retry-After) instead of handling */
	CLOUD_FAULT_LATENCY,  /* handle after ms */
	CLOUD_FAULT_RESET,    /* close the connection, no response */
	CLOUD_FAULT_TRUNCATE, /* half the announced body, then close */
	CLOUD_FAULT_SLOWBODY, /* the body in pieces over ms */
} cloud_fault_kind;

typedef struct cloud_fault {
	cloud_fault_kind kind;
	int status;            /* CLOUD_FAULT_STATUS */
	unsigned ms;           /* LATENCY, SLOWBODY */
	char retry_after[16];  /* "" for none */
	char label[32];        /* for the request log: "429:2", "latency:200", "reset" */
	int rule;              /* 1-based index of the rule that fired, 0 for none */
} cloud_fault;

typedef struct cloud_faults cloud_faults;

/* An empty script. */
int cloud_faults_new(cloud_faults **out);
void cloud_faults_free(cloud_faults *f);
/* Replace the script with spec (NULL or "" clears it) and reset every
 * counter. On a parse error the old script stays and SSRP_E_INVALID says
 * which rule and which part was wrong. Thread-safe. */
int cloud_faults_set(cloud_faults *f, const char *spec);
size_t cloud_faults_rule_count(cloud_faults *f);
/* Which fault, if any, the next request with this method and subject
 * ("graph/v1.0/users") gets. Thread-safe; out->kind is CLOUD_FAULT_NONE
 * when nothing fires. */
void cloud_faults_decide(cloud_faults *f, const char *method, const char *subject,
			 cloud_fault *out);

/* Answer rq with f (a CLOUD_FAULT_STATUS) in the shape of service svc
 * ("graph", "login", "drs", "webhook"), with Retry-After when f has one
 * (fault_respond.c). */
void cloud_fault_respond(const char *svc, const cloud_request *rq, const cloud_fault *f, cloud_response *rs);

/* ---- early retries -------------------------------------------------------
 * The server notes every 429/503 that carried a Retry-After under a key
 * made of the caller, the method and the path; a request under the same key
 * before that time has passed is an early retry. A Retry-After binds only
 * the caller it was sent to: the table is bounded (the oldest entries are
 * forgotten first) and thread-safe. */
typedef struct cloud_retry_tracker cloud_retry_tracker;

/* The key of rq from address ip, into out: the caller is its Authorization
 * header (hashed), else its client certificate, else the client_id of a
 * form body with a hash of the user's credential in it (username,
 * refresh_token, device_code or code: token requests carry no header, and
 * an application's and a user's token requests from one address are
 * different callers), else the address. No secret is kept as is. */
void cloud_retry_key(const cloud_request *rq, const char *ip, char *out, size_t cap);

int cloud_retry_tracker_new(cloud_retry_tracker **out);
void cloud_retry_tracker_free(cloud_retry_tracker *t);
/* 1 when a request under key at now_ms comes before the Retry-After given. */
int cloud_retry_is_early(cloud_retry_tracker *t, const char *key, uint64_t now_ms);
/* Remember a Retry-After (seconds, decimals allowed) given at now_ms. */
void cloud_retry_note(cloud_retry_tracker *t, const char *key, uint64_t now_ms,
		      const char *retry_after);

#endif
