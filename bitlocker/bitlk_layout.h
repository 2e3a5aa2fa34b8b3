/* Where things live in a BitLocker volume of a given size: the placement
 * ssrp-sim volume create gives a new volume; any volume's own placement
 * (read from its metadata) maps the view to the disk the same way.
 *
 *   0              volume header (sector 0) and 15 empty sectors
 *   m1 = n/4       metadata copy 1 (64 KiB)      n = size in 64 KiB units
 *   m1 + 64 KiB    the relocated logical sectors 0..15 (8 KiB)
 *   m2 = n/2       metadata copy 2
 *   m3 = 3n/4      metadata copy 3
 * The decrypted view is as large as the file. Logical sectors 0..15 are
 * stored in the relocated area, encrypted with the tweak of the physical
 * sector that holds them; the metadata copies and the relocated area are
 * holes (zeros) in the view, as dislocker and libbde show them.
 *
 * While Windows converts a volume (encrypting front to back, decrypting
 * back to front, or paused in between) only the first encrypted_size bytes
 * are encrypted: the sectors after them are stored as they are and read
 * and written as they are, and the relocated sectors stay encrypted (Windows
 * moves them first). The region being converted right now
 * (converting_size bytes at encrypted_size) is a hole, as dislocker shows
 * it: its bytes are in flux. */
#ifndef SSRP_BITLOCKER_BITLK_LAYOUT_H
#define SSRP_BITLOCKER_BITLK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/volume.h"

#define SSRP_BITLK_VOLUME_MIN (1024u * 1024u)
#define SSRP_BITLK_LAYOUT_REGIONS 5

typedef struct ssrp_bitlk_layout {
	uint64_t size;           /* the decrypted view */
	uint64_t copies[3];
	uint64_t relocated_at;   /* where the view's first relocated_size bytes are stored */
	uint64_t relocated_size;
	uint32_t sector;         /* 512 or 4096 */
	uint64_t encrypted_size; /* bytes from the start stored encrypted (size when done) */
	uint64_t converting_size; /* bytes after them in conversion (a hole), usually 0 */
} ssrp_bitlk_layout;

/* SSRP_E_INVALID naming the rule when size cannot hold a volume. */
int ssrp_bitlk_layout_for(ssrp_bitlk_layout *out, uint64_t size);

/* Check that a volume's recorded layout (any BitLocker placement) fits in
 * a device of dev_size bytes: SSRP_E_FORMAT naming what does not. */
int ssrp_bitlk_layout_check(const ssrp_bitlk_layout *l, uint64_t dev_size);

/* The physical sector that stores logical sector s, or UINT64_MAX when s is
 * in a hole. */
uint64_t ssrp_bitlk_layout_physical(const ssrp_bitlk_layout *l, uint64_t s);

/* 1 when logical sector s is stored as it is (past the encrypted part). */
int ssrp_bitlk_layout_plain(const ssrp_bitlk_layout *l, uint64_t s);

/* The holes in the view, for ssrp_volume_reserved_regions. */
size_t ssrp_bitlk_layout_regions(const ssrp_bitlk_layout *l,
			       ssrp_volume_region out[SSRP_BITLK_LAYOUT_REGIONS]);

#endif
