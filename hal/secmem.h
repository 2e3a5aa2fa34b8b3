/* Memory for keys that live as long as an open volume (the VMK in a volume
 * backend's state): kept out of core dumps and, where the process may lock
 * memory, out of swap. hal/secmem_posix.c (mmap, MADV_DONTDUMP, mlock) and
 * hal/secmem_windows.c (VirtualAlloc, VirtualLock; Windows writes no
 * process memory into its crash dumps unless asked for a full dump): the
 * build compiles one. Whole pages, so for a few long-lived blocks only. */
#ifndef SSRP_HAL_SECMEM_H
#define SSRP_HAL_SECMEM_H

#include <stddef.h>

/* size bytes (at least one), zeroed; NULL when out of memory. Locking is
 * best effort: a process over its RLIMIT_MEMLOCK still gets the block,
 * unlocked (ssrp_secmem_locked says which). */
void *ssrp_secmem_alloc(size_t size);
/* Zero, unlock and release what ssrp_secmem_alloc(size) returned; NULL is
 * fine. */
void ssrp_secmem_free(void *p, size_t size);
/* 1 when p (from ssrp_secmem_alloc) is locked in memory. */
int ssrp_secmem_locked(const void *p);

#endif
