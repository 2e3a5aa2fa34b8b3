/* ssrp: the platform backend interface, for backend authors.
 *
 * The same shape as the TPM and volume interfaces (sys/tpm.h,
 * sys/volume.h): a const table with the version first, an info record,
 * capability bits the core checks against the slots, and the size of the
 * private state the core allocates (zeroed). Fields are only ever
 * appended; every append bumps the version. */
#ifndef SSRP_SYS_PLATFORM_H
#define SSRP_SYS_PLATFORM_H

#include "../platform.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SSRP_PLATFORM_BACKEND_VERSION 1

typedef struct ssrp_platform_backend_info {
	const char *name;        /* the spec prefix: "windows" */
	const char *description; /* one line for `ssrp help` */
	const char *config_help; /* what may follow "name:" */
} ssrp_platform_backend_info;

typedef struct ssrp_platform_backend {
	unsigned int version; /* SSRP_PLATFORM_BACKEND_VERSION it was written for */
	ssrp_platform_backend_info info;
	uint32_t caps;        /* SSRP_PLATFORM_CAP_* */
	size_t ctx_size;      /* private state the core allocates, zeroed */

	/* Required. config is the text after "name:" ("" when none). */
	int (*open)(void *ctx, const char *config);
	/* Required. Never fails. */
	void (*close)(void *ctx);

	/* SSRP_PLATFORM_CAP_IDENTITY: how the platform sees the device, asked
	 * only when the configuration names no device (configured is what it
	 * says otherwise: tenant, display name). SSRP_OK with out->join !=
	 * NONE when registered; SSRP_E_NOTFOUND with a sentence when not. */
	/* configured (NULL when none) and out come in this library's layout,
	 * out zeroed but for its version: leave that alone. */
	int (*read_identity)(void *ctx, const ssrp_identity_config *configured,
			     ssrp_device_identity *out);
	/* SSRP_PLATFORM_CAP_PRIMARY_USERS: call add(list, user) for each user
	 * (the core copies it); SSRP_OK with none added, or SSRP_E_NOTFOUND,
	 * when the platform keeps no list (the core takes the configuration's).
	 * A failing add's error is returned as is. */
	int (*read_primary_users)(void *ctx, int (*add)(void *list, const char *user), void *list);
} ssrp_platform_backend;

/** Open a platform through a table the caller supplies (refused when a
 * capability bit is set without its slot). */
SSRP_API int ssrp_platform_open_backend(ssrp_platform **out, const ssrp_platform_backend *backend,
					const char *config);
/** The built-in backends, NULL-terminated. */
SSRP_API const ssrp_platform_backend *const *ssrp_platform_builtin_backends(void);
/** Make a backend reachable by spec string, as ssrp_tpm_backend_register()
 * does for TPMs (static table; a built-in's or taken name refused). */
SSRP_API int ssrp_platform_backend_register(const ssrp_platform_backend *backend);
/** The i-th registered backend, or NULL past the last. */
SSRP_API const ssrp_platform_backend *ssrp_platform_registered_backend(size_t i);

#ifdef __cplusplus
}
#endif

#endif
