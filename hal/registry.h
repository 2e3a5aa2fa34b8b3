/* Backends added at run time, next to the built-in ones, looked up by their
 * spec name: one registry for TPM backends (tpm/tpm_spec.c) and one for
 * volume backends (bitlocker/volume_core.c). Adding and finding are safe
 * from any thread; an entry is never removed, so a found table stays valid
 * (tables are the caller's static data). */
#ifndef SSRP_HAL_REGISTRY_H
#define SSRP_HAL_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>

#define SSRP_REGISTRY_MAX 16

typedef struct ssrp_registry {
	atomic_flag lock;
	size_t n;
	struct {
		const char *name;
		const void *table;
	} entry[SSRP_REGISTRY_MAX];
} ssrp_registry;

#define SSRP_REGISTRY_INIT {ATOMIC_FLAG_INIT, 0, {{0, 0}}}

/* Add table under name. The same table again: SSRP_OK, nothing changes.
 * kind ("TPM", "volume") words the errors: another table with that name,
 * a full registry, a name that is empty or holds ':' or '?'. */
int ssrp_registry_add(ssrp_registry *r, const char *kind, const char *name, const void *table);

/* The table registered as name[0..len), or NULL. */
const void *ssrp_registry_find(ssrp_registry *r, const char *name, size_t len);

/* The i-th table registered (in order), or NULL past the end. */
const void *ssrp_registry_at(ssrp_registry *r, size_t i);

#endif
