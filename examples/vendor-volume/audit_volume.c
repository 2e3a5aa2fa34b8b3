/* The "audit:" volume backend (audit_volume.h). It finds the wrapped
 * backend's table by name among the built-in and registered ones, gives it
 * private state of its own and forwards each slot, counting the call and
 * logging the changes. Slots newer than the wrapped table's version answer
 * SSRP_E_NOTSUPPORTED. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/sys/volume.h>

#include "audit_volume.h"

/* What the wrapped backend must offer: "audit:" claims the same. */
#define AUDIT_VOLUME_CAPS                                                                      \
	(SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_READ_PASSWORD |  \
	 SSRP_VOLUME_CAP_UNLOCK | SSRP_VOLUME_CAP_PROTECTION | SSRP_VOLUME_CAP_DATA)

typedef struct audit_volume {
	const ssrp_volume_backend *inner;
	void *inner_ctx;
	char name[64]; /* the wrapped backend's, for the log */
} audit_volume;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static audit_volume_counts totals;
static FILE *audit_log;

void audit_volume_set_log(FILE *log)
{
	pthread_mutex_lock(&lock);
	audit_log = log;
	pthread_mutex_unlock(&lock);
}

void audit_volume_counts_get(audit_volume_counts *out)
{
	pthread_mutex_lock(&lock);
	*out = totals;
	pthread_mutex_unlock(&lock);
}

/* Count one call; log it when it is a change (op not NULL); pass rc on. */
static int record(unsigned long *counter, const char *op, const char *detail, int rc)
{
	pthread_mutex_lock(&lock);
	(*counter)++;
	if (rc)
		totals.failures++;
	if (audit_log && op) {
		fprintf(audit_log, "audit-volume: %s%s%s -> %s\n", op, *detail ? " " : "", detail,
			rc ? ssrp_error_name(rc) : "ok");
		fflush(audit_log);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Whether the wrapped table has the slots of version since (written for
 * an older version, the table ends before them). */
static int has_version(const audit_volume *a, unsigned since)
{
	return a->inner->version >= since;
}

static int missing(const audit_volume *a, const char *what)
{
	return ssrp_error_set(SSRP_E_NOTSUPPORTED, "audit: the '%s' backend cannot %s", a->name,
			      what);
}

static const ssrp_volume_backend audit_volume_backend;

static const ssrp_volume_backend *find_inner(const char *spec, const char **config)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	*config = colon ? colon + 1 : "";
	const ssrp_volume_backend *const *builtin = ssrp_volume_builtin_backends();
	for (size_t i = 0; builtin[i]; i++)
		if (strlen(builtin[i]->info.name) == n && !strncmp(builtin[i]->info.name, spec, n))
			return builtin[i];
	const ssrp_volume_backend *b;
	for (size_t i = 0; (b = ssrp_volume_registered_backend(i)); i++)
		if (strlen(b->info.name) == n && !strncmp(b->info.name, spec, n))
			return b;
	return NULL;
}

static int audit_open(void *ctx, const char *config)
{
	audit_volume *a = ctx;
	const char *inner_config;
	const ssrp_volume_backend *inner = find_inner(config, &inner_config);
	int rc = SSRP_OK;
	if (!*config)
		rc = ssrp_error_set(SSRP_E_INVALID,
				    "audit: name the volume to wrap: audit:BACKEND:CONFIG");
	else if (!inner)
		rc = ssrp_error_set(SSRP_E_INVALID, "audit: no volume backend named in '%s'",
				    config);
	else if (inner == &audit_volume_backend)
		rc = ssrp_error_set(SSRP_E_INVALID, "audit: cannot wrap itself");
	else if ((inner->caps & AUDIT_VOLUME_CAPS) != AUDIT_VOLUME_CAPS)
		rc = ssrp_error_set(SSRP_E_NOTSUPPORTED,
				    "audit: the '%s' backend lacks capabilities (it has 0x%x)",
				    inner->info.name, (unsigned)inner->caps);
	else if (!(a->inner_ctx = calloc(1, inner->ctx_size ? inner->ctx_size : 1)))
		rc = ssrp_error_set(SSRP_E_NOMEM, "audit: out of memory");
	else if ((rc = inner->open(a->inner_ctx, inner_config))) {
		ssrp_error_prefix(rc, "audit over %s", inner->info.name);
		free(a->inner_ctx);
		a->inner_ctx = NULL;
	} else {
		a->inner = inner;
		snprintf(a->name, sizeof a->name, "%s", inner->info.name);
	}
	return record(&totals.opens, "open", config, rc);
}

static void audit_close(void *ctx)
{
	audit_volume *a = ctx;
	if (!a->inner)
		return;
	a->inner->close(a->inner_ctx);
	free(a->inner_ctx);
	a->inner = NULL;
	record(&totals.closes, NULL, "", SSRP_OK);
}

static int audit_get_status(void *ctx, ssrp_volume_status *out)
{
	audit_volume *a = ctx;
	return record(&totals.get_status, NULL, "", a->inner->get_status(a->inner_ctx, out));
}

static int audit_list(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n)
{
	audit_volume *a = ctx;
	return record(&totals.list_protectors, NULL, "",
		      a->inner->list_protectors(a->inner_ctx, out, cap, out_n));
}

static int audit_add_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask,
			 char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	audit_volume *a = ctx;
	int rc = a->inner->add_tpm_protector(a->inner_ctx, tpm, pcr_mask, out_id);
	char d[96];
	snprintf(d, sizeof d, "%s sealed to mask 0x%06x", rc ? "-" : out_id, (unsigned)pcr_mask);
	return record(&totals.add_tpm_protector, "add TPM protector", d, rc);
}

static int audit_add_recovery(void *ctx, const char *password, const uint8_t key[16],
			      char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	audit_volume *a = ctx;
	int rc = a->inner->add_recovery_password(a->inner_ctx, password, key, out_id);
	return record(&totals.add_recovery_password, "add recovery password", rc ? "" : out_id,
		      rc);
}

static int audit_delete(void *ctx, const char *id)
{
	audit_volume *a = ctx;
	return record(&totals.delete_protector, "delete protector", id,
		      a->inner->delete_protector(a->inner_ctx, id));
}

static int audit_get_recovery(void *ctx, const char *id, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	audit_volume *a = ctx;
	return record(&totals.get_recovery_password, "read recovery password", id,
		      a->inner->get_recovery_password(a->inner_ctx, id, out));
}

static int audit_unlock_tpm(void *ctx, ssrp_tpm *tpm)
{
	audit_volume *a = ctx;
	int rc = a->inner->unlock_tpm ? a->inner->unlock_tpm(a->inner_ctx, tpm)
				      : missing(a, "unlock with the TPM");
	return record(&totals.unlocks, "unlock", "with the TPM", rc);
}

static int audit_unlock_recovery(void *ctx, const char *password, const uint8_t key[16])
{
	audit_volume *a = ctx;
	return record(&totals.unlocks, "unlock", "with a recovery password",
		      a->inner->unlock_recovery_password(a->inner_ctx, password, key));
}

static int audit_unlock_password(void *ctx, const char *password)
{
	audit_volume *a = ctx;
	int rc = has_version(a, 3) &&
				 a->inner->unlock_password
			 ? a->inner->unlock_password(a->inner_ctx, password)
			 : missing(a, "unlock with a password");
	return record(&totals.unlocks, "unlock", "with a password", rc);
}

static int audit_unlock_startup_key(void *ctx, const uint8_t *bek, size_t len)
{
	audit_volume *a = ctx;
	int rc = has_version(a, 3) &&
				 a->inner->unlock_startup_key
			 ? a->inner->unlock_startup_key(a->inner_ctx, bek, len)
			 : missing(a, "unlock with a startup key");
	return record(&totals.unlocks, "unlock", "with a startup key", rc);
}

static int audit_reseal(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask)
{
	audit_volume *a = ctx;
	char d[48];
	snprintf(d, sizeof d, "to mask 0x%06x", (unsigned)pcr_mask);
	int rc = has_version(a, 2) &&
				 a->inner->reseal_tpm_protector
			 ? a->inner->reseal_tpm_protector(a->inner_ctx, tpm, pcr_mask)
			 : missing(a, "reseal the TPM protector");
	return record(&totals.reseal_tpm_protector, "reseal TPM protector", d, rc);
}

static int audit_protection_on(void *ctx)
{
	audit_volume *a = ctx;
	return record(&totals.protection_on, "protection on", "",
		      a->inner->protection_on(a->inner_ctx));
}

static int audit_protection_off(void *ctx)
{
	audit_volume *a = ctx;
	return record(&totals.protection_off, "protection off", "",
		      a->inner->protection_off(a->inner_ctx));
}

static int audit_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	audit_volume *a = ctx;
	return record(&totals.reads, NULL, "", a->inner->read(a->inner_ctx, offset, buf, len));
}

static int audit_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
	audit_volume *a = ctx;
	return record(&totals.writes, NULL, "", a->inner->write(a->inner_ctx, offset, buf, len));
}

static int audit_regions(void *ctx, ssrp_volume_region *out, size_t cap, size_t *out_n)
{
	audit_volume *a = ctx;
	return record(&totals.reserved_regions, NULL, "",
		      a->inner->reserved_regions(a->inner_ctx, out, cap, out_n));
}

static const ssrp_volume_backend audit_volume_backend = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {
		.name = "audit",
		.description = "any full volume backend, every call counted and each change logged",
		.config_help = "the wrapped volume's spec: bitlk:/dev/sda3?rw",
	},
	.caps = AUDIT_VOLUME_CAPS,
	.ctx_size = sizeof(audit_volume),
	.open = audit_open,
	.close = audit_close,
	.get_status = audit_get_status,
	.list_protectors = audit_list,
	.add_tpm_protector = audit_add_tpm,
	.add_recovery_password = audit_add_recovery,
	.delete_protector = audit_delete,
	.get_recovery_password = audit_get_recovery,
	.unlock_tpm = audit_unlock_tpm,
	.unlock_recovery_password = audit_unlock_recovery,
	.protection_on = audit_protection_on,
	.protection_off = audit_protection_off,
	.read = audit_read,
	.write = audit_write,
	.reserved_regions = audit_regions,
	.reseal_tpm_protector = audit_reseal,
	.unlock_password = audit_unlock_password,
	.unlock_startup_key = audit_unlock_startup_key,
};

int audit_volume_register(void)
{
	return ssrp_volume_backend_register(&audit_volume_backend);
}
