/* ssrp: caller-owned byte buffers and secret memory.
 *
 * Results that the library allocates come back in an ssrp_buf that the caller
 * frees with ssrp_buf_free(). Freeing always zeroes the bytes first, so the
 * same type safely carries secrets (unsealed keys, recovery passwords). */
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


#ifdef __cplusplus
}
#endif

#endif
