/* Key wrapping and text for BitLocker volumes (see bitlk_keys.h). */
#include <string.h>

#include "bitlocker/fve_crypto.h"
#include "hal/clock.h"
#include "hal/mem.h"
#include "bitlocker/bitlk_keys.h"
#include "ssrp/sys/error.h"

void ssrp_bitlk_next_nonce(uint8_t nonce[12], ssrp_fve_metadata *md)
{
	uint64_t ft = ssrp_filetime_now();
	uint32_t counter = md->next_nonce++;
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(ft >> (8 * i));
	for (int i = 0; i < 4; i++)
		nonce[8 + i] = (uint8_t)(counter >> (8 * i));
}

int ssrp_bitlk_wrap_key(ssrp_fve_wrapped *out, ssrp_fve_metadata *md, const uint8_t kek[32],
		      uint16_t alg, const uint8_t *key, size_t len)
{
	uint8_t pt[SSRP_FVE_MAX_WRAPPED];
	if (0xc + len > sizeof pt)
		return ssrp_error_set(SSRP_E_INVALID, "a %zu-byte key is too long to wrap", len);
	size_t n = ssrp_fve_key_datum(pt, alg, key, len);
	ssrp_bitlk_next_nonce(out->nonce, md);
	int rc = ssrp_ccm_encrypt(out->ct, out->tag, kek, out->nonce, pt, n);
	out->len = (uint16_t)n;
	ssrp_memzero(pt, sizeof pt);
	return rc;
}

int ssrp_bitlk_unwrap_key(uint8_t *key, size_t len, const ssrp_fve_wrapped *in,
			const uint8_t kek[32], uint16_t alg)
{
	uint8_t pt[SSRP_FVE_MAX_WRAPPED];
	const uint8_t *k = NULL;
	int rc = ssrp_ccm_decrypt(pt, kek, in->nonce, in->tag, in->ct, in->len);
	if (rc == SSRP_OK)
		rc = ssrp_fve_key_datum_parse(&k, pt, in->len, alg, len);
	if (rc == SSRP_OK)
		memcpy(key, k, len);
	ssrp_memzero(pt, sizeof pt);
	return rc;
}

void ssrp_bitlk_utf16_to_utf8(char *out, size_t cap, const uint8_t *in, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned c = in[i] | (unsigned)in[i + 1] << 8;
		if (!c)
			break;
		/* Surrogates are shown as U+FFFD: descriptions are ssrp's own. */
		if (c >= 0xD800 && c <= 0xDFFF)
			c = 0xFFFD;
		uint8_t enc[3];
		size_t n;
		if (c < 0x80) {
			enc[0] = (uint8_t)c;
			n = 1;
		} else if (c < 0x800) {
			enc[0] = (uint8_t)(0xC0 | c >> 6);
			enc[1] = (uint8_t)(0x80 | (c & 0x3F));
			n = 2;
		} else {
			enc[0] = (uint8_t)(0xE0 | c >> 12);
			enc[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
			enc[2] = (uint8_t)(0x80 | (c & 0x3F));
			n = 3;
		}
		if (o + n >= cap)
			break;
		memcpy(out + o, enc, n);
		o += n;
	}
	if (cap)
		out[o] = '\0';
}

size_t ssrp_bitlk_ascii_to_utf16(uint8_t *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 2 <= cap; in++) {
		out[o++] = (uint8_t)(*in & 0x7F);
		out[o++] = 0;
	}
	return o;
}

static size_t put16(uint8_t *out, size_t cap, size_t o, unsigned u)
{
	if (o + 2 > cap)
		return 0;
	out[o] = (uint8_t)u;
	out[o + 1] = (uint8_t)(u >> 8);
	return o + 2;
}

size_t ssrp_bitlk_utf8_to_utf16(uint8_t *out, size_t cap, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	while (*p) {
		unsigned c = *p, n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
						 : (c & 0xF8) == 0xF0 ? 3 : 9;
		if (n == 9)
			return 0;
		c &= n ? 0x3Fu >> n : 0x7F;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3F);
		}
		p += n + 1;
		if (c >= 0x10000) {
			c -= 0x10000;
			if (!(o = put16(out, cap, o, 0xD800 | (c >> 10))))
				return 0;
			c = 0xDC00 | (c & 0x3FF);
		}
		if (!(o = put16(out, cap, o, c)))
			return 0;
	}
	return o;
}
