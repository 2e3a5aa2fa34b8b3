/* Sector encryption for every BitLocker method: XTS-AES 128/256 (tweak =
 * sector number), AES-CBC 128/256 with the encrypted byte offset as IV
 * ("eboiv"), and AES-CBC with the Elephant diffuser. Sector numbers count
 * sectors of the volume's own size (512 or 4096 bytes). */
#ifndef SSRP_BITLOCKER_FVE_SECTOR_H
#define SSRP_BITLOCKER_FVE_SECTOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct ssrp_fve_cipher ssrp_fve_cipher;

/* method: SSRP_FVE_ALG_CBC_ELEPHANT_128 .. SSRP_FVE_ALG_XTS_256; fvek: the
 * key as the FVEK's KEY datum holds it. SSRP_E_FORMAT when its length does
 * not fit the method. */
int ssrp_fve_cipher_new(ssrp_fve_cipher **out, uint16_t method, const uint8_t *fvek,
			size_t fvek_len);
void ssrp_fve_cipher_free(ssrp_fve_cipher *c);

/* n sectors of sector_size bytes, the first being first_sector; out may be in. */
int ssrp_fve_cipher_decrypt(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in,
			    uint64_t first_sector, size_t n, size_t sector_size);
int ssrp_fve_cipher_encrypt(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in,
			    uint64_t first_sector, size_t n, size_t sector_size);

/* Elephant methods: diffuse lanes sectors at once (4, 8 or 16) where this
 * processor and build can; SSRP_E_NOTSUPPORTED if not. The widest is the
 * default; this is for tests, which try each. */
int ssrp_fve_cipher_use_lanes(ssrp_fve_cipher *c, size_t lanes);

#endif
