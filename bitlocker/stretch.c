/* BitLocker key stretching (see stretch.h) over OpenSSL's SHA-256
 * compression function.
 *
 * Each iteration hashes the same 88-byte struct, which with SHA-256 padding
 * is always exactly two 64-byte blocks:
 *   block 1: last[32] || initial[32]
 *   block 2: salt[16] || count (u64 LE) || 0x80 || zeros || 704 (bit length, u64 BE)
 * So instead of SHA256_Init/Update/Final (buffering, padding and length
 * bookkeeping on every one of the 2^20 iterations) the loop resets the
 * chaining value, runs two compressions on a fixed buffer, and writes the
 * digest straight back into block 1. Only `last` and the four low bytes of
 * `count` change from one iteration to the next. */

/* SHA256_Init and SHA256_Transform are deprecated in OpenSSL 3.0 in favour
 * of EVP, which exposes no compression function: a reused EVP_MD_CTX costs
 * about twice the compressions alone, SHA256_Update/Final 1.07 times, this
 * loop 1.01 times (bench/stretch.c). The functions remain in the 3.x API;
 * this file alone opts out of the deprecation warning. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <string.h>

#include <openssl/sha.h>

#include "bitlocker/stretch.h"
#include "hal/crypto.h"
#include "ssrp/buf.h"
#include "ssrp/sys/error.h"

#define BLOCK 64
#define STRUCT_LEN 88
#define COUNT_AT 80

/* The digest goes back into block 1 and the count into block 2 with one
 * 32-bit store per word where the byte order is known at compile time: the
 * compression reads the block with 16-byte loads, and byte-by-byte stores
 * in front of those stall the loads and made the whole stretch about 20 %
 * slower when measured on x86-64 with SHA extensions. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LITTLE_ENDIAN 1
#elif defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
	__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BIG_ENDIAN 1
#elif defined(_WIN32)
#define HOST_LITTLE_ENDIAN 1 /* every Windows target */
#endif

#if defined(HOST_LITTLE_ENDIAN) || defined(HOST_BIG_ENDIAN)
static uint32_t swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}
#endif

static void put_be32(uint8_t *p, uint32_t v)
{
#if defined(HOST_LITTLE_ENDIAN)
	v = swap32(v);
	memcpy(p, &v, 4);
#elif defined(HOST_BIG_ENDIAN)
	memcpy(p, &v, 4);
#else
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
#endif
}

static void put_le32(uint8_t *p, uint32_t v)
{
#if defined(HOST_LITTLE_ENDIAN)
	memcpy(p, &v, 4);
#elif defined(HOST_BIG_ENDIAN)
	v = swap32(v);
	memcpy(p, &v, 4);
#else
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
#endif
}

int ssrp_stretch(uint8_t out[SSRP_STRETCH_KEY_LEN], const uint8_t initial[32],
		 const uint8_t salt[SSRP_STRETCH_SALT_LEN], uint32_t iterations)
{
	if (!out || !initial || !salt)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_stretch: NULL argument");
	if (!iterations)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_stretch: zero iterations");

	_Alignas(64) uint8_t b[2 * BLOCK] = {0};
	memcpy(b + 32, initial, 32);
	memcpy(b + 64, salt, SSRP_STRETCH_SALT_LEN);
	/* count's high half stays zero: iterations is a u32. */
	b[STRUCT_LEN] = 0x80;
	b[2 * BLOCK - 2] = (uint8_t)((STRUCT_LEN * 8) >> 8);
	b[2 * BLOCK - 1] = (uint8_t)(STRUCT_LEN * 8);

	SHA256_CTX c;
	if (!SHA256_Init(&c))
		return ssrp_error_set(SSRP_E_GENERIC, "ssrp_stretch: SHA256_Init failed");
	SHA_LONG iv[8];
	memcpy(iv, c.h, sizeof iv);

	for (uint32_t i = 0; i < iterations; i++) {
		put_le32(b + COUNT_AT, i);
		memcpy(c.h, iv, sizeof iv);
		SHA256_Transform(&c, b);
		SHA256_Transform(&c, b + BLOCK);
		for (unsigned k = 0; k < 8; k++)
			put_be32(b + 4 * k, (uint32_t)c.h[k]);
	}
	memcpy(out, b, SSRP_STRETCH_KEY_LEN);
	ssrp_memzero(b, sizeof b);
	ssrp_memzero(&c, sizeof c);
	return SSRP_OK;
}

int ssrp_stretch_recovery_key(uint8_t out[SSRP_STRETCH_KEY_LEN], const uint8_t key16[16],
			      const uint8_t salt[SSRP_STRETCH_SALT_LEN])
{
	if (!out || !key16 || !salt)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_stretch_recovery_key: NULL argument");
	uint8_t initial[SSRP_SHA256_LEN];
	if (ssrp_sha256(initial, key16, 16)) {
		ssrp_memzero(initial, sizeof initial);
		return ssrp_error_set(SSRP_E_GENERIC, "hashing the recovery key failed");
	}
	int rc = ssrp_stretch(out, initial, salt, SSRP_STRETCH_ITERATIONS);
	ssrp_memzero(initial, sizeof initial);
	return rc;
}
