/* "audit:": a volume backend that wraps another volume backend and audits
 * every call. The spec is "audit:" followed by the wrapped volume's own
 * spec, e.g. "audit:bitlk:/dev/sda3?rw". Each call is counted; each change
 * (a protector added or deleted, protection on or off, an unlock) is also
 * written as one line when a log is set. Passwords and keys never appear. */
#ifndef AUDIT_VOLUME_H
#define AUDIT_VOLUME_H

#include <stdio.h>

typedef struct audit_volume_counts {
	unsigned long opens, closes;
	unsigned long get_status, list_protectors, get_recovery_password;
	unsigned long add_tpm_protector, add_recovery_password, delete_protector;
	unsigned long reseal_tpm_protector, unlocks, protection_on, protection_off;
	unsigned long reads, writes, reserved_regions;
	unsigned long failures; /* calls the wrapped backend refused */
} audit_volume_counts;

/* Make "audit:" reachable by volume spec (ssrp_volume_open, the agent). */
int audit_volume_register(void);

/* The totals of every "audit:" volume in this process. */
void audit_volume_counts_get(audit_volume_counts *out);

/* Where the audit lines go (NULL: nowhere). */
void audit_volume_set_log(FILE *log);

#endif
