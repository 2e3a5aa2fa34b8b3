/* ssrp_secmem_* on Windows (hal/secmem.h): VirtualAlloc'd pages, locked in
 * the working set when the process's quota allows. */
#include <stdint.h>
#include <windows.h>

#include "hal/mem.h"
#include "hal/secmem.h"

typedef struct {
	size_t map_len;
	int locked;
} secmem_header;

#define SECMEM_HEADER 64

void *ssrp_secmem_alloc(size_t size)
{
	SYSTEM_INFO si;
	GetSystemInfo(&si);
	size_t page = si.dwPageSize;
	if (!size)
		size = 1;
	if (size > SIZE_MAX - SECMEM_HEADER - page)
		return NULL;
	size_t len = (size + SECMEM_HEADER + page - 1) / page * page;
	void *map = VirtualAlloc(NULL, len, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
	if (!map)
		return NULL;
	secmem_header *h = map;
	h->map_len = len;
	h->locked = VirtualLock(map, len) != 0;
	return (uint8_t *)map + SECMEM_HEADER; /* committed pages come zeroed */
}

void ssrp_secmem_free(void *p, size_t size)
{
	if (!p)
		return;
	ssrp_memzero(p, size);
	secmem_header *h = (secmem_header *)(void *)((uint8_t *)p - SECMEM_HEADER);
	if (h->locked)
		(void)VirtualUnlock(h, h->map_len);
	(void)VirtualFree(h, 0, MEM_RELEASE);
}

int ssrp_secmem_locked(const void *p)
{
	const secmem_header *h = (const secmem_header *)(const void *)((const uint8_t *)p - SECMEM_HEADER);
	return h->locked;
}
