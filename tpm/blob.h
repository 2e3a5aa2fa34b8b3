/* The sealed-blob format: portable, allocation-free, versioned.
 *
 *   offset size
 *   0      8    magic "SSRPSEAL"
 *   8      1    major version (1; another major is refused)
 *   9      1    minor version (readers accept any minor)
 *   10     2    reserved, zero
 *   12     4    N: length of the record area
 *   16     N    records: u16 tag, u16 length, value
 *   16+N   32   SHA-256 over bytes 0 .. 16+N
 * All integers big-endian. Records (each exactly once, any order):
 *   0x0001 PCR policy: u16 bank alg, u32 PCR mask
 *   0x0002 parent: u32 handle (0x81000001 or 0), u16 template alg, Name
 *   0x0003 public: marshalled TPM2B_PUBLIC
 *   0x0004 private: marshalled TPM2B_PRIVATE
 * A tag with bit 15 set is optional and skipped when unknown; an unknown tag
 * without it is refused, so a newer writer can add what old readers may
 * ignore and mark what they must not. */
#ifndef SSRP_TPM_BLOB_H
#define SSRP_TPM_BLOB_H

#include "ssrp/sys/tpm.h"

#define SSRP_BLOB_MAGIC "SSRPSEAL"
#define SSRP_BLOB_MAJOR 1
#define SSRP_BLOB_MINOR 0
#define SSRP_BLOB_HEADER 16
#define SSRP_BLOB_TRAILER 32

/* Write parts into out[0..cap); *out_len gets the size. With out NULL only
 * the size is computed (tpm2-tss size-query style). */
int ssrp_blob_encode(uint8_t *out, size_t cap, size_t *out_len, const ssrp_sealed_parts *parts);

/* Parse and check a blob; every refusal says what was wrong. */
int ssrp_blob_decode(ssrp_sealed_parts *out, const uint8_t *in, size_t len);

#endif
