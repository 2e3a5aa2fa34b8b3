/* Opening a "bitlk" volume with the choices another backend layers on top:
 * the simulator's "sim:" backend (sim/volume_crash.c) opens read-write by
 * default and writes metadata copies through its crash injector. Internal:
 * not part of the installed API. */
#ifndef SSRP_BITLOCKER_BITLK_VOLUME_H
#define SSRP_BITLOCKER_BITLK_VOLUME_H

#include "bitlocker/bitlk_store.h"
#include "ssrp/sys/volume.h"

typedef struct ssrp_bitlk_open_options {
	int writable; /* when the spec says neither ?ro nor ?rw */
	int (*write_region)(ssrp_bitlk_store *s, const uint8_t *buf, size_t len, uint64_t offset,
			    void *ctx); /* NULL: the store's own */
	void *write_region_ctx;
} ssrp_bitlk_open_options;

/* The bitlk table's open slot with options (NULL: read-only, own writes);
 * ctx is the table's ctx_size bytes, as the core hands them over. */
int ssrp_bitlk_volume_open(void *ctx, const char *config, const ssrp_bitlk_open_options *o);

#endif
