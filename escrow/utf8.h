/* UTF-8 as the association service's parsers and audit lines need it:
 * strict validation (no overlong forms, no surrogates, nothing above
 * U+10FFFF), cutting without splitting a character, and a cleaned copy for
 * text that must become JSON whatever it holds. */
#ifndef SSRP_ESCROW_UTF8_H
#define SSRP_ESCROW_UTF8_H

#include <stddef.h>

/* The offset of the first byte that is not part of valid UTF-8 in s[0..n),
 * or n when all of it is valid. */
size_t ssrp_utf8_invalid_at(const char *s, size_t n);

/* The longest prefix of the NUL-terminated s of at most max bytes that ends
 * on a character boundary (for "%.*s"). */
int ssrp_utf8_prefix(const char *s, size_t max);

/* A copy of s (ssrp_malloc'd, free with ssrp_free) with every byte that is
 * not valid UTF-8 replaced by U+FFFD; NULL when out of memory. */
char *ssrp_utf8_clean(const char *s);

#endif
