/* The sealed-blob format: round trip, size query, and a clear refusal for
 * every way a blob can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hal/crypto.h"
#include "tpm/blob.h"

static void sample_parts(ssrp_sealed_parts *p)
{
	memset(p, 0, sizeof *p);
	p->pcr_alg = SSRP_TPM_ALG_SHA256;
	p->pcr_mask = (1u << 7) | (1u << 11);
	p->parent_handle = 0;
	p->parent_alg = SSRP_TPM_ALG_ECC;
	p->parent_name_len = 34;
	p->parent_name[0] = 0x00;
	p->parent_name[1] = 0x0b;
	memset(p->parent_name + 2, 0x5a, 32);
	p->public_len = 50;
	p->public_area[0] = 0;
	p->public_area[1] = 48;
	memset(p->public_area + 2, 0x21, 48);
	p->private_len = 100;
	p->private_area[0] = 0;
	p->private_area[1] = 98;
	memset(p->private_area + 2, 0x42, 98);
}

static size_t encode(uint8_t *buf, size_t cap, const ssrp_sealed_parts *p)
{
	size_t len = 0;
	assert_int_equal(ssrp_blob_encode(buf, cap, &len, p), SSRP_OK);
	return len;
}

/* Fix the checksum after a deliberate edit, so the structure check runs. */
static void reseal(uint8_t *buf, size_t len)
{
	assert_int_equal(ssrp_sha256(buf + len - 32, buf, len - 32), 0);
}

static void expect_refusal(const uint8_t *buf, size_t len, const char *words)
{
	ssrp_sealed_parts out;
	assert_int_equal(ssrp_blob_decode(&out, buf, len), SSRP_E_FORMAT);
	if (!strstr(ssrp_error_last(), words))
		fail_msg("message '%s' lacks '%s'", ssrp_error_last(), words);
}

static void roundtrip(void **state)
{
	(void)state;
	ssrp_sealed_parts in, out;
	uint8_t buf[4096];
	sample_parts(&in);
	size_t need = 0;
	assert_int_equal(ssrp_blob_encode(NULL, 0, &need, &in), SSRP_OK);
	size_t len = encode(buf, sizeof buf, &in);
	assert_int_equal(len, need);
	assert_int_equal(ssrp_blob_decode(&out, buf, len), SSRP_OK);
	assert_memory_equal(&in, &out, sizeof in);
}

static void small_buffer(void **state)
{
	(void)state;
	ssrp_sealed_parts in;
	uint8_t buf[64];
	size_t len;
	sample_parts(&in);
	assert_int_equal(ssrp_blob_encode(buf, sizeof buf, &len, &in), SSRP_E_BUFSIZE);
	assert_true(len > sizeof buf);
}

static void incomplete_parts_not_written(void **state)
{
	(void)state;
	ssrp_sealed_parts in;
	size_t len;
	sample_parts(&in);
	in.private_len = 0;
	assert_int_equal(ssrp_blob_encode(NULL, 0, &len, &in), SSRP_E_INVALID);
}

static void every_truncation_refused(void **state)
{
	(void)state;
	ssrp_sealed_parts in, out;
	uint8_t buf[4096];
	sample_parts(&in);
	size_t len = encode(buf, sizeof buf, &in);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(ssrp_blob_decode(&out, buf, n), SSRP_E_FORMAT);
	expect_refusal(buf, len - 1, "truncated");
}

static void trailing_bytes_refused(void **state)
{
	(void)state;
	ssrp_sealed_parts in;
	uint8_t buf[4096];
	sample_parts(&in);
	size_t len = encode(buf, sizeof buf, &in);
	buf[len] = 0;
	expect_refusal(buf, len + 1, "trailing bytes");
}

static void wrong_magic_version_reserved(void **state)
{
	(void)state;
	ssrp_sealed_parts in;
	uint8_t buf[4096];
	sample_parts(&in);
	size_t len = encode(buf, sizeof buf, &in);
	expect_refusal((const uint8_t *)"hello world, not a blob at all, really not", 42,
		       "not an ssrp sealed blob");
	buf[8] = 2;
	reseal(buf, len);
	expect_refusal(buf, len, "version 2.0 is not supported");
	buf[8] = 1;
	buf[9] = 7; /* a newer minor is fine */
	reseal(buf, len);
	ssrp_sealed_parts out;
	assert_int_equal(ssrp_blob_decode(&out, buf, len), SSRP_OK);
	buf[11] = 1;
	reseal(buf, len);
	expect_refusal(buf, len, "reserved");
}

static void any_flipped_bit_is_caught(void **state)
{
	(void)state;
	ssrp_sealed_parts in, out;
	uint8_t buf[4096];
	sample_parts(&in);
	size_t len = encode(buf, sizeof buf, &in);
	for (size_t i = 16; i < len; i += 7) {
		buf[i] ^= 0x10;
		assert_int_equal(ssrp_blob_decode(&out, buf, len), SSRP_E_FORMAT);
		buf[i] ^= 0x10;
	}
	buf[40] ^= 1;
	expect_refusal(buf, len, "checksum mismatch");
}

/* Build a blob from raw records with a correct header and checksum. */
static size_t build(uint8_t *buf, const uint8_t *records, size_t n)
{
	memcpy(buf, "SSRPSEAL\x01\x00\x00\x00", 12);
	buf[12] = 0;
	buf[13] = 0;
	buf[14] = (uint8_t)(n >> 8);
	buf[15] = (uint8_t)n;
	memcpy(buf + 16, records, n);
	size_t len = 16 + n + 32;
	reseal(buf, len);
	return len;
}

static void record_rules(void **state)
{
	(void)state;
	ssrp_sealed_parts in, out;
	uint8_t good[4096], buf[4096], rec[4096];
	sample_parts(&in);
	size_t len = encode(good, sizeof good, &in);
	size_t area = len - 48;
	const uint8_t *records = good + 16;

	/* A PCR policy record stated twice. */
	memcpy(rec, records, area);
	memcpy(rec + area, records, 10);
	expect_refusal(buf, build(buf, rec, area + 10), "appears twice");

	/* Missing the private record (the last one: 4 + 100 bytes). */
	expect_refusal(buf, build(buf, records, area - 104), "private record is missing");

	/* An unknown required record, then an unknown optional one. */
	memcpy(rec, records, area);
	memcpy(rec + area, "\x00\x09\x00\x01\xff", 5);
	expect_refusal(buf, build(buf, rec, area + 5), "unknown required record 0x0009");
	memcpy(rec + area, "\x80\x09\x00\x01\xff", 5);
	assert_int_equal(ssrp_blob_decode(&out, buf, build(buf, rec, area + 5)), SSRP_OK);

	/* A record longer than the area. */
	memcpy(rec, records, area);
	memcpy(rec + area, "\x80\x09\x00\x10\xff", 5);
	expect_refusal(buf, build(buf, rec, area + 5), "past the record area");

	/* A cut-off record header. */
	memcpy(rec + area, "\x80\x09", 2);
	expect_refusal(buf, build(buf, rec, area + 2), "cut off");
}

static void field_rules(void **state)
{
	(void)state;
	ssrp_sealed_parts in;
	uint8_t buf[4096];

	sample_parts(&in);
	in.pcr_alg = SSRP_TPM_ALG_SHA1;
	expect_refusal(buf, encode(buf, sizeof buf, &in), "not sha256");

	sample_parts(&in);
	in.pcr_mask = 1u << 30;
	expect_refusal(buf, encode(buf, sizeof buf, &in), "out of range");

	sample_parts(&in);
	in.parent_handle = 0x81000002;
	expect_refusal(buf, encode(buf, sizeof buf, &in), "not the SRK's");

	sample_parts(&in);
	in.parent_alg = 0x0008;
	expect_refusal(buf, encode(buf, sizeof buf, &in), "neither ECC nor RSA");

	sample_parts(&in);
	in.public_area[1] = 47; /* inner size disagrees with the record */
	expect_refusal(buf, encode(buf, sizeof buf, &in), "public record's inner size");

	sample_parts(&in);
	in.private_area[0] = 1;
	expect_refusal(buf, encode(buf, sizeof buf, &in), "private record's inner size");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(small_buffer),
		cmocka_unit_test(incomplete_parts_not_written),
		cmocka_unit_test(every_truncation_refused),
		cmocka_unit_test(trailing_bytes_refused),
		cmocka_unit_test(wrong_magic_version_reserved),
		cmocka_unit_test(any_flipped_bit_is_caught),
		cmocka_unit_test(record_rules),
		cmocka_unit_test(field_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
