/* "audit:": a TPM backend that wraps another TPM backend and audits every
 * call. The spec is "audit:" followed by the wrapped TPM's own spec, e.g.
 * "audit:tss2:device:/dev/tpmrm0". Each call is counted and, when a log is
 * set, written as one line (the operation, its sizes and masks, the
 * result); secrets never appear, only their lengths. */
#ifndef AUDIT_TPM_H
#define AUDIT_TPM_H

#include <stdio.h>

typedef struct audit_tpm_counts {
	unsigned long opens, closes;
	unsigned long get_info, get_random, pcr_read, pcr_extend;
	unsigned long seal, unseal, srk_provision, get_stats;
	unsigned long failures; /* calls the wrapped backend refused */
} audit_tpm_counts;

/* Make "audit:" reachable by spec (ssrp_tpm_open, the agent). */
int audit_tpm_register(void);

/* The totals of every "audit:" handle in this process. */
void audit_tpm_counts_get(audit_tpm_counts *out);

/* Where the audit lines go (NULL: nowhere). Set it before opening. */
void audit_tpm_set_log(FILE *log);

#endif
