/* The symmetric cryptography of a BitLocker volume, over OpenSSL:
 * AES-256-CCM for wrapping keys (12-byte nonce, 16-byte tag, no associated
 * data) and XTS-AES for sectors (tweak = sector number, LE u64). */
#ifndef SSRP_BITLOCKER_FVE_CRYPTO_H
#define SSRP_BITLOCKER_FVE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SSRP_CCM_NONCE_LEN 12
#define SSRP_CCM_TAG_LEN 16

/* ct[0..len) and tag from pt[0..len) under key32 and nonce. */
int ssrp_ccm_encrypt(uint8_t *ct, uint8_t tag[SSRP_CCM_TAG_LEN], const uint8_t key[32],
		     const uint8_t nonce[SSRP_CCM_NONCE_LEN], const uint8_t *pt, size_t len);
/* pt from ct. A tag mismatch is SSRP_E_BAD_KEY (wrong key or damaged
 * data); pt is zeroed on every failure. */
int ssrp_ccm_decrypt(uint8_t *pt, const uint8_t key[32], const uint8_t nonce[SSRP_CCM_NONCE_LEN],
		     const uint8_t tag[SSRP_CCM_TAG_LEN], const uint8_t *ct, size_t len);

/* A reusable XTS context for one FVEK (32 bytes: XTS-AES-128, 64: -256). */
typedef struct ssrp_xts ssrp_xts;
int ssrp_xts_new(ssrp_xts **out, const uint8_t *fvek, size_t fvek_len);
void ssrp_xts_free(ssrp_xts *x);
/* Encrypt or decrypt n_sectors consecutive sectors of sector_size bytes in
 * place (or out != in), the first having number first_sector. */
int ssrp_xts_encrypt(ssrp_xts *x, uint8_t *out, const uint8_t *in, uint64_t first_sector,
		     size_t n_sectors, size_t sector_size);
int ssrp_xts_decrypt(ssrp_xts *x, uint8_t *out, const uint8_t *in, uint64_t first_sector,
		     size_t n_sectors, size_t sector_size);

#endif
