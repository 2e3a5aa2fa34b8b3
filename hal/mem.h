/* Internal heap helpers beyond the public ones of ssrp/buf.h. */
#ifndef SSRP_HAL_MEM_H
#define SSRP_HAL_MEM_H

#include <stddef.h>

#include "ssrp/buf.h"

/* ssrp_malloc, ssrp_calloc, ssrp_realloc, ssrp_free, ssrp_free_secret:
 * public, in ssrp/buf.h. */
/* A copy of s through the allocator hook; NULL when out of memory. */
char *ssrp_strdup(const char *s);
/* Copy len bytes into a fresh allocation owned by buf; -1 when out of memory. */
int ssrp_buf_set(ssrp_buf *buf, const void *data, size_t len);

#endif
