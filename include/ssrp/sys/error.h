/* ssrp: setting the last-error message, for backend authors. */
#ifndef SSRP_SYS_ERROR_H
#define SSRP_SYS_ERROR_H

#include "../error.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__MINGW32__)
/* mingw checks plain "printf" against MSVCRT, which lacks %zu; ssrp builds
 * for Windows with __USE_MINGW_ANSI_STDIO=1 and the GNU format. */
#define SSRP_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define SSRP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SSRP_PRINTF(f, a)
#endif

/** Record code and a printf-style message as this thread's last error and
 * return code, so a failing path reads `return ssrp_error_set(...)`. */
SSRP_API int ssrp_error_set(int code, const char *fmt, ...) SSRP_PRINTF(2, 3);

/** Put context in front of the current message: "ctx: old message". */
SSRP_API int ssrp_error_prefix(int code, const char *fmt, ...) SSRP_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif
