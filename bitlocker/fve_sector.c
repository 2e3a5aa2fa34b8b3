/* BitLocker's sector ciphers (see fve_sector.h). The Elephant diffuser
 * follows Niels Ferguson's description ("AES-CBC + Elephant diffuser",
 * Microsoft, 2006): decryption is CBC, diffuser B, diffuser A, then the
 * sector key XORed in; encryption runs the inverse steps backwards. */
#include <limits.h>
#include <openssl/evp.h>
#include <string.h>

#include "bitlocker/fve_crypto.h"
#include "bitlocker/fve_metadata.h"
#include "bitlocker/fve_sector.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

struct ssrp_fve_cipher {
	uint16_t method;
	ssrp_xts *xts;
	EVP_CIPHER_CTX *cbc_enc, *cbc_dec; /* data key */
	EVP_CIPHER_CTX *iv_ecb;            /* data key, ECB: the IV of each sector */
	EVP_CIPHER_CTX *tweak_ecb;         /* Elephant key, ECB: the sector key */
};

void ssrp_fve_cipher_free(ssrp_fve_cipher *c)
{
	if (!c)
		return;
	ssrp_xts_free(c->xts);
	EVP_CIPHER_CTX_free(c->cbc_enc);
	EVP_CIPHER_CTX_free(c->cbc_dec);
	EVP_CIPHER_CTX_free(c->iv_ecb);
	EVP_CIPHER_CTX_free(c->tweak_ecb);
	ssrp_free_secret(c, sizeof *c);
}

static EVP_CIPHER_CTX *aes_ctx(const uint8_t *key, size_t len, int cbc, int enc)
{
	const EVP_CIPHER *ci = len == 16 ? (cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb())
				  : (cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb());
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx && (EVP_CipherInit_ex(ctx, ci, NULL, key, NULL, enc) != 1 ||
		    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

int ssrp_fve_cipher_new(ssrp_fve_cipher **out, uint16_t method, const uint8_t *fvek,
			size_t fvek_len)
{
	*out = NULL;
	/* Key bytes each method's KEY datum holds; Elephant keys sit at 0 and 32. */
	size_t need;
	switch (method) {
	case SSRP_FVE_ALG_XTS_128: need = 32; break;
	case SSRP_FVE_ALG_XTS_256: need = 64; break;
	case SSRP_FVE_ALG_CBC_128: need = 16; break;
	case SSRP_FVE_ALG_CBC_256: need = 32; break;
	case SSRP_FVE_ALG_CBC_ELEPHANT_128: need = 64; break;
	case SSRP_FVE_ALG_CBC_ELEPHANT_256: need = 64; break;
	default:
		return ssrp_error_set(SSRP_E_NOTSUPPORTED, "encryption method 0x%04x is not known",
				      method);
	}
	if (fvek_len != need)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the FVEK holds %zu bytes; method 0x%04x needs %zu", fvek_len,
				      method, need);
	ssrp_fve_cipher *c = ssrp_calloc(1, sizeof *c);
	if (!c)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for the sector cipher");
	c->method = method;
	int rc = SSRP_OK;
	if (method >= SSRP_FVE_ALG_XTS_128) {
		rc = ssrp_xts_new(&c->xts, fvek, need);
	} else {
		size_t key_len = method == SSRP_FVE_ALG_CBC_128 ||
						 method == SSRP_FVE_ALG_CBC_ELEPHANT_128
					 ? 16
					 : 32;
		c->cbc_enc = aes_ctx(fvek, key_len, 1, 1);
		c->cbc_dec = aes_ctx(fvek, key_len, 1, 0);
		c->iv_ecb = aes_ctx(fvek, key_len, 0, 1);
		if (method <= SSRP_FVE_ALG_CBC_ELEPHANT_256)
			c->tweak_ecb = aes_ctx(fvek + 32, key_len, 0, 1);
		if (!c->cbc_enc || !c->cbc_dec || !c->iv_ecb ||
		    (method <= SSRP_FVE_ALG_CBC_ELEPHANT_256 && !c->tweak_ecb))
			rc = ssrp_error_set(SSRP_E_GENERIC, "AES-CBC: the key was refused");
	}
	if (rc) {
		ssrp_fve_cipher_free(c);
		return rc;
	}
	*out = c;
	return SSRP_OK;
}

enum { BATCH = 32 }; /* sectors whose IVs and sector keys are made in one ECB call */

/* AES-ECB under ctx of the byte offsets of sectors first.. (LE u64,
 * zero-padded), one block each, or two each with the Elephant sector key's
 * second block (its last byte 0x80). */
static int offset_blocks(EVP_CIPHER_CTX *ctx, uint8_t *out, uint64_t first, size_t n,
			 size_t size, int pairs)
{
	size_t per = pairs ? 32 : 16;
	memset(out, 0, n * per);
	for (size_t s = 0; s < n; s++) {
		uint64_t offset = (first + s) * size;
		for (unsigned k = 0; k < 8; k++) {
			out[s * per + k] = (uint8_t)(offset >> (8 * k));
			if (pairs)
				out[s * per + 16 + k] = (uint8_t)(offset >> (8 * k));
		}
		if (pairs)
			out[s * per + 31] = 0x80;
	}
	int outl = 0;
	return EVP_EncryptUpdate(ctx, out, &outl, out, (int)(n * per)) == 1 &&
			       (size_t)outl == n * per
		       ? SSRP_OK
		       : SSRP_E_GENERIC;
}

#define ROTL(v, r) (((v) << (r)) | ((v) >> (32 - (r))))

/* The diffusers on n words (n a multiple of 4, at least 16), indices mod
 * n. A: d[i] with d[i-2] and d[i-5] rotated by 9, 0, 13, 0; B: d[i+2] and
 * d[i+5] rotated by 0, 10, 0, 25. Decryption adds from i = 0 up; encryption
 * subtracts from i = n-1 down. The loops without index wrap-around are
 * unrolled by four so the rotations are constants. */
static uint32_t a_term(const uint32_t *d, size_t n, size_t i)
{
	static const unsigned r[4] = {9, 0, 13, 0};
	uint32_t x = d[(i + n - 5) % n];
	return d[(i + n - 2) % n] ^ (r[i & 3] ? ROTL(x, r[i & 3]) : x);
}

static uint32_t b_term(const uint32_t *d, size_t n, size_t i)
{
	static const unsigned r[4] = {0, 10, 0, 25};
	uint32_t x = d[(i + 5) % n];
	return d[(i + 2) % n] ^ (r[i & 3] ? ROTL(x, r[i & 3]) : x);
}

static void a_decrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < 5; c++) {
		for (size_t i = 0; i < 8; i++)
			d[i] += a_term(d, n, i);
		for (size_t i = 8; i < n; i += 4) {
			d[i] += d[i - 2] ^ ROTL(d[i - 5], 9);
			d[i + 1] += d[i - 1] ^ d[i - 4];
			d[i + 2] += d[i] ^ ROTL(d[i - 3], 13);
			d[i + 3] += d[i + 1] ^ d[i - 2];
		}
	}
}

static void a_encrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < 5; c++) {
		for (size_t i = n - 4; i >= 8; i -= 4) {
			d[i + 3] -= d[i + 1] ^ d[i - 2];
			d[i + 2] -= d[i] ^ ROTL(d[i - 3], 13);
			d[i + 1] -= d[i - 1] ^ d[i - 4];
			d[i] -= d[i - 2] ^ ROTL(d[i - 5], 9);
		}
		for (size_t i = 8; i-- > 0;)
			d[i] -= a_term(d, n, i);
	}
}

static void b_decrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < 3; c++) {
		for (size_t i = 0; i + 8 < n; i += 4) {
			d[i] += d[i + 2] ^ d[i + 5];
			d[i + 1] += d[i + 3] ^ ROTL(d[i + 6], 10);
			d[i + 2] += d[i + 4] ^ d[i + 7];
			d[i + 3] += d[i + 5] ^ ROTL(d[i + 8], 25);
		}
		for (size_t i = n - 8; i < n; i++)
			d[i] += b_term(d, n, i);
	}
}

static void b_encrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < 3; c++) {
		for (size_t i = n; i-- > n - 8;)
			d[i] -= b_term(d, n, i);
		for (size_t i = n - 12;; i -= 4) {
			d[i + 3] -= d[i + 5] ^ ROTL(d[i + 8], 25);
			d[i + 2] -= d[i + 4] ^ d[i + 7];
			d[i + 1] -= d[i + 3] ^ ROTL(d[i + 6], 10);
			d[i] -= d[i + 2] ^ d[i + 5];
			if (!i)
				break;
		}
	}
}

static uint32_t ld32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The sector key XORed in and the diffusers, around CBC. */
static void elephant(uint8_t *sector, size_t size, const uint8_t key[32], int decrypt)
{
	uint32_t w[1024];
	size_t n = size / 4;
	if (!decrypt)
		for (size_t i = 0; i < size; i++)
			sector[i] ^= key[i & 31];
	for (size_t i = 0; i < n; i++)
		w[i] = ld32(sector + 4 * i);
	if (decrypt) {
		b_decrypt(w, n);
		a_decrypt(w, n);
	} else {
		a_encrypt(w, n);
		b_encrypt(w, n);
	}
	for (size_t i = 0; i < n; i++)
		st32(sector + 4 * i, w[i]);
	if (decrypt)
		for (size_t i = 0; i < size; i++)
			sector[i] ^= key[i & 31];
	ssrp_memzero(w, n * 4);
}

static int cbc_run(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in, uint64_t first, size_t n,
		   size_t size, int enc)
{
	int diffuser = c->method <= SSRP_FVE_ALG_CBC_ELEPHANT_256;
	EVP_CIPHER_CTX *ctx = enc ? c->cbc_enc : c->cbc_dec;
	uint8_t ivs[BATCH * 16], keys[BATCH * 32];
	int rc = SSRP_OK;
	for (size_t done = 0; rc == SSRP_OK && done < n; done += BATCH) {
		size_t k = n - done < BATCH ? n - done : BATCH;
		rc = offset_blocks(c->iv_ecb, ivs, first + done, k, size, 0);
		if (!rc && diffuser)
			rc = offset_blocks(c->tweak_ecb, keys, first + done, k, size, 1);
		for (size_t s = 0; rc == SSRP_OK && s < k; s++) {
			uint8_t *o = out + (done + s) * size;
			const uint8_t *i = in + (done + s) * size;
			int outl = 0;
			if (enc && diffuser) {
				if (o != i)
					memcpy(o, i, size);
				elephant(o, size, keys + 32 * s, 0);
				i = o;
			}
			if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, ivs + 16 * s, enc) != 1 ||
			    EVP_CipherUpdate(ctx, o, &outl, i, (int)size) != 1 || (size_t)outl != size)
				rc = SSRP_E_GENERIC;
			else if (!enc && diffuser)
				elephant(o, size, keys + 32 * s, 1);
		}
	}
	ssrp_memzero(keys, sizeof keys);
	if (rc) {
		ssrp_memzero(out, n * size);
		return ssrp_error_set(SSRP_E_GENERIC, "AES-CBC %s of sectors from %llu failed",
				      enc ? "encryption" : "decryption", (unsigned long long)first);
	}
	return SSRP_OK;
}

static int run(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in, uint64_t first, size_t n,
	       size_t size, int enc)
{
	if (!c || (n && (!out || !in)))
		return ssrp_error_set(SSRP_E_INVALID, "sector cipher: NULL argument");
	if (size < 64 || size % 32 || size > 4096 || n > (UINT64_MAX - first))
		return ssrp_error_set(SSRP_E_INVALID, "sector cipher: %zu-byte sectors", size);
	if (c->xts)
		return enc ? ssrp_xts_encrypt(c->xts, out, in, first, n, size)
			   : ssrp_xts_decrypt(c->xts, out, in, first, n, size);
	return cbc_run(c, out, in, first, n, size, enc);
}

int ssrp_fve_cipher_decrypt(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in,
			    uint64_t first_sector, size_t n, size_t sector_size)
{
	return run(c, out, in, first_sector, n, sector_size, 0);
}

int ssrp_fve_cipher_encrypt(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in,
			    uint64_t first_sector, size_t n, size_t sector_size)
{
	return run(c, out, in, first_sector, n, sector_size, 1);
}
