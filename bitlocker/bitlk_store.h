/* A BitLocker volume's file or device: locking, sector I/O and crash-safe
 * metadata.
 *
 * Metadata is written copy by copy, each copy fsync'ed before the next is
 * started; each copy carries a CRC32 and ssrp's sequence number. Reading
 * takes the valid copy with the highest sequence, so a kill at any write
 * leaves the metadata as it was before or after the update, never neither,
 * and the next write puts all three copies back in step.
 *
 * Any BitLocker volume opens: the metadata's placement, the volume size and
 * the sector size come from the boot sector and the metadata itself. A
 * store opened read-only (shared lock, read-only mapping) never writes,
 * not even to repair a damaged copy; it reports it instead. */
#ifndef SSRP_BITLOCKER_BITLK_STORE_H
#define SSRP_BITLOCKER_BITLK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bitlocker/fve_metadata.h"
#include "bitlocker/bitlk_layout.h"

typedef struct ssrp_bitlk_store {
	int fd; /* on Windows a C runtime descriptor over the file's handle */
	/* The whole file, mapped shared: sector data is encrypted and
	 * decrypted in place, with no copy through a bounce buffer. Metadata
	 * goes through pwrite + fsync (the page cache keeps both coherent). */
	uint8_t *map;
	size_t map_len;
	int data_dirty;
	char path[1024];
	int writable;
	uint64_t dev_size;
	ssrp_fve_boot boot;
	ssrp_bitlk_layout layout;
	int copies_in_step; /* 0 when a copy is damaged or behind */
	int copy_ok[3];     /* 1: the copy parsed and is the newest */
	char copy_note[3][256]; /* why a copy was not used */
	int chosen;         /* the copy the metadata was read from */
	uint8_t *block;     /* its bytes, SSRP_FVE_REGION (hash and repair) */
	size_t block_len;   /* block, CRC and validation */
	/* Writes one metadata copy instead of the default (pwrite + fsync):
	 * how the simulator's "sim:" backend injects a crash in the middle
	 * of an update (sim/volume_crash.c). NULL: the default. */
	int (*write_region)(struct ssrp_bitlk_store *s, const uint8_t *buf, size_t len,
			    uint64_t offset, void *ctx);
	void *write_region_ctx;
} ssrp_bitlk_store;

/* Open an existing volume (file or block device) and read its boot sector;
 * writable: an exclusive lock and a writable mapping, else a shared lock.
 * layout: the layout of a volume being created (NULL: read it from the
 * metadata with ssrp_bitlk_store_read_metadata). */
int ssrp_bitlk_store_open(ssrp_bitlk_store *s, const char *path, int writable,
			const ssrp_bitlk_layout *layout);
void ssrp_bitlk_store_close(ssrp_bitlk_store *s);

/* The newest valid metadata copy; sets the layout and maps the volume. */
int ssrp_bitlk_store_read_metadata(ssrp_bitlk_store *s, ssrp_fve_metadata *out);
/* Write the copy read back over damaged or stale ones, byte for byte. */
int ssrp_bitlk_store_repair(ssrp_bitlk_store *s);
/* Bump the sequence and write all three copies, one after another, each
 * sealed with the validation structure Windows writes (AES-CCM under the
 * VMK): without vmk (a locked volume) nothing is written (SSRP_E_LOCKED). */
int ssrp_bitlk_store_write_metadata(ssrp_bitlk_store *s, ssrp_fve_metadata *md, const uint8_t *vmk);
/* Check the copy read against its validation datum (see
 * ssrp_fve_metadata_verify), naming the copy when it fails. */
int ssrp_bitlk_store_verify(ssrp_bitlk_store *s, const ssrp_fve_metadata *md, const uint8_t vmk[32]);

/* Flush data written through the map to the disk. */
int ssrp_bitlk_store_sync_data(ssrp_bitlk_store *s);

/* Raw physical I/O. */
int ssrp_bitlk_store_pread(ssrp_bitlk_store *s, void *buf, size_t len, uint64_t offset);
int ssrp_bitlk_store_pwrite(ssrp_bitlk_store *s, const void *buf, size_t len, uint64_t offset);
int ssrp_bitlk_store_sync(ssrp_bitlk_store *s);

/* The platform's part (bitlk_store_posix.c, bitlk_store_windows.c).
 * open_file: open s->path (read-write when s->writable), take the lock
 * (exclusive when writable, else shared; never waits) and set dev_size;
 * on failure nothing is left open. map: map layout.size bytes from the
 * start, shared. close_file: flush and unmap the data, close the file. */
int ssrp_bitlk_store_open_file(ssrp_bitlk_store *s);
int ssrp_bitlk_store_map(ssrp_bitlk_store *s);
void ssrp_bitlk_store_close_file(ssrp_bitlk_store *s);

#endif
