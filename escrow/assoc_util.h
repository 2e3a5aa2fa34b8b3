/* Helpers around the association engine (escrow/assoc.h) that the command,
 * the service and the fuzzers share: the batch input file and the JSON form
 * of a decision (the audit line's fields). */
#ifndef SSRP_ESCROW_ASSOC_UTIL_H
#define SSRP_ESCROW_ASSOC_UTIL_H

#include <stddef.h>

#include "escrow/assoc.h"

/* The input of `ssrp assoc batch`: JSON lines {"deviceId":..,"users":[..]}
 * (the request body's format, as strict) or CSV lines
 * "deviceId,user[,user...]"; a line starting with "deviceId" (a header),
 * blank lines and lines starting with '#' are skipped; CR LF is accepted.
 * A malformed line fails the whole file with SSRP_E_FORMAT "line N: ...". */
#define SSRP_ASSOC_INPUT_MAX_BYTES (256u * 1024u * 1024u)
#define SSRP_ASSOC_INPUT_MAX_JOBS 2000000u
typedef struct ssrp_assoc_input {
	ssrp_assoc_job *jobs; /* n entries; the strings belong to the input */
	size_t n;
	size_t n_users; /* over all jobs */
} ssrp_assoc_input;
int ssrp_assoc_input_parse(ssrp_assoc_input **out, const char *text, size_t len);
void ssrp_assoc_input_free(ssrp_assoc_input *in);

/* A deviceId as the engine accepts it: a GUID, 8-4-4-4-12 hex digits. */
int ssrp_assoc_is_guid(const char *s);

/* The audit line of a decision without its newline (malloc'd JSON, free
 * with ssrp_free); time NULL for the current UTC time. */
char *ssrp_audit_decision_json(const ssrp_assoc_decision *d, const char *time);

#endif
