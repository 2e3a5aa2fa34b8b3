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
 * Thread-safe. */
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

#endif
