/* ssrp: ASCII text compared without case, the way the library compares
 * identifiers (device ids, domain and header names): ASCII letters only,
 * no locale, on every platform (strcasecmp is not everywhere).
 * Threads: safe from any thread. */
#ifndef SSRP_TEXT_H
#define SSRP_TEXT_H

#include <stddef.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when a and b are equal, ASCII letters compared without case; else 0. */
SSRP_API int ssrp_ascii_ieq(const char *a, const char *b);
/** 1 when a[0..n) and b[0..n) are equal without case (neither ends before n). */
SSRP_API int ssrp_ascii_ieq_n(const char *a, const char *b, size_t n);
/** strcmp's order with ASCII letters folded to lower case (for qsort). */
SSRP_API int ssrp_ascii_icmp(const char *a, const char *b);

#ifdef __cplusplus
}
#endif

#endif
