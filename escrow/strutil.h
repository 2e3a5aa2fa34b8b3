/* Small string helpers escrow/'s clients share. */
#ifndef SSRP_ESCROW_STRUTIL_H
#define SSRP_ESCROW_STRUTIL_H

#include <stddef.h>

/* The NULL-terminated pieces one after another, freed with ssrp_free (or
 * ssrp_free_secret when a piece was secret); NULL when out of memory. */
char *ssrp_strjoin(const char *first, ...);

/* s (NULL: "") into dst, cut to cap - 1 bytes, control characters (terminal
 * escapes) made spaces: for what a service said that reaches a terminal. */
void ssrp_copy_printable(char *dst, size_t cap, const char *s);

#endif
