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

/* One AES block of the byte offset (LE u64, zero-padded) under ctx; the
 * Elephant sector key's second block sets its last byte to 0x80. */
static int offset_block(EVP_CIPHER_CTX *ctx, uint8_t out[16], uint64_t offset, uint8_t last)
{
	uint8_t in[16] = {0};
	int outl = 0;
	for (unsigned k = 0; k < 8; k++)
		in[k] = (uint8_t)(offset >> (8 * k));
	in[15] = last;
	return EVP_EncryptUpdate(ctx, out, &outl, in, 16) == 1 && outl == 16 ? SSRP_OK : SSRP_E_GENERIC;
}

static uint32_t rotl(uint32_t v, unsigned r)
{
	return r ? (v << r) | (v >> (32 - r)) : v;
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

/* Diffuser A (5 cycles, d[i] with d[i-2] and d[i-5], rotations 9,0,13,0)
 * and B (3 cycles, d[i+2] and d[i+5], rotations 0,10,0,25), indices mod n,
 * in the decryption direction (+) or the encryption direction (-). */
static void diffuse(uint32_t *d, size_t n, int a, int decrypt)
{
	static const unsigned ra[4] = {9, 0, 13, 0}, rb[4] = {0, 10, 0, 25};
	const unsigned *rot = a ? ra : rb;
	int cycles = a ? 5 : 3;
	size_t o2 = a ? n - 2 : 2, o5 = a ? n - 5 : 5; /* i-2, i-5 or i+2, i+5 mod n */
	for (int c = 0; c < cycles; c++) {
		for (size_t k = 0; k < n; k++) {
			size_t i = decrypt ? k : n - 1 - k;
			size_t j2 = i + o2, j5 = i + o5;
			if (j2 >= n)
				j2 -= n;
			if (j5 >= n)
				j5 -= n;
			uint32_t t = d[j2] ^ rotl(d[j5], rot[i & 3]);
			d[i] = decrypt ? d[i] + t : d[i] - t;
		}
	}
}

static int elephant(ssrp_fve_cipher *c, uint8_t *sector, size_t size, uint64_t offset, int decrypt)
{
	uint8_t key[32];
	uint32_t w[1024];
	size_t n = size / 4;
	if (n > sizeof w / sizeof w[0])
		return ssrp_error_set(SSRP_E_INVALID, "Elephant: %zu-byte sectors are too large", size);
	if (offset_block(c->tweak_ecb, key, offset, 0) || offset_block(c->tweak_ecb, key + 16, offset, 0x80))
		return ssrp_error_set(SSRP_E_GENERIC, "Elephant: the sector key failed");
	if (!decrypt)
		for (size_t i = 0; i < size; i++)
			sector[i] ^= key[i & 31];
	for (size_t i = 0; i < n; i++)
		w[i] = ld32(sector + 4 * i);
	if (decrypt) {
		diffuse(w, n, 0, 1);
		diffuse(w, n, 1, 1);
	} else {
		diffuse(w, n, 1, 0);
		diffuse(w, n, 0, 0);
	}
	for (size_t i = 0; i < n; i++)
		st32(sector + 4 * i, w[i]);
	if (decrypt)
		for (size_t i = 0; i < size; i++)
			sector[i] ^= key[i & 31];
	ssrp_memzero(key, sizeof key);
	ssrp_memzero(w, n * 4);
	return SSRP_OK;
}

static int cbc_run(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in, uint64_t first, size_t n,
		   size_t size, int enc)
{
	int diffuser = c->method <= SSRP_FVE_ALG_CBC_ELEPHANT_256;
	EVP_CIPHER_CTX *ctx = enc ? c->cbc_enc : c->cbc_dec;
	for (size_t s = 0; s < n; s++) {
		uint64_t offset = (first + s) * size;
		uint8_t iv[16];
		uint8_t *o = out + s * size;
		const uint8_t *i = in + s * size;
		int outl = 0, rc = offset_block(c->iv_ecb, iv, offset, 0);
		if (!rc && enc && diffuser) {
			if (o != i)
				memcpy(o, i, size);
			rc = elephant(c, o, size, offset, 0);
			i = o;
		}
		if (!rc && (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc) != 1 ||
			    EVP_CipherUpdate(ctx, o, &outl, i, (int)size) != 1 || (size_t)outl != size))
			rc = SSRP_E_GENERIC;
		if (!rc && !enc && diffuser)
			rc = elephant(c, o, size, offset, 1);
		if (rc) {
			ssrp_memzero(out, n * size);
			return ssrp_error_set(SSRP_E_GENERIC, "AES-CBC %s of sector %llu failed",
					      enc ? "encryption" : "decryption",
					      (unsigned long long)(first + s));
		}
	}
	return SSRP_OK;
}

static int run(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in, uint64_t first, size_t n,
	       size_t size, int enc)
{
	if (!c || (n && (!out || !in)))
		return ssrp_error_set(SSRP_E_INVALID, "sector cipher: NULL argument");
	if (size < 32 || size % 32 || size > 4096 || n > (UINT64_MAX - first))
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
