/* ASCII text helpers shared by every layer: identifiers, header names and
 * domain names compare without case in ASCII only (no locale, and no
 * strcasecmp, which not every platform has). */
#ifndef SSRP_HAL_TEXT_H
#define SSRP_HAL_TEXT_H

#include <stddef.h>

/* a and b are equal, ASCII letters compared without case. */
int ssrp_ascii_ieq(const char *a, const char *b);
/* a[0..n) and b[0..n) are equal without case (neither ends before n). */
int ssrp_ascii_ieq_n(const char *a, const char *b, size_t n);
/* strcmp's order with ASCII letters folded to lower case (for qsort). */
int ssrp_ascii_icmp(const char *a, const char *b);

#endif
