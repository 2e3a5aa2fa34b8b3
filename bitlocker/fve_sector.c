/* BitLocker's sector ciphers (see fve_sector.h). The Elephant diffuser
 * follows Niels Ferguson's description ("AES-CBC + Elephant diffuser",
 * Microsoft, 2006): decryption is CBC, diffuser B, diffuser A, then the
 * sector key XORed in; encryption runs the inverse steps backwards.
 *
 * Speed: a batch of sectors is decrypted by one CBC call (each sector's
 * first block corrected for its own IV afterwards), and the diffusers run
 * on as many sectors side by side as the vector unit has 32-bit lanes,
 * word i of each in one vector, so every step is one vector operation
 * (within one sector, diffuser A's decryption is a serial chain). */
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
	const struct diffuser *diffuser;   /* Elephant: the one for this processor */
	uint8_t *scratch;                  /* Elephant: its words, SCRATCH_BYTES */
};

/* An Elephant diffuser: fn diffuses k <= lanes sectors at once. */
struct diffuser {
	size_t lanes;
	void (*fn)(void *scratch, uint8_t *p, size_t k, size_t size, const uint8_t *keys,
		   int decrypt);
};

enum {
	BATCH = 64,	  /* sectors per CBC decryption and per ECB call for IVs and keys */
	MAX_LANES = 16,	  /* the widest diffuser's */
	MAX_WORDS = 1024, /* 32-bit words in the largest sector (4096 bytes) */
	SCRATCH_BYTES = 64 + MAX_WORDS * MAX_LANES * 4, /* 64: room to align */
};

static const struct diffuser *diffuser_for_this_cpu(void);

void ssrp_fve_cipher_free(ssrp_fve_cipher *c)
{
	if (!c)
		return;
	ssrp_xts_free(c->xts);
	EVP_CIPHER_CTX_free(c->cbc_enc);
	EVP_CIPHER_CTX_free(c->cbc_dec);
	EVP_CIPHER_CTX_free(c->iv_ecb);
	EVP_CIPHER_CTX_free(c->tweak_ecb);
	if (c->scratch)
		ssrp_free_secret(c->scratch, SCRATCH_BYTES);
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
		if (method <= SSRP_FVE_ALG_CBC_ELEPHANT_256) {
			c->tweak_ecb = aes_ctx(fvek + 32, key_len, 0, 1);
			c->diffuser = diffuser_for_this_cpu();
			if (!(c->scratch = ssrp_malloc(SCRATCH_BYTES)))
				rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory for the diffuser");
		}
		if (!rc && (!c->cbc_enc || !c->cbc_dec || !c->iv_ecb ||
			    (method <= SSRP_FVE_ALG_CBC_ELEPHANT_256 && !c->tweak_ecb)))
			rc = ssrp_error_set(SSRP_E_GENERIC, "AES-CBC: the key was refused");
	}
	if (rc) {
		ssrp_fve_cipher_free(c);
		return rc;
	}
	*out = c;
	return SSRP_OK;
}

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

/* The diffuser is defined on little-endian 32-bit words. */
static uint32_t ld32(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
#else
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

static void st32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 4);
#else
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
#endif
}

/* The diffuser at each vector width (fve_elephant_lanes.h): on x86-64 for
 * AVX-512 (16 lanes), AVX2 (8) and the baseline SSE2 (4), the processor
 * choosing at run time; elsewhere 4 lanes for the compiler to map. */
#if defined(__GNUC__)
#define STEP static inline __attribute__((always_inline))
#define VECTOR_LANES 1
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define VECTOR_TRANSPOSE 1
#endif
#endif
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target)
#define DIFFUSER_X86 1
#endif
#endif
#else
#define STEP static inline
#endif

#ifdef DIFFUSER_X86
#define LANES 16
#define LANES_SUFFIX avx512
#define LANES_TARGET __attribute__((target("avx512f")))
#include "bitlocker/fve_elephant_lanes.h"
#define LANES 8
#define LANES_SUFFIX avx2
#define LANES_TARGET __attribute__((target("avx2")))
#include "bitlocker/fve_elephant_lanes.h"
#endif
#define LANES 4
#define LANES_SUFFIX base
#define LANES_TARGET
#include "bitlocker/fve_elephant_lanes.h"

/* Widest first. */
static const struct diffuser diffusers[] = {
#ifdef DIFFUSER_X86
	{16, elephant_avx512},
	{8, elephant_avx2},
#endif
	{4, elephant_base},
};

static int cpu_has(const struct diffuser *d)
{
#ifdef DIFFUSER_X86
	__builtin_cpu_init();
	if (d->lanes == 16)
		return __builtin_cpu_supports("avx512f");
	if (d->lanes == 8)
		return __builtin_cpu_supports("avx2");
#endif
	return d->lanes == 4;
}

static const struct diffuser *diffuser_for_this_cpu(void)
{
	size_t i = 0;
	while (!cpu_has(&diffusers[i]))
		i++;
	return &diffusers[i];
}

int ssrp_fve_cipher_use_lanes(ssrp_fve_cipher *c, size_t lanes)
{
	if (!c || !c->diffuser)
		return ssrp_error_set(SSRP_E_INVALID, "the sector cipher has no Elephant diffuser");
	for (size_t i = 0; i < sizeof diffusers / sizeof diffusers[0]; i++) {
		if (diffusers[i].lanes == lanes && cpu_has(&diffusers[i])) {
			c->diffuser = &diffusers[i];
			return SSRP_OK;
		}
	}
	return ssrp_error_set(SSRP_E_NOTSUPPORTED,
			      "no %zu-lane Elephant diffuser on this processor or build", lanes);
}

/* Aligned to a cache line: no vector straddles two. */
static void *scratch_words(const ssrp_fve_cipher *c)
{
	return c->scratch + (-(uintptr_t)c->scratch & 63);
}

static void diffuse(ssrp_fve_cipher *c, uint8_t *p, size_t k, size_t size, const uint8_t *keys,
		    int decrypt)
{
	size_t lanes = c->diffuser->lanes;
	for (size_t s = 0; s < k; s += lanes)
		c->diffuser->fn(scratch_words(c), p + s * size, k - s < lanes ? k - s : lanes, size,
				keys + 32 * s, decrypt);
}

/* k sectors of one batch decrypted by one CBC call under the first
 * sector's IV: every later sector's first block then came out XORed with
 * the previous sector's last ciphertext block instead of its own IV, which
 * fix[] swaps (saved before an in-place decryption overwrites it). */
static int cbc_decrypt_batch(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t k,
			     size_t size, const uint8_t *ivs)
{
	uint8_t fix[BATCH][16];
	for (size_t s = 1; s < k; s++)
		for (size_t b = 0; b < 16; b++)
			fix[s][b] = ivs[16 * s + b] ^ in[s * size - 16 + b];
	int outl = 0;
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, ivs) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &outl, in, (int)(k * size)) != 1 ||
	    (size_t)outl != k * size)
		return SSRP_E_GENERIC;
	for (size_t s = 1; s < k; s++)
		for (size_t b = 0; b < 16; b++)
			out[s * size + b] ^= fix[s][b];
	return SSRP_OK;
}

static int cbc_encrypt_batch(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t k,
			     size_t size, const uint8_t *ivs)
{
	for (size_t s = 0; s < k; s++) {
		int outl = 0;
		if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, ivs + 16 * s) != 1 ||
		    EVP_EncryptUpdate(ctx, out + s * size, &outl, in + s * size, (int)size) != 1 ||
		    (size_t)outl != size)
			return SSRP_E_GENERIC;
	}
	return SSRP_OK;
}

static int cbc_run(ssrp_fve_cipher *c, uint8_t *out, const uint8_t *in, uint64_t first, size_t n,
		   size_t size, int enc)
{
	int diffuser = c->method <= SSRP_FVE_ALG_CBC_ELEPHANT_256;
	uint8_t ivs[BATCH * 16], keys[BATCH * 32];
	int rc = SSRP_OK;
	for (size_t done = 0; rc == SSRP_OK && done < n; done += BATCH) {
		size_t k = n - done < BATCH ? n - done : BATCH;
		uint8_t *o = out + done * size;
		const uint8_t *i = in + done * size;
		rc = offset_blocks(c->iv_ecb, ivs, first + done, k, size, 0);
		if (!rc && diffuser)
			rc = offset_blocks(c->tweak_ecb, keys, first + done, k, size, 1);
		if (rc)
			break;
		if (enc) {
			if (diffuser) {
				if (o != i)
					memcpy(o, i, k * size);
				diffuse(c, o, k, size, keys, 0);
				i = o;
			}
			rc = cbc_encrypt_batch(c->cbc_enc, o, i, k, size, ivs);
		} else {
			rc = cbc_decrypt_batch(c->cbc_dec, o, i, k, size, ivs);
			if (!rc && diffuser)
				diffuse(c, o, k, size, keys, 1);
		}
	}
	ssrp_memzero(keys, sizeof keys);
	if (diffuser)
		ssrp_memzero(scratch_words(c), size * c->diffuser->lanes);
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
