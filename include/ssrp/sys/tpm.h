/* ssrp: the TPM backend interface, for backend authors.
 *
 * A backend is a const ssrp_tpm_backend table. The core allocates ctx_size
 * zeroed bytes of private state, calls open() with the config part of the
 * spec, dispatches each service to its slot and calls close() once. Slots
 * may be NULL when the matching capability bit is clear; the core then
 * answers SSRP_E_NOTSUPPORTED. A failing slot returns a negative ssrp_error
 * after describing the failure with ssrp_error_set() (sys/error.h).
 *
 * Compatibility: fields are only ever appended, and every append bumps
 * SSRP_TPM_BACKEND_VERSION. A table declares the version it was written
 * against; the core never reads slots beyond that version.
 *
 * Retries: a slot returns SSRP_E_TPM_BUSY when the TPM answered RETRY,
 * YIELDED or TESTING and nothing was executed; the core resends a bounded
 * number of times. See PORTING.md. */
#ifndef SSRP_SYS_TPM_H
#define SSRP_SYS_TPM_H

#include "../tpm.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SSRP_TPM_BACKEND_VERSION 1

/* Largest marshalled TPM2B_PUBLIC / TPM2B_PRIVATE a sealed blob carries. */
#define SSRP_TPM_MAX_PUBLIC 1024
#define SSRP_TPM_MAX_PRIVATE 1024
#define SSRP_TPM_MAX_NAME 66 /* TPM2B_NAME content: nameAlg + digest */

/* What a sealing backend hands the core and gets back for unsealing; the
 * core turns it into the portable blob format (tpm/blob.c). */
typedef struct ssrp_sealed_parts {
	uint16_t pcr_alg;       /* bank of the PolicyPCR: SSRP_TPM_ALG_SHA256 */
	uint32_t pcr_mask;      /* PCRs in the policy */
	uint32_t parent_handle; /* SSRP_TPM_SRK_HANDLE if sealed under the
				 * persistent SRK, else 0 (primary from template) */
	uint16_t parent_alg;    /* SRK template: SSRP_TPM_ALG_ECC or _RSA */
	uint16_t parent_name_len;
	uint8_t parent_name[SSRP_TPM_MAX_NAME]; /* the SRK's TPM Name */
	uint16_t public_len;
	uint8_t public_area[SSRP_TPM_MAX_PUBLIC];   /* marshalled TPM2B_PUBLIC */
	uint16_t private_len;
	uint8_t private_area[SSRP_TPM_MAX_PRIVATE]; /* marshalled TPM2B_PRIVATE */
} ssrp_sealed_parts;

typedef struct ssrp_tpm_backend_info {
	const char *name;        /* the spec prefix: "tss2" */
	const char *description; /* one line for `ssrp help` */
	const char *config_help; /* what may follow "name:" */
} ssrp_tpm_backend_info;

typedef struct ssrp_tpm_backend {
	unsigned int version;    /* SSRP_TPM_BACKEND_VERSION it was written for */
	ssrp_tpm_backend_info info;
	uint32_t caps;           /* SSRP_TPM_CAP_* it implements */
	size_t ctx_size;         /* private state the core allocates, zeroed */

	/* Required. config is the text after "name:" ("" when none). */
	int (*open)(void *ctx, const char *config);
	/* Required. Release everything open() acquired; never fails. */
	void (*close)(void *ctx);

	/* SSRP_TPM_CAP_INFO. Fill what the TPM reports; present = 1. out arrives
	 * zeroed but for its version (this library's); leave that alone. */
	int (*get_info)(void *ctx, ssrp_tpm_info *out);
	/* SSRP_TPM_CAP_RANDOM. len is at most 32; the core loops. */
	int (*get_random)(void *ctx, uint8_t *out, size_t len);
	/* SSRP_TPM_CAP_PCR_READ. sha256 bank; fill out->mask with what was read. */
	int (*pcr_read)(void *ctx, ssrp_pcr_values *out, uint32_t mask);
	/* SSRP_TPM_CAP_PCR_EXTEND. PCR_Event semantics; len <= 1024. */
	int (*pcr_extend)(void *ctx, unsigned pcr, const uint8_t *data, size_t len);
	/* SSRP_TPM_CAP_SEAL. Seal under the SRK to a PolicyPCR. */
	int (*seal)(void *ctx, ssrp_sealed_parts *out, const uint8_t *secret, size_t len,
		    uint32_t pcr_mask);
	/* SSRP_TPM_CAP_SEAL. Unseal into out (SSRP_TPM_SEAL_MAX bytes). The
	 * secret must not cross the TPM bus in clear. */
	int (*unseal)(void *ctx, uint8_t *out, size_t *out_len, const ssrp_sealed_parts *in);
	/* SSRP_TPM_CAP_SRK_PROVISION. */
	int (*srk_provision)(void *ctx, int *out_created);
	/* Optional (no capability bit): command counters. `retries` counts
	 * only resends the backend (or the stack below it) made itself; the
	 * core adds its own resends of SSRP_E_TPM_BUSY answers. */
	int (*get_stats)(void *ctx, ssrp_tpm_stats *out); /* out as get_info's */
} ssrp_tpm_backend;

/** Open a TPM through a backend table the caller supplies: a vendor's own
 * backend, or a fake in unit tests. */
SSRP_API int ssrp_tpm_open_backend(ssrp_tpm **out, const ssrp_tpm_backend *backend,
				   const char *config);

/** The built-in backends, NULL-terminated (for `ssrp help`). */
SSRP_API const ssrp_tpm_backend *const *ssrp_tpm_builtin_backends(void);

/** Make a backend reachable by spec string ("name:config") from
 * ssrp_tpm_open() and everything that takes a spec (the agent, the
 * command). The table must be static data. Checked as
 * ssrp_tpm_open_backend() checks it; refused when the name is a built-in's
 * or another table's. Registering the same table again does nothing. Safe
 * from any thread; at most 16 registrations. */
SSRP_API int ssrp_tpm_backend_register(const ssrp_tpm_backend *backend);

/** The i-th registered backend, or NULL past the last. */
SSRP_API const ssrp_tpm_backend *ssrp_tpm_registered_backend(size_t i);

/** Map a TPM 2.0 response code to an ssrp_error and set the last-error
 * message: "<what>: <meaning> (TPM rc 0x%03x)". Shared by all backends. */
SSRP_API int ssrp_tpm_rc_error(uint32_t rc, const char *what);

/** Apply one TPM_PT_* property from GetCapability(TPM_CAP_TPM_PROPERTIES)
 * to info (family, manufacturer, vendor, firmware, level, revision,
 * permanent inLockout, lockout counters). Unknown properties are ignored. */
SSRP_API void ssrp_tpm_info_apply_property(ssrp_tpm_info *info, uint32_t property,
					   uint32_t value);

/** Record a bank from GetCapability(TPM_CAP_PCRS): alg and its pcrSelect
 * bitmap (byte i bit j = PCR 8*i+j). Banks beyond SSRP_TPM_MAX_BANKS and
 * empty banks are skipped. */
SSRP_API void ssrp_tpm_info_add_bank(ssrp_tpm_info *info, uint16_t alg, const uint8_t *select,
				     size_t select_len);

#ifdef __cplusplus
}
#endif

#endif
