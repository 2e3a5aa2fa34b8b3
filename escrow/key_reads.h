/* Recovery keys read, counted from an audit log (`ssrp assoc report
 * --audit FILE --days N`).
 *
 * A key read is recorded by Entra ID, not by ssrp: whoever reads a key
 * (the user in My Account, an administrator in the admin center, a Graph
 * call with $select=key) leaves a "Read BitLocker key" entry in the
 * tenant's audit log (category KeyManagement). The file is that log, one
 * JSON object a line, as Graph's directoryAudits gives each entry
 *   {"activityDisplayName":"Read BitLocker key",
 *    "activityDateTime":"2026-12-01T09:30:00Z", ...}
 * or as the simulated tenant keeps it ({"action":"Read BitLocker key",
 * "time":"..."}, GET /admin/state's "audit"). Other entries are counted
 * apart; lines that are not such an object are skipped and counted, never
 * fatal. */
#ifndef SSRP_ESCROW_KEY_READS_H
#define SSRP_ESCROW_KEY_READS_H

#include <stdint.h>
#include <stdio.h>

#include "ssrp/assoc_report.h"

#define SSRP_KEY_READ_ACTIVITY "Read BitLocker key"
/* Longer lines are skipped as bad. */
#define SSRP_KEY_READS_MAX_LINE (64u * 1024u)

/* ssrp_key_reads, ssrp_key_reads_count: public, ssrp/assoc_report.h. */
/* ssrp_key_reads_count over an open stream, read to its end. */
int ssrp_key_reads_count_stream(FILE *f, int64_t since, int64_t until, ssrp_key_reads *out);

#endif
