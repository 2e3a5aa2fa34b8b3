/* Cryptographically secure random bytes from the platform (OpenSSL's
 * DRBG, seeded by the OS). */
#ifndef SSRP_HAL_RANDOM_H
#define SSRP_HAL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* SSRP_OK, or SSRP_E_GENERIC with a message when no randomness is available. */
int ssrp_random_bytes(uint8_t *out, size_t len);

#endif
