/* Key wrapping for BitLocker volumes: a key goes into a KEY datum, which
 * AES-256-CCM encrypts under a key-encryption key with a nonce of
 * FILETIME (8) + the metadata's nonce counter (4), as BitLocker does. */
#ifndef SSRP_BITLOCKER_BITLK_KEYS_H
#define SSRP_BITLOCKER_BITLK_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "bitlocker/fve_metadata.h"

/* The algorithm ssrp writes in the KEY datum of a recovery key copy. */
#define SSRP_BITLK_ALG_RECOVERY_KEY SSRP_FVE_ALG_STRETCH

/* The next AES-CCM nonce: FILETIME now and md's counter (advanced). */
void ssrp_bitlk_next_nonce(uint8_t nonce[12], ssrp_fve_metadata *md);

/* Wrap key[0..len) (alg in its KEY datum) under kek; advances md's counter. */
int ssrp_bitlk_wrap_key(ssrp_fve_wrapped *out, ssrp_fve_metadata *md, const uint8_t kek[32],
		      uint16_t alg, const uint8_t *key, size_t len);

/* Unwrap into key[0..len): SSRP_E_BAD_KEY when kek is wrong (or the datum
 * damaged), SSRP_E_FORMAT when the plaintext is not a len-byte alg key. */
int ssrp_bitlk_unwrap_key(uint8_t *key, size_t len, const ssrp_fve_wrapped *in,
			const uint8_t kek[32], uint16_t alg);

/* UTF-16LE (a description datum) to NUL-terminated UTF-8, cut to fit. */
void ssrp_bitlk_utf16_to_utf8(char *out, size_t cap, const uint8_t *in, size_t len);
/* UTF-8 to UTF-16LE (a user password as BitLocker hashes it); returns the
 * bytes written, or 0 when the text is not UTF-8 or does not fit. */
size_t ssrp_bitlk_utf8_to_utf16(uint8_t *out, size_t cap, const char *in);
/* ASCII to UTF-16LE; returns the bytes written (at most cap). */
size_t ssrp_bitlk_ascii_to_utf16(uint8_t *out, size_t cap, const char *in);

#endif
