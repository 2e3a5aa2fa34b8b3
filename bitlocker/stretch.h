/* BitLocker's key stretching: 0x100000 SHA-256 iterations over an 88-byte
 * struct {last[32], initial[32], salt[16], u64 count LE}. Portable core over
 * the SHA-256 compression function of the crypto library. */
#ifndef SSRP_BITLOCKER_STRETCH_H
#define SSRP_BITLOCKER_STRETCH_H

#include <stdint.h>

#define SSRP_STRETCH_SALT_LEN 16
#define SSRP_STRETCH_KEY_LEN 32
#define SSRP_STRETCH_ITERATIONS 0x100000u

/* Recovery password: initial = SHA-256(key16). */
int ssrp_stretch_recovery_key(uint8_t out[SSRP_STRETCH_KEY_LEN], const uint8_t key16[16],
			      const uint8_t salt[SSRP_STRETCH_SALT_LEN]);

/* The general form: initial given (for a user password it is
 * SHA-256(SHA-256(UTF-16LE(password)))). */
int ssrp_stretch(uint8_t out[SSRP_STRETCH_KEY_LEN], const uint8_t initial[32],
		 const uint8_t salt[SSRP_STRETCH_SALT_LEN], uint32_t iterations);

#endif
