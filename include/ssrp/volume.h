/* ssrp: volume protection (BitLocker) over any backend.
 *
 * A volume is opened from a spec string:
 *   "bitlk:/dev/sdb1"            any BitLocker volume in a file or block
 *                                device, Windows-made or ssrp-made; read-only
 *                                unless "?rw" follows the path
 *   "wmi:C:"                     Windows: Win32_EncryptableVolume over WMI
 * More backends are registered with ssrp_volume_backend_register()
 * (ssrp/sys/volume.h); the simulator's "sim:" is one (ssrp/sim.h).
 * Which services a backend offers is in its capability bits; a service it
 * lacks answers SSRP_E_NOTSUPPORTED.
 *
 * Protector ids are BitLocker's "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}". A
 * recovery password travels only in zeroed-on-free buffers and is shown to a
 * user only when they asked for exactly that.
 *
 * Threads: an ssrp_volume is used by one thread at a time. The wmi backend
 * uses COM: open, use and close it on the same thread when that thread is a
 * single-threaded apartment. */
#ifndef SSRP_VOLUME_H
#define SSRP_VOLUME_H

#include "buf.h"
#include "common.h"
#include "error.h"
#include "tpm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssrp_volume ssrp_volume;

/* Capability bits (ssrp_volume_capabilities). */
#define SSRP_VOLUME_CAP_STATUS (1u << 0)
#define SSRP_VOLUME_CAP_PROTECTORS (1u << 1)   /* list, add, delete */
#define SSRP_VOLUME_CAP_READ_PASSWORD (1u << 2) /* read a recovery password back */
#define SSRP_VOLUME_CAP_UNLOCK (1u << 3)       /* unlock with TPM / recovery password */
#define SSRP_VOLUME_CAP_PROTECTION (1u << 4)   /* turn protection on and off */
#define SSRP_VOLUME_CAP_DATA (1u << 5)         /* read and write the decrypted view */

#define SSRP_PROTECTOR_ID_LEN 38 /* "{...}" without the NUL */
#define SSRP_VOLUME_METHOD_UNKNOWN 0xFFFF /* hardware encryption, or not readable */

typedef enum ssrp_protection {
	SSRP_PROTECTION_UNKNOWN = 0,
	SSRP_PROTECTION_OFF = 1, /* encrypted but a clear key opens it (suspended) */
	SSRP_PROTECTION_ON = 2,
} ssrp_protection;

typedef enum ssrp_protector_type {
	SSRP_PROTECTOR_OTHER = 0,
	SSRP_PROTECTOR_TPM = 1,
	SSRP_PROTECTOR_RECOVERY_PASSWORD = 2,
	SSRP_PROTECTOR_CLEAR_KEY = 3,
	SSRP_PROTECTOR_STARTUP_KEY = 4,
	SSRP_PROTECTOR_TPM_PIN = 5,
	SSRP_PROTECTOR_PASSWORD = 6,
	SSRP_PROTECTOR_SMART_CARD = 7, /* a certificate (public key), BitLocker's 0x1000 */
} ssrp_protector_type;

/* ssrp_protector and ssrp_volume_region fill arrays the caller allocates, so
 * their layout is fixed while the SONAME is (abi_check fails on a change). */
typedef struct ssrp_protector {
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	ssrp_protector_type type;
	uint16_t protection_code; /* BitLocker's own value (0x0100 TPM, 0x0800 recovery) */
	char friendly_name[128];  /* UTF-8; "" when none */
	int64_t created;          /* Unix seconds; 0 when unknown */
} ssrp_protector;

typedef struct ssrp_volume_region {
	uint64_t offset; /* in the decrypted view */
	uint64_t length;
	char what[48];   /* "metadata copy 1", "relocated boot sectors" */
} ssrp_volume_region;

/* Versioned as ssrp_tpm_info (ssrp/tpm.h): start from SSRP_VOLUME_STATUS_INIT;
 * the library writes only what the caller's version has and refuses a
 * version it does not know. Fields are only ever appended, with a new
 * version. */
#define SSRP_VOLUME_STATUS_VERSION 1
typedef struct ssrp_volume_status {
	unsigned int version;       /* SSRP_VOLUME_STATUS_VERSION, set by the caller */
	ssrp_protection protection;
	uint16_t encryption_method; /* 0x8004 XTS-AES-128, 0x8005 XTS-AES-256, 0 none,
				     * SSRP_VOLUME_METHOD_UNKNOWN */
	int percent_encrypted;      /* 0..100; -1 unknown */
	int locked;                 /* 1 until unlocked (or a clear key opens it) */
	int last_unlock_recovery;   /* 1: a recovery password unlocked the volume and
				     * that protector is still there (rotate it);
				     * 0: no; -1: the backend cannot tell */
	uint64_t size;              /* bytes in the decrypted view; 0 unknown */
	/* The recovery-password protector that unlocked it when
	 * last_unlock_recovery is 1, else "". */
	char last_unlock_recovery_id[SSRP_PROTECTOR_ID_LEN + 1];
	/* What the on-disk format says (0 where a backend cannot tell). */
	uint32_t sector_size;       /* 512 or 4096 */
	int to_go;                  /* a BitLocker To Go volume (FAT discovery sector) */
	int used_space_only;        /* encrypted on write: only used space was encrypted */
	int metadata_copies_ok;     /* 0..3 metadata copies intact and current */
	char metadata_note[512];    /* damaged copies, or what opening repaired; "" */
	/* The conversion (SSRP_VOLUME_CONVERSION_*): the state now and the one it
	 * goes to, and the bytes from the start that are encrypted (the rest is
	 * stored as it is); 0 where a backend cannot tell. */
	uint16_t conversion_state, conversion_next_state;
	uint64_t encrypted_size;
} ssrp_volume_status;

#define SSRP_VOLUME_STATUS_INIT {.version = SSRP_VOLUME_STATUS_VERSION}

/* BitLocker's conversion states (ssrp_volume_status.conversion_state). */
#define SSRP_VOLUME_CONVERSION_DECRYPTED 1
#define SSRP_VOLUME_CONVERSION_CONVERTING 2 /* encrypting or decrypting: see the next state */
#define SSRP_VOLUME_CONVERSION_ENCRYPT_ON_WRITE 3
#define SSRP_VOLUME_CONVERSION_ENCRYPTED 4
#define SSRP_VOLUME_CONVERSION_PAUSED 5

/** Open the volume named by spec. */
SSRP_API int ssrp_volume_open(ssrp_volume **out, const char *spec);
SSRP_API void ssrp_volume_close(ssrp_volume *vol);
SSRP_API const char *ssrp_volume_backend_name(const ssrp_volume *vol);
SSRP_API uint32_t ssrp_volume_capabilities(const ssrp_volume *vol);

/** Where the volume stands, into *out set up with SSRP_VOLUME_STATUS_INIT;
 * SSRP_E_INVALID for a version this library does not know (out untouched). */
SSRP_API int ssrp_volume_get_status(ssrp_volume *vol, ssrp_volume_status *out);

/** Protectors into out[0..cap); *out_n gets how many there are. With out
 * NULL (cap 0) only the count is returned. SSRP_E_BUFSIZE when cap is short. */
SSRP_API int ssrp_volume_list_protectors(ssrp_volume *vol, ssrp_protector *out, size_t cap,
					 size_t *out_n);

/** Add a TPM protector sealed to the sha256 PCRs in pcr_mask (0: 7 and 11).
 * The volume must be unlocked. out_id (may be NULL) gets the new id. */
SSRP_API int ssrp_volume_add_tpm_protector(ssrp_volume *vol, ssrp_tpm *tpm, uint32_t pcr_mask,
					   char out_id[SSRP_PROTECTOR_ID_LEN + 1]);

/** Add a recovery-password protector: password NULL generates one from the
 * CSPRNG, otherwise it is parsed strictly first. The volume must be unlocked. */
SSRP_API int ssrp_volume_add_recovery_password(ssrp_volume *vol, const char *password,
					       char out_id[SSRP_PROTECTOR_ID_LEN + 1]);

/** The recovery password of protector id, formatted, into out (free with
 * ssrp_buf_free; the text is NUL-terminated, len excludes the NUL). */
SSRP_API int ssrp_volume_get_recovery_password(ssrp_volume *vol, const char *id, ssrp_buf *out);

/** Delete protector id. SSRP_E_REFUSED when it is the last one that can
 * unlock the volume; SSRP_E_NOTFOUND for an unknown id. */
SSRP_API int ssrp_volume_delete_protector(ssrp_volume *vol, const char *id);

/** Idempotent: return the TPM protector there is, or add one. *out_added
 * (may be NULL) says which. */
SSRP_API int ssrp_volume_ensure_tpm_protector(ssrp_volume *vol, ssrp_tpm *tpm, uint32_t pcr_mask,
					      char out_id[SSRP_PROTECTOR_ID_LEN + 1],
					      int *out_added);
/** Idempotent: return the first recovery-password protector there is, or add
 * one (generated). Never adds a second one. */
SSRP_API int ssrp_volume_ensure_recovery_password(ssrp_volume *vol,
						  char out_id[SSRP_PROTECTOR_ID_LEN + 1],
						  int *out_added);

/** Unlock with the TPM (SSRP_E_TPM_PCR_MISMATCH when the boot state
 * changed) or with a recovery password (SSRP_E_BAD_KEY when wrong). */
SSRP_API int ssrp_volume_unlock_tpm(ssrp_volume *vol, ssrp_tpm *tpm);
SSRP_API int ssrp_volume_unlock_recovery_password(ssrp_volume *vol, const char *password);
/** Unlock with a user password (UTF-8; BitLocker hashes it as UTF-16LE) or
 * with a startup key file's bytes (.BEK). SSRP_E_BAD_KEY when wrong. */
SSRP_API int ssrp_volume_unlock_password(ssrp_volume *vol, const char *password);
SSRP_API int ssrp_volume_unlock_startup_key(ssrp_volume *vol, const uint8_t *bek, size_t len);

/** After a recovery unlock: seal the volume key again, in the existing TPM
 * protector (its id stays), to the PCRs' current values (pcr_mask 0: 7 and
 * 11), as BitLocker does once a recovery boot has unlocked the volume, so
 * the next boot unlocks by TPM again. The volume must be unlocked.
 * SSRP_E_NOTFOUND without a TPM protector; SSRP_E_NOTSUPPORTED where the
 * platform does it itself (Windows). */
SSRP_API int ssrp_volume_reseal_tpm_protector(ssrp_volume *vol, ssrp_tpm *tpm, uint32_t pcr_mask);

/** Protection on: remove the clear key, so only protectors open the volume
 * (refused without a TPM or recovery-password protector). Off: add a clear
 * key (suspend), as Windows does for a firmware update. */
SSRP_API int ssrp_volume_protection_on(ssrp_volume *vol);
SSRP_API int ssrp_volume_protection_off(ssrp_volume *vol);

/** The decrypted view (SSRP_VOLUME_CAP_DATA). A range touching a reserved
 * region is refused (SSRP_E_RESERVED) with the region named. */
SSRP_API int ssrp_volume_read(ssrp_volume *vol, uint64_t offset, void *buf, size_t len);
SSRP_API int ssrp_volume_write(ssrp_volume *vol, uint64_t offset, const void *buf, size_t len);
SSRP_API int ssrp_volume_reserved_regions(ssrp_volume *vol, ssrp_volume_region *out, size_t cap,
					  size_t *out_n);

/* BitLocker's encryption methods (ssrp_volume_status.encryption_method). */
#define SSRP_VOLUME_METHOD_AES_128_CBC_DIFFUSER 0x8000
#define SSRP_VOLUME_METHOD_AES_256_CBC_DIFFUSER 0x8001
#define SSRP_VOLUME_METHOD_AES_128_CBC 0x8002
#define SSRP_VOLUME_METHOD_AES_256_CBC 0x8003
#define SSRP_VOLUME_METHOD_XTS_AES_128 0x8004
#define SSRP_VOLUME_METHOD_XTS_AES_256 0x8005

/** "XTS-AES-128" for 0x8004 and so on. */
SSRP_API const char *ssrp_volume_method_name(uint16_t method);
SSRP_API const char *ssrp_protector_type_name(ssrp_protector_type type);

#ifdef __cplusplus
}
#endif

#endif
