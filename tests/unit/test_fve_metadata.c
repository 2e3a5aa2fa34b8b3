/* BitLocker metadata codec (bitlocker/fve_metadata.c): a model with every
 * kind of protector survives encode and parse; every truncation and every
 * malformed field is refused with SSRP_E_FORMAT and a message naming it.
 * Edits below recompute the CRC, so the structural checks behind it run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "bitlocker/fve_metadata.h"
#include "ssrp/error.h"

#define MIB (1024u * 1024u)

/* Entry and value types, as the format has them. */
enum {
	VT_KEY = 1,
	VT_UNICODE = 2,
	VT_STRETCH_KEY = 3,
	VT_AES_CCM = 5,
	VT_TPM_ENCODED = 6,
	VT_VMK = 8,
	ET_VMK = 2,
	ET_FVEK = 3,
	ET_DESCRIPTION = 7,
	ET_VOLUME_HEADER_BLOCK = 0xF,
	ENTRIES_AT = 0x70,
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

static uint16_t utf16(uint8_t *out, const char *s)
{
	uint16_t n = 0;
	for (; *s; s++, n += 2) {
		out[n] = (uint8_t)*s;
		out[n + 1] = 0;
	}
	return n;
}

static void wrapped(ssrp_fve_wrapped *w, uint16_t len, unsigned seed)
{
	fill(w->nonce, sizeof w->nonce, seed);
	fill(w->tag, sizeof w->tag, seed + 1);
	w->len = len;
	fill(w->ct, len, seed + 2);
}

/* A model with every kind of protector and every optional part. */
static void sample(ssrp_fve_metadata *md)
{
	memset(md, 0, sizeof *md);
	md->volume_size = 64 * MIB;
	md->copies[0] = 16 * MIB;
	md->copies[1] = 32 * MIB;
	md->copies[2] = 48 * MIB;
	md->relocated_at = 16 * MIB + SSRP_FVE_REGION;
	md->relocated_size = SSRP_FVE_RELOCATED_SIZE;
	md->header_sectors = SSRP_FVE_RELOCATED_SECTORS;
	md->state = md->next_state = SSRP_FVE_STATE_ENCRYPTED;
	fill(md->volume_guid, 16, 1);
	md->next_nonce = 9;
	md->method = SSRP_FVE_ALG_XTS_128;
	md->filetime = 0x01DA2B3C4D5E6F70ull;
	md->description_len = utf16(md->description, "ssrp unit test volume");
	md->sequence = 0x1122334455667788ull;
	md->flags = SSRP_FVE_FLAG_LAST_UNLOCK_RECOVERY;
	wrapped(&md->fvek, 0xc + 32, 2);

	static const uint16_t kinds[] = {
		SSRP_FVE_PROTECT_CLEAR_KEY, SSRP_FVE_PROTECT_RECOVERY_PASSWORD, SSRP_FVE_PROTECT_TPM,
		SSRP_FVE_PROTECT_STARTUP_KEY, SSRP_FVE_PROTECT_TPM_PIN, SSRP_FVE_PROTECT_PASSWORD,
	};
	md->n_vmks = sizeof kinds / sizeof kinds[0];
	for (size_t i = 0; i < md->n_vmks; i++) {
		ssrp_fve_vmk *v = &md->vmks[i];
		fill(v->guid, 16, 10 + (unsigned)i);
		v->filetime = md->filetime + i;
		v->protection = kinds[i];
		switch (kinds[i]) {
		case SSRP_FVE_PROTECT_CLEAR_KEY:
			v->has_clear_key = 1;
			fill(v->clear_key, 32, 20);
			v->has_wrapped_vmk = 1;
			wrapped(&v->wrapped_vmk, 0xc + 32, 21);
			break;
		case SSRP_FVE_PROTECT_RECOVERY_PASSWORD:
			v->name_len = utf16(v->name, "DiskPassword");
			v->has_stretch = 1;
			fill(v->salt, 16, 30);
			v->has_key_copy = 1;
			wrapped(&v->key_copy, 0xc + 16, 31);
			v->has_wrapped_vmk = 1;
			wrapped(&v->wrapped_vmk, 0xc + 32, 32);
			memcpy(md->used_recovery, v->guid, 16);
			break;
		case SSRP_FVE_PROTECT_TPM:
			/* The largest blob, last in its entry (see tpm_blob_too_long). */
			v->tpm_blob_len = SSRP_FVE_MAX_TPM_BLOB;
			fill(v->tpm_blob, v->tpm_blob_len, 40);
			break;
		case SSRP_FVE_PROTECT_STARTUP_KEY:
			v->name_len = utf16(v->name, "ExternalKey");
			v->has_wrapped_vmk = 1;
			wrapped(&v->wrapped_vmk, SSRP_FVE_MAX_WRAPPED, 50);
			break;
		case SSRP_FVE_PROTECT_TPM_PIN:
			v->has_stretch = 1;
			fill(v->salt, 16, 60);
			v->tpm_blob_len = 300;
			fill(v->tpm_blob, v->tpm_blob_len, 61);
			break;
		default: /* password */
			v->name_len = utf16(v->name, "Password");
			v->has_stretch = 1;
			fill(v->salt, 16, 70);
			v->has_wrapped_vmk = 1;
			wrapped(&v->wrapped_vmk, 0, 71);
			break;
		}
	}
}

typedef struct encoded {
	uint8_t buf[SSRP_FVE_REGION];
	size_t len;
	ssrp_fve_metadata md;
} encoded;

static encoded *encode_sample(void)
{
	encoded *e = calloc(1, sizeof *e);
	assert_non_null(e);
	sample(&e->md);
	assert_int_equal(ssrp_fve_metadata_encode(e->buf, sizeof e->buf, &e->len, &e->md), SSRP_OK);
	e->md.content_len = (size_t)rd16(e->buf + 8) * 16; /* what parsing reports */
	return e;
}

/* The CRC over the block after an edit, so parsing gets past it. */
static void reseal(uint8_t *buf)
{
	size_t content = (size_t)rd16(buf + 8) * 16;
	wr32(buf + content + 4, (uint32_t)crc32(0L, buf, (uInt)content));
}

static void expect_refusal(const uint8_t *buf, size_t len, const char *words)
{
	ssrp_fve_metadata *out = malloc(sizeof *out);
	assert_non_null(out);
	int rc = ssrp_fve_metadata_parse(out, buf, len);
	free(out);
	if (rc != SSRP_E_FORMAT)
		fail_msg("parse returned %d (%s), expected SSRP_E_FORMAT for '%s'", rc,
			 ssrp_error_last(), words);
	if (!strstr(ssrp_error_last(), words))
		fail_msg("message '%s' lacks '%s'", ssrp_error_last(), words);
}

static void expect_edit_refused(encoded *e, const char *words)
{
	reseal(e->buf);
	expect_refusal(e->buf, sizeof e->buf, words);
	free(e);
}

/* Offset of the index-th top-level entry of entry_type. */
static size_t entry(const encoded *e, uint16_t entry_type, int index)
{
	size_t end = 0x40 + (size_t)rd16(e->buf + 0x40) + ((size_t)rd16(e->buf + 0x42) << 16);
	for (size_t at = ENTRIES_AT; at + 8 <= end && rd16(e->buf + at) >= 8;
	     at += rd16(e->buf + at))
		if (rd16(e->buf + at + 2) == entry_type && index-- == 0)
			return at;
	fail_msg("no entry of type %u", entry_type);
	return 0;
}

/* Offset of the first datum of value_type nested in the VMK entry at vmk. */
static size_t nested(const encoded *e, size_t vmk, uint16_t value_type)
{
	size_t end = vmk + rd16(e->buf + vmk);
	for (size_t at = vmk + 0x24; at + 8 <= end; at += rd16(e->buf + at))
		if (rd16(e->buf + at + 4) == value_type)
			return at;
	fail_msg("no datum of value type %u in the VMK at 0x%zx", value_type, vmk);
	return 0;
}

/* The VMK entry of the index-th protector (all entries are VMKs first). */
static size_t vmk_entry(const encoded *e, int index)
{
	return entry(e, ET_VMK, index);
}

/* ---- round trip --------------------------------------------------------- */

static void round_trip(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	ssrp_fve_metadata *back = malloc(sizeof *back);
	assert_non_null(back);
	assert_true(e->len < SSRP_FVE_REGION);
	assert_memory_equal(e->buf, "-FVE-FS-", 8);
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, sizeof e->buf), SSRP_OK);
	assert_memory_equal(back, &e->md, sizeof *back);
	/* Exactly the bytes used are enough. */
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, e->len), SSRP_OK);
	assert_memory_equal(back, &e->md, sizeof *back);
	/* And the model encodes to the same bytes again. */
	uint8_t *again = calloc(1, SSRP_FVE_REGION);
	size_t len = 0;
	assert_non_null(again);
	assert_int_equal(ssrp_fve_metadata_encode(again, SSRP_FVE_REGION, &len, back), SSRP_OK);
	assert_int_equal(len, e->len);
	assert_memory_equal(again, e->buf, len);
	/* Every kind made it through. */
	assert_int_equal(back->n_vmks, 6);
	assert_int_equal(back->vmks[2].tpm_blob_len, SSRP_FVE_MAX_TPM_BLOB);
	assert_true(back->vmks[1].has_key_copy);
	free(again);
	free(back);
	free(e);
}

static void full_protector_table(void **state)
{
	(void)state;
	/* SSRP_FVE_MAX_VMKS protectors, each as large as the model allows,
	 * fit one region. */
	encoded *e = calloc(1, sizeof *e);
	ssrp_fve_metadata *back = malloc(sizeof *back);
	assert_non_null(e);
	assert_non_null(back);
	sample(&e->md);
	e->md.n_vmks = SSRP_FVE_MAX_VMKS;
	for (size_t i = 0; i < SSRP_FVE_MAX_VMKS; i++) {
		ssrp_fve_vmk *v = &e->md.vmks[i];
		memset(v, 0, sizeof *v);
		fill(v->guid, 16, 100 + (unsigned)i);
		v->protection = SSRP_FVE_PROTECT_RECOVERY_PASSWORD;
		v->name_len = SSRP_FVE_MAX_NAME;
		fill(v->name, SSRP_FVE_MAX_NAME, (unsigned)i);
		v->has_clear_key = v->has_stretch = v->has_key_copy = v->has_wrapped_vmk = 1;
		wrapped(&v->key_copy, SSRP_FVE_MAX_WRAPPED, (unsigned)i);
		wrapped(&v->wrapped_vmk, SSRP_FVE_MAX_WRAPPED, (unsigned)i + 1);
		v->tpm_blob_len = SSRP_FVE_MAX_TPM_BLOB;
		fill(v->tpm_blob, SSRP_FVE_MAX_TPM_BLOB, (unsigned)i);
	}
	assert_int_equal(ssrp_fve_metadata_encode(e->buf, sizeof e->buf, &e->len, &e->md), SSRP_OK);
	e->md.content_len = (size_t)rd16(e->buf + 8) * 16;
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, e->len), SSRP_OK);
	assert_memory_equal(back, &e->md, sizeof *back);
	/* One more VMK: the FVEK entry relabelled as a 17th protector. */
	size_t fvek = entry(e, ET_FVEK, 0);
	wr16(e->buf + fvek + 2, ET_VMK);
	wr16(e->buf + fvek + 4, VT_VMK);
	free(back);
	expect_edit_refused(e, "more than 16 protectors");
}

static void small_buffers(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	size_t len = 0;
	assert_int_equal(ssrp_fve_metadata_encode(e->buf, 0x60, &len, &e->md), SSRP_E_BUFSIZE);
	assert_int_equal(ssrp_fve_metadata_encode(e->buf, e->len - 1, &len, &e->md),
			 SSRP_E_BUFSIZE);
	assert_non_null(strstr(ssrp_error_last(), "do not fit"));
	assert_int_equal(ssrp_fve_metadata_encode(e->buf, e->len, &len, &e->md), SSRP_OK);
	assert_int_equal(len, e->len);
	free(e);
}

/* ---- truncation and damage ---------------------------------------------- */

static void every_truncation_is_refused(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	for (size_t len = 0; len < e->len; len++) {
		ssrp_fve_metadata *out = malloc(sizeof *out);
		assert_non_null(out);
		int rc = ssrp_fve_metadata_parse(out, e->buf, len);
		free(out);
		if (rc != SSRP_E_FORMAT || !ssrp_error_last()[0])
			fail_msg("%zu of %zu bytes: parse returned %d", len, e->len, rc);
	}
	free(e);
}

/* A copy cut off mid-write: the bytes from some point on never arrived. */
static void every_cut_off_is_refused(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	uint8_t *cut = malloc(SSRP_FVE_REGION);
	assert_non_null(cut);
	for (size_t at = 0; at < e->len; at++) {
		memcpy(cut, e->buf, SSRP_FVE_REGION);
		memset(cut + at, 0, e->len - at);
		if (!memcmp(cut, e->buf, e->len))
			continue; /* zeros there already */
		ssrp_fve_metadata *out = malloc(sizeof *out);
		assert_non_null(out);
		int rc = ssrp_fve_metadata_parse(out, cut, SSRP_FVE_REGION);
		free(out);
		if (rc != SSRP_E_FORMAT || !ssrp_error_last()[0])
			fail_msg("cut at %zu of %zu: parse returned %d", at, e->len, rc);
	}
	free(cut);
	free(e);
}

static void crc_mismatch_is_named(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	e->buf[ENTRIES_AT + 40] ^= 0x01;
	expect_refusal(e->buf, sizeof e->buf, "CRC32 mismatch");
	e->buf[ENTRIES_AT + 40] ^= 0x01;
	e->buf[e->len - 1] ^= 0x80; /* the stored CRC itself */
	expect_refusal(e->buf, sizeof e->buf, "CRC32 mismatch");
	free(e);
}

/* ---- headers ------------------------------------------------------------ */

static void block_header_fields(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	e->buf[0] = 'X';
	expect_refusal(e->buf, sizeof e->buf, "'-FVE-FS-' block signature");
	free(e);

	e = encode_sample();
	wr16(e->buf + 0x0A, 1);
	expect_edit_refused(e, "block version 1");

	/* A conversion under way is recorded, not refused (Windows volumes
	 * are read in any state). */
	e = encode_sample();
	wr16(e->buf + 0x0C, 2);
	wr16(e->buf + 0x0E, 1);
	wr32(e->buf + 0x1C, 2); /* 4096-byte sectors: two relocated */
	reseal(e->buf);
	ssrp_fve_metadata *back = malloc(sizeof *back);
	assert_non_null(back);
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, sizeof e->buf), SSRP_OK);
	assert_int_equal(back->state, 2);
	assert_int_equal(back->next_state, 1);
	assert_int_equal(back->header_sectors, 2);
	free(back);
	free(e);

	e = encode_sample();
	wr16(e->buf + 0x08, 0xFFFF);
	expect_refusal(e->buf, sizeof e->buf, "block size field");
	wr16(e->buf + 0x08, 2);
	expect_refusal(e->buf, sizeof e->buf, "block size field");
	free(e);

	e = encode_sample();
	size_t content = (size_t)rd16(e->buf + 8) * 16;
	wr16(e->buf + content, 7);
	expect_refusal(e->buf, sizeof e->buf, "validation structure");
	wr16(e->buf + content, 8);
	wr16(e->buf + content + 2, 3);
	expect_refusal(e->buf, sizeof e->buf, "version 3");
	/* A longer structure must hold the AES-CCM datum. */
	wr16(e->buf + content + 2, 2);
	wr16(e->buf + content, 0x100);
	expect_refusal(e->buf, sizeof e->buf, "not an 80-byte AES-CCM datum");
	free(e);
}

static void dataset_header_fields(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	size_t content = (size_t)rd16(e->buf + 8) * 16;
	wr32(e->buf + 0x40, (uint32_t)content); /* more than the block holds */
	wr32(e->buf + 0x4C, (uint32_t)content);
	expect_edit_refused(e, "dataset size");

	e = encode_sample();
	wr32(e->buf + 0x40, 0x20); /* smaller than its own header */
	wr32(e->buf + 0x4C, 0x20);
	expect_edit_refused(e, "dataset size");

	e = encode_sample();
	e->buf[0x4C] ^= 0x10; /* the size's copy disagrees */
	expect_edit_refused(e, "dataset size");

	e = encode_sample();
	wr32(e->buf + 0x44, 2);
	expect_edit_refused(e, "dataset version 2");

	e = encode_sample();
	wr32(e->buf + 0x48, 0x40);
	expect_edit_refused(e, "header size 64");

	e = encode_sample();
	wr16(e->buf + 0x64, 0x9000);
	wr16(e->buf + 0x66, 0x9000);
	expect_edit_refused(e, "encryption method 0x9000");

	e = encode_sample();
	wr16(e->buf + 0x66, 0x8005);
	expect_edit_refused(e, "second field 0x8005");

	/* Windows leaves the second method field at 0; every method is read. */
	static const uint16_t methods[] = {0x8000, 0x8001, 0x8002, 0x8003, 0x8004, 0x8005};
	ssrp_fve_metadata *back = malloc(sizeof *back);
	assert_non_null(back);
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		e = encode_sample();
		wr16(e->buf + 0x64, methods[i]);
		wr16(e->buf + 0x66, 0);
		reseal(e->buf);
		assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, sizeof e->buf), SSRP_OK);
		assert_int_equal(back->method, methods[i]);
		free(e);
	}
	free(back);

	e = encode_sample();
	wr16(e->buf + 0x66, SSRP_FVE_ALG_XTS_256); /* the copy disagrees */
	expect_edit_refused(e, "encryption method");
}

/* ---- datums ------------------------------------------------------------- */

static void datum_sizes(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	wr16(e->buf + ENTRIES_AT, 4);
	expect_edit_refused(e, "smaller than its 8-byte header");

	e = encode_sample();
	size_t name = nested(e, vmk_entry(e, 1), VT_UNICODE);
	wr16(e->buf + name, 7);
	expect_edit_refused(e, "has size 7, smaller than its 8-byte header");

	e = encode_sample();
	wr16(e->buf + ENTRIES_AT, 0x7000);
	expect_edit_refused(e, "past the end of its container");

	e = encode_sample();
	size_t vmk = vmk_entry(e, 1);
	wr16(e->buf + nested(e, vmk, VT_UNICODE), (uint16_t)(rd16(e->buf + vmk) + 8));
	expect_edit_refused(e, "past the end of its container");

	/* Inside STRETCH_KEY, the recovery key copy reaching past it. */
	e = encode_sample();
	size_t stretch = nested(e, vmk_entry(e, 1), VT_STRETCH_KEY);
	wr16(e->buf + stretch + 0x1c, (uint16_t)(rd16(e->buf + stretch) - 0x1c + 1));
	expect_edit_refused(e, "STRETCH_KEY: datum at");
}

static void vmk_entries(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	wr16(e->buf + vmk_entry(e, 0) + 4, VT_AES_CCM);
	expect_edit_refused(e, "value type 5, not 8");

	e = encode_sample();
	wr16(e->buf + vmk_entry(e, 0), 0x20);
	expect_edit_refused(e, "VMK datum at");

	e = encode_sample();
	size_t key = nested(e, vmk_entry(e, 0), VT_KEY);
	wr16(e->buf + key, 0x20);
	expect_edit_refused(e, "clear KEY datum");

	e = encode_sample();
	size_t stretch = nested(e, vmk_entry(e, 1), VT_STRETCH_KEY);
	wr16(e->buf + stretch, 0x14);
	expect_edit_refused(e, "STRETCH_KEY datum");

	e = encode_sample();
	size_t tpm = nested(e, vmk_entry(e, 4), VT_TPM_ENCODED);
	wr16(e->buf + tpm, 0x0a);
	expect_edit_refused(e, "TPM_ENCODED datum");

	e = encode_sample();
	size_t ccm = nested(e, vmk_entry(e, 0), VT_AES_CCM);
	wr16(e->buf + ccm, 0x20);
	expect_edit_refused(e, "wrapped VMK datum");

	e = encode_sample();
	size_t copy = nested(e, vmk_entry(e, 1), VT_STRETCH_KEY) + 0x1c;
	wr16(e->buf + copy, 0x10);
	expect_edit_refused(e, "recovery key copy datum");
}

static void wrapped_payload_too_long(void **state)
{
	(void)state;
	/* The FVEK entry grows over the entries after it (still inside the
	 * dataset): its ciphertext is then longer than a KEY datum can be. */
	encoded *e = encode_sample();
	size_t fvek = entry(e, ET_FVEK, 0);
	wr16(e->buf + fvek, (uint16_t)(rd16(e->buf + fvek) + 64));
	expect_edit_refused(e, "wraps 108 bytes, more than 96");

	/* The startup key's wrapped VMK is already the largest: grow it and its
	 * VMK entry by 8, over the next entry's header. */
	e = encode_sample();
	size_t vmk = vmk_entry(e, 3);
	size_t ccm = nested(e, vmk, VT_AES_CCM);
	assert_int_equal(ccm + rd16(e->buf + ccm), vmk + rd16(e->buf + vmk));
	wr16(e->buf + vmk, (uint16_t)(rd16(e->buf + vmk) + 8));
	wr16(e->buf + ccm, (uint16_t)(rd16(e->buf + ccm) + 8));
	expect_edit_refused(e, "wrapped VMK datum");
}

static void tpm_blob_too_long(void **state)
{
	(void)state;
	/* The TPM datum is last in its entry: grow both by 8. */
	encoded *e = encode_sample();
	size_t vmk = vmk_entry(e, 2);
	size_t tpm = nested(e, vmk, VT_TPM_ENCODED);
	assert_int_equal(tpm + rd16(e->buf + tpm), vmk + rd16(e->buf + vmk));
	wr16(e->buf + vmk, (uint16_t)(rd16(e->buf + vmk) + 8));
	wr16(e->buf + tpm, (uint16_t)(rd16(e->buf + tpm) + 8));
	expect_edit_refused(e, "holds 1032 bytes, over 1024");
}

static void required_entries(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	wr16(e->buf + entry(e, ET_FVEK, 0) + 2, 0x7777);
	expect_edit_refused(e, "the FVEK entry is missing");

	e = encode_sample();
	wr16(e->buf + entry(e, ET_VOLUME_HEADER_BLOCK, 0) + 2, 0x7777);
	expect_edit_refused(e, "the volume header block entry is missing");

	e = encode_sample();
	wr16(e->buf + entry(e, ET_DESCRIPTION, 0) + 2, ET_FVEK);
	expect_edit_refused(e, "a second FVEK entry");

	e = encode_sample();
	wr16(e->buf + entry(e, ET_FVEK, 0) + 4, VT_KEY);
	expect_edit_refused(e, "FVEK entry at");

	e = encode_sample();
	size_t vhb = entry(e, ET_VOLUME_HEADER_BLOCK, 0);
	e->buf[vhb + 8] ^= 0x02; /* the relocated sectors' offset */
	expect_edit_refused(e, "volume header block entry (offset");

	e = encode_sample();
	vhb = entry(e, ET_VOLUME_HEADER_BLOCK, 0);
	e->buf[vhb + 17] ^= 0x01; /* their size */
	expect_edit_refused(e, "volume header block entry");

	e = encode_sample();
	vhb = entry(e, ET_VOLUME_HEADER_BLOCK, 0);
	wr16(e->buf + vhb, 0x10);
	expect_edit_refused(e, "volume header block datum");
}

/* ---- volume header and KEY datums --------------------------------------- */

static void volume_header(void **state)
{
	(void)state;
	const uint64_t copies[3] = {16 * MIB, 32 * MIB, 48 * MIB};
	uint8_t h[SSRP_FVE_SECTOR], x[SSRP_FVE_SECTOR];
	uint64_t got[3], size = 0;
	ssrp_fve_volume_header_encode(h, 64 * MIB, copies);
	assert_int_equal(ssrp_fve_volume_header_parse(got, &size, h), SSRP_OK);
	assert_memory_equal(got, copies, sizeof copies);
	assert_int_equal(size, 64 * MIB);
	assert_memory_equal(h, "\xEB\x58\x90-FVE-FS-", 11);

	static const struct {
		size_t at;
		uint8_t value;
		const char *words;
	} edits[] = {
		{3, '+', "'-FVE-FS-'"},
		{0xA0, 0x3c, "BitLocker GUID"},
		{0xAF, 0x00, "BitLocker GUID"},
		{0x0C, 0x03, "bytes per sector"},
		{0x1FE, 0x00, "55 AA"},
		{0x1FF, 0xAB, "55 AA"},
		{0xB0, 0x01, "metadata offset 1"},
		{0xBA, 0x00, "metadata offset 2"},
		{0xC1, 0x07, "metadata offset 3"},
	};
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		memcpy(x, h, sizeof h);
		x[edits[i].at] = edits[i].value;
		if (i == 7) /* copy 2 at 0: zero it all */
			memset(x + 0xB8, 0, 8);
		assert_int_equal(ssrp_fve_volume_header_parse(got, &size, x), SSRP_E_FORMAT);
		if (!strstr(ssrp_error_last(), edits[i].words))
			fail_msg("edit %zu: message '%s' lacks '%s'", i, ssrp_error_last(),
				 edits[i].words);
	}
}

static void key_datums(void **state)
{
	(void)state;
	uint8_t key[32], d[0xc + 64];
	const uint8_t *k = NULL;
	fill(key, sizeof key, 5);
	size_t n = ssrp_fve_key_datum(d, SSRP_FVE_ALG_XTS_128, key, 32);
	assert_int_equal(n, 0xc + 32);
	assert_memory_equal(d, "\x2c\x00\x00\x00\x01\x00\x00\x00\x04\x80\x00\x00", 12);
	assert_int_equal(ssrp_fve_key_datum_parse(&k, d, n, SSRP_FVE_ALG_XTS_128, 32), SSRP_OK);
	assert_ptr_equal(k, d + 0xc);
	assert_memory_equal(k, key, 32);

	assert_int_equal(ssrp_fve_key_datum_parse(&k, d, n, SSRP_FVE_ALG_VMK, 32), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "algorithm 0x2003"));
	assert_int_equal(ssrp_fve_key_datum_parse(&k, d, n, SSRP_FVE_ALG_XTS_128, 16),
			 SSRP_E_FORMAT);
	assert_int_equal(ssrp_fve_key_datum_parse(&k, d, n - 1, SSRP_FVE_ALG_XTS_128, 31),
			 SSRP_E_FORMAT);
	d[0] = 0x2d;
	assert_int_equal(ssrp_fve_key_datum_parse(&k, d, n, SSRP_FVE_ALG_XTS_128, 32),
			 SSRP_E_FORMAT);
	d[0] = 0x2c;
	d[4] = VT_AES_CCM;
	assert_int_equal(ssrp_fve_key_datum_parse(&k, d, n, SSRP_FVE_ALG_XTS_128, 32),
			 SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "32-byte key"));

	/* A 64-byte XTS-AES-256 key. */
	uint8_t big[64];
	fill(big, sizeof big, 9);
	n = ssrp_fve_key_datum(d, SSRP_FVE_ALG_XTS_256, big, 64);
	assert_int_equal(ssrp_fve_key_datum_parse(&k, d, n, SSRP_FVE_ALG_XTS_256, 64), SSRP_OK);
	assert_memory_equal(k, big, 64);
}

/* ---- the validation structure ------------------------------------------ */

static void validation_seal_and_verify(void **state)
{
	(void)state;
	encoded *e = encode_sample();
	ssrp_fve_metadata *back = malloc(sizeof *back);
	assert_non_null(back);
	uint8_t vmk[32], other[32], nonce[12];
	fill(vmk, sizeof vmk, 40);
	fill(other, sizeof other, 41);
	fill(nonce, sizeof nonce, 42);
	size_t content = (size_t)rd16(e->buf + 8) * 16, len = e->len;
	assert_int_equal(ssrp_fve_metadata_seal(e->buf, content + SSRP_FVE_VALIDATION_LEN - 1, &len,
						vmk, nonce),
			 SSRP_E_BUFSIZE);
	assert_int_equal(ssrp_fve_metadata_seal(e->buf, sizeof e->buf, &len, vmk, nonce), SSRP_OK);
	assert_int_equal(len, content + SSRP_FVE_VALIDATION_LEN);
	/* Windows' form: size = 64 KiB - block, version 2, CRC, then an 80-byte
	 * AES-CCM datum (role 0, type 5, version 1) with the nonce. */
	assert_int_equal(rd16(e->buf + content), SSRP_FVE_REGION - content);
	assert_int_equal(rd16(e->buf + content + 2), 2);
	assert_memory_equal(e->buf + content + 8, "\x50\x00\x00\x00\x05\x00\x01\x00", 8);
	assert_memory_equal(e->buf + content + 16, nonce, 12);
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, len), SSRP_OK);
	assert_true(back->has_validation);
	assert_int_equal(back->content_len, content);
	assert_int_equal(ssrp_fve_metadata_verify(e->buf, back, vmk), SSRP_OK);
	/* Another key cannot vouch for it. */
	assert_int_equal(ssrp_fve_metadata_verify(e->buf, back, other), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "tampered"));
	/* A change with its CRC made good again: the hash catches it. */
	e->buf[ENTRIES_AT + 40] ^= 0x01;
	reseal(e->buf);
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, len), SSRP_OK);
	assert_int_equal(ssrp_fve_metadata_verify(e->buf, back, vmk), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "SHA-256 differs"));
	/* A damaged MAC: the datum itself is refused. */
	e->buf[ENTRIES_AT + 40] ^= 0x01;
	reseal(e->buf);
	e->buf[content + 8 + 20] ^= 0x01;
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, len), SSRP_OK);
	assert_int_equal(ssrp_fve_metadata_verify(e->buf, back, vmk), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "MAC"));
	/* The datum must be AES-CCM. */
	e->buf[content + 8 + 4] = 6;
	expect_refusal(e->buf, len, "not an 80-byte AES-CCM datum");
	/* The short form has nothing to verify. */
	free(e);
	e = encode_sample();
	assert_int_equal(ssrp_fve_metadata_parse(back, e->buf, e->len), SSRP_OK);
	assert_false(back->has_validation);
	assert_int_equal(ssrp_fve_metadata_verify(e->buf, back, vmk), SSRP_OK);
	free(back);
	free(e);
}

/* ---- boot sectors and startup keys -------------------------------------- */

static void boot_sector_kinds(void **state)
{
	(void)state;
	const uint64_t copies[3] = {16 * MIB, 32 * MIB, 48 * MIB};
	uint8_t h[SSRP_FVE_SECTOR], t[SSRP_FVE_SECTOR];
	ssrp_fve_boot b;
	ssrp_fve_volume_header_encode(h, 64 * MIB, copies);
	assert_int_equal(ssrp_fve_boot_parse(&b, h), SSRP_OK);
	assert_false(b.to_go);
	assert_false(b.used_space_only);
	assert_int_equal(b.sector_size, 512);
	assert_int_equal(b.total_sectors, 64 * MIB / 512);
	/* Windows leaves the sector count at 0 and may use 4096-byte sectors. */
	wr32(h + 0x20, 0);
	wr16(h + 0x0B, 4096);
	assert_int_equal(ssrp_fve_boot_parse(&b, h), SSRP_OK);
	assert_int_equal(b.sector_size, 4096);
	assert_int_equal(b.total_sectors, 0);
	/* Used space only: its own GUID. */
	memcpy(h + 0xA0, "\x3b\x4d\xa8\x92\x80\xdd\x0e\x4d\x9e\x4e\xb1\xe3\x28\x4e\xae\xd8", 16);
	assert_int_equal(ssrp_fve_boot_parse(&b, h), SSRP_OK);
	assert_true(b.used_space_only);
	/* To Go: a FAT boot sector, the GUID and offsets further on. */
	memset(t, 0, sizeof t);
	memcpy(t, "\xEB\x58\x90MSWIN4.1", 11);
	wr16(t + 0x0B, 512);
	memcpy(t + 0x1A8, h + 0xA0, 16);
	memcpy(t + 0x1A8, "\x3b\xd6\x67\x49\x29\x2e\xd8\x4a\x83\x99\xf6\xa3\x39\xe3\xd0\x01", 16);
	for (int i = 0; i < 3; i++)
		wr32(t + 0x1B8 + 8 * i, (uint32_t)copies[i]);
	t[0x1FE] = 0x55;
	t[0x1FF] = 0xAA;
	assert_int_equal(ssrp_fve_boot_parse(&b, t), SSRP_OK);
	assert_true(b.to_go);
	assert_memory_equal(b.copies, copies, sizeof copies);
	t[0x1A8] ^= 1;
	assert_int_equal(ssrp_fve_boot_parse(&b, t), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "GUID at 0x1a8"));
	/* Vista's jump is named. */
	h[1] = 0x52;
	assert_int_equal(ssrp_fve_boot_parse(&b, h), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "Vista"));
}

/* The startup key of cryptsetup's bitlk-aes-xts-128-startup-key image. */
static const char bek_hex[] =
	"9c00000001000000300000009c00000059f78143f8c4e04dbb61fc33a831bda5010000000000"
	"0000f002bafe318bd6016c0006000900010059f78143f8c4e04dbb61fc33a831bda520525f30"
	"318bd6012000000002000100450078007400650072006e0061006c004b006500790000002c00"
	"00000100010002200000e0bb38b9bc55e69e52837281655a762be4e460f95867c65186931d69"
	"98021866";

static void startup_key_file(void **state)
{
	(void)state;
	uint8_t bek[156], guid[16], key[32];
	for (size_t i = 0; i < sizeof bek; i++) {
		unsigned v;
		assert_int_equal(sscanf(bek_hex + 2 * i, "%2x", &v), 1);
		bek[i] = (uint8_t)v;
	}
	assert_int_equal(ssrp_fve_bek_parse(guid, key, bek, sizeof bek), SSRP_OK);
	assert_memory_equal(guid, bek + 16, 16);
	assert_memory_equal(key, bek + sizeof bek - 32, 32);
	/* Cut short, or with another length recorded: not a .BEK file. */
	assert_int_equal(ssrp_fve_bek_parse(guid, key, bek, sizeof bek - 1), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "not a .BEK file"));
	bek[0x32] = 7; /* the entry is not a startup key */
	assert_int_equal(ssrp_fve_bek_parse(guid, key, bek, sizeof bek), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "not an external key"));
	bek[0x32] = 6;
	bek[0x70] = 0x2b; /* the key datum one byte short: no key found */
	assert_int_equal(ssrp_fve_bek_parse(guid, key, bek, sizeof bek), SSRP_E_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(full_protector_table),
		cmocka_unit_test(small_buffers),
		cmocka_unit_test(every_truncation_is_refused),
		cmocka_unit_test(every_cut_off_is_refused),
		cmocka_unit_test(crc_mismatch_is_named),
		cmocka_unit_test(block_header_fields),
		cmocka_unit_test(dataset_header_fields),
		cmocka_unit_test(datum_sizes),
		cmocka_unit_test(vmk_entries),
		cmocka_unit_test(wrapped_payload_too_long),
		cmocka_unit_test(tpm_blob_too_long),
		cmocka_unit_test(required_entries),
		cmocka_unit_test(volume_header),
		cmocka_unit_test(key_datums),
		cmocka_unit_test(validation_seal_and_verify),
		cmocka_unit_test(boot_sector_kinds),
		cmocka_unit_test(startup_key_file),
	};
	return cmocka_run_group_tests_name("BitLocker metadata codec", tests, NULL, NULL);
}
