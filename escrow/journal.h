/* The agent's journal: what it has done that the volume cannot tell, kept
 * in a small JSON file replaced atomically and durably (hal/fs.h
 * ssrp_fs_write_atomic: temporary file, fsync, rename, fsync directory).
 *
 *   {"version":1,"device_id":"<guid>",
 *    "escrowed":[{"id":"{GUID}","at":1764350000,
 *                 "verified":1764350000,"by":"drs"}],
 *    "verified_at":1764350000,"verify_pending":false,
 *    "association":{"users_sha256":"<hex>","at":1764350000,"mode":"service"},
 *    "rotation":{"used":"{GUID}","new":"{GUID}"}}
 *
 * A missing file is an empty journal. A damaged one is refused with the
 * member at fault; the agent then moves it aside and starts from an empty
 * journal (it uploads again what it cannot prove was uploaded, which is
 * harmless), never from a guess. Who may have written the file, and the
 * lock around a run, are the agent's business (escrow/agent_journal.c). */
#ifndef SSRP_ESCROW_JOURNAL_H
#define SSRP_ESCROW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/volume.h"

#define SSRP_JOURNAL_MAX_ESCROWED 64
#define SSRP_JOURNAL_MAX_BYTES (64u * 1024u)

typedef struct ssrp_journal_escrow {
	char id[SSRP_PROTECTOR_ID_LEN + 1]; /* "{GUID}", upper case */
	int64_t at;                         /* Unix seconds of the confirming 2xx */
	int64_t verified;                   /* last seen in the service's key list, or
					     * a 2xx to an upload; 0 never */
	char by[8];                         /* "upload", "drs"; "" never */
} ssrp_journal_escrow;

typedef struct ssrp_journal {
	char device_id[64];
	ssrp_journal_escrow escrowed[SSRP_JOURNAL_MAX_ESCROWED];
	size_t n_escrowed;
	int64_t verified_at; /* the last run that found every recovery password in
			      * the service's key list; 0 never */
	int verify_pending;  /* a verification began (or failed) and is owed */
	char assoc_users_sha256[65]; /* of the sorted, lower-cased user list (and,
				      * to ssrp's service, of the device's report:
				      * agent_assoc_hash); "" never */
	int64_t assoc_at;
	char assoc_mode[16];
	char rotation_used[SSRP_PROTECTOR_ID_LEN + 1]; /* "" when no rotation is under way */
	char rotation_new[SSRP_PROTECTOR_ID_LEN + 1];
} ssrp_journal;

/* Parse; SSRP_E_FORMAT naming the member at fault. */
int ssrp_journal_parse(ssrp_journal *out, const char *json, size_t len);
/* Load path; a missing file gives an empty journal and SSRP_OK. */
int ssrp_journal_load(ssrp_journal *out, const char *path);
/* Replace path with j (0600). */
int ssrp_journal_save(const ssrp_journal *j, const char *path);

/* When id (any case, braces optional) was escrowed; 0 if never. */
int64_t ssrp_journal_escrowed_at(const ssrp_journal *j, const char *id);
/* Record an escrow of id at time at (replacing an older record). */
int ssrp_journal_mark_escrowed(ssrp_journal *j, const char *id, int64_t at);
/* Record that the service vouched for id at time at: by "upload" (a 2xx)
 * or "drs" (its key list). SSRP_E_NOTFOUND when id has no escrow record. */
int ssrp_journal_mark_verified(ssrp_journal *j, const char *id, int64_t at, const char *by);
/* The escrow record of id, or NULL. */
const ssrp_journal_escrow *ssrp_journal_record(const ssrp_journal *j, const char *id);
/* Forget id (its protector is gone from the volume). */
void ssrp_journal_forget(ssrp_journal *j, const char *id);
/* The hash the association record keeps of a user list. */
void ssrp_journal_users_hash(char out[65], const char *const *users, size_t n);

#endif
