/* Open-addressing pointer hash table (see state_index.h). */
#include <string.h>

#include "hal/mem.h"
#include "sim/cloud/state_index.h"
#include "ssrp/error.h"

#define MIN_CAP 16

void cloud_index_init(cloud_index *ix, cloud_index_hash_fn hash, uint64_t seed)
{
	memset(ix, 0, sizeof *ix);
	ix->hash = hash;
	ix->seed = seed;
}

void cloud_index_free(cloud_index *ix)
{
	ssrp_free(ix->slots);
	ix->slots = NULL;
	ix->cap = ix->count = 0;
}

static void place(void **slots, size_t cap, void *item, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	while (slots[i])
		i = (i + 1) & (cap - 1);
	slots[i] = item;
}

static int grow(cloud_index *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : MIN_CAP;
	if (cap < ix->cap)
		return SSRP_E_NOMEM;
	void **slots = ssrp_calloc(cap, sizeof *slots);
	if (!slots)
		return SSRP_E_NOMEM;
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->slots[i])
			place(slots, cap, ix->slots[i], ix->hash(ix->slots[i], ix->seed));
	ssrp_free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return SSRP_OK;
}

int cloud_index_insert(cloud_index *ix, void *item)
{
	/* Keep the load at or below one half: linear probing degrades fast
	 * above that, and a pointer slot is cheap. */
	if ((ix->count + 1) * 2 > ix->cap && grow(ix) != SSRP_OK)
		return SSRP_E_NOMEM;
	place(ix->slots, ix->cap, item, ix->hash(item, ix->seed));
	ix->count++;
	return SSRP_OK;
}

void *cloud_index_find(const cloud_index *ix, uint64_t h, cloud_index_match_fn match, const void *key)
{
	if (!ix->cap)
		return NULL;
	for (size_t i = (size_t)h & (ix->cap - 1); ix->slots[i]; i = (i + 1) & (ix->cap - 1))
		if (match(ix->slots[i], key))
			return ix->slots[i];
	return NULL;
}

void cloud_index_remove(cloud_index *ix, const void *item)
{
	if (!ix->cap || !item)
		return;
	size_t mask = ix->cap - 1;
	size_t i = (size_t)ix->hash(item, ix->seed) & mask;
	while (ix->slots[i] && ix->slots[i] != item)
		i = (i + 1) & mask;
	if (!ix->slots[i])
		return;
	ix->slots[i] = NULL;
	ix->count--;
	/* Backward shift: pull later members of the probe run into the hole
	 * unless their home slot lies cyclically in (hole, j], where they
	 * would become unreachable. */
	for (size_t j = (i + 1) & mask; ix->slots[j]; j = (j + 1) & mask) {
		size_t home = (size_t)ix->hash(ix->slots[j], ix->seed) & mask;
		int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		ix->slots[i] = ix->slots[j];
		ix->slots[j] = NULL;
		i = j;
	}
}

uint64_t cloud_hash_str(const char *s, uint64_t seed, int fold_case)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (; *s; s++) {
		unsigned c = (unsigned char)*s;
		if (fold_case && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h ^= c;
		h *= 0x100000001b3ull;
	}
	/* FNV's low bits mix poorly and the table masks them out: finish with
	 * the splitmix64 avalanche. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}
