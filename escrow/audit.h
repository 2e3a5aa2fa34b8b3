/* The association service's audit trail: one JSON line per decision or
 * refusal, appended to a file (O_APPEND, one write(2) per line, so several
 * processes may share it), or sent to syslog (LOG_AUTH), or to stderr ("-").
 * Lines never hold a secret: no token, password or recovery key is ever
 * passed here.
 *
 *   {"time":"2026-11-28T19:40:00Z","requester":"device:<id>","event":"decision",
 *    "device":"<id>","device_name":"...","user":"CONTOSO\\alice",
 *    "upn":"alice@contoso.example","relation":"registeredOwners",
 *    "outcome":"added","licence":"ok","licence_plan":"AAD_PREMIUM",
 *    "dry_run":false,"detail":"..."}
 *   {"time":...,"requester":"device:<id>","event":"refused",
 *    "device":"<the device asked about>","detail":"..."}
 *   {"time":...,"requester":"anonymous","event":"refused",
 *    "address":"192.0.2.7","count":1,"detail":"..."}
 * Every line is valid JSON whatever the strings passed hold: bytes that are
 * not UTF-8 become U+FFFD. Thread-safe. */
#ifndef SSRP_ESCROW_AUDIT_H
#define SSRP_ESCROW_AUDIT_H

#include "escrow/assoc.h"

/* spec: a file path (created 0600 if missing, parent must exist),
 * "syslog", or "-" for stderr. */
int ssrp_audit_open(ssrp_audit **out, const char *spec);
void ssrp_audit_close(ssrp_audit *a);
int ssrp_audit_decision(ssrp_audit *a, const ssrp_assoc_decision *d);
/* Anything that is not a per-user decision: event is a short word
 * ("refused", "bad-request"), device_id may be NULL. */
int ssrp_audit_event(ssrp_audit *a, const char *requester, const char *event, const char *device_id,
		     const char *detail);

/* A client refused before it proved who it is (no or a wrong certificate,
 * too many connections), at most one line per address per interval: the
 * first refusal of an interval is written at once with "count":1; the ones
 * after it in the same interval are counted and written as one line with
 * their count and the latest detail when the interval is over (at the
 * address's next refusal or ssrp_audit_flush_refusals). At most 1023
 * addresses are tracked at once; beyond that the others share the address
 * "*". So a flood of refusals grows the log by a bounded amount. */
int ssrp_audit_refusal(ssrp_audit *a, const char *address, const char *detail);
/* The interval (default 60 s). */
void ssrp_audit_set_refusal_interval(ssrp_audit *a, unsigned seconds);
/* Write the counted refusals of the intervals that are over (all: of every
 * interval, as when closing). Call it now and then; close calls it. */
int ssrp_audit_flush_refusals(ssrp_audit *a, int all);

#endif
