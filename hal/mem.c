/* The heap (the C library's: ssrp, cJSON and libcurl free each other's
 * blocks in places, so there is one heap) and secret-safe zeroing. */
#include <stdlib.h>
#include <string.h>

#include "hal/mem.h"
#include "ssrp/buf.h"

void *ssrp_malloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *ssrp_calloc(size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return NULL;
	void *p = ssrp_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *ssrp_realloc(void *p, size_t size)
{
	return realloc(p, size ? size : 1);
}

void ssrp_free(void *p)
{
	if (p)
		free(p);
}

/* A volatile function pointer keeps the compiler from proving the stores
 * dead, on every C11 compiler (explicit_bzero is not portable). */
static void *(*const volatile memset_v)(void *, int, size_t) = memset;

void ssrp_memzero(void *p, size_t len)
{
	if (p && len)
		memset_v(p, 0, len);
}

void ssrp_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	ssrp_memzero(p, len);
	ssrp_free(p);
}

void ssrp_buf_free(ssrp_buf *buf)
{
	if (!buf)
		return;
	ssrp_free_secret(buf->data, buf->len);
	buf->data = NULL;
	buf->len = 0;
}

int ssrp_buf_set(ssrp_buf *buf, const void *data, size_t len)
{
	uint8_t *p = ssrp_malloc(len);
	if (!p)
		return -1;
	if (len)
		memcpy(p, data, len);
	buf->data = p;
	buf->len = len;
	return 0;
}

char *ssrp_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ssrp_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}
