/* The sealed-blob format (see blob.h). No allocation, no OS calls. */
#include <string.h>

#include "hal/crypto.h"
#include "tpm/blob.h"

enum {
	TAG_PCR_POLICY = 0x0001,
	TAG_PARENT = 0x0002,
	TAG_PUBLIC = 0x0003,
	TAG_PRIVATE = 0x0004,
	TAG_OPTIONAL = 0x8000,
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)get16(p) << 16) | get16(p + 2);
}

static size_t record_area_size(const ssrp_sealed_parts *p)
{
	return (4 + 6) + (4 + 6 + (size_t)p->parent_name_len) + (4 + (size_t)p->public_len) +
	       (4 + (size_t)p->private_len);
}

static uint8_t *put_record(uint8_t *w, uint16_t tag, uint16_t len)
{
	put16(w, tag);
	put16(w + 2, len);
	return w + 4;
}

static int check_parts(const ssrp_sealed_parts *p)
{
	if (p->parent_name_len > sizeof p->parent_name || p->public_len > sizeof p->public_area ||
	    p->private_len > sizeof p->private_area)
		return ssrp_error_set(SSRP_E_INVALID, "sealed parts exceed the blob format's limits");
	if (!p->public_len || !p->private_len || !p->parent_name_len)
		return ssrp_error_set(SSRP_E_INVALID, "sealed parts are incomplete");
	return SSRP_OK;
}

int ssrp_blob_encode(uint8_t *out, size_t cap, size_t *out_len, const ssrp_sealed_parts *p)
{
	if (!out_len || !p)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_blob_encode: NULL argument");
	int rc = check_parts(p);
	if (rc)
		return rc;
	size_t area = record_area_size(p);
	size_t total = SSRP_BLOB_HEADER + area + SSRP_BLOB_TRAILER;
	*out_len = total;
	if (!out)
		return SSRP_OK;
	if (cap < total)
		return ssrp_error_set(SSRP_E_BUFSIZE, "a sealed blob needs %zu bytes, %zu given", total,
				      cap);

	memcpy(out, SSRP_BLOB_MAGIC, 8);
	out[8] = SSRP_BLOB_MAJOR;
	out[9] = SSRP_BLOB_MINOR;
	put16(out + 10, 0);
	put32(out + 12, (uint32_t)area);
	uint8_t *w = out + SSRP_BLOB_HEADER;

	w = put_record(w, TAG_PCR_POLICY, 6);
	put16(w, p->pcr_alg);
	put32(w + 2, p->pcr_mask);
	w += 6;

	w = put_record(w, TAG_PARENT, (uint16_t)(6 + p->parent_name_len));
	put32(w, p->parent_handle);
	put16(w + 4, p->parent_alg);
	memcpy(w + 6, p->parent_name, p->parent_name_len);
	w += 6 + p->parent_name_len;

	w = put_record(w, TAG_PUBLIC, p->public_len);
	memcpy(w, p->public_area, p->public_len);
	w += p->public_len;

	w = put_record(w, TAG_PRIVATE, p->private_len);
	memcpy(w, p->private_area, p->private_len);
	w += p->private_len;

	if (ssrp_sha256(w, out, (size_t)(w - out)))
		return ssrp_error_set(SSRP_E_GENERIC, "hashing the sealed blob failed");
	return SSRP_OK;
}

/* A TPM2B is a u16 size and that many bytes, and must fill the record. */
static int check_tpm2b(const uint8_t *v, uint16_t len, const char *name)
{
	if (len < 2 || get16(v) != len - 2)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "sealed blob: the %s record's inner size does not match its "
				      "length of %u bytes",
				      name, len);
	return SSRP_OK;
}

static int decode_record(ssrp_sealed_parts *out, uint16_t tag, const uint8_t *v, uint16_t len)
{
	switch (tag) {
	case TAG_PCR_POLICY:
		if (len != 6)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: the PCR policy record has %u bytes, not 6",
					      len);
		out->pcr_alg = get16(v);
		out->pcr_mask = get32(v + 2);
		if (out->pcr_alg != SSRP_TPM_ALG_SHA256)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: PCR bank 0x%04x is not sha256",
					      out->pcr_alg);
		if (!out->pcr_mask || out->pcr_mask >> SSRP_TPM_PCR_COUNT)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: PCR selection 0x%x is empty or out of range",
					      out->pcr_mask);
		return SSRP_OK;
	case TAG_PARENT:
		if (len < 6 + 2 || len - 6 > SSRP_TPM_MAX_NAME)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: the parent record's %u bytes hold no valid "
					      "Name",
					      len);
		out->parent_handle = get32(v);
		out->parent_alg = get16(v + 4);
		if (out->parent_handle != 0 && out->parent_handle != SSRP_TPM_SRK_HANDLE)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: parent handle 0x%08x is not the SRK's",
					      out->parent_handle);
		if (out->parent_alg != SSRP_TPM_ALG_ECC && out->parent_alg != SSRP_TPM_ALG_RSA)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: parent algorithm 0x%04x is neither ECC nor "
					      "RSA",
					      out->parent_alg);
		out->parent_name_len = (uint16_t)(len - 6);
		memcpy(out->parent_name, v + 6, out->parent_name_len);
		return SSRP_OK;
	case TAG_PUBLIC:
		if (len > SSRP_TPM_MAX_PUBLIC)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: the public record's %u bytes exceed %d", len,
					      SSRP_TPM_MAX_PUBLIC);
		out->public_len = len;
		memcpy(out->public_area, v, len);
		return check_tpm2b(v, len, "public");
	case TAG_PRIVATE:
		if (len > SSRP_TPM_MAX_PRIVATE)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: the private record's %u bytes exceed %d", len,
					      SSRP_TPM_MAX_PRIVATE);
		out->private_len = len;
		memcpy(out->private_area, v, len);
		return check_tpm2b(v, len, "private");
	default:
		return SSRP_OK;
	}
}

int ssrp_blob_decode(ssrp_sealed_parts *out, const uint8_t *in, size_t len)
{
	if (!out || (!in && len))
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_blob_decode: NULL argument");
	memset(out, 0, sizeof *out);
	if (len < 8 || memcmp(in, SSRP_BLOB_MAGIC, 8))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "not an ssrp sealed blob (it does not start with '%s')",
				      SSRP_BLOB_MAGIC);
	if (len < SSRP_BLOB_HEADER + SSRP_BLOB_TRAILER)
		return ssrp_error_set(SSRP_E_FORMAT, "sealed blob truncated: %zu bytes is too short",
				      len);
	if (in[8] != SSRP_BLOB_MAJOR)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "sealed blob format version %u.%u is not supported (this "
				      "library reads %u.x)",
				      in[8], in[9], SSRP_BLOB_MAJOR);
	if (get16(in + 10))
		return ssrp_error_set(SSRP_E_FORMAT, "sealed blob: reserved header bytes are not zero");
	uint32_t area = get32(in + 12);
	size_t expect = SSRP_BLOB_HEADER + (size_t)area + SSRP_BLOB_TRAILER;
	if (area > len || expect != len)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "sealed blob %s: its header announces %zu bytes, the file has %zu",
				      expect > len ? "truncated" : "has trailing bytes", expect, len);
	uint8_t digest[SSRP_SHA256_LEN];
	if (ssrp_sha256(digest, in, SSRP_BLOB_HEADER + area))
		return ssrp_error_set(SSRP_E_GENERIC, "hashing the sealed blob failed");
	if (memcmp(digest, in + SSRP_BLOB_HEADER + area, SSRP_SHA256_LEN))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "sealed blob checksum mismatch: the blob was corrupted or altered");

	const uint8_t *r = in + SSRP_BLOB_HEADER, *end = r + area;
	unsigned seen = 0;
	while (r < end) {
		if (end - r < 4)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: a record header is cut off at offset %zu",
					      (size_t)(r - in));
		uint16_t tag = get16(r), rlen = get16(r + 2);
		if ((size_t)(end - r - 4) < rlen)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: record 0x%04x at offset %zu claims %u bytes "
					      "past the record area",
					      tag, (size_t)(r - in), rlen);
		const uint8_t *v = r + 4;
		r = v + rlen;
		if (tag & TAG_OPTIONAL)
			continue;
		if (tag < TAG_PCR_POLICY || tag > TAG_PRIVATE)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "sealed blob: unknown required record 0x%04x (written by "
					      "a newer ssrp?)",
					      tag);
		if (seen & (1u << tag))
			return ssrp_error_set(SSRP_E_FORMAT, "sealed blob: record 0x%04x appears twice",
					      tag);
		seen |= 1u << tag;
		int rc = decode_record(out, tag, v, rlen);
		if (rc)
			return rc;
	}
	static const char *const names[] = {"", "PCR policy", "parent", "public", "private"};
	for (unsigned tag = TAG_PCR_POLICY; tag <= TAG_PRIVATE; tag++)
		if (!(seen & (1u << tag)))
			return ssrp_error_set(SSRP_E_FORMAT, "sealed blob: the %s record is missing",
					      names[tag]);
	return SSRP_OK;
}
