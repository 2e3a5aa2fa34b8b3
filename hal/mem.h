/* Internal heap helpers: the C library's heap, and secret-safe freeing. */
#ifndef SSRP_HAL_MEM_H
#define SSRP_HAL_MEM_H

#include <stddef.h>

#include "ssrp/buf.h"

void *ssrp_malloc(size_t size);
void *ssrp_calloc(size_t n, size_t size);
void *ssrp_realloc(void *p, size_t size);
void ssrp_free(void *p);
/* Zero len bytes at p, then free p. */
void ssrp_free_secret(void *p, size_t len);
/* A copy of s through the allocator hook; NULL when out of memory. */
char *ssrp_strdup(const char *s);
/* Copy len bytes into a fresh allocation owned by buf; -1 when out of memory. */
int ssrp_buf_set(ssrp_buf *buf, const void *data, size_t len);

#endif
