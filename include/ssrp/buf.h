/* ssrp: caller-owned byte buffers, the library's heap and secret memory.
 *
 * Results that the library allocates come back in an ssrp_buf that the caller
 * frees with ssrp_buf_free(). Freeing always zeroes the bytes first, so the
 * same type safely carries secrets (unsealed keys, recovery passwords).
 * Memory a call documents as "free with ssrp_free" (or ssrp_free_secret)
 * comes from the library's heap and goes back through these calls.
 *
 * Threads: every call here is safe from any thread; a buffer belongs to
 * one thread at a time. */
#ifndef SSRP_BUF_H
#define SSRP_BUF_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssrp_buf {
	uint8_t *data;
	size_t len;
} ssrp_buf;

#define SSRP_BUF_INIT {NULL, 0}

/** Zero the bytes, free them and reset the buffer to empty. NULL is fine. */
SSRP_API void ssrp_buf_free(ssrp_buf *buf);

/** Zero memory in a way the compiler may not optimise away. */
SSRP_API void ssrp_memzero(void *p, size_t len);

/** The library's heap (the C library's): what the library returns for the
 * caller to free, and what the caller hands over to be freed by it. NULL
 * when out of memory; ssrp_free(NULL) does nothing. */
SSRP_API void *ssrp_malloc(size_t size);
SSRP_API void *ssrp_calloc(size_t n, size_t size);
SSRP_API void *ssrp_realloc(void *p, size_t size);
SSRP_API void ssrp_free(void *p);
/** Zero len bytes at p, then free p (secrets: passwords, keys, tokens). */
SSRP_API void ssrp_free_secret(void *p, size_t len);


#ifdef __cplusplus
}
#endif

#endif
