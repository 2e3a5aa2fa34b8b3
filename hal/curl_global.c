/* hal/curl_global.h. Each block carries its size in a header in front of
 * it, so the free function knows how much to wipe. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hal/curl_global.h"
#include "hal/mem.h"
#include "hal/thread.h"
#include "ssrp/sys/error.h"

#define HEADER 16 /* keeps the block aligned for any type */

static atomic_uint_least64_t wiped;

static void *wipe_malloc(size_t n)
{
	if (n > SIZE_MAX - HEADER)
		return NULL;
	unsigned char *p = malloc(n + HEADER);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof n);
	return p + HEADER;
}

static void wipe_free(void *block)
{
	if (!block)
		return;
	unsigned char *p = (unsigned char *)block - HEADER;
	size_t n;
	memcpy(&n, p, sizeof n);
	ssrp_memzero(p, n + HEADER);
	atomic_fetch_add(&wiped, n);
	free(p);
}

static void *wipe_realloc(void *block, size_t n)
{
	if (!block)
		return wipe_malloc(n);
	size_t old;
	memcpy(&old, (unsigned char *)block - HEADER, sizeof old);
	void *q = wipe_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, block, old < n ? old : n);
	wipe_free(block);
	return q;
}

static char *wipe_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *q = wipe_malloc(n);
	if (q)
		memcpy(q, s, n);
	return q;
}

static void *wipe_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *q = wipe_malloc(n * size);
	if (q)
		memset(q, 0, n * size);
	return q;
}

static ssrp_once once = SSRP_ONCE_INIT;
static CURLcode init_result;

static void init(void)
{
	init_result = curl_global_init_mem(CURL_GLOBAL_DEFAULT, wipe_malloc, wipe_free,
					   wipe_realloc, wipe_strdup, wipe_calloc);
}

int ssrp_curl_global_init(void)
{
	ssrp_once_run(&once, init);
	if (init_result != CURLE_OK)
		return ssrp_error_set(SSRP_E_GENERIC, "libcurl failed to initialise: %s",
				      curl_easy_strerror(init_result));
	return SSRP_OK;
}

uint64_t ssrp_curl_wiped_bytes(void)
{
	return atomic_load(&wiped);
}
