/* Heap hooks and secret-safe zeroing. The allocator is process-wide
 * configuration set once at start-up (like curl_global_init_mem), not state
 * that changes while the library runs. */
#include <stdlib.h>
#include <string.h>

#include "hal/mem.h"
#include "ssrp/buf.h"

static ssrp_allocator allocator = {malloc, realloc, free};

void ssrp_set_allocator(const ssrp_allocator *a)
{
	allocator.malloc_fn = a && a->malloc_fn ? a->malloc_fn : malloc;
	allocator.realloc_fn = a && a->realloc_fn ? a->realloc_fn : realloc;
	allocator.free_fn = a && a->free_fn ? a->free_fn : free;
}

void *ssrp_malloc(size_t size)
{
	return allocator.malloc_fn(size ? size : 1);
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
	return allocator.realloc_fn(p, size ? size : 1);
}

void ssrp_free(void *p)
{
	if (p)
		allocator.free_fn(p);
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
