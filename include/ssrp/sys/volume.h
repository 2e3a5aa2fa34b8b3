/* ssrp: the volume-protection backend interface, for backend authors.
 *
 * Same shape as the TPM interface (sys/tpm.h): a const table with the
 * version first, an info record, capability bits and the size of the
 * private state the core allocates (zeroed). Slots may be NULL when the
 * matching capability bit is clear; the core answers SSRP_E_NOTSUPPORTED.
 * Fields are only ever appended; every append bumps the version.
 *
 * What the core does so backends need not: parse and generate recovery
 * passwords (a backend gets both the canonical text and the 16-byte key),
 * refuse deleting the last protector that can unlock the volume, refuse
 * protection-on without a TPM or recovery-password protector, the ensure_*
 * calls, and refusing reads and writes that touch a reserved region. */
#ifndef SSRP_SYS_VOLUME_H
#define SSRP_SYS_VOLUME_H

#include "../volume.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SSRP_VOLUME_BACKEND_VERSION 3

typedef struct ssrp_volume_backend_info {
	const char *name;        /* the spec prefix: "sim" */
	const char *description; /* one line for `ssrp help` */
	const char *config_help; /* what may follow "name:" */
} ssrp_volume_backend_info;

typedef struct ssrp_volume_backend {
	unsigned int version; /* SSRP_VOLUME_BACKEND_VERSION it was written for */
	ssrp_volume_backend_info info;
	uint32_t caps;        /* SSRP_VOLUME_CAP_* */
	size_t ctx_size;      /* private state the core allocates, zeroed */

	/* Required. config is the text after "name:". */
	int (*open)(void *ctx, const char *config);
	/* Required. Release everything, zero key material; never fails. */
	void (*close)(void *ctx);

	/* SSRP_VOLUME_CAP_STATUS. out arrives in this library's layout with its
	 * version set, zeroed but for percent_encrypted and last_unlock_recovery
	 * (-1: unknown); leave the version alone. */
	int (*get_status)(void *ctx, ssrp_volume_status *out);

	/* SSRP_VOLUME_CAP_PROTECTORS. list: fill out[0..cap) and set *out_n to
	 * the total (the core sizes the array from a first call with cap 0). */
	int (*list_protectors)(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n);
	int (*add_tpm_protector)(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask,
				 char out_id[SSRP_PROTECTOR_ID_LEN + 1]);
	/* password is canonical ("111683-110022-..."), key its 16-byte form. */
	int (*add_recovery_password)(void *ctx, const char *password, const uint8_t key[16],
				     char out_id[SSRP_PROTECTOR_ID_LEN + 1]);
	int (*delete_protector)(void *ctx, const char *id);

	/* SSRP_VOLUME_CAP_READ_PASSWORD: the canonical text into out. */
	int (*get_recovery_password)(void *ctx, const char *id,
				     char out[SSRP_RECOVERY_PASSWORD_LEN + 1]);

	/* SSRP_VOLUME_CAP_UNLOCK */
	int (*unlock_tpm)(void *ctx, ssrp_tpm *tpm);
	int (*unlock_recovery_password)(void *ctx, const char *password, const uint8_t key[16]);

	/* SSRP_VOLUME_CAP_PROTECTION */
	int (*protection_on)(void *ctx);
	int (*protection_off)(void *ctx);

	/* SSRP_VOLUME_CAP_DATA: the decrypted view. */
	int (*read)(void *ctx, uint64_t offset, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t offset, const void *buf, size_t len);
	int (*reserved_regions)(void *ctx, ssrp_volume_region *out, size_t cap, size_t *out_n);

	/* Version 2. SSRP_VOLUME_CAP_PROTECTORS: seal the volume key again, in
	 * the existing TPM protector (same id), to the PCRs' current values. */
	int (*reseal_tpm_protector)(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask);

	/* Version 3. SSRP_VOLUME_CAP_UNLOCK: a user password (UTF-8) and a
	 * startup key file's bytes. */
	int (*unlock_password)(void *ctx, const char *password);
	int (*unlock_startup_key)(void *ctx, const uint8_t *bek, size_t len);
} ssrp_volume_backend;

/** Open a volume through a backend table the caller supplies. Refused when
 * a capability bit is set without its slots (SSRP_VOLUME_CAP_UNLOCK needs
 * unlock_recovery_password, _PROTECTORS list/add/delete, and so on). */
SSRP_API int ssrp_volume_open_backend(ssrp_volume **out, const ssrp_volume_backend *backend,
				      const char *config);

/** The built-in backends, NULL-terminated. */
SSRP_API const ssrp_volume_backend *const *ssrp_volume_builtin_backends(void);

/** Make a backend reachable by spec string ("name:config") from
 * ssrp_volume_open() and everything that takes a spec (the agent, the
 * command). The table must outlive the process's use of the library (static
 * data). Checked as ssrp_volume_open_backend() checks it; refused when the
 * name is a built-in's or another table's. Registering the same table again
 * does nothing. Safe from any thread; at most 16 registrations. */
SSRP_API int ssrp_volume_backend_register(const ssrp_volume_backend *backend);

/** The i-th registered backend, or NULL past the last. */
SSRP_API const ssrp_volume_backend *ssrp_volume_registered_backend(size_t i);

#ifdef __cplusplus
}
#endif

#endif
