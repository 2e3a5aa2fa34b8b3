/* The "audit:" TPM backend (audit_tpm.h). It finds the wrapped backend's
 * table by name among the built-in and registered ones, gives it private
 * state of its own and forwards each slot, counting and logging the call. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/sys/tpm.h>

#include "audit_tpm.h"

/* What the wrapped backend must offer: "audit:" claims the same. */
#define AUDIT_TPM_CAPS                                                                         \
	(SSRP_TPM_CAP_INFO | SSRP_TPM_CAP_RANDOM | SSRP_TPM_CAP_PCR_READ |                      \
	 SSRP_TPM_CAP_PCR_EXTEND | SSRP_TPM_CAP_SEAL | SSRP_TPM_CAP_SRK_PROVISION)

typedef struct audit_tpm {
	const ssrp_tpm_backend *inner;
	void *inner_ctx;
} audit_tpm;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static audit_tpm_counts totals;
static FILE *audit_log;

void audit_tpm_set_log(FILE *log)
{
	pthread_mutex_lock(&lock);
	audit_log = log;
	pthread_mutex_unlock(&lock);
}

void audit_tpm_counts_get(audit_tpm_counts *out)
{
	pthread_mutex_lock(&lock);
	*out = totals;
	pthread_mutex_unlock(&lock);
}

/* Count one call in *counter, log it with what it carried, pass rc on. */
static int record(unsigned long *counter, const char *op, const char *detail, int rc)
{
	pthread_mutex_lock(&lock);
	(*counter)++;
	if (rc)
		totals.failures++;
	if (audit_log) {
		fprintf(audit_log, "audit-tpm: %s%s%s -> %s\n", op, *detail ? " " : "", detail,
			rc ? ssrp_error_name(rc) : "ok");
		fflush(audit_log);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static const ssrp_tpm_backend audit_tpm_backend;

/* The table named by spec's prefix; *config gets what follows the colon. */
static const ssrp_tpm_backend *find_inner(const char *spec, const char **config)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	*config = colon ? colon + 1 : "";
	const ssrp_tpm_backend *const *builtin = ssrp_tpm_builtin_backends();
	for (size_t i = 0; builtin[i]; i++)
		if (strlen(builtin[i]->info.name) == n && !strncmp(builtin[i]->info.name, spec, n))
			return builtin[i];
	const ssrp_tpm_backend *b;
	for (size_t i = 0; (b = ssrp_tpm_registered_backend(i)); i++)
		if (strlen(b->info.name) == n && !strncmp(b->info.name, spec, n))
			return b;
	return NULL;
}

static int audit_open(void *ctx, const char *config)
{
	audit_tpm *a = ctx;
	const char *inner_config;
	const ssrp_tpm_backend *inner = find_inner(config, &inner_config);
	if (!*config)
		return record(&totals.opens, "open", "",
			      ssrp_error_set(SSRP_E_INVALID, "audit: name the TPM to wrap: "
							     "audit:BACKEND:CONFIG"));
	if (!inner)
		return record(&totals.opens, "open", config,
			      ssrp_error_set(SSRP_E_INVALID, "audit: no TPM backend named in '%s'",
					     config));
	if (inner == &audit_tpm_backend)
		return record(&totals.opens, "open", config,
			      ssrp_error_set(SSRP_E_INVALID, "audit: cannot wrap itself"));
	if ((inner->caps & AUDIT_TPM_CAPS) != AUDIT_TPM_CAPS)
		return record(&totals.opens, "open", config,
			      ssrp_error_set(SSRP_E_NOTSUPPORTED,
					     "audit: the '%s' backend cannot seal, extend or "
					     "provision (capabilities 0x%x)",
					     inner->info.name, (unsigned)inner->caps));
	a->inner_ctx = calloc(1, inner->ctx_size ? inner->ctx_size : 1);
	if (!a->inner_ctx)
		return record(&totals.opens, "open", config,
			      ssrp_error_set(SSRP_E_NOMEM, "audit: out of memory"));
	int rc = inner->open(a->inner_ctx, inner_config);
	if (rc) {
		free(a->inner_ctx);
		a->inner_ctx = NULL;
		return record(&totals.opens, "open", inner->info.name,
			      ssrp_error_prefix(rc, "audit over %s", inner->info.name));
	}
	a->inner = inner;
	return record(&totals.opens, "open", inner->info.name, SSRP_OK);
}

static void audit_close(void *ctx)
{
	audit_tpm *a = ctx;
	if (!a->inner)
		return;
	a->inner->close(a->inner_ctx);
	free(a->inner_ctx);
	a->inner = NULL;
	record(&totals.closes, "close", "", SSRP_OK);
}

static int audit_get_info(void *ctx, ssrp_tpm_info *out)
{
	audit_tpm *a = ctx;
	return record(&totals.get_info, "get_info", "", a->inner->get_info(a->inner_ctx, out));
}

static int audit_get_random(void *ctx, uint8_t *out, size_t len)
{
	audit_tpm *a = ctx;
	char d[32];
	snprintf(d, sizeof d, "%zu bytes", len);
	return record(&totals.get_random, "get_random", d, a->inner->get_random(a->inner_ctx, out, len));
}

static int audit_pcr_read(void *ctx, ssrp_pcr_values *out, uint32_t mask)
{
	audit_tpm *a = ctx;
	char d[32];
	snprintf(d, sizeof d, "mask 0x%06x", (unsigned)mask);
	return record(&totals.pcr_read, "pcr_read", d, a->inner->pcr_read(a->inner_ctx, out, mask));
}

static int audit_pcr_extend(void *ctx, unsigned pcr, const uint8_t *data, size_t len)
{
	audit_tpm *a = ctx;
	char d[48];
	snprintf(d, sizeof d, "PCR %u, %zu-byte event", pcr, len);
	return record(&totals.pcr_extend, "pcr_extend", d,
		      a->inner->pcr_extend(a->inner_ctx, pcr, data, len));
}

static int audit_seal(void *ctx, ssrp_sealed_parts *out, const uint8_t *secret, size_t len,
		      uint32_t pcr_mask)
{
	audit_tpm *a = ctx;
	char d[48];
	snprintf(d, sizeof d, "%zu-byte secret to mask 0x%06x", len, (unsigned)pcr_mask);
	return record(&totals.seal, "seal", d,
		      a->inner->seal(a->inner_ctx, out, secret, len, pcr_mask));
}

static int audit_unseal(void *ctx, uint8_t *out, size_t *out_len, const ssrp_sealed_parts *in)
{
	audit_tpm *a = ctx;
	char d[48];
	snprintf(d, sizeof d, "sealed to mask 0x%06x", (unsigned)in->pcr_mask);
	return record(&totals.unseal, "unseal", d, a->inner->unseal(a->inner_ctx, out, out_len, in));
}

static int audit_srk_provision(void *ctx, int *out_created)
{
	audit_tpm *a = ctx;
	return record(&totals.srk_provision, "srk_provision", "",
		      a->inner->srk_provision(a->inner_ctx, out_created));
}

static int audit_get_stats(void *ctx, ssrp_tpm_stats *out)
{
	audit_tpm *a = ctx;
	int rc = a->inner->get_stats ? a->inner->get_stats(a->inner_ctx, out)
				     : ssrp_error_set(SSRP_E_NOTSUPPORTED,
						      "audit: '%s' keeps no command counters",
						      a->inner->info.name);
	return record(&totals.get_stats, "get_stats", "", rc);
}

static const ssrp_tpm_backend audit_tpm_backend = {
	.version = SSRP_TPM_BACKEND_VERSION,
	.info = {
		.name = "audit",
		.description = "any sealing TPM backend, every call counted and logged",
		.config_help = "the wrapped TPM's spec: tss2:device:/dev/tpmrm0",
	},
	.caps = AUDIT_TPM_CAPS,
	.ctx_size = sizeof(audit_tpm),
	.open = audit_open,
	.close = audit_close,
	.get_info = audit_get_info,
	.get_random = audit_get_random,
	.pcr_read = audit_pcr_read,
	.pcr_extend = audit_pcr_extend,
	.seal = audit_seal,
	.unseal = audit_unseal,
	.srk_provision = audit_srk_provision,
	.get_stats = audit_get_stats,
};

int audit_tpm_register(void)
{
	return ssrp_tpm_backend_register(&audit_tpm_backend);
}
