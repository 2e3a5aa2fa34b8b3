/* The simulated volume's file: locking, sector I/O and crash-safe metadata.
 *
 * Metadata is written copy by copy, each copy fsync'ed before the next is
 * started; each copy carries a CRC32 and ssrp's sequence number. Reading
 * takes the valid copy with the highest sequence, so a kill at any write
 * leaves the metadata as it was before or after the update, never neither,
 * and the next write puts all three copies back in step. */
#ifndef SSRP_SIM_VOLUME_STORE_H
#define SSRP_SIM_VOLUME_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bitlocker/fve_metadata.h"
#include "sim/volume_layout.h"

typedef struct ssrp_sim_store {
	int fd;
	/* The whole file, mapped shared: sector data is encrypted and
	 * decrypted in place, with no copy through a bounce buffer. Metadata
	 * goes through pwrite + fsync (the page cache keeps both coherent). */
	uint8_t *map;
	size_t map_len;
	int data_dirty;
	char path[1024];
	ssrp_sim_layout layout;
	int copies_in_step; /* 0 when a copy is damaged or behind */
	/* Fault injection for crash tests (spec option kill_at_write=N): the
	 * Nth region write of this process writes half its bytes and then the
	 * process kills itself with SIGKILL. 0 = off. */
	unsigned kill_at_write;
	unsigned writes;
} ssrp_sim_store;

/* Open (and lock exclusively) an existing volume file; read its layout from
 * the volume header. */
int ssrp_sim_store_open(ssrp_sim_store *s, const char *path);
void ssrp_sim_store_close(ssrp_sim_store *s);

/* The newest valid metadata copy. */
int ssrp_sim_store_read_metadata(ssrp_sim_store *s, ssrp_fve_metadata *out);
/* Bump the sequence and write all three copies, one after another. */
int ssrp_sim_store_write_metadata(ssrp_sim_store *s, ssrp_fve_metadata *md);

/* Flush data written through the map to the disk. */
int ssrp_sim_store_sync_data(ssrp_sim_store *s);

/* Raw physical I/O. */
int ssrp_sim_store_pread(ssrp_sim_store *s, void *buf, size_t len, uint64_t offset);
int ssrp_sim_store_pwrite(ssrp_sim_store *s, const void *buf, size_t len, uint64_t offset);
int ssrp_sim_store_sync(ssrp_sim_store *s);

#endif
