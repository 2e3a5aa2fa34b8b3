/* libFuzzer target: the BitLocker metadata parser (bitlocker/fve_metadata.c)
 * must refuse what it does not accept with SSRP_E_FORMAT and a message,
 * never crash, and what it accepts must encode and parse again to an equal
 * model (less what ssrp does not model). A validation datum found is
 * checked with a fixed VMK (a MAC mismatch is SSRP_E_FORMAT, "tampered");
 * a block sealed with it verifies. Each input is tried as it is and once
 * more with its CRC recomputed (in the form its trailer has: ssrp's 8-byte
 * one or Windows' with the datum), so mutations reach the checks behind
 * the CRC. Seeds include Windows-made metadata blocks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bitlocker/fve_metadata.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ssrp_fve_metadata model, again;
static uint8_t encoded[SSRP_FVE_REGION];
static uint8_t fixed[SSRP_FVE_REGION];
static const uint8_t vmk[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t nonce[12] = {9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 1};

static void clear_tail(uint8_t *p, size_t used, size_t cap)
{
	if (used < cap)
		memset(p + used, 0, cap - used);
}

static void clear_wrapped(ssrp_fve_wrapped *w)
{
	clear_tail(w->ct, w->len, sizeof w->ct);
}

/* Bytes past a field's length carry no meaning, and the parser leaves them
 * as an earlier datum of the same kind wrote them (the last one wins):
 * zero them before comparing. */
static void normalize(ssrp_fve_metadata *m)
{
	/* What parsing reports about the bytes, and the encoder's defaults. */
	m->content_len = 0;
	m->has_validation = 0;
	memset(&m->validation, 0, sizeof m->validation);
	m->unmodelled = 0;
	if (!m->state)
		m->state = 4;
	if (!m->next_state)
		m->next_state = 4;
	if (!m->header_sectors)
		m->header_sectors = SSRP_FVE_RELOCATED_SECTORS;
	clear_wrapped(&m->fvek);
	clear_tail(m->description, m->description_len, sizeof m->description);
	for (size_t i = 0; i < m->n_vmks; i++) {
		ssrp_fve_vmk *v = &m->vmks[i];
		clear_tail(v->name, v->name_len, sizeof v->name);
		clear_tail(v->tpm_blob, v->tpm_blob_len, sizeof v->tpm_blob);
		clear_wrapped(&v->key_copy);
		clear_wrapped(&v->wrapped_vmk);
	}
}

/* The block edited in place as a Windows-made one is: without its first
 * protector, the others kept byte for byte or (every other one) encoded
 * from the model. The result must parse, sealed, with exactly the
 * protectors the model keeps. */
static void rewrite_without_first(const uint8_t *in, size_t len)
{
	if (!model.n_vmks)
		return;
	memmove(&model.vmks[0], &model.vmks[1], (model.n_vmks - 1) * sizeof model.vmks[0]);
	model.n_vmks--;
	for (size_t i = 0; i < model.n_vmks; i++)
		model.vmks[i].changed = (int)(i & 1);
	size_t n = 0;
	int rc = ssrp_fve_metadata_rewrite(encoded, sizeof encoded - SSRP_FVE_VALIDATION_LEN, &n, in,
					   len, &model);
	if (rc == SSRP_E_BUFSIZE || (rc == SSRP_E_FORMAT && ssrp_error_last()[0]))
		return; /* full, or two protectors share an id */
	if (rc != SSRP_OK)
		abort();
	if (ssrp_fve_metadata_seal(encoded, sizeof encoded, &n, vmk, nonce) != SSRP_OK ||
	    ssrp_fve_metadata_parse(&again, encoded, n) != SSRP_OK || again.n_vmks != model.n_vmks)
		abort();
}

static void check(const uint8_t *in, size_t len)
{
	int rc = ssrp_fve_metadata_parse(&model, in, len);
	if (rc != SSRP_OK) {
		if (rc != SSRP_E_FORMAT || !ssrp_error_last()[0])
			abort();
		return;
	}
	rc = ssrp_fve_metadata_verify(in, &model, vmk);
	if (rc != SSRP_OK && (rc != SSRP_E_FORMAT || !ssrp_error_last()[0]))
		abort();
	if (model.has_validation && rc == SSRP_OK)
		abort(); /* a MAC under this fixed key cannot come from the fuzzer */
	size_t n = 0;
	rc = ssrp_fve_metadata_encode(encoded, sizeof encoded - SSRP_FVE_VALIDATION_LEN, &n, &model);
	if (rc == SSRP_E_BUFSIZE)
		return; /* a block filling the region leaves no room for the datum */
	if (rc != SSRP_OK)
		abort();
	if (ssrp_fve_metadata_seal(encoded, sizeof encoded, &n, vmk, nonce) != SSRP_OK)
		abort();
	if (ssrp_fve_metadata_parse(&again, encoded, n) != SSRP_OK || !again.has_validation ||
	    ssrp_fve_metadata_verify(encoded, &again, vmk) != SSRP_OK)
		abort();
	normalize(&model);
	normalize(&again);
	if (memcmp(&again, &model, sizeof model))
		abort();
	rewrite_without_first(in, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size);
	/* The same bytes with a CRC that matches: size field at 0x08 (x16),
	 * trailer "size, 2, CRC32" right after the block, size 8 or kept. */
	if (size < 0x78 || size > sizeof fixed)
		return 0;
	size_t content = (size_t)(data[8] | data[9] << 8) * 16;
	if (content + 8 > size)
		return 0;
	memcpy(fixed, data, size);
	uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)content);
	uint8_t *t = fixed + content;
	if ((t[0] | t[1] << 8) < 8) {
		t[0] = 8;
		t[1] = 0;
	}
	t[2] = 2;
	t[3] = 0;
	for (int i = 0; i < 4; i++)
		t[4 + i] = (uint8_t)(crc >> (8 * i));
	check(fixed, size);
	return 0;
}
