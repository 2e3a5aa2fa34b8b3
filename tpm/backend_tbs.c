/* The tbs backend: a TPM reached through a raw command transport: Windows
 * TPM Base Services (or, in the simulator library, a TPM socket such as
 * swtpm's: sim/tbs_socket.c). No platform code here: the transports live in
 * tbs_transport_*.c.
 *
 * Information, random bytes and PCR reads are marshalled by tpm2_marshal.c.
 * Sealing, unsealing and SRK provisioning run tpm2-tss's ESAPI over the
 * same transport with the tss2 backend's code (tbs_esapi.c), so blobs are
 * alike on both platforms. It does not extend PCRs: on Windows the boot
 * chain and BitLocker own them. */
#include <string.h>

#include "hal/mem.h"
#include "tpm/tbs_esapi.h"
#include "tpm/tbs_transport.h"
#include "tpm/tpm2_marshal.h"
#include "tpm/tpm_backends.h"

/* The longest command built here (GetCapability: 22 bytes). */
#define COMMAND_MAX 64
/* PCR_Read rounds whose pcrUpdateCounter changed before giving up. */
#define PCR_READ_ATTEMPTS 3

typedef struct tbs_ctx {
	ssrp_tbs_transport transport;
	uint64_t commands;
	uint8_t cmd[COMMAND_MAX];
	uint8_t rsp[SSRP_TBS_RESPONSE_MAX];
	ssrp_tbs_esapi esapi; /* for seal, unseal and SRK provisioning */
} tbs_ctx;

int ssrp_tbs_open_on_transport(void *ctx, const ssrp_tbs_transport *transport)
{
	tbs_ctx *c = ctx;
	if (!c || !transport || !transport->submit || !transport->close)
		return ssrp_error_set(SSRP_E_INVALID,
				      "tbs backend: a transport needs submit and close");
	c->transport = *transport;
	return SSRP_OK;
}

static int tbs_open(void *ctx, const char *config)
{
	ssrp_tbs_transport transport;
	if (*config)
		return ssrp_error_set(SSRP_E_SPEC,
				      "tbs backend: '%s' is not understood; the spec is \"tbs\" "
				      "(Windows TPM Base Services) with nothing after it",
				      config);
	int rc = ssrp_tbs_transport_open_windows(&transport);
	if (rc)
		return rc;
	return ssrp_tbs_open_on_transport(ctx, &transport);
}

static void tbs_close(void *ctx)
{
	tbs_ctx *c = ctx;
	ssrp_tbs_esapi_close(&c->esapi);
	if (c->transport.close)
		c->transport.close(c->transport.t);
	memset(&c->transport, 0, sizeof c->transport);
}

/* Send c->cmd[0..cmd_len) and receive into c->rsp. */
static int transact(tbs_ctx *c, size_t cmd_len, size_t *rsp_len)
{
	*rsp_len = 0;
	c->commands++;
	int rc = c->transport.submit(c->transport.t, c->cmd, cmd_len, c->rsp, sizeof c->rsp,
				     rsp_len);
	if (rc == SSRP_OK && *rsp_len > sizeof c->rsp)
		return ssrp_error_set(SSRP_E_GENERIC,
				      "tbs transport reported %zu response bytes for a %zu-byte buffer",
				      *rsp_len, sizeof c->rsp);
	return rc;
}

/* TPM properties first..last, following moreData. */
static int read_properties(tbs_ctx *c, ssrp_tpm_info *out, uint32_t first, uint32_t last)
{
	ssrp_tpm2_property props[SSRP_TPM2_MAX_PROPERTIES];
	uint32_t next = first;
	for (;;) {
		uint32_t asked = last - next + 1;
		if (asked > SSRP_TPM2_MAX_PROPERTIES)
			asked = SSRP_TPM2_MAX_PROPERTIES;
		size_t cmd_len, rsp_len, n;
		int more;
		int rc = ssrp_tpm2_build_get_capability(c->cmd, sizeof c->cmd, &cmd_len,
							SSRP_TPM2_CAP_TPM_PROPERTIES, next, asked);
		if (!rc)
			rc = transact(c, cmd_len, &rsp_len);
		if (!rc)
			rc = ssrp_tpm2_parse_properties(c->rsp, rsp_len, next, asked, props, &n,
							&more);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++)
			ssrp_tpm_info_apply_property(out, props[i].property, props[i].value);
		if (!more || n == 0 || props[n - 1].property >= last)
			return SSRP_OK;
		next = props[n - 1].property + 1;
	}
}

static int bank_seen(const uint16_t *seen, size_t n, uint16_t alg)
{
	for (size_t i = 0; i < n; i++)
		if (seen[i] == alg)
			return 1;
	return 0;
}

/* The allocated PCR banks. The TPM answers them all at once; should one
 * say moreData, ask again after the highest algorithm until nothing new. */
static int read_banks(tbs_ctx *c, ssrp_tpm_info *out)
{
	ssrp_tpm2_pcr_selection sel[SSRP_TPM2_MAX_SELECTIONS];
	uint16_t seen[SSRP_TPM2_MAX_SELECTIONS];
	size_t n_seen = 0;
	uint32_t property = 0;
	for (;;) {
		size_t cmd_len, rsp_len, n, added = 0;
		int more;
		int rc = ssrp_tpm2_build_get_capability(c->cmd, sizeof c->cmd, &cmd_len,
							SSRP_TPM2_CAP_PCRS, property,
							SSRP_TPM2_MAX_SELECTIONS);
		if (!rc)
			rc = transact(c, cmd_len, &rsp_len);
		if (!rc)
			rc = ssrp_tpm2_parse_pcrs(c->rsp, rsp_len, sel, &n, &more);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			if (bank_seen(seen, n_seen, sel[i].alg) || n_seen == SSRP_TPM2_MAX_SELECTIONS)
				continue;
			seen[n_seen++] = sel[i].alg;
			added++;
			ssrp_tpm_info_add_bank(out, sel[i].alg, sel[i].select, sel[i].size);
			if (sel[i].alg >= property)
				property = (uint32_t)sel[i].alg + 1;
		}
		if (!more || !added)
			return SSRP_OK;
	}
}

static int tbs_get_info(void *ctx, ssrp_tpm_info *out)
{
	tbs_ctx *c = ctx;
	int rc = read_properties(c, out, SSRP_TPM2_PT_FAMILY_INDICATOR,
				 SSRP_TPM2_PT_FIRMWARE_VERSION_2);
	if (!rc)
		rc = read_properties(c, out, SSRP_TPM2_PT_PERMANENT, SSRP_TPM2_PT_LOCKOUT_RECOVERY);
	if (!rc)
		rc = read_banks(c, out);
	if (rc)
		return rc;
	out->present = 1;
	return SSRP_OK;
}

/* len <= 32 (the core loops); a TPM may give fewer bytes than asked. */
static int tbs_get_random(void *ctx, uint8_t *out, size_t len)
{
	tbs_ctx *c = ctx;
	int rc = SSRP_OK;
	size_t done = 0, rsp_len = 0;
	while (rc == SSRP_OK && done < len) {
		size_t cmd_len, got;
		rc = ssrp_tpm2_build_get_random(c->cmd, sizeof c->cmd, &cmd_len,
						(uint16_t)(len - done));
		if (!rc)
			rc = transact(c, cmd_len, &rsp_len);
		if (!rc)
			rc = ssrp_tpm2_parse_get_random(c->rsp, rsp_len, out + done, len - done,
							&got);
		if (!rc)
			done += got;
	}
	ssrp_memzero(c->rsp, sizeof c->rsp); /* the bytes may become a key */
	return rc;
}

/* One pass over the PCRs in mask. A TPM returns at most 8 digests per
 * PCR_Read, so ask again for the rest, as tpm2-tools does. *out_changed is
 * set when pcrUpdateCounter moved between answers: the values are then from
 * different moments. */
static int pcr_read_pass(tbs_ctx *c, ssrp_pcr_values *out, uint32_t mask, int *out_changed)
{
	uint32_t first_counter = 0;
	*out_changed = 0;
	out->mask = 0;
	while (out->mask != mask) {
		size_t cmd_len, rsp_len;
		uint32_t read, counter;
		int rc = ssrp_tpm2_build_pcr_read(c->cmd, sizeof c->cmd, &cmd_len,
						  SSRP_TPM_ALG_SHA256, mask & ~out->mask);
		if (!rc)
			rc = transact(c, cmd_len, &rsp_len);
		if (!rc)
			rc = ssrp_tpm2_parse_pcr_read(c->rsp, rsp_len, mask & ~out->mask, out, &read,
						      &counter);
		if (rc)
			return rc;
		if (!read)
			return SSRP_OK; /* the bank lacks the rest; the core says which */
		if (!out->mask)
			first_counter = counter;
		else if (counter != first_counter) {
			*out_changed = 1;
			return SSRP_OK;
		}
		out->mask |= read;
	}
	return SSRP_OK;
}

static int tbs_pcr_read(void *ctx, ssrp_pcr_values *out, uint32_t mask)
{
	tbs_ctx *c = ctx;
	out->alg = SSRP_TPM_ALG_SHA256;
	for (int attempt = 1;; attempt++) {
		int changed;
		int rc = pcr_read_pass(c, out, mask, &changed);
		if (rc || !changed)
			return rc;
		if (attempt == PCR_READ_ATTEMPTS)
			return ssrp_error_set(SSRP_E_TPM_BUSY,
					      "PCR_Read: the PCRs kept changing while being read (%d "
					      "attempts)",
					      PCR_READ_ATTEMPTS);
	}
}

static int tbs_get_stats(void *ctx, ssrp_tpm_stats *out)
{
	tbs_ctx *c = ctx;
	out->commands = c->commands + c->esapi.tss2.counting.commands;
	/* Only ESAPI's resends (seal, unseal) are counted here: a RETRY,
	 * YIELDED or TESTING answer to a marshalled command goes back to the
	 * core as SSRP_E_TPM_BUSY, and the core counts the resends it makes
	 * (tpm_core.c adds them); counting those answers here too would count
	 * each resend twice. */
	out->retries = c->esapi.tss2.counting.retries;
	return SSRP_OK;
}

static int tbs_seal(void *ctx, ssrp_sealed_parts *out, const uint8_t *secret, size_t len,
		    uint32_t pcr_mask)
{
	tbs_ctx *c = ctx;
	ssrp_tss2 *t;
	int rc = ssrp_tbs_esapi_get(&c->esapi, &c->transport, &t);
	return rc ? rc : ssrp_tss2_seal(t, out, secret, len, pcr_mask);
}

static int tbs_unseal(void *ctx, uint8_t *out, size_t *out_len, const ssrp_sealed_parts *in)
{
	tbs_ctx *c = ctx;
	ssrp_tss2 *t;
	int rc = ssrp_tbs_esapi_get(&c->esapi, &c->transport, &t);
	return rc ? rc : ssrp_tss2_unseal(t, out, out_len, in);
}

static int tbs_srk_provision(void *ctx, int *out_created)
{
	tbs_ctx *c = ctx;
	ssrp_tss2 *t;
	int rc = ssrp_tbs_esapi_get(&c->esapi, &c->transport, &t);
	return rc ? rc : ssrp_tss2_srk_provision(t, out_created);
}

const ssrp_tpm_backend ssrp_tpm_backend_tbs = {
	.version = SSRP_TPM_BACKEND_VERSION,
	.info = {
		.name = "tbs",
		.description = "Windows TPM Base Services",
		.config_help = "nothing: \"tbs\"",
	},
	.caps = SSRP_TPM_CAP_INFO | SSRP_TPM_CAP_RANDOM | SSRP_TPM_CAP_PCR_READ |
		SSRP_TPM_CAP_SEAL | SSRP_TPM_CAP_SRK_PROVISION,
	.ctx_size = sizeof(tbs_ctx),
	.open = tbs_open,
	.close = tbs_close,
	.get_info = tbs_get_info,
	.get_random = tbs_get_random,
	.pcr_read = tbs_pcr_read,
	.seal = tbs_seal,
	.unseal = tbs_unseal,
	.srk_provision = tbs_srk_provision,
	.get_stats = tbs_get_stats,
};
