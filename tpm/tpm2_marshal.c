/* TPM 2.0 marshalling for the tbs backend (see tpm2_marshal.h). No
 * allocation, no OS calls; every read is bounds-checked. */
#include <string.h>

#include "tpm/tpm2_marshal.h"

/* ---- writer ------------------------------------------------------------ */

void ssrp_tpm2_writer_init(ssrp_tpm2_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->overflow = 0;
}

void ssrp_tpm2_put_bytes(ssrp_tpm2_writer *w, const void *p, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void ssrp_tpm2_put_u8(ssrp_tpm2_writer *w, uint8_t v)
{
	ssrp_tpm2_put_bytes(w, &v, 1);
}

void ssrp_tpm2_put_u16(ssrp_tpm2_writer *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	ssrp_tpm2_put_bytes(w, b, sizeof b);
}

void ssrp_tpm2_put_u32(ssrp_tpm2_writer *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	ssrp_tpm2_put_bytes(w, b, sizeof b);
}

/* A no-session header whose size field command_end() fills in. */
static void command_begin(ssrp_tpm2_writer *w, uint8_t *buf, size_t cap, uint32_t cc)
{
	ssrp_tpm2_writer_init(w, buf, cap);
	ssrp_tpm2_put_u16(w, SSRP_TPM2_ST_NO_SESSIONS);
	ssrp_tpm2_put_u32(w, 0);
	ssrp_tpm2_put_u32(w, cc);
}

static int command_end(ssrp_tpm2_writer *w, size_t *out_len, const char *what)
{
	*out_len = 0;
	if (w->overflow)
		return ssrp_error_set(SSRP_E_BUFSIZE, "%s command: does not fit in %zu bytes", what,
				      w->cap);
	uint32_t size = (uint32_t)w->len;
	w->buf[2] = (uint8_t)(size >> 24);
	w->buf[3] = (uint8_t)(size >> 16);
	w->buf[4] = (uint8_t)(size >> 8);
	w->buf[5] = (uint8_t)size;
	*out_len = w->len;
	return SSRP_OK;
}

/* ---- reader ------------------------------------------------------------ */

static int need(ssrp_tpm2_reader *r, size_t n, const char *field)
{
	if (n <= r->len - r->pos)
		return SSRP_OK;
	return ssrp_error_set(SSRP_E_TPM,
			      "%s response: truncated: %s needs %zu byte(s) at offset %zu, %zu left",
			      r->what, field, n, r->pos, r->len - r->pos);
}

int ssrp_tpm2_get_bytes(ssrp_tpm2_reader *r, void *out, size_t n, const char *field)
{
	int rc = need(r, n, field);
	if (rc)
		return rc;
	if (n)
		memcpy(out, r->buf + r->pos, n);
	r->pos += n;
	return SSRP_OK;
}

int ssrp_tpm2_get_u8(ssrp_tpm2_reader *r, uint8_t *v, const char *field)
{
	return ssrp_tpm2_get_bytes(r, v, 1, field);
}

int ssrp_tpm2_get_u16(ssrp_tpm2_reader *r, uint16_t *v, const char *field)
{
	uint8_t b[2];
	int rc = ssrp_tpm2_get_bytes(r, b, sizeof b, field);
	if (rc == SSRP_OK)
		*v = (uint16_t)((b[0] << 8) | b[1]);
	return rc;
}

int ssrp_tpm2_get_u32(ssrp_tpm2_reader *r, uint32_t *v, const char *field)
{
	uint8_t b[4];
	int rc = ssrp_tpm2_get_bytes(r, b, sizeof b, field);
	if (rc == SSRP_OK)
		*v = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
	return rc;
}

int ssrp_tpm2_response_begin(ssrp_tpm2_reader *r, const uint8_t *rsp, size_t len,
			     const char *what)
{
	r->buf = rsp;
	r->len = rsp ? len : 0;
	r->pos = 0;
	r->what = what;
	if (r->len < SSRP_TPM2_HEADER_SIZE)
		return ssrp_error_set(SSRP_E_TPM,
				      "%s response: %zu byte(s) is shorter than the %d-byte response "
				      "header",
				      what, r->len, SSRP_TPM2_HEADER_SIZE);
	/* The length check above makes these reads succeed. */
	uint16_t tag = 0;
	uint32_t size = 0, code = 0;
	ssrp_tpm2_get_u16(r, &tag, "tag");
	ssrp_tpm2_get_u32(r, &size, "responseSize");
	ssrp_tpm2_get_u32(r, &code, "responseCode");
	if (size != len)
		return ssrp_error_set(SSRP_E_TPM,
				      "%s response: size field says %u bytes but %zu were received",
				      what, size, len);
	/* A TPM refusing the command's tag answers in the TPM 1.2 format. */
	if (tag == SSRP_TPM2_ST_RSP_COMMAND && code != 0)
		return ssrp_tpm_rc_error(code, what);
	if (tag != SSRP_TPM2_ST_NO_SESSIONS)
		return ssrp_error_set(SSRP_E_TPM,
				      "%s response: tag 0x%04x is not TPM_ST_NO_SESSIONS (0x%04x)",
				      what, tag, SSRP_TPM2_ST_NO_SESSIONS);
	if (code != 0)
		return ssrp_tpm_rc_error(code, what);
	return SSRP_OK;
}

int ssrp_tpm2_response_end(const ssrp_tpm2_reader *r)
{
	if (r->pos == r->len)
		return SSRP_OK;
	return ssrp_error_set(SSRP_E_TPM,
			      "%s response: %zu byte(s) left over after the last parameter",
			      r->what, r->len - r->pos);
}

/* ---- commands ---------------------------------------------------------- */

int ssrp_tpm2_build_get_capability(uint8_t *buf, size_t cap, size_t *out_len,
				   uint32_t capability, uint32_t property, uint32_t count)
{
	ssrp_tpm2_writer w;
	command_begin(&w, buf, cap, SSRP_TPM2_CC_GET_CAPABILITY);
	ssrp_tpm2_put_u32(&w, capability);
	ssrp_tpm2_put_u32(&w, property);
	ssrp_tpm2_put_u32(&w, count);
	return command_end(&w, out_len, "GetCapability");
}

int ssrp_tpm2_build_get_random(uint8_t *buf, size_t cap, size_t *out_len, uint16_t bytes)
{
	ssrp_tpm2_writer w;
	command_begin(&w, buf, cap, SSRP_TPM2_CC_GET_RANDOM);
	ssrp_tpm2_put_u16(&w, bytes);
	return command_end(&w, out_len, "GetRandom");
}

int ssrp_tpm2_build_pcr_read(uint8_t *buf, size_t cap, size_t *out_len, uint16_t alg,
			     uint32_t mask)
{
	ssrp_tpm2_writer w;
	command_begin(&w, buf, cap, SSRP_TPM2_CC_PCR_READ);
	ssrp_tpm2_put_u32(&w, 1); /* TPML_PCR_SELECTION.count */
	ssrp_tpm2_put_u16(&w, alg);
	ssrp_tpm2_put_u8(&w, 3); /* sizeofSelect: PCRs 0-23 */
	for (int i = 0; i < 3; i++)
		ssrp_tpm2_put_u8(&w, (uint8_t)(mask >> (8 * i)));
	return command_end(&w, out_len, "PCR_Read");
}

/* ---- responses --------------------------------------------------------- */

int ssrp_tpm2_parse_get_random(const uint8_t *rsp, size_t len, uint8_t *out, size_t asked,
			       size_t *out_got)
{
	ssrp_tpm2_reader r;
	uint16_t size;
	*out_got = 0;
	int rc = ssrp_tpm2_response_begin(&r, rsp, len, "GetRandom");
	if (!rc)
		rc = ssrp_tpm2_get_u16(&r, &size, "randomBytes.size");
	if (rc)
		return rc;
	if (size > asked)
		return ssrp_error_set(SSRP_E_TPM,
				      "GetRandom response: digest size %u exceeds the %zu asked for",
				      size, asked);
	if (size == 0)
		return ssrp_error_set(SSRP_E_TPM, "GetRandom response: no random bytes in it");
	if ((rc = ssrp_tpm2_get_bytes(&r, out, size, "randomBytes.buffer")) ||
	    (rc = ssrp_tpm2_response_end(&r)))
		return rc;
	*out_got = size;
	return SSRP_OK;
}

/* moreData and capability, the start of every GetCapability answer. */
static int capability_begin(ssrp_tpm2_reader *r, const uint8_t *rsp, size_t len,
			    uint32_t capability, int *out_more)
{
	uint8_t more;
	uint32_t got;
	int rc = ssrp_tpm2_response_begin(r, rsp, len, "GetCapability");
	if (!rc)
		rc = ssrp_tpm2_get_u8(r, &more, "moreData");
	if (!rc)
		rc = ssrp_tpm2_get_u32(r, &got, "capabilityData.capability");
	if (rc)
		return rc;
	if (more > 1)
		return ssrp_error_set(SSRP_E_TPM,
				      "GetCapability response: moreData %u is neither YES nor NO",
				      more);
	if (got != capability)
		return ssrp_error_set(SSRP_E_TPM,
				      "GetCapability response: capability 0x%x answered; 0x%x was "
				      "asked for",
				      got, capability);
	*out_more = more;
	return SSRP_OK;
}

int ssrp_tpm2_parse_properties(const uint8_t *rsp, size_t len, uint32_t first, uint32_t asked,
			       ssrp_tpm2_property *out, size_t *out_n, int *out_more)
{
	ssrp_tpm2_reader r;
	uint32_t count;
	*out_n = 0;
	int rc = capability_begin(&r, rsp, len, SSRP_TPM2_CAP_TPM_PROPERTIES, out_more);
	if (!rc)
		rc = ssrp_tpm2_get_u32(&r, &count, "tpmProperties.count");
	if (rc)
		return rc;
	if (count > asked)
		return ssrp_error_set(SSRP_E_TPM,
				      "GetCapability response: %u properties exceed the %u asked for",
				      count, asked);
	for (uint32_t i = 0; i < count; i++) {
		ssrp_tpm2_property *p = &out[i];
		if ((rc = ssrp_tpm2_get_u32(&r, &p->property, "tpmProperty.property")) ||
		    (rc = ssrp_tpm2_get_u32(&r, &p->value, "tpmProperty.value")))
			return rc;
		/* Ascending from first: the caller continues after the last one. */
		if (p->property < first || (i && p->property <= out[i - 1].property))
			return ssrp_error_set(SSRP_E_TPM,
					      "GetCapability response: property 0x%x is out of order "
					      "(asked from 0x%x)",
					      p->property, first);
	}
	if ((rc = ssrp_tpm2_response_end(&r)))
		return rc;
	*out_n = count;
	return SSRP_OK;
}

/* One TPMS_PCR_SELECTION. */
static int get_selection(ssrp_tpm2_reader *r, ssrp_tpm2_pcr_selection *out)
{
	int rc = ssrp_tpm2_get_u16(r, &out->alg, "pcrSelection.hash");
	if (!rc)
		rc = ssrp_tpm2_get_u8(r, &out->size, "pcrSelection.sizeofSelect");
	if (rc)
		return rc;
	if (out->size > SSRP_TPM2_MAX_SELECT)
		return ssrp_error_set(SSRP_E_TPM,
				      "%s response: bank 0x%04x has a %u-byte PCR bitmap (at most %d "
				      "expected)",
				      r->what, out->alg, out->size, SSRP_TPM2_MAX_SELECT);
	memset(out->select, 0, sizeof out->select);
	return ssrp_tpm2_get_bytes(r, out->select, out->size, "pcrSelection.pcrSelect");
}

int ssrp_tpm2_parse_pcrs(const uint8_t *rsp, size_t len, ssrp_tpm2_pcr_selection *out,
			 size_t *out_n, int *out_more)
{
	ssrp_tpm2_reader r;
	uint32_t count;
	*out_n = 0;
	int rc = capability_begin(&r, rsp, len, SSRP_TPM2_CAP_PCRS, out_more);
	if (!rc)
		rc = ssrp_tpm2_get_u32(&r, &count, "assignedPCR.count");
	if (rc)
		return rc;
	if (count > SSRP_TPM2_MAX_SELECTIONS)
		return ssrp_error_set(SSRP_E_TPM,
				      "GetCapability response: %u PCR banks (at most %d expected)",
				      count, SSRP_TPM2_MAX_SELECTIONS);
	for (uint32_t i = 0; i < count; i++)
		if ((rc = get_selection(&r, &out[i])))
			return rc;
	if ((rc = ssrp_tpm2_response_end(&r)))
		return rc;
	*out_n = count;
	return SSRP_OK;
}

static unsigned popcount32(uint32_t v)
{
	unsigned n = 0;
	for (; v; v &= v - 1)
		n++;
	return n;
}

/* The PCRs of a PCR_Read answer's selection, checked against what was asked. */
static int read_mask(ssrp_tpm2_reader *r, uint32_t asked, uint32_t *out_mask)
{
	uint32_t count;
	ssrp_tpm2_pcr_selection sel;
	*out_mask = 0;
	int rc = ssrp_tpm2_get_u32(r, &count, "pcrSelectionOut.count");
	if (rc)
		return rc;
	if (count == 0)
		return SSRP_OK; /* none of the asked PCRs is in the bank */
	if (count > 1)
		return ssrp_error_set(SSRP_E_TPM,
				      "PCR_Read response: %u banks in pcrSelectionOut; one was asked "
				      "for",
				      count);
	if ((rc = get_selection(r, &sel)))
		return rc;
	if (sel.alg != SSRP_TPM_ALG_SHA256)
		return ssrp_error_set(SSRP_E_TPM,
				      "PCR_Read response: bank 0x%04x answered; sha256 (0x%04x) was "
				      "asked for",
				      sel.alg, SSRP_TPM_ALG_SHA256);
	uint32_t mask = 0;
	int beyond = 0;
	for (unsigned i = 0; i < sel.size; i++) {
		if (i < 4)
			mask |= (uint32_t)sel.select[i] << (8 * i);
		else
			beyond |= sel.select[i] != 0;
	}
	if (beyond || (mask & ~asked))
		return ssrp_error_set(SSRP_E_TPM,
				      "PCR_Read response: PCRs were returned that were not asked for "
				      "(asked 0x%06x, got 0x%x%s)",
				      asked, mask, beyond ? " and PCRs above 31" : "");
	*out_mask = mask;
	return SSRP_OK;
}

int ssrp_tpm2_parse_pcr_read(const uint8_t *rsp, size_t len, uint32_t asked,
			     ssrp_pcr_values *out, uint32_t *out_read,
			     uint32_t *out_update_counter)
{
	ssrp_tpm2_reader r;
	uint32_t counter, mask, count;
	*out_read = 0;
	int rc = ssrp_tpm2_response_begin(&r, rsp, len, "PCR_Read");
	if (!rc)
		rc = ssrp_tpm2_get_u32(&r, &counter, "pcrUpdateCounter");
	if (!rc)
		rc = read_mask(&r, asked, &mask);
	if (!rc)
		rc = ssrp_tpm2_get_u32(&r, &count, "pcrValues.count");
	if (rc)
		return rc;
	if (count > SSRP_TPM2_MAX_DIGESTS)
		return ssrp_error_set(SSRP_E_TPM,
				      "PCR_Read response: %u digests exceed TPML_DIGEST's %d", count,
				      SSRP_TPM2_MAX_DIGESTS);
	if (count != popcount32(mask))
		return ssrp_error_set(SSRP_E_TPM,
				      "PCR_Read response: %u digest(s) for the %u PCR(s) selected "
				      "(0x%06x)",
				      count, popcount32(mask), mask);
	/* Digests come in ascending PCR order; parse all before touching out. */
	uint8_t digests[SSRP_TPM2_MAX_DIGESTS][32];
	for (uint32_t i = 0; i < count; i++) {
		uint16_t size;
		if ((rc = ssrp_tpm2_get_u16(&r, &size, "pcrValues.digests.size")))
			return rc;
		if (size != 32)
			return ssrp_error_set(SSRP_E_TPM,
					      "PCR_Read response: digest %u has %u bytes; sha256 needs 32",
					      i, size);
		if ((rc = ssrp_tpm2_get_bytes(&r, digests[i], 32, "pcrValues.digests.buffer")))
			return rc;
	}
	if ((rc = ssrp_tpm2_response_end(&r)))
		return rc;
	unsigned k = 0;
	for (unsigned pcr = 0; pcr < SSRP_TPM_PCR_COUNT; pcr++)
		if (mask & (1u << pcr))
			memcpy(out->digest[pcr], digests[k++], 32);
	*out_read = mask;
	*out_update_counter = counter;
	return SSRP_OK;
}
