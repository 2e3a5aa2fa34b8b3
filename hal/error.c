/* The thread-local last error: one code and one message per thread. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ssrp/sys/error.h"

#define MESSAGE_MAX 1024

static _Thread_local int last_code;
static _Thread_local char last_message[MESSAGE_MAX];

const char *ssrp_error_last(void)
{
	return last_message;
}

int ssrp_error_last_code(void)
{
	return last_code;
}

void ssrp_error_clear(void)
{
	last_code = SSRP_OK;
	last_message[0] = '\0';
}

int ssrp_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_message, sizeof last_message, fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int ssrp_error_prefix(int code, const char *fmt, ...)
{
	char prefix[MESSAGE_MAX];
	char old[MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, last_message, sizeof old);
	/* Truncation is fine: a long message loses its tail, never its start. */
	size_t n = (size_t)snprintf(last_message, sizeof last_message, "%s", prefix);
	if (old[0] && n + 2 < sizeof last_message) {
		memcpy(last_message + n, ": ", 3);
		snprintf(last_message + n + 2, sizeof last_message - n - 2, "%s", old);
	}
	last_code = code;
	return code;
}

const char *ssrp_error_name(int code)
{
	switch (code) {
	case SSRP_OK: return "success";
	case SSRP_E_GENERIC: return "failure";
	case SSRP_E_INVALID: return "invalid argument or input";
	case SSRP_E_NOMEM: return "out of memory";
	case SSRP_E_NOTSUPPORTED: return "not supported by this backend";
	case SSRP_E_NOTFOUND: return "not found";
	case SSRP_E_IO: return "input/output error";
	case SSRP_E_BUFSIZE: return "buffer too small";
	case SSRP_E_SPEC: return "bad backend spec";
	case SSRP_E_TPM_ABSENT: return "no TPM";
	case SSRP_E_TPM_PCR_MISMATCH: return "PCR policy mismatch";
	case SSRP_E_TPM_LOCKOUT: return "TPM in lockout";
	case SSRP_E_TPM_BUSY: return "TPM busy";
	case SSRP_E_TPM_WRONG_TPM: return "sealed by another TPM";
	case SSRP_E_TPM: return "TPM error";
	case SSRP_E_FORMAT: return "malformed data";
	case SSRP_E_TPM_INTEGRITY: return "TPM integrity check failed";
	case SSRP_E_BAD_KEY: return "wrong key or damaged data";
	case SSRP_E_LOCKED: return "volume locked";
	case SSRP_E_REFUSED: return "refused";
	case SSRP_E_RESERVED: return "reserved region";
	case SSRP_E_PERMISSION: return "permission denied";
	case SSRP_E_BUSY: return "busy: another run holds the lock";
	case SSRP_E_CANCELLED: return "cancelled";
	default: return "unknown error";
	}
}
