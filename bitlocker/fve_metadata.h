/* BitLocker's on-disk metadata: the volume header (sector 0) and the
 * metadata block (three identical copies), with their datums. Portable,
 * allocation-free: encode into and parse from caller buffers. Layout facts
 * follow libbde's format document and dislocker's reader; the variant
 * written here is the one both accept (see ARCHITECTURE.md).
 *
 * ssrp additions that both readers skip: a TPM protector whose
 * TPM_ENCODED datum holds an ssrp sealed blob; the recovery key wrapped by
 * the VMK inside the STRETCH_KEY datum (so the password can be shown again
 * to whoever unlocked the volume); and one private entry (type 0x5353)
 * carrying a write sequence number, flags and the id of the recovery
 * protector that last unlocked the volume. */
#ifndef SSRP_BITLOCKER_FVE_METADATA_H
#define SSRP_BITLOCKER_FVE_METADATA_H

#include <stddef.h>
#include <stdint.h>

#define SSRP_FVE_SECTOR 512u           /* ssrp-made volumes; Windows also uses 4096 */
#define SSRP_FVE_REGION 0x10000u       /* each metadata copy owns 64 KiB */
#define SSRP_FVE_RELOCATED_SECTORS 16u /* logical sectors 0..15 live elsewhere */
#define SSRP_FVE_RELOCATED_SIZE (SSRP_FVE_RELOCATED_SECTORS * SSRP_FVE_SECTOR)
#define SSRP_FVE_MAX_VMKS 16
#define SSRP_FVE_MAX_NAME 128 /* UTF-16LE bytes of a description */
#define SSRP_FVE_MAX_TPM_BLOB 1024
#define SSRP_FVE_MAX_WRAPPED 96 /* AES-CCM payload: a KEY datum of up to 64 key bytes */

/* Protection types (BitLocker's values). */
#define SSRP_FVE_PROTECT_CLEAR_KEY 0x0000
#define SSRP_FVE_PROTECT_TPM 0x0100
#define SSRP_FVE_PROTECT_STARTUP_KEY 0x0200
#define SSRP_FVE_PROTECT_TPM_PIN 0x0500
#define SSRP_FVE_PROTECT_RECOVERY_PASSWORD 0x0800
#define SSRP_FVE_PROTECT_SMART_CARD 0x1000
#define SSRP_FVE_PROTECT_PASSWORD 0x2000

/* Key algorithms inside KEY datums. */
#define SSRP_FVE_ALG_STRETCH 0x1000
#define SSRP_FVE_ALG_CLEAR_KEY 0x2000
#define SSRP_FVE_ALG_VMK 0x2003
#define SSRP_FVE_ALG_PASSWORD_STRETCH 0x1001
#define SSRP_FVE_ALG_EXTERNAL_KEY 0x2002
#define SSRP_FVE_ALG_VALIDATION_HASH 0x2005
#define SSRP_FVE_ALG_CBC_ELEPHANT_128 0x8000
#define SSRP_FVE_ALG_CBC_ELEPHANT_256 0x8001
#define SSRP_FVE_ALG_CBC_128 0x8002
#define SSRP_FVE_ALG_CBC_256 0x8003
#define SSRP_FVE_ALG_XTS_128 0x8004
#define SSRP_FVE_ALG_XTS_256 0x8005

/* Block header states. */
#define SSRP_FVE_STATE_DECRYPTED 1
#define SSRP_FVE_STATE_SWITCHING 2
#define SSRP_FVE_STATE_ENCRYPTED 4
#define SSRP_FVE_STATE_EOW 3 /* "encrypt on write" activated */
#define SSRP_FVE_STATE_PAUSED 5

/* After the CRC32 Windows writes an AES-CCM datum (VMK-keyed) over the
 * SHA-256 of the block: 8-byte header + 80-byte datum. */
#define SSRP_FVE_VALIDATION_LEN 88u

/* ssrp flags in its private entry. */
#define SSRP_FVE_FLAG_LAST_UNLOCK_RECOVERY 0x1u

/* An AES-CCM datum: nonce, tag, and the encrypted KEY datum. */
typedef struct ssrp_fve_wrapped {
	uint8_t nonce[12];
	uint8_t tag[16];
	uint16_t len;
	uint8_t ct[SSRP_FVE_MAX_WRAPPED];
} ssrp_fve_wrapped;

typedef struct ssrp_fve_vmk {
	uint8_t guid[16];
	uint64_t filetime;
	uint16_t protection;
	uint16_t name_len; /* UTF-16LE description datum, bytes */
	uint8_t name[SSRP_FVE_MAX_NAME];
	/* Recovery password / password: the stretch salt, and the recovery
	 * key wrapped by the VMK (has_key_copy) nested in STRETCH_KEY. */
	int has_stretch;
	uint8_t salt[16];
	int has_key_copy;
	ssrp_fve_wrapped key_copy;
	/* Clear key: the key in a KEY datum. */
	int has_clear_key;
	uint8_t clear_key[32];
	/* The VMK wrapped by this protector's key (all but TPM). */
	int has_wrapped_vmk;
	ssrp_fve_wrapped wrapped_vmk;
	/* TPM: the sealed blob. */
	uint16_t tpm_blob_len;
	uint8_t tpm_blob[SSRP_FVE_MAX_TPM_BLOB];
	/* Encode this entry from the model when rewriting a block: it is new or
	 * was changed (ssrp_fve_metadata_rewrite keeps the others' bytes). */
	int changed;
} ssrp_fve_vmk;

typedef struct ssrp_fve_metadata {
	/* Block header */
	uint64_t volume_size;    /* encrypted volume size: bytes from the start that are
				  * encrypted (the whole view once the conversion is done) */
	uint32_t convert_size;   /* bytes past volume_size being converted (state SWITCHING) */
	uint64_t copies[3];      /* offsets of the metadata copies */
	uint64_t relocated_at;   /* where the first sectors of the volume are stored */
	uint16_t state, next_state; /* SSRP_FVE_STATE_* */
	uint32_t header_sectors; /* how many sectors are relocated */
	uint64_t relocated_size; /* bytes, from the volume header block entry */
	/* Dataset header */
	uint8_t volume_guid[16];
	uint32_t next_nonce;     /* counter part of the next AES-CCM nonce */
	uint16_t method;         /* SSRP_FVE_ALG_XTS_128 */
	uint64_t filetime;       /* creation time */
	/* Entries */
	size_t n_vmks;
	ssrp_fve_vmk vmks[SSRP_FVE_MAX_VMKS];
	ssrp_fve_wrapped fvek;   /* the FVEK wrapped by the VMK */
	uint16_t description_len;
	uint8_t description[SSRP_FVE_MAX_NAME];
	/* ssrp private entry */
	uint64_t sequence;       /* bumped by every metadata write */
	uint32_t flags;          /* SSRP_FVE_FLAG_* */
	uint8_t used_recovery[16]; /* the recovery protector that last unlocked */
	/* What parsing found, not encoded from */
	size_t content_len;      /* bytes the CRC32 and the validation hash cover */
	int has_validation;      /* the AES-CCM validation datum follows the CRC */
	ssrp_fve_wrapped validation;
	unsigned unmodelled;     /* datums ssrp does not keep (re-encoding would drop them) */
} ssrp_fve_metadata;

/* What sector 0 says: a BitLocker boot sector ("-FVE-FS-") or a To Go
 * volume's FAT boot sector ("MSWIN4.1"), which locate the metadata. */
typedef struct ssrp_fve_boot {
	int to_go;
	int used_space_only;     /* the "encrypt on write" GUID */
	uint16_t sector_size;    /* 512 or 4096 */
	uint32_t total_sectors;  /* 0 on Windows-made volumes: the size is in the metadata */
	uint64_t copies[3];
} ssrp_fve_boot;

/* Encode one metadata block (header, dataset, entries, CRC trailer) into
 * out[0..cap), cap >= SSRP_FVE_REGION is always enough; *out_len gets the
 * bytes used (the rest of the region should be zero). */
int ssrp_fve_metadata_encode(uint8_t *out, size_t cap, size_t *out_len,
			     const ssrp_fve_metadata *md);

/* Rewrite a parsed block (old, as read) to hold md's protectors while
 * keeping every other byte Windows wrote: each entry that is not a
 * protector, and each protector md still has and did not change, is copied
 * as it is; protectors md no longer has are dropped; changed and new ones
 * (vmk.changed) are encoded from md. The block header and the dataset
 * header keep their fields but for the sizes and md's next nonce counter.
 * Like ssrp_fve_metadata_encode, out gets the block and the CRC trailer
 * (seal it afterwards). */
int ssrp_fve_metadata_rewrite(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *old,
			      size_t old_len, const ssrp_fve_metadata *md);

/* Parse and check one copy (len bytes from its offset, normally
 * SSRP_FVE_REGION). Every refusal is SSRP_E_FORMAT naming the field and
 * where it is. */
int ssrp_fve_metadata_parse(ssrp_fve_metadata *out, const uint8_t *in, size_t len);

/* Seal an encoded block (out[0..*out_len), as ssrp_fve_metadata_encode
 * left it) with the validation structure: the CRC trailer grows into
 * Windows' form with SHA-256 of the block wrapped by the VMK under nonce.
 * cap must leave SSRP_FVE_VALIDATION_LEN bytes after the block. */
int ssrp_fve_metadata_seal(uint8_t *out, size_t cap, size_t *out_len, const uint8_t vmk[32],
			   const uint8_t nonce[12]);

/* Check a parsed block's validation datum with the VMK: SSRP_E_FORMAT
 * ("tampered") when its MAC or hash does not match the block; SSRP_OK
 * when it matches or the block has only the CRC form. */
int ssrp_fve_metadata_verify(const uint8_t *block, const ssrp_fve_metadata *md,
			     const uint8_t vmk[32]);

/* Sector 0 of any BitLocker volume. SSRP_E_FORMAT naming the field. */
int ssrp_fve_boot_parse(ssrp_fve_boot *out, const uint8_t in[SSRP_FVE_SECTOR]);

/* Sector 0: jump, signature, geometry, the BitLocker GUID and the three
 * metadata offsets. */
void ssrp_fve_volume_header_encode(uint8_t out[SSRP_FVE_SECTOR], uint64_t volume_size,
				   const uint64_t copies[3]);
int ssrp_fve_volume_header_parse(uint64_t copies[3], uint64_t *volume_size,
				 const uint8_t in[SSRP_FVE_SECTOR]);

/* A startup key file (.BEK): the protector id it belongs to and its
 * 32-byte external key. SSRP_E_FORMAT naming what is wrong. */
int ssrp_fve_bek_parse(uint8_t guid[16], uint8_t key[32], const uint8_t *in, size_t len);

/* The plaintext of a wrapped key: a KEY datum (size, 0, 1, 0, alg, 0, key). */
size_t ssrp_fve_key_datum(uint8_t *out, uint16_t alg, const uint8_t *key, size_t key_len);
/* Check a decrypted KEY datum and find its key: SSRP_E_FORMAT when it is
 * not one, or not of alg, or not key_len bytes. */
int ssrp_fve_key_datum_parse(const uint8_t **key, const uint8_t *in, size_t len, uint16_t alg,
			     size_t key_len);
/* The same for a key of any length: *alg and *key_len get what it holds. */
int ssrp_fve_key_datum_any(const uint8_t **key, size_t *key_len, uint16_t *alg, const uint8_t *in,
			   size_t len);

#endif
