/* A small open-addressing hash table of pointers for the tenant's lookups
 * (by id, UPN, deviceId, ...). It stores only the item pointers — 8 bytes a
 * slot, at most half the slots used — and asks the item for its hash, so an
 * index over 100k users costs about 2 MB. Linear probing with backward-shift
 * deletion: no tombstones, so lookups stay short however many removals
 * happened. Not thread-safe by itself; the state's mutex covers it. */
#ifndef SSRP_SIM_CLOUD_STATE_INDEX_H
#define SSRP_SIM_CLOUD_STATE_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*cloud_index_hash_fn)(const void *item, uint64_t seed);
/* 1 when item has the key being looked up. */
typedef int (*cloud_index_match_fn)(const void *item, const void *key);

typedef struct cloud_index {
	void **slots;
	size_t cap; /* 0 or a power of two */
	size_t count;
	uint64_t seed; /* random per state, so colliding keys cannot be planned */
	cloud_index_hash_fn hash;
} cloud_index;

void cloud_index_init(cloud_index *ix, cloud_index_hash_fn hash, uint64_t seed);
void cloud_index_free(cloud_index *ix);
/* Add item (the caller checks for duplicates first); SSRP_E_NOMEM. */
int cloud_index_insert(cloud_index *ix, void *item);
/* The first item with hash h that match() accepts, or NULL. */
void *cloud_index_find(const cloud_index *ix, uint64_t h, cloud_index_match_fn match, const void *key);
/* Remove exactly this pointer; nothing happens when it is absent. */
void cloud_index_remove(cloud_index *ix, const void *item);

/* Seeded string hash (FNV-1a with a final avalanche); fold_case folds ASCII
 * letters so "Alice@X" and "alice@x" hash alike. */
uint64_t cloud_hash_str(const char *s, uint64_t seed, int fold_case);

#endif
