/* ssrp: TPM 2.0 services over any backend.
 *
 * A TPM is opened from a spec string in the tpm2-tss TCTI style:
 *   "tss2:swtpm:host=127.0.0.1,port=2321"  ESAPI over the TCTI loader
 *   "tss2:device:/dev/tpmrm0", "tss2:tabrmd", "tss2:" (loader default)
 *   "swtpm:port=2321"                      a bare TCTI string means tss2
 *   "tbs"                                  Windows TPM Base Services (Windows
 *                                          builds)
 * More backends are registered with ssrp_tpm_backend_register()
 * (ssrp/sys/tpm.h); the simulator registers "tbs-socket:HOST:PORT", the
 * TBS command core over a raw TPM socket such as swtpm's (ssrp/sim.h).
 * Which services a backend offers is in its capability bits; a service it
 * lacks answers SSRP_E_NOTSUPPORTED. */
#ifndef SSRP_TPM_H
#define SSRP_TPM_H

#include "buf.h"
#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssrp_tpm ssrp_tpm;

/* Capability bits (ssrp_tpm_capabilities). */
#define SSRP_TPM_CAP_INFO (1u << 0)
#define SSRP_TPM_CAP_RANDOM (1u << 1)
#define SSRP_TPM_CAP_PCR_READ (1u << 2)
#define SSRP_TPM_CAP_PCR_EXTEND (1u << 3)
#define SSRP_TPM_CAP_SEAL (1u << 4)          /* seal and unseal */
#define SSRP_TPM_CAP_SRK_PROVISION (1u << 5) /* persist the SRK */

/* The PCRs Windows BitLocker binds to by default with Secure Boot. */
#define SSRP_TPM_PCRS_DEFAULT ((1u << 7) | (1u << 11))
#define SSRP_TPM_PCR_COUNT 24
/* The most a sealed object can hold (TPM 2.0 MAX_SYM_DATA). */
#define SSRP_TPM_SEAL_MAX 128
/* PCR_Event accepts at most this much event data. */
#define SSRP_TPM_EVENT_MAX 1024
/* The SRK's persistent handle (TCG provisioning guidance). */
#define SSRP_TPM_SRK_HANDLE 0x81000001u

/* TPM algorithm ids used in this API. */
#define SSRP_TPM_ALG_SHA1 0x0004
#define SSRP_TPM_ALG_SHA256 0x000B
#define SSRP_TPM_ALG_SHA384 0x000C
#define SSRP_TPM_ALG_SHA512 0x000D
#define SSRP_TPM_ALG_SM3_256 0x0012
#define SSRP_TPM_ALG_RSA 0x0001
#define SSRP_TPM_ALG_ECC 0x0023

#define SSRP_TPM_MAX_BANKS 8

typedef struct ssrp_tpm_bank {
	uint16_t alg;      /* hash algorithm id (SSRP_TPM_ALG_*) */
	uint32_t pcr_mask; /* bit n set: PCR n is allocated in this bank */
} ssrp_tpm_bank;

/* Caller-allocated results carry a version, as ssrp_agent_report does: the
 * caller starts from the *_INIT macro, and the library writes only what that
 * version has (an application built against an older header keeps its
 * layout); a version this library does not know is refused, the struct left
 * untouched. New fields are only ever appended, with a new version. */
#define SSRP_TPM_INFO_VERSION 1
typedef struct ssrp_tpm_info {
	unsigned int version;  /* SSRP_TPM_INFO_VERSION, set by the caller */
	int present;           /* 1 when a TPM answered */
	char family[8];        /* "2.0" */
	uint32_t manufacturer_id;
	char manufacturer[5];  /* the id as ASCII, trailing spaces and NULs cut */
	char vendor[17];       /* TPM_PT_VENDOR_STRING_1..4 */
	uint32_t firmware_1;   /* TPM_PT_FIRMWARE_VERSION_1 */
	uint32_t firmware_2;   /* TPM_PT_FIRMWARE_VERSION_2 */
	uint32_t spec_level;   /* TPM_PT_LEVEL */
	uint32_t spec_revision; /* TPM_PT_REVISION (x100: 138 = 1.38) */
	unsigned n_banks;
	ssrp_tpm_bank banks[SSRP_TPM_MAX_BANKS];
	uint32_t lockout_counter;  /* failed authorisations counted now */
	uint32_t max_auth_fail;    /* failures that trigger lockout */
	uint32_t lockout_interval; /* seconds until one failure is forgiven */
	uint32_t lockout_recovery; /* seconds until lockoutAuth may be retried */
	int in_lockout;            /* 1 when the TPM refuses DA-protected use */
} ssrp_tpm_info;

#define SSRP_TPM_INFO_INIT {.version = SSRP_TPM_INFO_VERSION}

/* A fixed format (one bank's digests), not versioned: it never grows. */
typedef struct ssrp_pcr_values {
	uint16_t alg;   /* the bank read: SSRP_TPM_ALG_SHA256 */
	uint32_t mask;  /* PCRs whose value is in digest[] */
	uint8_t digest[SSRP_TPM_PCR_COUNT][32];
} ssrp_pcr_values;

/* Counters a backend keeps; for benchmarks and the agent's report.
 * Versioned as ssrp_tpm_info. */
#define SSRP_TPM_STATS_VERSION 1
typedef struct ssrp_tpm_stats {
	unsigned int version; /* SSRP_TPM_STATS_VERSION, set by the caller */
	uint64_t commands; /* TPM commands sent since open */
	uint64_t retries;  /* commands the TPM asked to resend */
} ssrp_tpm_stats;

#define SSRP_TPM_STATS_INIT {.version = SSRP_TPM_STATS_VERSION}

/** Open the TPM named by spec (see the top of this header). NULL or "" means
 * the platform default: "tbs" on Windows, "tss2:" elsewhere. */
SSRP_API int ssrp_tpm_open(ssrp_tpm **out, const char *spec);

/** Close and free; NULL is fine. */
SSRP_API void ssrp_tpm_close(ssrp_tpm *tpm);

/** The backend's name ("tss2", "tbs") and its capability bits. */
SSRP_API const char *ssrp_tpm_backend_name(const ssrp_tpm *tpm);
SSRP_API uint32_t ssrp_tpm_capabilities(const ssrp_tpm *tpm);

/** What the TPM is and its lockout state, into *out, which the caller set
 * up with SSRP_TPM_INFO_INIT. SSRP_E_INVALID for an unknown version. */
SSRP_API int ssrp_tpm_get_info(ssrp_tpm *tpm, ssrp_tpm_info *out);

/** Fill out[0..len) with random bytes from the TPM. */
SSRP_API int ssrp_tpm_get_random(ssrp_tpm *tpm, uint8_t *out, size_t len);

/** Read the sha256 bank for the PCRs in mask. */
SSRP_API int ssrp_tpm_pcr_read(ssrp_tpm *tpm, ssrp_pcr_values *out, uint32_t mask);

/** Measure data into PCR pcr (TPM2_PCR_Event: the TPM hashes it into every
 * active bank). len <= SSRP_TPM_EVENT_MAX. */
SSRP_API int ssrp_tpm_pcr_extend(ssrp_tpm *tpm, unsigned pcr, const void *data, size_t len);

/** Seal secret (1..SSRP_TPM_SEAL_MAX bytes) to the current values of the sha256
 * PCRs in pcr_mask (0 means SSRP_TPM_PCRS_DEFAULT). The result is a
 * self-describing blob the caller frees with ssrp_buf_free(). */
SSRP_API int ssrp_tpm_seal(ssrp_tpm *tpm, ssrp_buf *out_blob, const uint8_t *secret,
			   size_t secret_len, uint32_t pcr_mask);

/** Unseal a blob from ssrp_tpm_seal(). SSRP_E_TPM_PCR_MISMATCH when the PCRs
 * no longer hold the sealed values; SSRP_E_FORMAT for a damaged blob;
 * SSRP_E_TPM_WRONG_TPM for a blob sealed by another TPM. */
SSRP_API int ssrp_tpm_unseal(ssrp_tpm *tpm, ssrp_buf *out_secret, const uint8_t *blob,
			     size_t blob_len);

/** Make the SRK persistent at SSRP_TPM_SRK_HANDLE if nothing is there yet.
 * *out_created (may be NULL) says whether this call created it. */
SSRP_API int ssrp_tpm_srk_provision(ssrp_tpm *tpm, int *out_created);

/** The handle's counters, into *out set up with SSRP_TPM_STATS_INIT. */
SSRP_API int ssrp_tpm_get_stats(ssrp_tpm *tpm, ssrp_tpm_stats *out);

/** "sha256" for SSRP_TPM_ALG_SHA256 and so on; "unknown" otherwise. */
SSRP_API const char *ssrp_tpm_alg_name(uint16_t alg);

#ifdef __cplusplus
}
#endif

#endif
