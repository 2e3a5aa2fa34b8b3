/* Escrow to the Device Registration Service (the public calls:
 * ssrp/escrow.h; microsoft-wire.md §1a, §1b), and what the library's own
 * code, tests and fuzzers reach beyond them: the key list's parser and the
 * ISO 8601 times it reads. */
#ifndef SSRP_ESCROW_DRS_H
#define SSRP_ESCROW_DRS_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/escrow.h"

/* "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", as Microsoft's
 * services write times, into Unix seconds: 0, or -1 when it is not one. */
int ssrp_iso8601_parse(const char *s, int64_t *out);

/* Parse the key list: an object whose "keys" is an array of at most
 * SSRP_DRS_MAX_KEYS objects, each with "kid" (a GUID, braces optional, any
 * case; each once), "creationtime" (ISO 8601 with a zone, or Unix seconds)
 * and "volumetype" (1, 2 or 3); the camel-case spellings "creationTime" and
 * "volumeType" are taken too, but not both spellings at once. Members not
 * named here are ignored (the service may add some). SSRP_E_FORMAT naming
 * the member at fault; the list (keys and n; not its version) is then
 * empty. */
int ssrp_drs_keys_parse(ssrp_drs_keys *out, const char *json, size_t len);

#endif
