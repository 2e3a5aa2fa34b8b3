/* ssrp: common definitions shared by every public header. */
#ifndef SSRP_COMMON_H
#define SSRP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(SSRP_SHARED_BUILD)
#define SSRP_API __declspec(dllexport)
#elif defined(__GNUC__)
#define SSRP_API __attribute__((visibility("default")))
#else
#define SSRP_API
#endif

#define SSRP_VERSION_MAJOR 0
#define SSRP_VERSION_MINOR 1
#define SSRP_VERSION_PATCH 0
#define SSRP_VERSION_STRING "0.1.0"

/* A recovery password's text: 8 groups of 6 digits and 7 dashes, without
 * the NUL. */
#define SSRP_RECOVERY_PASSWORD_LEN 55

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version string ("0.1.0"). */
SSRP_API const char *ssrp_version(void);

/** The library's version as numbers, for a program that checks at run
 * time what it was linked with. */
typedef struct ssrp_version_info {
	int major, minor, patch;
	const char *string; /* "0.1.0" */
	const char *tls;    /* the TLS library behind HTTP: libcurl's SSL version text */
} ssrp_version_info;
SSRP_API const ssrp_version_info *ssrp_version_info_get(void);

/** Once per process, before threads use the library: initialises libcurl
 * with memory functions that wipe every block it frees (it copies request
 * bodies and headers: tokens, secrets, a recovery password on its way to
 * escrow). Thread-safe and idempotent; the first HTTP client calls it too,
 * but only a call before anything else in the process initialises libcurl
 * gets the wiping (libcurl keeps the first caller's memory functions).
 * SSRP_OK, or a negative error when libcurl cannot start. */
SSRP_API int ssrp_init(void);

/** Harden the calling process for handling recovery passwords, keys and
 * tokens: no core file may keep them (RLIMIT_CORE 0) and no other process
 * of the same user may read its memory (Linux: not dumpable, so no ptrace
 * and no /proc/PID/mem). The ssrp commands call it first thing; a host
 * application decides for itself, since it changes the whole process.
 * Without it, the library still keeps an open volume's keys (its backend's
 * state, where the VMK lives) in pages marked not to be dumped and, where
 * the process may lock memory, locked out of swap; other secrets (recovery
 * passwords, tokens) are zeroed when freed but sit in ordinary heap memory,
 * and OpenSSL's expanded key schedules in OpenSSL's.
 * SSRP_OK, or SSRP_E_NOTSUPPORTED where the platform has no such switch. */
SSRP_API int ssrp_harden_process(void);

#ifdef __cplusplus
}
#endif

#endif
