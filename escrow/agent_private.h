/* The agent's insides, shared by escrow/agent_*.c (include/ssrp/agent.h is
 * the public side):
 *   agent_run.c     orchestration: setup, the steps in order, status
 *   agent_volume.c  the TPM (opened lazily), unlocking, the TPM protector,
 *                   the recovery password, protection, durable-write hook
 *   agent_journal.c the journal on disk: trust, the run's lock, load, save
 *   agent_escrow.c  uploads to the Device Registration Service
 *   agent_confirm.c confirming an escrow with the service before relying on it
 *   agent_assoc.c   the primary users to the association service
 *   agent_verify.c  proving every recovery password is in the service's key
 *                   list (first escrow, rotation, schedule, on demand)
 *   agent_hygiene.c deleting old keys from Entra ID after a verification
 *   agent_rotate.c  replacing a recovery password that has been used, or
 *                   one past agent.rotate_after_days
 *   agent_report.c  progress events, compliance, the report */
#ifndef SSRP_ESCROW_AGENT_PRIVATE_H
#define SSRP_ESCROW_AGENT_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/config.h"
#include "escrow/device_report.h"
#include "escrow/drs.h"
#include "escrow/journal.h"
#include "hal/fs.h"
#include "hal/identity.h"
#include "ssrp/agent.h"
#include "ssrp/tpm.h"
#include "ssrp/volume.h"

#define AGENT_MAX_PROT 32

typedef struct agent_ctx {
	const ssrp_agent_options *opt;
	ssrp_agent_report *rep;
	ssrp_cloud_config *cfg;
	ssrp_identity_config idc;
	uint64_t started_ms; /* for opt->timeout_ms */
	ssrp_platform *plat;
	int plat_borrowed; /* opt->platform: the caller closes it */
	ssrp_device_identity id;
	const char *volume_spec, *tpm_spec, *journal_path;
	uint32_t pcr_mask;
	ssrp_association_mode assoc_mode;

	ssrp_journal journal;
	int journal_dirty;  /* forgotten entries not yet saved */
	ssrp_fs_lock *lock; /* held from the journal's load to the end of a run */

	/* Escrows the service confirmed in this run (a 2xx to an upload, or its
	 * key list); the list itself is read at most once. */
	char confirmed[AGENT_MAX_PROT][SSRP_PROTECTOR_ID_LEN + 1];
	size_t n_confirmed;
	ssrp_drs_keys *drs_keys; /* NULL until read */
	int drs_listed, drs_list_rc;
	char drs_list_why[512];
	unsigned long uploaded; /* 2xx uploads this run: a verification is due */
	int rotated;            /* a rotation finished this run: likewise */
	int verified;           /* the key list read this run held every recovery
				 * password on the volume */

	ssrp_volume *vol;
	int vol_borrowed; /* opt->volume: the caller closes it */
	ssrp_volume_status st;
	ssrp_protector prot[AGENT_MAX_PROT];
	size_t n_prot;

	ssrp_tpm *tpm;
	int tpm_borrowed; /* opt->tpm: the caller closes it */
	int tpm_checked; /* 1 once the TPM answered and is not in lockout */

	char **users; /* primary users; NULL until read */
	size_t n_users;
	char users_hash[65];

	int not_yet;          /* some step left work for a later run */
	char not_yet_reason[512];
	unsigned long durable; /* durable writes so far */
	int64_t now;           /* Unix seconds at the start */
} agent_ctx;

/* agent_report.c */
void agent_event(agent_ctx *c, ssrp_agent_step step, int changed, const char *fmt, ...)
#if defined(__MINGW32__)
	__attribute__((format(gnu_printf, 4, 5)))
#elif defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
/* Remember the first reason work remains (a sentence). */
void agent_not_yet(agent_ctx *c, const char *fmt, ...)
#if defined(__MINGW32__)
	__attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* Fill c->rep from the journal, the volume's state and what this run saw,
 * and decide compliant / not yet. */
void agent_assess(agent_ctx *c);
/* 1 when the association must be sent (users read already). */
int agent_assoc_due(const agent_ctx *c);
/* What keeps the volume from being compliant (a sentence, possibly in
 * buf), NULL when nothing: the verdict without this run's troubles or the
 * association. */
const char *agent_disk_problem(const agent_ctx *c, char *buf, size_t cap);
/* The report the association carries to the service. */
void agent_device_report(const agent_ctx *c, ssrp_device_report *r);
/* The journal's assoc_users_sha256 once the association went through. */
void agent_assoc_hash(const agent_ctx *c, char out[65]);
const char *agent_assoc_mode_name(ssrp_association_mode m);

/* agent_volume.c */
/* Just before each durable write (journal save or volume change): counts
 * it and tells the progress callback (SSRP_AGENT_STEP_WRITE). */
void agent_before_write(agent_ctx *c, int volume_change);
int agent_refresh(agent_ctx *c);
const ssrp_protector *agent_find(const agent_ctx *c, const char *id);
size_t agent_count(const agent_ctx *c, ssrp_protector_type t);
int agent_tpm_ready(agent_ctx *c);
int agent_unlock(agent_ctx *c);
int agent_step_tpm_protector(agent_ctx *c);
int agent_step_recovery(agent_ctx *c);
int agent_step_protection(agent_ctx *c);
/* Add a generated recovery password (volume unlocked by the caller). */
int agent_add_recovery(agent_ctx *c, char out_id[SSRP_PROTECTOR_ID_LEN + 1]);

/* agent_journal.c */
/* Check who could have written the journal, then load it; for_run also
 * makes its directory, takes the run's lock (SSRP_E_BUSY when another run
 * keeps it) and moves an unusable journal aside. */
int agent_journal_open(agent_ctx *c, int for_run);
void agent_journal_close(agent_ctx *c);
int agent_journal_save(agent_ctx *c);

/* agent_escrow.c */
/* Errors after which no escrow can go on (no key, no TPM). */
int agent_fatal(int rc);
/* Upload protector id's password; on a 2xx record it (journal saved, and
 * confirmed for this run). SSRP_OK when escrowed; otherwise an error (the
 * run goes on unless agent_fatal). */
/* The run's network calls: the caller's cancel, and a deadline no later
 * than the run's time limit (agent_run.c). */
void agent_retry_options(const agent_ctx *c, ssrp_retry_options *ro);

int agent_escrow_one(agent_ctx *c, const char *id);
int agent_step_escrow(agent_ctx *c);

/* agent_confirm.c */
int agent_confirmed_this_run(const agent_ctx *c, const char *id);
void agent_mark_confirmed(agent_ctx *c, const char *id);
/* Confirm the escrow of id, which this run uploaded or the journal records:
 * by this run's upload, else by the service's key list, else (not listed,
 * or the list could not be read but the service answered) by uploading it
 * again. SSRP_OK when confirmed; an error saying why not. */
int agent_confirm_escrow(agent_ctx *c, const char *id);
/* Confirm some recovery password on the volume is escrowed (protection on
 * waits for it). SSRP_OK, or an error saying why not. */
int agent_confirm_any(agent_ctx *c);
/* Read the service's key list into c->drs_keys: once a run, or again when
 * fresh. An error says why it could not be read. */
int agent_list_keys(agent_ctx *c, int fresh);

/* agent_verify.c */
/* When the next scheduled verification is due (0: now, never verified). */
int64_t agent_next_verification(const agent_ctx *c);
int agent_verify_due(const agent_ctx *c);
int agent_step_verify(agent_ctx *c);

/* agent_hygiene.c */
/* After a complete verification in this run: warn near Entra ID's limit,
 * delete keys past agent.key_retention_days. */
int agent_step_hygiene(agent_ctx *c);
/* After an upload refused with 409: when the device is at Entra ID's
 * limit, delete what the rules let go; 1 when something was deleted (the
 * upload is worth trying again). */
int agent_make_room(agent_ctx *c);

/* agent_assoc.c */
int agent_read_users(agent_ctx *c);
int agent_step_association(agent_ctx *c);

/* agent_rotate.c */
/* The protector to rotate away from, or NULL when none. */
const char *agent_rotation_used(const agent_ctx *c);
int agent_step_rotation(agent_ctx *c);

#endif
