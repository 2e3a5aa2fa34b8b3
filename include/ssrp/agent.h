/* The device agent (steps 1-4 of the flow and rotation after use): make
 * sure the OS volume has a TPM protector and a recovery password, that
 * every recovery password on it is escrowed to the Device Registration
 * Service, that protection is on once an escrow is confirmed, that the
 * device's primary users reach the association service, and that a
 * recovery password that has been used is replaced.
 *
 * A library call first: configuration in (the shared client configuration
 * file, see `ssrp help` and escrow/config.h, with its "device" and "agent"
 * members), a report out, progress through a callback in a person's words.
 * `ssrp agent run|status` is a thin command over it.
 *
 * What the agent has done lives in a small journal written atomically
 * (write, fsync, rename, fsync the directory), so a kill at any point
 * leaves the device where the next run finishes the job. A run on a
 * compliant device makes no network request and no TPM unseal.
 *
 * The journal is trusted only when nobody but the agent's user (or root)
 * could have written it or its directory; otherwise the run refuses and
 * changes nothing. Even then it is a cache: protection goes on, and a used
 * recovery password is deleted, only once the Device Registration Service
 * has confirmed the escrow in the same run (an upload's 2xx, or its list of
 * the device's keys). A file that is not a usable journal is moved aside
 * (PATH.corrupt-<time>), never overwritten. One run at a time: a run holds
 * an exclusive lock (PATH.lock) from reading the journal to its end; another
 * waits a few seconds, then fails with SSRP_E_BUSY.
 *
 * Verification: the journal is also not trusted forever. On the first
 * escrow, after every rotation, every agent.verify_interval_s (less a
 * fixed share of up to a tenth drawn from the device id, so a fleet
 * spreads out) and when asked (opt.verify), the run reads the service's
 * key list: a recovery password on the volume that is not in it is
 * escrowed again, whatever the journal says. In the same run, and only
 * once every recovery password on the volume is proven there, keys of
 * recovery passwords gone from the volume for agent.key_retention_days are
 * deleted from Entra ID (never the newest key); at 150 keys the run warns
 * (Entra ID refuses a 201st). agent.rotate_after_days rotates the
 * recovery password on a schedule the way a used one is rotated.
 *
 * Never logged, never in a progress message or the report: recovery
 * passwords, keys, tokens, the webhook URL. */
#ifndef SSRP_AGENT_H
#define SSRP_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/error.h"
#include "ssrp/platform.h"
#include "ssrp/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ssrp_agent_state {
	SSRP_AGENT_COMPLIANT = 0,      /* protected, every recovery password escrowed,
					* association current, nothing to rotate */
	SSRP_AGENT_NOT_YET = 1,        /* work remains (an escrow or association that
					* failed this time, protection waiting for escrow) */
	SSRP_AGENT_NOT_REGISTERED = 2, /* the device is not joined: nothing was done */
	SSRP_AGENT_FAILED = 3,         /* the run could not go on (no TPM, volume refused,
					* configuration): reason says why */
} ssrp_agent_state;

/* "compliant", "not-yet", "not-registered", "failed". */
SSRP_API const char *ssrp_agent_state_name(ssrp_agent_state s);

typedef enum ssrp_agent_step {
	SSRP_AGENT_STEP_IDENTITY = 1, /* device identity */
	SSRP_AGENT_STEP_TPM,          /* TPM present and ready; TPM protector */
	SSRP_AGENT_STEP_RECOVERY,     /* the recovery-password protector */
	SSRP_AGENT_STEP_ESCROW,       /* upload to the Device Registration Service */
	SSRP_AGENT_STEP_PROTECTION,   /* protection on */
	SSRP_AGENT_STEP_ASSOCIATION,  /* primary users to the association service */
	SSRP_AGENT_STEP_ROTATION,     /* replace a used recovery password */
	SSRP_AGENT_STEP_WRITE,        /* a durable write is about to happen: see
				       * ssrp_agent_event.write_number */
} ssrp_agent_step;

typedef struct ssrp_agent_event {
	ssrp_agent_step step;
	const char *message; /* one sentence in a person's words; no secret */
	int changed;         /* 1 when this step changed the volume or the cloud */
	/* SSRP_AGENT_STEP_WRITE: the run's Nth durable write (a journal save
	 * or a volume change, counted from 1) happens when the callback
	 * returns. The agent is built so that a process killed at any of them
	 * loses nothing (docs/agent.md); the simulator's crash tests kill it
	 * here. 0 for other steps. */
	unsigned long write_number;
} ssrp_agent_event;

typedef void (*ssrp_agent_progress_fn)(const ssrp_agent_event *ev, void *ctx);

/* Versioned as libgit2 does it: start from SSRP_AGENT_OPTIONS_INIT (or
 * ssrp_agent_options_init()), then set what you need. A library newer than
 * your header reads only the fields your version has; an older one refuses
 * a version it does not know, saying so. */
#define SSRP_AGENT_OPTIONS_VERSION 1
typedef struct ssrp_agent_options {
	unsigned int version;     /* SSRP_AGENT_OPTIONS_VERSION */
	const char *config_path;  /* required: the shared client configuration */
	/* Overrides of the configuration's "agent" member; NULL: the config's. */
	const char *volume_spec;  /* "bitlk:/dev/sda3?rw", "wmi:C:" */
	const char *tpm_spec;     /* NULL and none configured: the platform's default TPM */
	const char *journal_path;
	int force_association;    /* send the primary users even if nothing changed */
	int verify;               /* read the service's key list now, whatever the schedule */
	ssrp_agent_progress_fn progress;
	void *progress_ctx;
	/* Already open handles to use instead of opening volume_spec/tpm_spec
	 * (a vendor's backend opened with ssrp_*_open_backend, or one the host
	 * keeps open). Borrowed: the agent never closes them; they must not be
	 * used by another thread during the call. NULL: open from the specs. */
	ssrp_volume *volume;
	ssrp_tpm *tpm;
	/* The platform (identity, primary users): a spec (NULL: the
	 * configuration's agent.platform, else the built-in) or a borrowed open
	 * handle, as for the volume and the TPM. */
	const char *platform_spec;
	ssrp_platform *platform;
	/* Stopping a run: before each step the agent asks cancel(cancel_ctx)
	 * (nonzero: stop) and looks at the clock (timeout_ms after the call
	 * started; 0: no limit). Its network calls ask cancel too, before each
	 * send and while waiting to retry, and end by the time limit; a volume
	 * or TPM operation under way finishes. The journal keeps what was done,
	 * and the run fails with SSRP_E_CANCELLED; the next run goes on from
	 * there. */
	int (*cancel)(void *cancel_ctx);
	void *cancel_ctx;
	unsigned long timeout_ms;
} ssrp_agent_options;

#define SSRP_AGENT_OPTIONS_INIT {.version = SSRP_AGENT_OPTIONS_VERSION}

/* *opts = SSRP_AGENT_OPTIONS_INIT for that version; SSRP_E_INVALID for a
 * version this library does not know. */
SSRP_API int ssrp_agent_options_init(ssrp_agent_options *opts, unsigned int version);

#define SSRP_AGENT_MAX_PROTECTORS 16

typedef struct ssrp_agent_protector {
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	ssrp_protector_type type;
	int escrowed;        /* recovery passwords: a 2xx from the service was recorded */
	int64_t escrowed_at; /* Unix seconds; 0 when not escrowed */
	int64_t verified_at; /* when the service last vouched for it; 0 never */
	char verified_by[8]; /* "upload" (a 2xx), "drs" (its key list); "" never */
} ssrp_agent_protector;

/* Filled by the library; the caller sets the version first
 * (SSRP_AGENT_REPORT_INIT), and the library writes only what that version
 * has. */
#define SSRP_AGENT_REPORT_VERSION 1
typedef struct ssrp_agent_report {
	unsigned int version;   /* SSRP_AGENT_REPORT_VERSION, set by the caller */
	ssrp_agent_state state;
	char reason[512];       /* why not compliant / failed; "" when compliant */
	char device_id[64];
	int protection_on;
	int tpm_ready;          /* -1 not checked */
	ssrp_agent_protector protectors[SSRP_AGENT_MAX_PROTECTORS];
	size_t n_protectors;
	char association_mode[16]; /* "service", "webhook", "off" */
	int64_t last_association;  /* Unix seconds; 0 never */
	int association_pending;
	int rotation_pending;      /* a used recovery password is still on the volume */
	/* Verification against the service's key list. */
	int64_t last_verification; /* Unix seconds of the last complete one; 0 never */
	int64_t next_verification; /* when the next is due (with the device's jitter) */
	int verified_this_run;     /* 1 when this run read the key list and every
				    * recovery password was in it (or escrowed again) */
	long drs_keys;             /* keys Entra ID held for the device when listed; -1 unread */
	unsigned long keys_reescrowed; /* missing from the list, escrowed again */
	unsigned long keys_deleted;    /* old keys deleted from Entra ID this run */
	/* What this run cost. */
	unsigned long http_requests; /* every attempt, all hosts */
	unsigned long tpm_unseals;
	unsigned long tpm_commands;  /* every TPM command, unseals included */
	unsigned long volume_changes;
	unsigned long journal_writes;
	uint64_t elapsed_ms;
	/* Where a journal this run could not use was moved; "" when none. */
	char journal_moved_to[1024];
} ssrp_agent_report;

#define SSRP_AGENT_REPORT_INIT {.version = SSRP_AGENT_REPORT_VERSION}

/* Do whatever is missing, in the order: identity, TPM, TPM protector,
 * recovery password, escrow, protection, association, rotation. Returns
 * SSRP_OK when the run went through its steps (out->state says where the
 * device stands, NOT_YET included), or an error with a sentence when it
 * could not (out->state FAILED, out->reason the same sentence):
 * SSRP_E_BUSY when another run holds the lock, SSRP_E_PERMISSION when
 * another user could have written the journal, SSRP_E_INVALID when opt or
 * out carry a version this library does not know (out untouched then).
 *
 * Threads: runs on the caller's thread; calls on different options and
 * reports may run at once in different threads, but two runs for the same
 * journal exclude each other through its lock. The progress callback runs
 * on the caller's thread. */
SSRP_API int ssrp_agent_run(const ssrp_agent_options *opt, ssrp_agent_report *out);

/* Where the device stands, from the journal and the volume's status alone:
 * no change, no network, no unseal, no lock (the journal is replaced
 * atomically, so a run under way shows as the state before or after one of
 * its steps). The escrows shown are the journal's records. */
SSRP_API int ssrp_agent_status(const ssrp_agent_options *opt, ssrp_agent_report *out);

#ifdef __cplusplus
}
#endif

#endif
