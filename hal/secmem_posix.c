/* ssrp_secmem_* on POSIX (hal/secmem.h). Each block is its own mapping,
 * with a header page-aligned in front that remembers its length and lock. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hal/mem.h"
#include "hal/secmem.h"

typedef struct {
	size_t map_len;
	int locked;
} secmem_header;

/* The header takes 64 bytes so the caller's block stays well aligned. */
#define SECMEM_HEADER 64

static size_t map_length(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (size > SIZE_MAX - SECMEM_HEADER - page)
		return 0;
	return (size + SECMEM_HEADER + page - 1) / page * page;
}

void *ssrp_secmem_alloc(size_t size)
{
	size_t len = map_length(size ? size : 1);
	if (!len)
		return NULL;
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
#ifdef MADV_DONTDUMP
	(void)madvise(map, len, MADV_DONTDUMP);
#endif
	secmem_header *h = map;
	h->map_len = len;
	h->locked = mlock(map, len) == 0;
	return (uint8_t *)map + SECMEM_HEADER; /* anonymous pages come zeroed */
}

void ssrp_secmem_free(void *p, size_t size)
{
	if (!p)
		return;
	ssrp_memzero(p, size);
	secmem_header *h = (secmem_header *)(void *)((uint8_t *)p - SECMEM_HEADER);
	size_t len = h->map_len;
	if (h->locked)
		(void)munlock(h, len);
	(void)munmap(h, len);
}

int ssrp_secmem_locked(const void *p)
{
	const secmem_header *h = (const secmem_header *)(const void *)((const uint8_t *)p - SECMEM_HEADER);
	return h->locked;
}
