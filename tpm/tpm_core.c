/* The TPM core: opens a backend from a spec string, dispatches each service
 * to its slot, answers SSRP_E_NOTSUPPORTED for empty slots, retries busy
 * TPMs a bounded number of times and turns sealed parts into blobs. */
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "ssrp/sys/tpm.h"
#include "tpm/blob.h"
#include "tpm/tpm_backends.h"

/* Resends after SSRP_E_TPM_BUSY: 5 tries over about 0.3 s. */
#define BUSY_TRIES 5
#define BUSY_FIRST_DELAY_MS 20

struct ssrp_tpm {
	const ssrp_tpm_backend *backend;
	uint64_t core_retries;
	void *ctx; /* backend->ctx_size bytes, owned here */
};

/* A capability bit promises its slots. */
static const char *missing_slot(const ssrp_tpm_backend *b)
{
	uint32_t c = b->caps;
	if ((c & SSRP_TPM_CAP_INFO) && !b->get_info)
		return "INFO without get_info";
	if ((c & SSRP_TPM_CAP_RANDOM) && !b->get_random)
		return "RANDOM without get_random";
	if ((c & SSRP_TPM_CAP_PCR_READ) && !b->pcr_read)
		return "PCR_READ without pcr_read";
	if ((c & SSRP_TPM_CAP_PCR_EXTEND) && !b->pcr_extend)
		return "PCR_EXTEND without pcr_extend";
	if ((c & SSRP_TPM_CAP_SEAL) && (!b->seal || !b->unseal))
		return "SEAL without seal and unseal";
	if ((c & SSRP_TPM_CAP_SRK_PROVISION) && !b->srk_provision)
		return "SRK_PROVISION without srk_provision";
	return NULL;
}

int ssrp_tpm_check_backend(const ssrp_tpm_backend *b)
{
	if (!b)
		return ssrp_error_set(SSRP_E_INVALID, "no TPM backend given");
	if (b->version < 1 || b->version > SSRP_TPM_BACKEND_VERSION)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "TPM backend '%s' has interface version %u; this library "
				      "speaks versions 1 to %u",
				      b->info.name ? b->info.name : "?", b->version,
				      SSRP_TPM_BACKEND_VERSION);
	if (!b->open || !b->close || !b->info.name)
		return ssrp_error_set(SSRP_E_INVALID,
				      "TPM backend table lacks a name, open or close");
	const char *why = missing_slot(b);
	if (why)
		return ssrp_error_set(SSRP_E_INVALID,
				      "TPM backend '%s' claims a capability it has no slot for (%s)",
				      b->info.name, why);
	return SSRP_OK;
}

int ssrp_tpm_open_backend(ssrp_tpm **out, const ssrp_tpm_backend *backend, const char *config)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_open: out is NULL");
	*out = NULL;
	int rc = ssrp_tpm_check_backend(backend);
	if (rc)
		return rc;
	ssrp_tpm *tpm = ssrp_calloc(1, sizeof *tpm);
	if (!tpm)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory opening the TPM");
	tpm->backend = backend;
	tpm->ctx = ssrp_calloc(1, backend->ctx_size ? backend->ctx_size : 1);
	if (!tpm->ctx) {
		ssrp_free(tpm);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory opening the TPM");
	}
	rc = backend->open(tpm->ctx, config ? config : "");
	if (rc) {
		ssrp_free_secret(tpm->ctx, backend->ctx_size);
		ssrp_free(tpm);
		return rc;
	}
	*out = tpm;
	return SSRP_OK;
}

int ssrp_tpm_open(ssrp_tpm **out, const char *spec)
{
	const ssrp_tpm_backend *backend;
	const char *config;
	int rc = ssrp_tpm_spec_resolve(&backend, &config, spec);
	if (rc) {
		if (out)
			*out = NULL;
		return rc;
	}
	return ssrp_tpm_open_backend(out, backend, config);
}

void ssrp_tpm_close(ssrp_tpm *tpm)
{
	if (!tpm)
		return;
	tpm->backend->close(tpm->ctx);
	ssrp_free_secret(tpm->ctx, tpm->backend->ctx_size);
	ssrp_free(tpm);
}

const char *ssrp_tpm_backend_name(const ssrp_tpm *tpm)
{
	return tpm ? tpm->backend->info.name : "";
}

uint32_t ssrp_tpm_capabilities(const ssrp_tpm *tpm)
{
	return tpm ? tpm->backend->caps : 0;
}

static int unsupported(const ssrp_tpm *tpm, const char *service)
{
	return ssrp_error_set(SSRP_E_NOTSUPPORTED, "the '%s' TPM backend cannot %s",
			      tpm->backend->info.name, service);
}

/* A lockout message says for how long, when the TPM tells us. */
static int explain_lockout(ssrp_tpm *tpm, int rc)
{
	if (rc != SSRP_E_TPM_LOCKOUT || !tpm->backend->get_info)
		return rc;
	char message[1024];
	snprintf(message, sizeof message, "%s", ssrp_error_last());
	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	if (tpm->backend->get_info(tpm->ctx, &info) != SSRP_OK || !info.max_auth_fail)
		return ssrp_error_set(rc, "%s", message);
	uint32_t over = info.lockout_counter >= info.max_auth_fail
				? info.lockout_counter - info.max_auth_fail + 1
				: 1;
	uint64_t seconds = (uint64_t)over * info.lockout_interval;
	return ssrp_error_set(rc,
			      "%s; %u failed authorisations of %u allowed, so it accepts again "
			      "in about %llu minute(s) (one failure is forgiven every %u s)",
			      message, info.lockout_counter, info.max_auth_fail,
			      (unsigned long long)((seconds + 59) / 60), info.lockout_interval);
}

/* Call a backend slot, resending while it reports SSRP_E_TPM_BUSY. */
#define WITH_RETRY(tpm, call)                                                          \
	do {                                                                           \
		unsigned delay_ms_ = BUSY_FIRST_DELAY_MS;                              \
		for (int try_ = 1;; try_++) {                                          \
			rc = (call);                                                   \
			if (rc != SSRP_E_TPM_BUSY || try_ == BUSY_TRIES)              \
				break;                                                 \
			(tpm)->core_retries++;                                         \
			ssrp_sleep_ms(delay_ms_);                                      \
			delay_ms_ *= 2;                                                \
		}                                                                      \
		if (rc == SSRP_E_TPM_BUSY)                                             \
			ssrp_error_prefix(rc, "the TPM was still busy after %d tries",  \
					  BUSY_TRIES);                                 \
		rc = explain_lockout((tpm), rc);                                       \
	} while (0)

int ssrp_tpm_get_info(ssrp_tpm *tpm, ssrp_tpm_info *out)
{
	int rc;
	if (!tpm || !out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_get_info: NULL argument");
	if ((rc = ssrp_struct_version_check("ssrp_tpm_info", out->version, SSRP_TPM_INFO_VERSION,
					    "SSRP_TPM_INFO_INIT")))
		return rc;
	if (!tpm->backend->get_info)
		return unsupported(tpm, "report TPM information");
	/* The backend fills this library's layout; the caller gets its own
	 * version's fields (version 1 is all of them so far). */
	ssrp_tpm_info full = SSRP_TPM_INFO_INIT;
	WITH_RETRY(tpm, tpm->backend->get_info(tpm->ctx, &full));
	if (rc == SSRP_OK) {
		full.version = out->version;
		*out = full;
	}
	return rc;
}

int ssrp_tpm_get_random(ssrp_tpm *tpm, uint8_t *out, size_t len)
{
	int rc = SSRP_OK;
	if (!tpm || (!out && len))
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_get_random: NULL argument");
	if (!tpm->backend->get_random)
		return unsupported(tpm, "generate random bytes");
	while (len) {
		size_t chunk = len < 32 ? len : 32;
		WITH_RETRY(tpm, tpm->backend->get_random(tpm->ctx, out, chunk));
		if (rc)
			return rc;
		out += chunk;
		len -= chunk;
	}
	return SSRP_OK;
}

static int check_mask(uint32_t mask)
{
	if (!mask || mask >> SSRP_TPM_PCR_COUNT)
		return ssrp_error_set(SSRP_E_INVALID,
				      "PCR selection 0x%x is empty or names a PCR above 23", mask);
	return SSRP_OK;
}

int ssrp_tpm_pcr_read(ssrp_tpm *tpm, ssrp_pcr_values *out, uint32_t mask)
{
	int rc;
	if (!tpm || !out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_pcr_read: NULL argument");
	if ((rc = check_mask(mask)))
		return rc;
	if (!tpm->backend->pcr_read)
		return unsupported(tpm, "read PCRs");
	memset(out, 0, sizeof *out);
	WITH_RETRY(tpm, tpm->backend->pcr_read(tpm->ctx, out, mask));
	if (rc == SSRP_OK && out->mask != mask)
		return ssrp_error_set(SSRP_E_TPM,
				      "the TPM returned PCRs 0x%x of the 0x%x asked for (is the "
				      "sha256 bank allocated?)",
				      out->mask, mask);
	return rc;
}

int ssrp_tpm_pcr_extend(ssrp_tpm *tpm, unsigned pcr, const void *data, size_t len)
{
	int rc;
	if (!tpm || (!data && len))
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_pcr_extend: NULL argument");
	if (pcr >= SSRP_TPM_PCR_COUNT)
		return ssrp_error_set(SSRP_E_INVALID, "PCR %u does not exist (0 to 23)", pcr);
	if (len > SSRP_TPM_EVENT_MAX)
		return ssrp_error_set(SSRP_E_INVALID,
				      "event data of %zu bytes is over the TPM's limit of %d", len,
				      SSRP_TPM_EVENT_MAX);
	if (!tpm->backend->pcr_extend)
		return unsupported(tpm, "extend PCRs");
	WITH_RETRY(tpm, tpm->backend->pcr_extend(tpm->ctx, pcr, data, len));
	return rc;
}

int ssrp_tpm_seal(ssrp_tpm *tpm, ssrp_buf *out_blob, const uint8_t *secret, size_t secret_len,
		  uint32_t pcr_mask)
{
	int rc;
	if (!tpm || !out_blob || !secret)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_seal: NULL argument");
	out_blob->data = NULL;
	out_blob->len = 0;
	if (secret_len < 1 || secret_len > SSRP_TPM_SEAL_MAX)
		return ssrp_error_set(SSRP_E_INVALID,
				      "a sealed secret holds 1 to %d bytes; this one has %zu",
				      SSRP_TPM_SEAL_MAX, secret_len);
	if (!pcr_mask)
		pcr_mask = SSRP_TPM_PCRS_DEFAULT;
	if ((rc = check_mask(pcr_mask)))
		return rc;
	if (!tpm->backend->seal)
		return unsupported(tpm, "seal");

	ssrp_sealed_parts *parts = ssrp_calloc(1, sizeof *parts);
	if (!parts)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory sealing");
	WITH_RETRY(tpm, tpm->backend->seal(tpm->ctx, parts, secret, secret_len, pcr_mask));
	size_t need = 0;
	if (rc == SSRP_OK)
		rc = ssrp_blob_encode(NULL, 0, &need, parts);
	if (rc == SSRP_OK) {
		out_blob->data = ssrp_malloc(need);
		if (!out_blob->data)
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory sealing");
		else
			rc = ssrp_blob_encode(out_blob->data, need, &out_blob->len, parts);
		if (rc)
			ssrp_buf_free(out_blob);
	}
	ssrp_free(parts);
	return rc;
}

int ssrp_tpm_unseal(ssrp_tpm *tpm, ssrp_buf *out_secret, const uint8_t *blob, size_t blob_len)
{
	int rc;
	if (!tpm || !out_secret || (!blob && blob_len))
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_unseal: NULL argument");
	out_secret->data = NULL;
	out_secret->len = 0;
	if (!tpm->backend->unseal)
		return unsupported(tpm, "unseal");
	ssrp_sealed_parts *parts = ssrp_calloc(1, sizeof *parts);
	if (!parts)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory unsealing");
	uint8_t secret[SSRP_TPM_SEAL_MAX];
	size_t secret_len = 0;
	rc = ssrp_blob_decode(parts, blob, blob_len);
	if (rc == SSRP_OK)
		WITH_RETRY(tpm, tpm->backend->unseal(tpm->ctx, secret, &secret_len, parts));
	if (rc == SSRP_OK && ssrp_buf_set(out_secret, secret, secret_len))
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory unsealing");
	ssrp_memzero(secret, sizeof secret);
	ssrp_free(parts);
	return rc;
}

int ssrp_tpm_srk_provision(ssrp_tpm *tpm, int *out_created)
{
	int rc, created = 0;
	if (!tpm)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_srk_provision: NULL argument");
	if (!tpm->backend->srk_provision)
		return unsupported(tpm, "provision a persistent SRK");
	WITH_RETRY(tpm, tpm->backend->srk_provision(tpm->ctx, &created));
	if (out_created)
		*out_created = created;
	return rc;
}

int ssrp_tpm_get_stats(ssrp_tpm *tpm, ssrp_tpm_stats *out)
{
	if (!tpm || !out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_tpm_get_stats: NULL argument");
	int rc = ssrp_struct_version_check("ssrp_tpm_stats", out->version, SSRP_TPM_STATS_VERSION,
					   "SSRP_TPM_STATS_INIT");
	if (rc)
		return rc;
	ssrp_tpm_stats full = SSRP_TPM_STATS_INIT;
	if (tpm->backend->get_stats && (rc = tpm->backend->get_stats(tpm->ctx, &full)))
		return rc;
	full.retries += tpm->core_retries;
	full.version = out->version;
	*out = full;
	return SSRP_OK;
}

const char *ssrp_tpm_alg_name(uint16_t alg)
{
	switch (alg) {
	case SSRP_TPM_ALG_SHA1: return "sha1";
	case SSRP_TPM_ALG_SHA256: return "sha256";
	case SSRP_TPM_ALG_SHA384: return "sha384";
	case SSRP_TPM_ALG_SHA512: return "sha512";
	case SSRP_TPM_ALG_SM3_256: return "sm3_256";
	case SSRP_TPM_ALG_RSA: return "rsa";
	case SSRP_TPM_ALG_ECC: return "ecc";
	default: return "unknown";
	}
}
