/* BitLocker metadata: encode and parse (see fve_metadata.h). */
#include <string.h>
#include <zlib.h>

#include "bitlocker/fve_crypto.h"
#include "bitlocker/fve_metadata.h"
#include "hal/crypto.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

/* Datum value types and entry types (dislocker's datums.h names). */
enum {
	VT_KEY = 1,
	VT_UNICODE = 2,
	VT_STRETCH_KEY = 3,
	VT_AES_CCM = 5,
	VT_TPM_ENCODED = 6,
	VT_VMK = 8,
	VT_EXTERNAL_KEY = 9,
	ET_STARTUP_KEY = 6,
	VT_OFFSET_AND_SIZE = 15,
	ET_NESTED = 0,
	ET_VMK = 2,
	ET_FVEK = 3,
	ET_DESCRIPTION = 7,
	ET_VOLUME_HEADER_BLOCK = 0xF,
	ET_SSRP = 0x5353,
	DATUM_VERSION = 1,
	BLOCK_HEADER = 0x40,
	DATASET_HEADER = 0x30,
	ENTRIES_AT = BLOCK_HEADER + DATASET_HEADER,
	STATE_ENCRYPTED = 4,
	SSRP_MAGIC = 0x50525353, /* "SSRP" */
};

static const uint8_t bitlocker_guid[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
					   0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};
/* Used-space-only ("encrypt on write") volumes carry this one instead. */
static const uint8_t eow_guid[16] = {0x3b, 0x4d, 0xa8, 0x92, 0x80, 0xdd, 0x0e, 0x4d,
				     0x9e, 0x4e, 0xb1, 0xe3, 0x28, 0x4e, 0xae, 0xd8};

/* ---- little-endian helpers ---------------------------------------------- */

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, (uint16_t)v);
	le16(p + 2, (uint16_t)(v >> 16));
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | ((uint32_t)rd16(p + 2) << 16);
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* ---- encoding ----------------------------------------------------------- */

typedef struct writer {
	uint8_t *buf;
	size_t cap, pos;
	int overflow;
} writer;

static uint8_t *take(writer *w, size_t n)
{
	if (w->overflow || w->cap - w->pos < n) {
		w->overflow = 1;
		return NULL;
	}
	uint8_t *p = w->buf + w->pos;
	memset(p, 0, n);
	w->pos += n;
	return p;
}

static void put(writer *w, const void *data, size_t n)
{
	uint8_t *p = take(w, n);
	if (p && n)
		memcpy(p, data, n);
}

/* Start a datum; finish_datum() writes its size once its content is in. */
static size_t begin_datum(writer *w, uint16_t entry_type, uint16_t value_type)
{
	size_t at = w->pos;
	uint8_t *h = take(w, 8);
	if (h) {
		le16(h + 2, entry_type);
		le16(h + 4, value_type);
		le16(h + 6, DATUM_VERSION);
	}
	return at;
}

static void finish_datum(writer *w, size_t at)
{
	if (w->overflow)
		return;
	if (w->pos - at > 0xFFFF)
		w->overflow = 1;
	else
		le16(w->buf + at, (uint16_t)(w->pos - at));
}

static void put_wrapped(writer *w, uint16_t entry_type, const ssrp_fve_wrapped *wr)
{
	size_t d = begin_datum(w, entry_type, VT_AES_CCM);
	put(w, wr->nonce, 12);
	put(w, wr->tag, 16);
	put(w, wr->ct, wr->len);
	finish_datum(w, d);
}

static void put_unicode(writer *w, uint16_t entry_type, const uint8_t *s, size_t len)
{
	size_t d = begin_datum(w, entry_type, VT_UNICODE);
	put(w, s, len);
	finish_datum(w, d);
}

static void put_vmk(writer *w, const ssrp_fve_vmk *v)
{
	size_t d = begin_datum(w, ET_VMK, VT_VMK);
	uint8_t *p = take(w, 28);
	if (p) {
		memcpy(p, v->guid, 16);
		le64(p + 16, v->filetime);
		le16(p + 26, v->protection);
	}
	if (v->name_len)
		put_unicode(w, ET_NESTED, v->name, v->name_len);
	if (v->has_clear_key) {
		size_t k = begin_datum(w, ET_NESTED, VT_KEY);
		uint8_t alg[4] = {0};
		le16(alg, SSRP_FVE_ALG_CLEAR_KEY);
		put(w, alg, 4);
		put(w, v->clear_key, 32);
		finish_datum(w, k);
	}
	if (v->has_stretch) {
		size_t s = begin_datum(w, ET_NESTED, VT_STRETCH_KEY);
		uint8_t alg[4] = {0};
		le16(alg, SSRP_FVE_ALG_STRETCH);
		put(w, alg, 4);
		put(w, v->salt, 16);
		if (v->has_key_copy)
			put_wrapped(w, ET_NESTED, &v->key_copy);
		finish_datum(w, s);
	}
	if (v->has_wrapped_vmk)
		put_wrapped(w, ET_NESTED, &v->wrapped_vmk);
	if (v->tpm_blob_len) {
		size_t t = begin_datum(w, ET_NESTED, VT_TPM_ENCODED);
		take(w, 4);
		put(w, v->tpm_blob, v->tpm_blob_len);
		finish_datum(w, t);
	}
	finish_datum(w, d);
}

/* Pad the entries to 16 bytes and make room for the 8-byte trailer after
 * them: *content is the block's length up to the trailer. SSRP_E_BUFSIZE
 * when they do not fit. */
static int end_entries(writer *w, size_t *content, uint8_t **trailer)
{
	*content = (w->pos + 15) & ~(size_t)15;
	take(w, *content - w->pos);
	*trailer = take(w, 8);
	if (w->overflow || !*trailer || *content / 16 > 0xFFFF)
		return ssrp_error_set(SSRP_E_BUFSIZE,
				      "metadata: the entries do not fit in a %u-byte region",
				      SSRP_FVE_REGION);
	return SSRP_OK;
}

/* The trailer: its size, its version and the CRC-32 of the block before it. */
static void put_trailer(uint8_t *trailer, const uint8_t *block, size_t content)
{
	le16(trailer, 8);
	le16(trailer + 2, 2);
	le32(trailer + 4, (uint32_t)crc32(0L, block, (uInt)content));
}

int ssrp_fve_metadata_encode(uint8_t *out, size_t cap, size_t *out_len,
			     const ssrp_fve_metadata *md)
{
	writer w = {out, cap, 0, 0};
	uint8_t *h = take(&w, ENTRIES_AT);
	if (!h)
		return ssrp_error_set(SSRP_E_BUFSIZE, "metadata: no room for the headers");
	for (size_t i = 0; i < md->n_vmks; i++)
		put_vmk(&w, &md->vmks[i]);
	put_wrapped(&w, ET_FVEK, &md->fvek);
	if (md->description_len)
		put_unicode(&w, ET_DESCRIPTION, md->description, md->description_len);
	size_t vhb = begin_datum(&w, ET_VOLUME_HEADER_BLOCK, VT_OFFSET_AND_SIZE);
	uint8_t *p = take(&w, 16);
	if (p) {
		le64(p, md->relocated_at);
		le64(p + 8, md->relocated_size ? md->relocated_size : SSRP_FVE_RELOCATED_SIZE);
	}
	finish_datum(&w, vhb);
	size_t priv = begin_datum(&w, ET_SSRP, VT_KEY);
	p = take(&w, 36);
	if (p) {
		le32(p + 4, SSRP_MAGIC);
		le32(p + 8, md->flags);
		le64(p + 12, md->sequence);
		memcpy(p + 20, md->used_recovery, 16);
	}
	finish_datum(&w, priv);
	size_t entries_end = w.pos, content;
	uint8_t *trailer;
	int rc = end_entries(&w, &content, &trailer);
	if (rc)
		return rc;

	memcpy(h, "-FVE-FS-", 8);
	le16(h + 0x08, (uint16_t)(content / 16));
	le16(h + 0x0A, 2);
	le16(h + 0x0C, md->state ? md->state : STATE_ENCRYPTED);
	le16(h + 0x0E, md->next_state ? md->next_state : STATE_ENCRYPTED);
	le64(h + 0x10, md->volume_size);
	le32(h + 0x18, md->convert_size);
	le32(h + 0x1C, md->header_sectors ? md->header_sectors : SSRP_FVE_RELOCATED_SECTORS);
	for (int i = 0; i < 3; i++)
		le64(h + 0x20 + 8 * i, md->copies[i]);
	le64(h + 0x38, md->relocated_at);
	uint8_t *ds = h + BLOCK_HEADER;
	/* The dataset size counts its header and entries, not the padding. */
	uint32_t ds_size = (uint32_t)(entries_end - BLOCK_HEADER);
	le32(ds, ds_size);
	le32(ds + 4, 1);
	le32(ds + 8, DATASET_HEADER);
	le32(ds + 12, ds_size);
	memcpy(ds + 16, md->volume_guid, 16);
	le32(ds + 32, md->next_nonce);
	le16(ds + 36, md->method);
	le16(ds + 38, md->method);
	le64(ds + 40, md->filetime);
	put_trailer(trailer, out, content);
	*out_len = w.pos;
	return SSRP_OK;
}

/* ---- parsing ------------------------------------------------------------ */

/* A datum found in a range: its header fields and payload. */
typedef struct datum {
	uint16_t size, entry_type, value_type;
	const uint8_t *p; /* the whole datum, header included */
	size_t at;        /* offset in the block, for messages */
} datum;

typedef struct parser {
	const uint8_t *base; /* the block */
	unsigned *unmodelled;
} parser;

/* Next datum in [*pos, end). Returns 1 with d filled, 0 at the end (an
 * all-zero header or no room for one), negative on a malformed header. */
static int next_datum(const parser *ps, size_t *pos, size_t end, datum *d, const char *scope)
{
	const uint8_t *b = ps->base;
	if (end - *pos < 8) {
		for (size_t i = *pos; i < end; i++)
			if (b[i])
				return ssrp_error_set(SSRP_E_FORMAT,
						      "metadata: %s: %zu stray byte(s) at 0x%zx are too "
						      "few for a datum header",
						      scope, end - *pos, *pos);
		return 0;
	}
	d->size = rd16(b + *pos);
	d->entry_type = rd16(b + *pos + 2);
	d->value_type = rd16(b + *pos + 4);
	d->p = b + *pos;
	d->at = *pos;
	if (!d->size && !d->entry_type && !d->value_type && !rd16(b + *pos + 6))
		return 0;
	if (d->size < 8)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: %s: datum at 0x%zx has size %u, smaller than its "
				      "8-byte header",
				      scope, *pos, d->size);
	if (d->size > end - *pos)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: %s: datum at 0x%zx has size %u, past the end of its "
				      "container at 0x%zx",
				      scope, *pos, d->size, end);
	*pos += d->size;
	return 1;
}

static int need(const datum *d, size_t min, const char *what)
{
	if (d->size < min)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: %s datum at 0x%zx has %u bytes, fewer than the %zu "
				      "its header needs",
				      what, d->at, d->size, min);
	return SSRP_OK;
}

static int parse_wrapped(ssrp_fve_wrapped *out, const datum *d, const char *what)
{
	int rc = need(d, 0x24, what);
	if (rc)
		return rc;
	size_t len = d->size - 0x24u;
	if (len > SSRP_FVE_MAX_WRAPPED)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: %s datum at 0x%zx wraps %zu bytes, more than %d", what,
				      d->at, len, SSRP_FVE_MAX_WRAPPED);
	memcpy(out->nonce, d->p + 8, 12);
	memcpy(out->tag, d->p + 20, 16);
	out->len = (uint16_t)len;
	memcpy(out->ct, d->p + 0x24, len);
	return SSRP_OK;
}

static int parse_stretch(const parser *ps, ssrp_fve_vmk *v, const datum *d)
{
	int rc = need(d, 0x1c, "STRETCH_KEY");
	if (rc)
		return rc;
	if (v->has_stretch)
		return SSRP_OK; /* the first one counts, as for dislocker */
	v->has_stretch = 1;
	memcpy(v->salt, d->p + 12, 16);
	size_t pos = d->at + 0x1c, end = d->at + d->size;
	datum n;
	/* ssrp keeps a recovery protector's key here (entry type 0); Windows
	 * nests other AES-CCM datums (entry types 0x12, 0x13, and 0 under a
	 * password protector), which ssrp does not model. */
	while ((rc = next_datum(ps, &pos, end, &n, "STRETCH_KEY")) == 1) {
		if (n.value_type == VT_AES_CCM && n.entry_type == ET_NESTED && !v->has_key_copy &&
		    v->protection == SSRP_FVE_PROTECT_RECOVERY_PASSWORD) {
			if ((rc = parse_wrapped(&v->key_copy, &n, "recovery key copy")))
				return rc;
			v->has_key_copy = 1;
		} else {
			(*ps->unmodelled)++;
		}
	}
	return rc;
}

static int parse_vmk(const parser *ps, ssrp_fve_vmk *v, const datum *d)
{
	int rc = need(d, 0x24, "VMK");
	if (rc)
		return rc;
	if (d->value_type != VT_VMK)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: VMK entry at 0x%zx has value type %u, not 8 (VMK)",
				      d->at, d->value_type);
	memset(v, 0, sizeof *v);
	memcpy(v->guid, d->p + 8, 16);
	v->filetime = rd64(d->p + 24);
	v->protection = rd16(d->p + 34);
	size_t pos = d->at + 0x24, end = d->at + d->size;
	datum n;
	int have_name = 0;
	/* A repeated datum kind keeps its first occurrence (dislocker reads the
	 * first too); later ones are skipped whole, never merged. */
	while ((rc = next_datum(ps, &pos, end, &n, "VMK entry")) == 1) {
		if ((n.value_type == VT_UNICODE && have_name++) ||
		    (n.value_type == VT_KEY && v->has_clear_key) ||
		    (n.value_type == VT_AES_CCM && v->has_wrapped_vmk) ||
		    (n.value_type == VT_TPM_ENCODED && v->tpm_blob_len)) {
			(*ps->unmodelled)++;
			continue;
		}
		switch (n.value_type) {
		case VT_UNICODE:
			if (n.size - 8u > SSRP_FVE_MAX_NAME)
				return ssrp_error_set(SSRP_E_FORMAT,
						      "metadata: protector name at 0x%zx is %u bytes, "
						      "over %d",
						      n.at, n.size - 8u, SSRP_FVE_MAX_NAME);
			v->name_len = (uint16_t)(n.size - 8u);
			memcpy(v->name, n.p + 8, v->name_len);
			break;
		case VT_KEY:
			if ((rc = need(&n, 0xc + 32, "clear KEY")))
				return rc;
			v->has_clear_key = 1;
			memcpy(v->clear_key, n.p + 0xc, 32);
			break;
		case VT_STRETCH_KEY:
			if ((rc = parse_stretch(ps, v, &n)))
				return rc;
			break;
		case VT_AES_CCM:
			if ((rc = parse_wrapped(&v->wrapped_vmk, &n, "wrapped VMK")))
				return rc;
			v->has_wrapped_vmk = 1;
			break;
		case VT_TPM_ENCODED:
			if ((rc = need(&n, 0xc, "TPM_ENCODED")))
				return rc;
			if (n.size - 0xcu > SSRP_FVE_MAX_TPM_BLOB)
				return ssrp_error_set(SSRP_E_FORMAT,
						      "metadata: TPM datum at 0x%zx holds %u bytes, "
						      "over %d",
						      n.at, n.size - 0xcu, SSRP_FVE_MAX_TPM_BLOB);
			v->tpm_blob_len = (uint16_t)(n.size - 0xcu);
			memcpy(v->tpm_blob, n.p + 0xc, v->tpm_blob_len);
			break;
		default:
			(*ps->unmodelled)++; /* kinds ssrp does not use: kept out of the model */
			break;
		}
	}
	return rc;
}

static int parse_entries(const parser *ps, ssrp_fve_metadata *out, size_t end)
{
	size_t pos = ENTRIES_AT;
	int have_fvek = 0, have_vhb = 0, have_description = 0, rc;
	datum d;
	while ((rc = next_datum(ps, &pos, end, &d, "entries")) == 1) {
		switch (d.entry_type) {
		case ET_VMK:
			if (out->n_vmks == SSRP_FVE_MAX_VMKS)
				return ssrp_error_set(SSRP_E_FORMAT,
						      "metadata: more than %d protectors",
						      SSRP_FVE_MAX_VMKS);
			if ((rc = parse_vmk(ps, &out->vmks[out->n_vmks], &d)))
				return rc;
			out->n_vmks++;
			break;
		case ET_FVEK:
			if (have_fvek++)
				return ssrp_error_set(SSRP_E_FORMAT,
						      "metadata: a second FVEK entry at 0x%zx", d.at);
			if (d.value_type != VT_AES_CCM)
				return ssrp_error_set(SSRP_E_FORMAT,
						      "metadata: FVEK entry at 0x%zx is not AES-CCM "
						      "(value type %u)",
						      d.at, d.value_type);
			if ((rc = parse_wrapped(&out->fvek, &d, "FVEK")))
				return rc;
			break;
		case ET_DESCRIPTION:
			if (d.value_type == VT_UNICODE && d.size - 8u <= SSRP_FVE_MAX_NAME &&
			    !have_description++) {
				out->description_len = (uint16_t)(d.size - 8u);
				memcpy(out->description, d.p + 8, out->description_len);
			}
			break;
		case ET_VOLUME_HEADER_BLOCK:
			if ((rc = need(&d, 0x18, "volume header block")))
				return rc;
			out->relocated_size = rd64(d.p + 16);
			if (rd64(d.p + 8) != out->relocated_at || !out->relocated_size ||
			    out->relocated_size % SSRP_FVE_SECTOR)
				return ssrp_error_set(SSRP_E_FORMAT,
						      "metadata: the volume header block entry (offset "
						      "0x%llx, size %llu) disagrees with the block header "
						      "(offset 0x%llx) or is not whole sectors",
						      (unsigned long long)rd64(d.p + 8),
						      (unsigned long long)out->relocated_size,
						      (unsigned long long)out->relocated_at);
			if (d.size > 0x18)
				out->unmodelled++; /* Windows appends conversion details */
			have_vhb = 1;
			break;
		case ET_SSRP:
			if (d.size >= 44 && rd32(d.p + 12) == SSRP_MAGIC) {
				out->flags = rd32(d.p + 16);
				out->sequence = rd64(d.p + 20);
				memcpy(out->used_recovery, d.p + 28, 16);
			}
			break;
		default:
			out->unmodelled++;
			break;
		}
	}
	if (rc)
		return rc;
	if (!have_fvek)
		return ssrp_error_set(SSRP_E_FORMAT, "metadata: the FVEK entry is missing");
	if (!have_vhb)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: the volume header block entry is missing");
	return SSRP_OK;
}

static int is_method(uint16_t m)
{
	return m >= SSRP_FVE_ALG_CBC_ELEPHANT_128 && m <= SSRP_FVE_ALG_XTS_256;
}

/* The trailer after the block: "8, 2, CRC32" (ssrp's short form) or
 * Windows' "0x10000 - block size, 2, CRC32" and the AES-CCM datum. */
static int parse_trailer(ssrp_fve_metadata *out, const uint8_t *in, size_t len, size_t content)
{
	const uint8_t *tr = in + content;
	uint16_t size = rd16(tr), version = rd16(tr + 2);
	if (size < 8 || version != 2)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: the validation structure at 0x%zx has size %u, version "
				      "%u (want at least 8, version 2)",
				      content, size, version);
	if (rd32(tr + 4) != (uint32_t)crc32(0L, in, (uInt)content))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: CRC32 mismatch (the copy is damaged or was cut off "
				      "mid-write)");
	if (size == 8)
		return SSRP_OK;
	if (size < SSRP_FVE_VALIDATION_LEN || len - content < SSRP_FVE_VALIDATION_LEN)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: the validation structure at 0x%zx (size %u) has no "
				      "room for its %u-byte AES-CCM datum",
				      content, size, SSRP_FVE_VALIDATION_LEN - 8);
	const uint8_t *d = tr + 8;
	if (rd16(d) != SSRP_FVE_VALIDATION_LEN - 8 || rd16(d + 2) != ET_NESTED ||
	    rd16(d + 4) != VT_AES_CCM)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: the validation datum at 0x%zx (size %u, role %u, type "
				      "%u) is not an 80-byte AES-CCM datum",
				      content + 8, rd16(d), rd16(d + 2), rd16(d + 4));
	out->has_validation = 1;
	memcpy(out->validation.nonce, d + 8, 12);
	memcpy(out->validation.tag, d + 20, 16);
	out->validation.len = SSRP_FVE_VALIDATION_LEN - 8 - 36;
	memcpy(out->validation.ct, d + 36, out->validation.len);
	return SSRP_OK;
}

int ssrp_fve_metadata_parse(ssrp_fve_metadata *out, const uint8_t *in, size_t len)
{
	memset(out, 0, sizeof *out);
	if (len < ENTRIES_AT + 8 || memcmp(in, "-FVE-FS-", 8))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: no '-FVE-FS-' block signature (not BitLocker metadata)");
	if (rd16(in + 0x0A) != 2)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: block version %u is not supported (only 2, Windows 7 "
				      "and later)",
				      rd16(in + 0x0A));
	size_t content = (size_t)rd16(in + 0x08) * 16;
	if (content < ENTRIES_AT || content + 8 > len)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: block size field 0x%x (x16 = %zu bytes) is outside "
				      "%u..%zu",
				      rd16(in + 0x08), content, ENTRIES_AT, len - 8);
	int rc = parse_trailer(out, in, len, content);
	if (rc)
		return rc;
	out->content_len = content;
	out->state = rd16(in + 0x0C);
	out->next_state = rd16(in + 0x0E);
	out->header_sectors = rd32(in + 0x1C);
	out->volume_size = rd64(in + 0x10);
	out->convert_size = rd32(in + 0x18);
	for (int i = 0; i < 3; i++)
		out->copies[i] = rd64(in + 0x20 + 8 * i);
	out->relocated_at = rd64(in + 0x38);

	const uint8_t *ds = in + BLOCK_HEADER;
	uint32_t ds_size = rd32(ds);
	if (ds_size < DATASET_HEADER || ds_size > content - BLOCK_HEADER || rd32(ds + 12) != ds_size)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: dataset size %u (copy %u) does not fit the %zu-byte "
				      "block",
				      ds_size, rd32(ds + 12), content);
	if (rd32(ds + 4) != 1 || rd32(ds + 8) != DATASET_HEADER)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: dataset version %u / header size %u is not 1 / 48",
				      rd32(ds + 4), rd32(ds + 8));
	memcpy(out->volume_guid, ds + 16, 16);
	out->next_nonce = rd32(ds + 32);
	out->method = rd16(ds + 36);
	/* Windows leaves the second method field at 0 on some volumes. */
	if ((rd16(ds + 38) != out->method && rd16(ds + 38)) || !is_method(out->method))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: encryption method 0x%04x (second field 0x%04x) is not "
				      "one BitLocker uses (AES-CBC 0x8000-0x8003, XTS-AES "
				      "0x8004/0x8005)",
				      out->method, rd16(ds + 38));
	out->filetime = rd64(ds + 40);
	parser ps = {in, &out->unmodelled};
	return parse_entries(&ps, out, BLOCK_HEADER + (size_t)ds_size);
}

static const ssrp_fve_vmk *vmk_by_guid(const ssrp_fve_metadata *md, const uint8_t *guid)
{
	for (size_t i = 0; i < md->n_vmks; i++)
		if (!memcmp(md->vmks[i].guid, guid, 16))
			return &md->vmks[i];
	return NULL;
}

/* How many of old's protector entries carry guid. */
static int vmk_datums(const parser *ps, size_t end, const uint8_t *guid)
{
	size_t pos = ENTRIES_AT;
	datum d;
	int n = 0;
	while (next_datum(ps, &pos, end, &d, "entries") == 1)
		if (d.entry_type == ET_VMK && d.size >= 0x24 && !memcmp(d.p + 8, guid, 16))
			n++;
	return n;
}

int ssrp_fve_metadata_rewrite(uint8_t *out, size_t cap, size_t *out_len, const uint8_t *old,
			      size_t old_len, const ssrp_fve_metadata *md)
{
	unsigned ignored = 0;
	parser ps = {old, &ignored};
	if (old_len < ENTRIES_AT + 8 || cap < ENTRIES_AT || memcmp(old, "-FVE-FS-", 8))
		return ssrp_error_set(SSRP_E_FORMAT, "metadata: the block to rewrite is not one");
	size_t end = BLOCK_HEADER + (size_t)rd32(old + BLOCK_HEADER);
	if (end < ENTRIES_AT || end > old_len)
		return ssrp_error_set(SSRP_E_FORMAT, "metadata: the block to rewrite has no dataset");
	size_t pos = ENTRIES_AT;
	datum d;
	int rc;
	/* Entries are told apart by their protector id: two sharing one
	 * cannot be kept or dropped one by one. */
	while ((rc = next_datum(&ps, &pos, end, &d, "entries")) == 1)
		if (d.entry_type == ET_VMK && d.size >= 0x24 && vmk_datums(&ps, end, d.p + 8) > 1)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "metadata: two protector entries share one id (at 0x%zx), "
					      "so a change cannot tell them apart",
					      d.at);
	if (rc < 0)
		return rc;
	writer w = {out, cap, 0, 0};
	put(&w, old, ENTRIES_AT);
	pos = ENTRIES_AT;
	while ((rc = next_datum(&ps, &pos, end, &d, "entries")) == 1) {
		const ssrp_fve_vmk *k = d.entry_type == ET_VMK && d.size >= 0x24
						? vmk_by_guid(md, d.p + 8)
						: NULL;
		if (d.entry_type == ET_VMK && (!k || k->changed))
			continue; /* removed, or encoded below */
		put(&w, d.p, d.size);
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < md->n_vmks; i++)
		if (md->vmks[i].changed || !vmk_datums(&ps, end, md->vmks[i].guid))
			put_vmk(&w, &md->vmks[i]);
	size_t entries_end = w.pos, content;
	uint8_t *trailer;
	if ((rc = end_entries(&w, &content, &trailer)))
		return rc;
	uint32_t ds_size = (uint32_t)(entries_end - BLOCK_HEADER);
	le16(out + 0x08, (uint16_t)(content / 16));
	le32(out + BLOCK_HEADER, ds_size);
	le32(out + BLOCK_HEADER + 12, ds_size);
	le32(out + BLOCK_HEADER + 32, md->next_nonce);
	put_trailer(trailer, out, content);
	*out_len = w.pos;
	return SSRP_OK;
}

int ssrp_fve_metadata_seal(uint8_t *out, size_t cap, size_t *out_len, const uint8_t vmk[32],
			   const uint8_t nonce[12])
{
	size_t content = (size_t)rd16(out + 0x08) * 16;
	if (content + SSRP_FVE_VALIDATION_LEN > cap || content >= SSRP_FVE_REGION)
		return ssrp_error_set(SSRP_E_BUFSIZE, "metadata: no room for the validation datum");
	uint8_t pt[12 + 32], *tr = out + content, *d = tr + 8;
	memset(pt, 0, sizeof pt);
	le16(pt, sizeof pt);
	le16(pt + 4, VT_KEY);
	le16(pt + 8, SSRP_FVE_ALG_VALIDATION_HASH);
	int rc = ssrp_sha256(pt + 12, out, content);
	memset(tr, 0, SSRP_FVE_VALIDATION_LEN);
	le16(tr, (uint16_t)(SSRP_FVE_REGION - content));
	le16(tr + 2, 2);
	le32(tr + 4, (uint32_t)crc32(0L, out, (uInt)content));
	le16(d, SSRP_FVE_VALIDATION_LEN - 8);
	le16(d + 4, VT_AES_CCM);
	le16(d + 6, DATUM_VERSION);
	memcpy(d + 8, nonce, 12);
	if (!rc)
		rc = ssrp_ccm_encrypt(d + 36, d + 20, vmk, nonce, pt, sizeof pt);
	ssrp_memzero(pt, sizeof pt);
	if (!rc)
		*out_len = content + SSRP_FVE_VALIDATION_LEN;
	return rc;
}

int ssrp_fve_metadata_verify(const uint8_t *block, const ssrp_fve_metadata *md,
			     const uint8_t vmk[32])
{
	if (!md->has_validation)
		return SSRP_OK;
	uint8_t pt[SSRP_FVE_MAX_WRAPPED], hash[SSRP_SHA256_LEN];
	const ssrp_fve_wrapped *v = &md->validation;
	int rc = ssrp_ccm_decrypt(pt, vmk, v->nonce, v->tag, v->ct, v->len);
	if (rc)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "metadata: tampered: the validation datum's MAC does not match "
				      "under the volume master key");
	if (v->len != 44 || rd16(pt) != 44 || rd16(pt + 4) != VT_KEY ||
	    rd16(pt + 8) != SSRP_FVE_ALG_VALIDATION_HASH)
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "metadata: the validation datum holds no SHA-256 of the block "
				    "(algorithm 0x%04x)",
				    rd16(pt + 8));
	if (!rc)
		rc = ssrp_sha256(hash, block, md->content_len);
	if (!rc && memcmp(hash, pt + 12, sizeof hash))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "metadata: tampered: the block's SHA-256 differs from the one its "
				    "validation datum vouches for");
	ssrp_memzero(pt, sizeof pt);
	return rc;
}

/* ---- volume header and KEY datums --------------------------------------- */

void ssrp_fve_volume_header_encode(uint8_t out[SSRP_FVE_SECTOR], uint64_t volume_size,
				   const uint64_t copies[3])
{
	memset(out, 0, SSRP_FVE_SECTOR);
	memcpy(out, "\xEB\x58\x90-FVE-FS-", 11);
	le16(out + 0x0B, SSRP_FVE_SECTOR);
	out[0x0D] = 8;
	out[0x15] = 0xF8;
	le32(out + 0x20, (uint32_t)(volume_size / SSRP_FVE_SECTOR));
	memcpy(out + 0xA0, bitlocker_guid, 16);
	for (int i = 0; i < 3; i++)
		le64(out + 0xB0 + 8 * i, copies[i]);
	out[0x1FE] = 0x55;
	out[0x1FF] = 0xAA;
}

int ssrp_fve_boot_parse(ssrp_fve_boot *out, const uint8_t in[SSRP_FVE_SECTOR])
{
	memset(out, 0, sizeof *out);
	size_t at;
	if (!memcmp(in + 3, "-FVE-FS-", 8)) {
		at = 0xA0;
	} else if (!memcmp(in + 3, "MSWIN4.1", 8)) {
		out->to_go = 1; /* the FAT boot sector a To Go reader is found through */
		at = 0x1A8;
	} else {
		return ssrp_error_set(SSRP_E_FORMAT,
				      "volume header: neither '-FVE-FS-' nor a To Go 'MSWIN4.1' "
				      "signature at offset 3 (not a BitLocker volume)");
	}
	if (!memcmp(in, "\xEB\x52\x90", 3))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "volume header: a Windows Vista volume (jump EB 52 90); only "
				      "Windows 7 and later volumes are read");
	if (!memcmp(in + at, eow_guid, 16))
		out->used_space_only = 1;
	else if (memcmp(in + at, bitlocker_guid, 16))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "volume header: the BitLocker GUID at 0x%zx is missing", at);
	out->sector_size = rd16(in + 0x0B);
	if (!out->sector_size)
		out->sector_size = SSRP_FVE_SECTOR;
	if (out->sector_size != 512 && out->sector_size != 4096)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "volume header: %u bytes per sector (BitLocker uses 512 or 4096)",
				      out->sector_size);
	if (in[0x1FE] != 0x55 || in[0x1FF] != 0xAA)
		return ssrp_error_set(SSRP_E_FORMAT, "volume header: no 55 AA boot signature");
	out->total_sectors = rd32(in + 0x20);
	for (int i = 0; i < 3; i++) {
		out->copies[i] = rd64(in + at + 16 + 8 * i);
		if (!out->copies[i] || out->copies[i] % SSRP_FVE_SECTOR)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "volume header: metadata offset %d (0x%llx) is not a "
					      "sector boundary",
					      i + 1, (unsigned long long)out->copies[i]);
	}
	return SSRP_OK;
}

int ssrp_fve_volume_header_parse(uint64_t copies[3], uint64_t *volume_size,
				 const uint8_t in[SSRP_FVE_SECTOR])
{
	ssrp_fve_boot boot;
	int rc = ssrp_fve_boot_parse(&boot, in);
	if (rc)
		return rc;
	memcpy(copies, boot.copies, sizeof boot.copies);
	*volume_size = (uint64_t)boot.total_sectors * boot.sector_size;
	return SSRP_OK;
}

size_t ssrp_fve_key_datum(uint8_t *out, uint16_t alg, const uint8_t *key, size_t key_len)
{
	size_t size = 0xc + key_len;
	memset(out, 0, 0xc);
	le16(out, (uint16_t)size);
	le16(out + 4, VT_KEY);
	le16(out + 8, alg);
	memcpy(out + 0xc, key, key_len);
	return size;
}

int ssrp_fve_key_datum_parse(const uint8_t **key, const uint8_t *in, size_t len, uint16_t alg,
			     size_t key_len)
{
	if (len != 0xc + key_len || rd16(in) != len || rd16(in + 4) != VT_KEY ||
	    rd16(in + 8) != alg)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the unwrapped data is not a %zu-byte key of algorithm 0x%04x",
				      key_len, alg);
	*key = in + 0xc;
	return SSRP_OK;
}

int ssrp_fve_key_datum_any(const uint8_t **key, size_t *key_len, uint16_t *alg, const uint8_t *in,
			   size_t len)
{
	if (len < 0xc || rd16(in) != len || rd16(in + 4) != VT_KEY)
		return ssrp_error_set(SSRP_E_FORMAT, "the unwrapped data is not a KEY datum");
	*key = in + 0xc;
	*key_len = len - 0xc;
	*alg = rd16(in + 8);
	return SSRP_OK;
}

int ssrp_fve_bek_parse(uint8_t guid[16], uint8_t key[32], const uint8_t *in, size_t len)
{
	if (len < DATASET_HEADER + 8 || rd32(in) != len || rd32(in + 4) != 1 ||
	    rd32(in + 8) != DATASET_HEADER || rd32(in + 12) != len)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "startup key: not a .BEK file (its %zu bytes do not start with "
				      "a version-1 header giving that size)",
				      len);
	memcpy(guid, in + 16, 16);
	unsigned ignored = 0;
	parser ps = {in, &ignored};
	size_t pos = DATASET_HEADER;
	datum d;
	int rc = next_datum(&ps, &pos, len, &d, "startup key");
	if (rc == 1 && (d.entry_type != ET_STARTUP_KEY || d.value_type != VT_EXTERNAL_KEY))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "startup key: the entry at 0x30 has type %u/%u, not an external "
				    "key (6/9)",
				    d.entry_type, d.value_type);
	if (rc == 1 && d.size < 8 + 24)
		rc = need(&d, 8 + 24, "external key");
	if (rc != 1)
		return rc ? rc : ssrp_error_set(SSRP_E_FORMAT, "startup key: no external key entry");
	size_t npos = d.at + 8 + 24, end = d.at + d.size;
	datum n;
	while ((rc = next_datum(&ps, &npos, end, &n, "external key")) == 1)
		if (n.value_type == VT_KEY && n.size == 0xc + 32) {
			memcpy(key, n.p + 0xc, 32);
			return SSRP_OK;
		}
	return rc ? rc : ssrp_error_set(SSRP_E_FORMAT, "startup key: no 32-byte key inside");
}
