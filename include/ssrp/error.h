/* ssrp: error codes and the thread-local last-error message.
 *
 * Every ssrp call that can fail returns an int: SSRP_OK (0) or one of the
 * negative ssrp_error codes. The same thread can then ask for a sentence that
 * says what happened, with context, through ssrp_error_last(). The message
 * stays valid until the next failing ssrp call on the same thread. */
#ifndef SSRP_ERROR_H
#define SSRP_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ssrp_error {
	SSRP_OK = 0,
	SSRP_E_GENERIC = -1,        /* a failure with no better code */
	SSRP_E_INVALID = -2,        /* a bad argument or malformed input */
	SSRP_E_NOMEM = -3,          /* out of memory */
	SSRP_E_NOTSUPPORTED = -4,   /* the backend cannot do this */
	SSRP_E_NOTFOUND = -5,       /* the named thing does not exist */
	SSRP_E_IO = -6,             /* a file or socket operation failed */
	SSRP_E_BUFSIZE = -7,        /* the caller's buffer is too small */
	SSRP_E_SPEC = -8,           /* a backend spec string is wrong */
	SSRP_E_TPM_ABSENT = -20,    /* no TPM answered */
	SSRP_E_TPM_PCR_MISMATCH = -21, /* a PCR policy refused: boot state changed */
	SSRP_E_TPM_LOCKOUT = -22,   /* dictionary-attack lockout */
	SSRP_E_TPM_BUSY = -23,      /* the TPM kept asking to retry */
	SSRP_E_TPM_WRONG_TPM = -24, /* a sealed blob belongs to another TPM */
	SSRP_E_TPM = -25,           /* any other TPM failure (response code in message) */
	SSRP_E_FORMAT = -26,        /* a stored blob or structure is malformed */
	SSRP_E_TPM_INTEGRITY = -27, /* the TPM rejected a blob as tampered */
	SSRP_E_BAD_KEY = -28,       /* a key or password did not unwrap: wrong or damaged */
	SSRP_E_LOCKED = -29,        /* the volume must be unlocked first */
	SSRP_E_REFUSED = -30,       /* refused by policy (would lose the last way in) */
	SSRP_E_RESERVED = -31,      /* the byte range is reserved by the volume format */
	SSRP_E_PERMISSION = -32,    /* the platform refused: needs more privileges */
	SSRP_E_BUSY = -33,          /* another run holds the lock: try again later */
	SSRP_E_CANCELLED = -34,     /* the caller asked to stop, or its time ran out */
} ssrp_error;

/** The message of the last failure on this thread ("" when there was none). */
SSRP_API const char *ssrp_error_last(void);

/** The code of the last failure on this thread (SSRP_OK when none). */
SSRP_API int ssrp_error_last_code(void);

/** Forget the last failure on this thread. */
SSRP_API void ssrp_error_clear(void);

/** A short fixed description of a code ("PCR policy mismatch"). */
SSRP_API const char *ssrp_error_name(int code);

#ifdef __cplusplus
}
#endif

#endif
