/* BitLocker's cryptography: key stretching, AES-CCM wrapping, XTS sectors,
 * against the known answers in the reference notes and against
 * straightforward OpenSSL computations (recovery passwords:
 * test_recovery_password.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "bitlocker/fve_crypto.h"
#include "bitlocker/fve_metadata.h"
#include "bitlocker/fve_sector.h"
#include "bitlocker/stretch.h"
#include "hal/crypto.h"
#include "hal/random.h"
#include "ssrp/error.h"
#include "tests/unit/test_expect.h"

static const char KAT_KEY16[] = "a9271227a6f2584a3ba649e6dccac576";
static const char KAT_SALT[] = "432dd19f37dd413a88552225628c8ae5";
static const char KAT_STRETCHED[] =
	"a31cc882bcbf88273facd5a8d1a5018cecf2b9ecee7e7e3d2f01fdd25919b8b2";

/* hex → bytes; the length must match exactly. */
static void unhex(uint8_t *out, size_t len, const char *hex)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}


/* ---- stretching -------------------------------------------------------- */

/* The definition, spelled out with one EVP digest per iteration. */
static void stretch_reference(uint8_t out[32], const uint8_t initial[32], const uint8_t salt[16],
			      uint32_t iterations)
{
	uint8_t s[88] = {0};
	memcpy(s + 32, initial, 32);
	memcpy(s + 64, salt, 16);
	for (uint64_t count = 0; count < iterations; count++) {
		for (int k = 0; k < 8; k++)
			s[80 + k] = (uint8_t)(count >> (8 * k));
		unsigned n = 0;
		assert_int_equal(EVP_Digest(s, sizeof s, s, &n, EVP_sha256(), NULL), 1);
	}
	memcpy(out, s, 32);
}

static void stretch_known_answer(void **state)
{
	(void)state;
	uint8_t key16[16], salt[16], want[32], out[32], initial[32];
	unhex(key16, sizeof key16, KAT_KEY16);
	unhex(salt, sizeof salt, KAT_SALT);
	unhex(want, sizeof want, KAT_STRETCHED);
	assert_int_equal(ssrp_stretch_recovery_key(out, key16, salt), SSRP_OK);
	assert_memory_equal(out, want, 32);

	/* The same 2^20 iterations through ssrp_stretch directly: the same loop
	 * again, 10 s and more under memcheck, so the valgrind run leaves it to
	 * the plain and ASan runs (stretch_matches_definition calls it there). */
	if (getenv("SSRP_UNDER_VALGRIND"))
		return;
	memset(out, 0, sizeof out);
	assert_int_equal(ssrp_sha256(initial, key16, 16), 0);
	assert_int_equal(ssrp_stretch(out, initial, salt, SSRP_STRETCH_ITERATIONS), SSRP_OK);
	assert_memory_equal(out, want, 32);
}

static void stretch_matches_definition(void **state)
{
	(void)state;
	uint8_t initial[32], salt[16], a[32], b[32];
	for (int i = 0; i < 32; i++)
		initial[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)(0xf0 - i);
	/* 1 and 2 iterations, and enough to carry into count's second byte. */
	static const uint32_t counts[] = {1, 2, 255, 256, 257, 700};
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
		assert_int_equal(ssrp_stretch(a, initial, salt, counts[i]), SSRP_OK);
		stretch_reference(b, initial, salt, counts[i]);
		assert_memory_equal(a, b, 32);
	}
	assert_int_equal(ssrp_stretch(a, initial, salt, 0), SSRP_E_INVALID);
	assert_int_equal(ssrp_stretch(NULL, initial, salt, 1), SSRP_E_INVALID);
	assert_int_equal(ssrp_stretch_recovery_key(a, NULL, salt), SSRP_E_INVALID);
}

/* ---- AES-CCM ----------------------------------------------------------- */

typedef struct ccm_vector {
	const char *key, *nonce, *tag_ct, *pt;
} ccm_vector;

static const ccm_vector ccm_vectors[] = {
	/* the VMK unwrapped with the stretched KAT key */
	{KAT_STRETCHED, "a0da3fc75f6cd30106000000",
	 "3e57c68216ef3d2b8139fdb0ec74254b"
	 "df453e688401e89b41cae7c250739a8b36edd4fe86a597b5823cf3e0f41c98f623b528960a4bee00c42131ef",
	 "2c000000010000000320000057adebffd7770bf878ed0752a9daa1cfdcaeb2fd29d764a1dd4388424ab16d"
	 "df"},
	/* libcaes' vector */
	{"8a2941ff7b3a5ee90bca70fbb265afabed68b1550765255540c8861e137ed094",
	 "60d517865b53cc0103000000",
	 "a8df3d7c99742c49688570846ad5f80c6b66c68a3e30b75bed61529c73ce365ca1960e91a14883678d0941de"
	 "510b0449a419b51e49d2acfd6a0a788c",
	 "2c0000000100000003200000688a51700614dbd1c100f568c4bd29a63c463672be6bdef54b918bb9a3a43c"
	 "bc"},
};

#define CCM_PT_LEN 44

typedef struct ccm_bytes {
	uint8_t key[32], nonce[12], tag[16], ct[CCM_PT_LEN], pt[CCM_PT_LEN];
} ccm_bytes;

static void load_vector(ccm_bytes *b, const ccm_vector *v)
{
	uint8_t tag_ct[16 + CCM_PT_LEN];
	unhex(b->key, sizeof b->key, v->key);
	unhex(b->nonce, sizeof b->nonce, v->nonce);
	unhex(tag_ct, sizeof tag_ct, v->tag_ct);
	unhex(b->pt, sizeof b->pt, v->pt);
	/* Stored as on disk: the tag before the ciphertext. */
	memcpy(b->tag, tag_ct, 16);
	memcpy(b->ct, tag_ct + 16, CCM_PT_LEN);
}

static void ccm_known_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ccm_vectors / sizeof *ccm_vectors; i++) {
		ccm_bytes b;
		uint8_t pt[CCM_PT_LEN], ct[CCM_PT_LEN], tag[16];
		load_vector(&b, &ccm_vectors[i]);
		assert_int_equal(ssrp_ccm_decrypt(pt, b.key, b.nonce, b.tag, b.ct, CCM_PT_LEN),
				 SSRP_OK);
		assert_memory_equal(pt, b.pt, CCM_PT_LEN);
		assert_int_equal(ssrp_ccm_encrypt(ct, tag, b.key, b.nonce, b.pt, CCM_PT_LEN),
				 SSRP_OK);
		assert_memory_equal(ct, b.ct, CCM_PT_LEN);
		assert_memory_equal(tag, b.tag, 16);
	}
}

static void expect_bad_key(const ccm_bytes *b)
{
	uint8_t pt[CCM_PT_LEN];
	memset(pt, 0xAA, sizeof pt);
	assert_int_equal(ssrp_ccm_decrypt(pt, b->key, b->nonce, b->tag, b->ct, CCM_PT_LEN),
			 SSRP_E_BAD_KEY);
	assert_true(all_zero(pt, sizeof pt));
	expect_message("tag does not match");
}

static void ccm_tamper(void **state)
{
	(void)state;
	ccm_bytes good, b;
	load_vector(&good, &ccm_vectors[0]);
	for (size_t bit = 0; bit < 8 * CCM_PT_LEN; bit += 13) {
		b = good;
		b.ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_bad_key(&b);
	}
	b = good;
	b.tag[15] ^= 0x80;
	expect_bad_key(&b);
	b = good;
	b.key[0] ^= 1;
	expect_bad_key(&b);
	b = good;
	b.nonce[11] ^= 1;
	expect_bad_key(&b);

	/* A shorter message under the same tag: also a mismatch. */
	uint8_t pt[CCM_PT_LEN];
	memset(pt, 0xAA, sizeof pt);
	assert_int_equal(ssrp_ccm_decrypt(pt, good.key, good.nonce, good.tag, good.ct, 40),
			 SSRP_E_BAD_KEY);
	assert_true(all_zero(pt, 40));

	assert_int_equal(ssrp_ccm_decrypt(pt, good.key, good.nonce, good.tag, good.ct, 0),
			 SSRP_E_INVALID);
	assert_int_equal(ssrp_ccm_encrypt(pt, good.tag, NULL, good.nonce, good.pt, 4),
			 SSRP_E_INVALID);
}

static void ccm_roundtrip_sizes(void **state)
{
	(void)state;
	uint8_t key[32], nonce[12], pt[300], ct[300], back[300], tag[16];
	assert_int_equal(ssrp_random_bytes(key, sizeof key), SSRP_OK);
	assert_int_equal(ssrp_random_bytes(nonce, sizeof nonce), SSRP_OK);
	assert_int_equal(ssrp_random_bytes(pt, sizeof pt), SSRP_OK);
	static const size_t lens[] = {1, 15, 16, 17, 44, 60, 300};
	for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
		assert_int_equal(ssrp_ccm_encrypt(ct, tag, key, nonce, pt, lens[i]), SSRP_OK);
		assert_int_equal(ssrp_ccm_decrypt(back, key, nonce, tag, ct, lens[i]), SSRP_OK);
		assert_memory_equal(back, pt, lens[i]);
	}
}

/* ---- XTS --------------------------------------------------------------- */

#define SECTOR 512

static void test_key(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		key[i] = (uint8_t)(i * 29 + 11);
}

/* One sector with a fresh EVP context: the computation ssrp_xts must match. */
static void evp_xts_sector(uint8_t *out, const uint8_t *in, const uint8_t *key, size_t key_len,
			   uint64_t sector, int enc)
{
	uint8_t iv[16] = {0};
	for (int k = 0; k < 8; k++)
		iv[k] = (uint8_t)(sector >> (8 * k));
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	assert_non_null(ctx);
	const EVP_CIPHER *c = key_len == 32 ? EVP_aes_128_xts() : EVP_aes_256_xts();
	int outl = 0;
	assert_int_equal(EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc), 1);
	assert_int_equal(EVP_CipherUpdate(ctx, out, &outl, in, SECTOR), 1);
	assert_int_equal(outl, SECTOR);
	EVP_CIPHER_CTX_free(ctx);
}

static void xts_roundtrip_and_evp(void **state)
{
	(void)state;
	static const size_t key_lens[] = {32, 64};
	enum { N = 6 };
	static uint8_t pt[N * SECTOR], ct[N * SECTOR], back[N * SECTOR], ref[SECTOR];
	for (size_t i = 0; i < sizeof pt; i++)
		pt[i] = (uint8_t)(i ^ (i >> 8));
	for (size_t k = 0; k < 2; k++) {
		uint8_t key[64];
		test_key(key, key_lens[k]);
		ssrp_xts *x = NULL;
		assert_int_equal(ssrp_xts_new(&x, key, key_lens[k]), SSRP_OK);
		uint64_t first = 1000 + 0x100000000ull; /* a tweak using more than 32 bits */
		assert_int_equal(ssrp_xts_encrypt(x, ct, pt, first, N, SECTOR), SSRP_OK);
		assert_memory_not_equal(ct, pt, SECTOR);
		for (size_t s = 0; s < N; s++) {
			evp_xts_sector(ref, pt + s * SECTOR, key, key_lens[k], first + s, 1);
			assert_memory_equal(ct + s * SECTOR, ref, SECTOR);
		}
		assert_int_equal(ssrp_xts_decrypt(x, back, ct, first, N, SECTOR), SSRP_OK);
		assert_memory_equal(back, pt, sizeof pt);
		/* in place */
		memcpy(back, pt, sizeof pt);
		assert_int_equal(ssrp_xts_encrypt(x, back, back, first, N, SECTOR), SSRP_OK);
		assert_memory_equal(back, ct, sizeof ct);
		assert_int_equal(ssrp_xts_decrypt(x, back, back, first, N, SECTOR), SSRP_OK);
		assert_memory_equal(back, pt, sizeof pt);
		ssrp_xts_free(x);
	}
}

static void xts_tweak_is_sector_number(void **state)
{
	(void)state;
	uint8_t key[32];
	static uint8_t pt[6 * SECTOR], run[6 * SECTOR], one[SECTOR];
	test_key(key, sizeof key);
	memset(pt, 0x5c, sizeof pt);
	ssrp_xts *x = NULL;
	assert_int_equal(ssrp_xts_new(&x, key, sizeof key), SSRP_OK);
	assert_int_equal(ssrp_xts_encrypt(x, run, pt, 0, 6, SECTOR), SSRP_OK);
	assert_int_equal(ssrp_xts_encrypt(x, one, pt + 5 * SECTOR, 5, 1, SECTOR), SSRP_OK);
	assert_memory_equal(one, run + 5 * SECTOR, SECTOR);
	/* Same plaintext, different sectors: different ciphertext. */
	assert_memory_not_equal(run, run + SECTOR, SECTOR);
	/* Not the byte offset: sector 5 of 512 bytes is not tweak 2560. */
	assert_int_equal(ssrp_xts_encrypt(x, one, pt, 5 * SECTOR, 1, SECTOR), SSRP_OK);
	assert_memory_not_equal(one, run + 5 * SECTOR, SECTOR);
	ssrp_xts_free(x);
}

static void xts_refusals(void **state)
{
	(void)state;
	uint8_t key[64];
	ssrp_xts *x = (ssrp_xts *)(uintptr_t)1;
	test_key(key, 16);
	memcpy(key + 16, key, 16);
	assert_int_equal(ssrp_xts_new(&x, key, 32), SSRP_E_INVALID);
	assert_null(x);
	expect_message("halves");
	test_key(key, 32);
	memcpy(key + 32, key, 32);
	assert_int_equal(ssrp_xts_new(&x, key, 64), SSRP_E_INVALID);
	expect_message("halves");
	assert_int_equal(ssrp_xts_new(&x, key, 48), SSRP_E_INVALID);
	expect_message("48-byte key");
	assert_int_equal(ssrp_xts_new(NULL, key, 32), SSRP_E_INVALID);

	test_key(key, 32);
	assert_int_equal(ssrp_xts_new(&x, key, 32), SSRP_OK);
	uint8_t buf[SECTOR] = {0};
	assert_int_equal(ssrp_xts_encrypt(x, buf, buf, 0, 1, 8), SSRP_E_INVALID);
	assert_int_equal(ssrp_xts_encrypt(x, buf, buf, UINT64_MAX, 2, 16), SSRP_E_INVALID);
	assert_int_equal(ssrp_xts_encrypt(NULL, buf, buf, 0, 1, SECTOR), SSRP_E_INVALID);
	assert_int_equal(ssrp_xts_encrypt(x, buf, buf, 0, 0, SECTOR), SSRP_OK);
	ssrp_xts_free(x);
	ssrp_xts_free(NULL);
}

/* One sector of a Windows-made AES-128-CBC + Elephant volume (the relocated
 * boot sector of cryptsetup's bitlk-aes-cbc-elephant-128 image, physical
 * sector 0x15168): its FVEK as the KEY datum holds it, the sector on disk,
 * and the NTFS boot sector Windows shows. */
static const char elephant_key[] =
	"9d2733e172dc85e13e3de5aaa0e0501b8444fe4bcabcca6b137dcc3f9f9300e2fd22a3f27966c51c94c8e3adce517b6e"
	"a013228b03583e8db1254d91786aeafe";
static const char elephant_ct[] =
	"2175c8446934efd6c9602aeb990295e92143dfe7918377df463951b7e0d32116a2999ee8962ce8e07006e94d6c68fd4e"
	"cb7276654ca2768f6126db515c4dd868d49c07174237b9ff703d97580467ec7624f75fa4be17838e8ab51aedc49c9a6a"
	"80b188cfd52aa1616b0c147cab782503d7f437e276827d385c948601f8045dc362be605e9e6b2e4657842f43e75d0ea3"
	"efbe4b1b43936cc8256d4d7da06bc628ef1055309ebe575345464120c0d93ca0c7c09f1dc839a54a92ae074be5688149"
	"fd4b77b622b7b2042d6f07dd4d7a88e939feac607d871063165ad8e1e592b26d21e819f758d5a7191676bbb4e34be7ae"
	"57d04ef5008bc102f62080caca7e33de485bf6c03a949758ae4d763bd228042b5ef2983d48ab57ab8108026385144d79"
	"05027460b38b4ffdc55657975fd4a9f72205952e3690a500a589feb7f5e97fb2760b6822842b77161f434700f2dbae29"
	"e45f873cfc7657495c0bbc84bb687fa2c2467f2df8da9b3eacff1afb4a4bc3bbe2bc7115bd10f9772825b6643f25d47a"
	"447391b3c43adeb868fca7670a9e59194b1ca8be45bee55c5cb7b6a4cb68fe02386795eb8623f9f9c78e6ee964ed2d7d"
	"c14c3be6cd3fe6d92a5a26800751ac8c3019df834b5c2bcfd323b5149c8be75c01415482e84fd2216cd9781c18a1671f"
	"bbb1693bdca4391c58f8cdd67fe3e54cd414f7b67633cf927b31b4acb33dafbe";
static const char elephant_pt[] =
	"eb52904e5446532020202000020800000000000000f800003f00ff00800000000000000080008000ffff030000000000"
	"aa2a0000000000000200000000000000f600000001000000c10bf6cc5af6cc3e00000000fa33c08ed0bc007cfb68c007"
	"1f1e686600cb88160e0066813e03004e5446537515b441bbaa55cd13720c81fb55aa7506f7c101007503e9dd001e83ec"
	"18681a00b4488a160e008bf4161fcd139f83c4189e581f72e13b060b0075dba30f00c12e0f00041e5a33dbb900202bc8"
	"66ff06110003160f008ec2ff061600e84b002bc877efb800bbcd1a6623c0752d6681fb54435041752481f90201721e16"
	"6807bb1668700e1668090066536653665516161668b80166610e07cd1a33c0bf2810b9d80ffcf3aae95f01909066601e"
	"0666a111006603061c001e66680000000066500653680100681000b4428a160e00161f8bf4cd1366595b5a665966591f"
	"0f82160066ff06110003160f008ec2ff0e160075bc071f6661c3a0f801e80900a0fb01e80300f4ebfdb4018bf0ac3c00"
	"7409b40ebb0700cd10ebf2c30d0a41206469736b2072656164206572726f72206f63637572726564000d0a424f4f544d"
	"4752206973206d697373696e67000d0a424f4f544d475220697320636f6d70726573736564000d0a5072657373204374"
	"726c2b416c742b44656c20746f20726573746172740d0a008ca9bed6000055aa";

/* AES-CBC + Elephant one sector at a time, written from Ferguson's
 * description ("AES-CBC + Elephant diffuser", 2006) with every index taken
 * mod n and each step on one word: the reference for the sector cipher,
 * which decrypts a batch of sectors in one CBC call and diffuses many
 * sectors at once. fvek holds the data key at 0 and the sector-key key at
 * 32, key_len bytes each. */
static void aes_ecb_block(uint8_t out[16], const uint8_t *key, size_t key_len,
			  const uint8_t in[16])
{
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	int outl = 0;
	assert_non_null(e);
	assert_int_equal(EVP_EncryptInit_ex(e, key_len == 16 ? EVP_aes_128_ecb() : EVP_aes_256_ecb(),
					    NULL, key, NULL),
			 1);
	EVP_CIPHER_CTX_set_padding(e, 0);
	assert_int_equal(EVP_EncryptUpdate(e, out, &outl, in, 16), 1);
	EVP_CIPHER_CTX_free(e);
}

static uint32_t rotl32(uint32_t v, unsigned r)
{
	return r ? (v << r) | (v >> (32 - r)) : v;
}

static void elephant_reference(uint8_t *out, const uint8_t *in, const uint8_t fvek[64],
			       size_t key_len, uint64_t sector, size_t size, int enc)
{
	static const unsigned ra[4] = {9, 0, 13, 0}, rb[4] = {0, 10, 0, 25};
	uint8_t block[16] = {0}, iv[16], sector_key[32];
	uint64_t offset = sector * size;
	for (int b = 0; b < 8; b++)
		block[b] = (uint8_t)(offset >> (8 * b));
	aes_ecb_block(iv, fvek, key_len, block);
	aes_ecb_block(sector_key, fvek + 32, key_len, block);
	block[15] = 0x80;
	aes_ecb_block(sector_key + 16, fvek + 32, key_len, block);

	size_t n = size / 4;
	uint32_t d[1024];
	uint8_t buf[4096];
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *cbc = key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
	int outl = 0;
	assert_non_null(e);
	assert_int_equal(EVP_CipherInit_ex(e, cbc, NULL, fvek, iv, enc), 1);
	EVP_CIPHER_CTX_set_padding(e, 0);
	if (enc) {
		for (size_t i = 0; i < size; i++)
			buf[i] = in[i] ^ sector_key[i % 32];
	} else {
		assert_int_equal(EVP_CipherUpdate(e, buf, &outl, in, (int)size), 1);
	}
	for (size_t i = 0; i < n; i++)
		d[i] = buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 | (uint32_t)buf[4 * i + 2] << 16 |
		       (uint32_t)buf[4 * i + 3] << 24;
	if (enc) {
		for (size_t i = 5 * n; i-- > 0;) /* A, five cycles, backwards */
			d[i % n] -= d[(i + n - 2) % n] ^ rotl32(d[(i + n - 5) % n], ra[i % 4]);
		for (size_t i = 3 * n; i-- > 0;) /* B, three cycles, backwards */
			d[i % n] -= d[(i + 2) % n] ^ rotl32(d[(i + 5) % n], rb[i % 4]);
	} else {
		for (size_t i = 0; i < 3 * n; i++)
			d[i % n] += d[(i + 2) % n] ^ rotl32(d[(i + 5) % n], rb[i % 4]);
		for (size_t i = 0; i < 5 * n; i++)
			d[i % n] += d[(i + n - 2) % n] ^ rotl32(d[(i + n - 5) % n], ra[i % 4]);
	}
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 4; b++)
			buf[4 * i + b] = (uint8_t)(d[i] >> (8 * b));
	if (enc) {
		assert_int_equal(EVP_CipherUpdate(e, out, &outl, buf, (int)size), 1);
	} else {
		for (size_t i = 0; i < size; i++)
			out[i] = buf[i] ^ sector_key[i % 32];
	}
	EVP_CIPHER_CTX_free(e);
}

static void elephant_known_answer(void **state)
{
	(void)state;
	uint8_t key[64], ct[SECTOR], pt[SECTOR], out[SECTOR];
	unhex(key, sizeof key, elephant_key);
	unhex(ct, sizeof ct, elephant_ct);
	unhex(pt, sizeof pt, elephant_pt);
	ssrp_fve_cipher *c = NULL;
	assert_int_equal(ssrp_fve_cipher_new(&c, SSRP_FVE_ALG_CBC_ELEPHANT_128, key, sizeof key),
			 SSRP_OK);
	assert_int_equal(ssrp_fve_cipher_decrypt(c, out, ct, 0x15168, 1, SECTOR), SSRP_OK);
	assert_memory_equal(out, pt, SECTOR);
	assert_int_equal(ssrp_fve_cipher_encrypt(c, out, pt, 0x15168, 1, SECTOR), SSRP_OK);
	assert_memory_equal(out, ct, SECTOR);
	/* Another sector number: another sector key and IV. */
	assert_int_equal(ssrp_fve_cipher_decrypt(c, out, ct, 0x15169, 1, SECTOR), SSRP_OK);
	assert_memory_not_equal(out, pt, SECTOR);
	ssrp_fve_cipher_free(c);
	/* The reference below gives Windows' answer too. */
	elephant_reference(out, ct, key, 16, 0x15168, SECTOR, 0);
	assert_memory_equal(out, pt, SECTOR);
	elephant_reference(out, pt, key, 16, 0x15168, SECTOR, 1);
	assert_memory_equal(out, ct, SECTOR);
}

/* Runs of sectors through the sector cipher equal the reference sector by
 * sector: both key sizes, 512- and 4096-byte sectors and an odd size (96
 * bytes: 24 words), runs of 1, 15, 17 and 70 sectors (one diffuser group,
 * partial ones, more than one batch), out of place and in place, with each
 * diffuser width this processor has (4 lanes everywhere; 8 and 16 with
 * AVX2 and AVX-512). */
static void elephant_run_matches_reference(ssrp_fve_cipher *c, uint16_t method, const uint8_t *key,
					   size_t key_len, size_t lanes)
{
	static const size_t sizes[] = {512, 4096, 96}, counts[] = {1, 15, 17, 70};
	enum { MAXN = 70 };
	static uint8_t pt[MAXN * 4096], ct[MAXN * 4096], ref[4096], back[MAXN * 4096];
	for (size_t i = 0; i < sizeof pt; i++)
		pt[i] = (uint8_t)(i * 131 + (i >> 11) + 3);
	for (size_t z = 0; z < 3; z++) {
		for (size_t m = 0; m < 4; m++) {
			size_t size = sizes[z], n = counts[m], bytes = n * size;
			uint64_t first = 1000 + 77 * m;
			assert_int_equal(ssrp_fve_cipher_encrypt(c, ct, pt, first, n, size), SSRP_OK);
			for (size_t s = 0; s < n; s++) {
				elephant_reference(ref, pt + s * size, key, key_len, first + s, size, 1);
				if (memcmp(ct + s * size, ref, size))
					fail_msg("method 0x%04x, %zu lanes, %zu-byte sectors: sector %zu "
						 "of %zu encrypts differently from the reference",
						 method, lanes, size, s, n);
				elephant_reference(ref, ct + s * size, key, key_len, first + s, size, 0);
				assert_memory_equal(ref, pt + s * size, size);
			}
			memset(back, 0, bytes);
			assert_int_equal(ssrp_fve_cipher_decrypt(c, back, ct, first, n, size), SSRP_OK);
			for (size_t s = 0; s < n; s++)
				if (memcmp(back + s * size, pt + s * size, size))
					fail_msg("method 0x%04x, %zu lanes, %zu-byte sectors: sector %zu "
						 "of %zu decrypts wrong",
						 method, lanes, size, s, n);
			memcpy(back, ct, bytes);
			assert_int_equal(ssrp_fve_cipher_decrypt(c, back, back, first, n, size),
					 SSRP_OK);
			assert_memory_equal(back, pt, bytes);
			memcpy(back, pt, bytes);
			assert_int_equal(ssrp_fve_cipher_encrypt(c, back, back, first, n, size),
					 SSRP_OK);
			assert_memory_equal(back, ct, bytes);
		}
	}
}

static void elephant_matches_reference(void **state)
{
	(void)state;
	static const struct {
		uint16_t method;
		size_t key_len;
	} kinds[] = {{SSRP_FVE_ALG_CBC_ELEPHANT_128, 16}, {SSRP_FVE_ALG_CBC_ELEPHANT_256, 32}};
	static const size_t widths[] = {4, 8, 16};
	for (size_t k = 0; k < 2; k++) {
		uint8_t key[64];
		test_key(key, sizeof key);
		ssrp_fve_cipher *c = NULL;
		assert_int_equal(ssrp_fve_cipher_new(&c, kinds[k].method, key, sizeof key), SSRP_OK);
		/* the default, the widest this processor has */
		elephant_run_matches_reference(c, kinds[k].method, key, kinds[k].key_len, 0);
		for (size_t w = 0; w < 3; w++) {
			int rc = ssrp_fve_cipher_use_lanes(c, widths[w]);
			if (rc == SSRP_E_NOTSUPPORTED && widths[w] > 4) {
				if (k == 0)
					print_message("no %zu-lane diffuser here: not tried\n", widths[w]);
				continue;
			}
			assert_int_equal(rc, SSRP_OK);
			elephant_run_matches_reference(c, kinds[k].method, key, kinds[k].key_len,
						       widths[w]);
		}
		assert_int_equal(ssrp_fve_cipher_use_lanes(c, 5), SSRP_E_NOTSUPPORTED);
		ssrp_fve_cipher_free(c);
	}
	/* Only Elephant methods have a diffuser. */
	uint8_t key[32];
	test_key(key, sizeof key);
	ssrp_fve_cipher *c = NULL;
	assert_int_equal(ssrp_fve_cipher_new(&c, SSRP_FVE_ALG_CBC_256, key, sizeof key), SSRP_OK);
	assert_int_equal(ssrp_fve_cipher_use_lanes(c, 4), SSRP_E_INVALID);
	ssrp_fve_cipher_free(c);
}

/* AES-CBC sectors: IV = AES(key, byte offset as LE u64, zero-padded), then
 * plain CBC, computed here with OpenSSL directly. */
static void cbc_matches_definition(void **state)
{
	(void)state;
	static const struct {
		uint16_t method;
		size_t key_len;
	} kinds[] = {{SSRP_FVE_ALG_CBC_128, 16}, {SSRP_FVE_ALG_CBC_256, 32}};
	static const size_t sizes[] = {512, 4096};
	static uint8_t pt[3 * 4096], ct[3 * 4096], ref[4096], back[3 * 4096];
	for (size_t i = 0; i < sizeof pt; i++)
		pt[i] = (uint8_t)(i * 7 + (i >> 9));
	for (size_t k = 0; k < 2; k++) {
		for (size_t z = 0; z < 2; z++) {
			size_t size = sizes[z];
			uint8_t key[32];
			test_key(key, kinds[k].key_len);
			ssrp_fve_cipher *c = NULL;
			assert_int_equal(ssrp_fve_cipher_new(&c, kinds[k].method, key, kinds[k].key_len),
					 SSRP_OK);
			uint64_t first = 77;
			assert_int_equal(ssrp_fve_cipher_encrypt(c, ct, pt, first, 3, size), SSRP_OK);
			for (size_t s = 0; s < 3; s++) {
				uint8_t block[16] = {0}, iv[16];
				uint64_t offset = (first + s) * size;
				int outl = 0;
				for (int b = 0; b < 8; b++)
					block[b] = (uint8_t)(offset >> (8 * b));
				EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
				assert_non_null(e);
				const EVP_CIPHER *ecb = kinds[k].key_len == 16 ? EVP_aes_128_ecb()
									 : EVP_aes_256_ecb();
				const EVP_CIPHER *cbc = kinds[k].key_len == 16 ? EVP_aes_128_cbc()
									 : EVP_aes_256_cbc();
				assert_int_equal(EVP_EncryptInit_ex(e, ecb, NULL, key, NULL), 1);
				EVP_CIPHER_CTX_set_padding(e, 0);
				assert_int_equal(EVP_EncryptUpdate(e, iv, &outl, block, 16), 1);
				assert_int_equal(EVP_EncryptInit_ex(e, cbc, NULL, key, iv), 1);
				EVP_CIPHER_CTX_set_padding(e, 0);
				assert_int_equal(EVP_EncryptUpdate(e, ref, &outl, pt + s * size, (int)size), 1);
				EVP_CIPHER_CTX_free(e);
				assert_memory_equal(ct + s * size, ref, size);
			}
			assert_int_equal(ssrp_fve_cipher_decrypt(c, back, ct, first, 3, size), SSRP_OK);
			assert_memory_equal(back, pt, 3 * size);
			ssrp_fve_cipher_free(c);
		}
	}
}

/* Every method decrypts what it encrypts, in place too, at both sector
 * sizes; XTS through the sector cipher is ssrp_xts; a key of the wrong
 * length for its method is refused. */
static void sector_cipher_roundtrips(void **state)
{
	(void)state;
	static const struct {
		uint16_t method;
		size_t key_len;
	} kinds[] = {{SSRP_FVE_ALG_CBC_ELEPHANT_128, 64}, {SSRP_FVE_ALG_CBC_ELEPHANT_256, 64},
		     {SSRP_FVE_ALG_CBC_128, 16},	  {SSRP_FVE_ALG_CBC_256, 32},
		     {SSRP_FVE_ALG_XTS_128, 32},	  {SSRP_FVE_ALG_XTS_256, 64}};
	static uint8_t pt[2 * 4096], ct[2 * 4096], back[2 * 4096], ref[2 * 4096];
	for (size_t i = 0; i < sizeof pt; i++)
		pt[i] = (uint8_t)(i * 13 + 5);
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		for (size_t size = 512; size <= 4096; size *= 8) {
			uint8_t key[64];
			test_key(key, kinds[k].key_len);
			ssrp_fve_cipher *c = NULL;
			assert_int_equal(ssrp_fve_cipher_new(&c, kinds[k].method, key, kinds[k].key_len),
					 SSRP_OK);
			assert_int_equal(ssrp_fve_cipher_encrypt(c, ct, pt, 9, 2, size), SSRP_OK);
			assert_memory_not_equal(ct, pt, size);
			assert_memory_not_equal(ct, ct + size, size);
			assert_int_equal(ssrp_fve_cipher_decrypt(c, back, ct, 9, 2, size), SSRP_OK);
			assert_memory_equal(back, pt, 2 * size);
			memcpy(back, pt, 2 * size);
			assert_int_equal(ssrp_fve_cipher_encrypt(c, back, back, 9, 2, size), SSRP_OK);
			assert_memory_equal(back, ct, 2 * size);
			assert_int_equal(ssrp_fve_cipher_decrypt(c, back, back, 9, 2, size), SSRP_OK);
			assert_memory_equal(back, pt, 2 * size);
			if (kinds[k].method >= SSRP_FVE_ALG_XTS_128) {
				ssrp_xts *x = NULL;
				assert_int_equal(ssrp_xts_new(&x, key, kinds[k].key_len), SSRP_OK);
				assert_int_equal(ssrp_xts_encrypt(x, ref, pt, 9, 2, size), SSRP_OK);
				assert_memory_equal(ref, ct, 2 * size);
				ssrp_xts_free(x);
			}
			ssrp_fve_cipher_free(c);
		}
		ssrp_fve_cipher *c = NULL;
		uint8_t key[64];
		test_key(key, sizeof key);
		assert_int_equal(ssrp_fve_cipher_new(&c, kinds[k].method, key, kinds[k].key_len - 1),
				 SSRP_E_FORMAT);
		expect_message("needs");
	}
	ssrp_fve_cipher *c = NULL;
	uint8_t key[64] = {1};
	assert_int_equal(ssrp_fve_cipher_new(&c, 0x8006, key, 32), SSRP_E_NOTSUPPORTED);
}

static void random_bytes(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	assert_int_equal(ssrp_random_bytes(a, sizeof a), SSRP_OK);
	assert_int_equal(ssrp_random_bytes(b, sizeof b), SSRP_OK);
	assert_memory_not_equal(a, b, sizeof a);
	assert_int_equal(ssrp_random_bytes(NULL, 0), SSRP_OK);
	assert_int_equal(ssrp_random_bytes(NULL, 1), SSRP_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stretch_known_answer),
		cmocka_unit_test(stretch_matches_definition),
		cmocka_unit_test(ccm_known_answers),
		cmocka_unit_test(ccm_tamper),
		cmocka_unit_test(ccm_roundtrip_sizes),
		cmocka_unit_test(xts_roundtrip_and_evp),
		cmocka_unit_test(xts_tweak_is_sector_number),
		cmocka_unit_test(xts_refusals),
		cmocka_unit_test(elephant_known_answer),
		cmocka_unit_test(elephant_matches_reference),
		cmocka_unit_test(cbc_matches_definition),
		cmocka_unit_test(sector_cipher_roundtrips),
		cmocka_unit_test(random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
