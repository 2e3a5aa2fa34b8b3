/* The "sim" volume backend: a file in BitLocker's on-disk format, with the
 * real key hierarchy. Sectors are XTS-AES under the FVEK; the FVEK is
 * wrapped by the VMK; the VMK by each protector: a clear key, the stretched
 * recovery password (AES-256-CCM), or the TPM (an ssrp sealed blob bound to
 * PCRs). Config: "PATH", optionally "PATH?kill_at_write=N" for crash tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitlocker/fve_crypto.h"
#include "bitlocker/guid.h"
#include "bitlocker/recovery_password.h"
#include "bitlocker/stretch.h"
#include "bitlocker/volume_backends.h"
#include "hal/clock.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "sim/volume_sim_keys.h"
#include "sim/volume_store.h"


typedef struct sim_volume {
	ssrp_sim_store store;
	ssrp_fve_metadata *md;
	int unlocked;
	uint8_t vmk[32];
	ssrp_xts *xts;
	uint8_t *io; /* one sector, for partial-sector reads and writes */
} sim_volume;

static int require_unlocked(const sim_volume *v, const char *what)
{
	if (v->unlocked)
		return SSRP_OK;
	return ssrp_error_set(SSRP_E_LOCKED,
			      "cannot %s: the volume is locked; unlock it with the TPM or a "
			      "recovery password first",
			      what);
}

/* Accept vmk only if it opens the FVEK; then the volume is unlocked. */
static int use_vmk(sim_volume *v, const uint8_t vmk[32])
{
	size_t fvek_len = v->md->method == SSRP_FVE_ALG_XTS_256 ? 64 : 32;
	uint8_t fvek[64];
	int rc = ssrp_sim_unwrap_key(fvek, fvek_len, &v->md->fvek, vmk, v->md->method);
	if (rc)
		return ssrp_error_prefix(SSRP_E_BAD_KEY, "the volume master key does not open the FVEK");
	ssrp_xts *x = NULL;
	rc = ssrp_xts_new(&x, fvek, fvek_len);
	ssrp_memzero(fvek, sizeof fvek);
	if (rc)
		return rc;
	ssrp_xts_free(v->xts);
	v->xts = x;
	memcpy(v->vmk, vmk, 32);
	v->unlocked = 1;
	return SSRP_OK;
}

static int find_vmk(const sim_volume *v, const char *id)
{
	char text[SSRP_GUID_TEXT_LEN + 1];
	for (size_t i = 0; i < v->md->n_vmks; i++) {
		ssrp_guid_format(text, v->md->vmks[i].guid);
		if (!strcmp(text, id))
			return (int)i;
	}
	ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no protector %s", id);
	return -1;
}

static int has_protection(const sim_volume *v, uint16_t protection)
{
	for (size_t i = 0; i < v->md->n_vmks; i++)
		if (v->md->vmks[i].protection == protection)
			return 1;
	return 0;
}

/* A new protector entry, or SSRP_E_REFUSED when the format is full. */
static int new_vmk(sim_volume *v, ssrp_fve_vmk **out, uint16_t protection)
{
	if (v->md->n_vmks == SSRP_FVE_MAX_VMKS)
		return ssrp_error_set(SSRP_E_REFUSED, "the volume already has %d protectors",
				      SSRP_FVE_MAX_VMKS);
	ssrp_fve_vmk *k = &v->md->vmks[v->md->n_vmks];
	memset(k, 0, sizeof *k);
	int rc = ssrp_guid_generate(k->guid);
	if (rc)
		return rc;
	k->filetime = ssrp_filetime_now();
	k->protection = protection;
	*out = k;
	return SSRP_OK;
}

/* Commit a new entry (already filled) and write the metadata; on failure
 * the in-memory metadata is re-read so it matches the disk again. */
static int commit(sim_volume *v, int added, char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	if (added)
		v->md->n_vmks++;
	int rc = ssrp_sim_store_write_metadata(&v->store, v->md);
	if (rc) {
		char message[1024];
		snprintf(message, sizeof message, "%s", ssrp_error_last());
		ssrp_sim_store_read_metadata(&v->store, v->md);
		return ssrp_error_set(rc, "%s", message);
	}
	if (added && out_id)
		ssrp_guid_format(out_id, v->md->vmks[v->md->n_vmks - 1].guid);
	return SSRP_OK;
}

/* Unlock with the clear key when there is one (protection off). */
static void try_clear_key(sim_volume *v)
{
	for (size_t i = 0; i < v->md->n_vmks && !v->unlocked; i++) {
		const ssrp_fve_vmk *k = &v->md->vmks[i];
		uint8_t vmk[32];
		if (k->protection != SSRP_FVE_PROTECT_CLEAR_KEY || !k->has_clear_key ||
		    !k->has_wrapped_vmk)
			continue;
		if (!ssrp_sim_unwrap_key(vmk, 32, &k->wrapped_vmk, k->clear_key, SSRP_FVE_ALG_VMK))
			use_vmk(v, vmk);
		ssrp_memzero(vmk, sizeof vmk);
	}
	ssrp_error_clear();
}

static void sim_close(void *ctx)
{
	sim_volume *v = ctx;
	ssrp_sim_store_close(&v->store); /* flushes data written through the map */
	ssrp_xts_free(v->xts);
	ssrp_free_secret(v->md, sizeof *v->md);
	ssrp_free_secret(v->io, SSRP_FVE_SECTOR);
	ssrp_memzero(v->vmk, sizeof v->vmk);
}

static int parse_config(sim_volume *v, char *path, size_t cap, const char *config)
{
	const char *q = strchr(config, '?');
	size_t n = q ? (size_t)(q - config) : strlen(config);
	if (!n || n >= cap)
		return ssrp_error_set(SSRP_E_SPEC, "sim volume spec needs a file path: sim:PATH");
	memcpy(path, config, n);
	path[n] = '\0';
	if (!q)
		return SSRP_OK;
	char *end;
	if (strncmp(q + 1, "kill_at_write=", 14) ||
	    (v->store.kill_at_write = (unsigned)strtoul(q + 15, &end, 10), *end) ||
	    !v->store.kill_at_write)
		return ssrp_error_set(SSRP_E_SPEC,
				      "sim volume option '%s' is not understood (only "
				      "kill_at_write=N, N >= 1)",
				      q + 1);
	return SSRP_OK;
}

static int sim_open(void *ctx, const char *config)
{
	sim_volume *v = ctx;
	char path[1024];
	unsigned kill_at = 0;
	v->store.fd = -1;
	int rc = parse_config(v, path, sizeof path, config);
	kill_at = v->store.kill_at_write;
	if (!rc)
		rc = ssrp_sim_store_open(&v->store, path);
	v->store.kill_at_write = kill_at;
	if (!rc && (!(v->md = ssrp_malloc(sizeof *v->md)) ||
		    !(v->io = ssrp_malloc(SSRP_FVE_SECTOR))))
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory opening %s", path);
	if (!rc)
		rc = ssrp_sim_store_read_metadata(&v->store, v->md);
	/* Put damaged or stale copies back in step before anything else. */
	if (!rc && !v->store.copies_in_step)
		rc = ssrp_sim_store_write_metadata(&v->store, v->md);
	if (rc) {
		sim_close(v);
		return rc;
	}
	try_clear_key(v);
	return SSRP_OK;
}

static int sim_status(void *ctx, ssrp_volume_status *out)
{
	sim_volume *v = ctx;
	out->protection = has_protection(v, SSRP_FVE_PROTECT_CLEAR_KEY) ? SSRP_PROTECTION_OFF
									 : SSRP_PROTECTION_ON;
	out->encryption_method = v->md->method;
	out->percent_encrypted = 100;
	out->locked = !v->unlocked;
	out->last_unlock_recovery = (v->md->flags & SSRP_FVE_FLAG_LAST_UNLOCK_RECOVERY) != 0;
	if (out->last_unlock_recovery)
		ssrp_guid_format(out->last_unlock_recovery_id, v->md->used_recovery);
	out->size = v->store.layout.size;
	return SSRP_OK;
}

static ssrp_protector_type type_of(uint16_t protection)
{
	switch (protection) {
	case SSRP_FVE_PROTECT_CLEAR_KEY: return SSRP_PROTECTOR_CLEAR_KEY;
	case SSRP_FVE_PROTECT_TPM: return SSRP_PROTECTOR_TPM;
	case SSRP_FVE_PROTECT_STARTUP_KEY: return SSRP_PROTECTOR_STARTUP_KEY;
	case SSRP_FVE_PROTECT_TPM_PIN: return SSRP_PROTECTOR_TPM_PIN;
	case SSRP_FVE_PROTECT_RECOVERY_PASSWORD: return SSRP_PROTECTOR_RECOVERY_PASSWORD;
	case SSRP_FVE_PROTECT_PASSWORD: return SSRP_PROTECTOR_PASSWORD;
	default: return SSRP_PROTECTOR_OTHER;
	}
}

static int sim_list(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n)
{
	sim_volume *v = ctx;
	*out_n = v->md->n_vmks;
	for (size_t i = 0; i < v->md->n_vmks && i < cap; i++) {
		const ssrp_fve_vmk *k = &v->md->vmks[i];
		ssrp_guid_format(out[i].id, k->guid);
		out[i].type = type_of(k->protection);
		out[i].protection_code = k->protection;
		ssrp_sim_utf16_to_utf8(out[i].friendly_name, sizeof out[i].friendly_name, k->name,
				       k->name_len);
		out[i].created = ssrp_filetime_to_unix(k->filetime);
	}
	return SSRP_OK;
}

static int sim_add_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask,
		       char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	sim_volume *v = ctx;
	int rc = require_unlocked(v, "add a TPM protector");
	if (rc)
		return rc;
	if (!tpm)
		return ssrp_error_set(SSRP_E_INVALID, "adding a TPM protector needs a TPM");
	if (has_protection(v, SSRP_FVE_PROTECT_TPM))
		return ssrp_error_set(SSRP_E_REFUSED,
				      "the volume already has a TPM protector (BitLocker allows one)");
	ssrp_fve_vmk *k;
	if ((rc = new_vmk(v, &k, SSRP_FVE_PROTECT_TPM)))
		return rc;
	ssrp_buf blob = SSRP_BUF_INIT;
	rc = ssrp_tpm_seal(tpm, &blob, v->vmk, sizeof v->vmk, pcr_mask);
	if (rc == SSRP_OK && blob.len > sizeof k->tpm_blob)
		rc = ssrp_error_set(SSRP_E_TPM, "the sealed VMK is %zu bytes; a TPM protector holds %zu",
				    blob.len, sizeof k->tpm_blob);
	if (rc == SSRP_OK) {
		memcpy(k->tpm_blob, blob.data, blob.len);
		k->tpm_blob_len = (uint16_t)blob.len;
		rc = commit(v, 1, out_id);
	}
	ssrp_buf_free(&blob);
	return rc;
}

static int sim_reseal_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask)
{
	sim_volume *v = ctx;
	int rc = require_unlocked(v, "seal the TPM protector again");
	if (rc)
		return rc;
	for (size_t i = 0; i < v->md->n_vmks; i++) {
		ssrp_fve_vmk *k = &v->md->vmks[i];
		if (k->protection != SSRP_FVE_PROTECT_TPM)
			continue;
		ssrp_buf blob = SSRP_BUF_INIT;
		rc = ssrp_tpm_seal(tpm, &blob, v->vmk, sizeof v->vmk, pcr_mask);
		if (rc == SSRP_OK && blob.len > sizeof k->tpm_blob)
			rc = ssrp_error_set(SSRP_E_TPM,
					    "the sealed VMK is %zu bytes; a TPM protector holds %zu",
					    blob.len, sizeof k->tpm_blob);
		if (rc == SSRP_OK) {
			ssrp_memzero(k->tpm_blob, sizeof k->tpm_blob);
			memcpy(k->tpm_blob, blob.data, blob.len);
			k->tpm_blob_len = (uint16_t)blob.len;
			rc = commit(v, 0, NULL);
		}
		ssrp_buf_free(&blob);
		return rc;
	}
	return ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no TPM protector");
}

static int sim_add_recovery(void *ctx, const char *password, const uint8_t key[16],
			    char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	sim_volume *v = ctx;
	(void)password;
	int rc = require_unlocked(v, "add a recovery password");
	if (rc)
		return rc;
	ssrp_fve_vmk *k;
	uint8_t stretched[SSRP_STRETCH_KEY_LEN];
	if ((rc = new_vmk(v, &k, SSRP_FVE_PROTECT_RECOVERY_PASSWORD)))
		return rc;
	k->has_stretch = k->has_key_copy = k->has_wrapped_vmk = 1;
	rc = ssrp_random_bytes(k->salt, sizeof k->salt);
	if (!rc)
		rc = ssrp_stretch_recovery_key(stretched, key, k->salt);
	if (!rc)
		rc = ssrp_sim_wrap_key(&k->wrapped_vmk, v->md, stretched, SSRP_FVE_ALG_VMK, v->vmk, 32);
	if (!rc)
		rc = ssrp_sim_wrap_key(&k->key_copy, v->md, v->vmk, SSRP_SIM_ALG_RECOVERY_KEY, key, 16);
	ssrp_memzero(stretched, sizeof stretched);
	return rc ? rc : commit(v, 1, out_id);
}

static int sim_get_recovery(void *ctx, const char *id, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	sim_volume *v = ctx;
	int rc = require_unlocked(v, "show a recovery password");
	int i = rc ? -1 : find_vmk(v, id);
	if (i < 0)
		return rc ? rc : SSRP_E_NOTFOUND;
	const ssrp_fve_vmk *k = &v->md->vmks[i];
	if (k->protection != SSRP_FVE_PROTECT_RECOVERY_PASSWORD)
		return ssrp_error_set(SSRP_E_INVALID, "protector %s is a %s protector, not a recovery "
						      "password",
				      id, ssrp_protector_type_name(type_of(k->protection)));
	if (!k->has_key_copy)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "recovery protector %s keeps no copy of its password", id);
	uint8_t key[16];
	rc = ssrp_sim_unwrap_key(key, 16, &k->key_copy, v->vmk, SSRP_SIM_ALG_RECOVERY_KEY);
	if (rc == SSRP_OK)
		ssrp_rp_format(out, key);
	ssrp_memzero(key, sizeof key);
	return rc;
}

static int sim_delete(void *ctx, const char *id)
{
	sim_volume *v = ctx;
	int i = find_vmk(v, id);
	if (i < 0)
		return SSRP_E_NOTFOUND;
	ssrp_fve_metadata *md = v->md;
	if (!memcmp(md->vmks[i].guid, md->used_recovery, 16)) {
		/* Rotation done: the used password is gone. */
		md->flags &= ~SSRP_FVE_FLAG_LAST_UNLOCK_RECOVERY;
		memset(md->used_recovery, 0, 16);
	}
	ssrp_memzero(&md->vmks[i], sizeof md->vmks[i]);
	memmove(&md->vmks[i], &md->vmks[i + 1], (md->n_vmks - (size_t)i - 1) * sizeof md->vmks[0]);
	md->n_vmks--;
	return commit(v, 0, NULL);
}

static int sim_unlock_tpm(void *ctx, ssrp_tpm *tpm)
{
	sim_volume *v = ctx;
	int first_rc = SSRP_OK, tried = 0;
	char first[1024] = "";
	if (!tpm)
		return ssrp_error_set(SSRP_E_INVALID, "unlocking with the TPM needs a TPM");
	for (size_t i = 0; i < v->md->n_vmks; i++) {
		const ssrp_fve_vmk *k = &v->md->vmks[i];
		if (k->protection != SSRP_FVE_PROTECT_TPM || !k->tpm_blob_len)
			continue;
		tried++;
		ssrp_buf vmk = SSRP_BUF_INIT;
		int rc = ssrp_tpm_unseal(tpm, &vmk, k->tpm_blob, k->tpm_blob_len);
		if (rc == SSRP_OK && vmk.len != 32)
			rc = ssrp_error_set(SSRP_E_FORMAT, "the sealed VMK has %zu bytes, not 32",
					    vmk.len);
		if (rc == SSRP_OK)
			rc = use_vmk(v, vmk.data);
		ssrp_buf_free(&vmk);
		if (rc == SSRP_OK)
			return SSRP_OK;
		if (!first_rc) {
			char id[SSRP_GUID_TEXT_LEN + 1];
			ssrp_guid_format(id, k->guid);
			first_rc = rc;
			snprintf(first, sizeof first, "TPM protector %s: %s", id, ssrp_error_last());
		}
	}
	if (!tried)
		return ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no TPM protector");
	return ssrp_error_set(first_rc, "%s", first);
}

static int sim_unlock_recovery(void *ctx, const char *password, const uint8_t key[16])
{
	sim_volume *v = ctx;
	(void)password;
	int tried = 0;
	for (size_t i = 0; i < v->md->n_vmks; i++) {
		ssrp_fve_vmk *k = &v->md->vmks[i];
		if (k->protection != SSRP_FVE_PROTECT_RECOVERY_PASSWORD || !k->has_stretch ||
		    !k->has_wrapped_vmk)
			continue;
		tried++;
		uint8_t stretched[SSRP_STRETCH_KEY_LEN], vmk[32];
		int rc = ssrp_stretch_recovery_key(stretched, key, k->salt);
		if (rc == SSRP_OK)
			rc = ssrp_sim_unwrap_key(vmk, 32, &k->wrapped_vmk, stretched, SSRP_FVE_ALG_VMK);
		if (rc == SSRP_OK)
			rc = use_vmk(v, vmk);
		ssrp_memzero(stretched, sizeof stretched);
		ssrp_memzero(vmk, sizeof vmk);
		if (rc == SSRP_OK) {
			v->md->flags |= SSRP_FVE_FLAG_LAST_UNLOCK_RECOVERY;
			memcpy(v->md->used_recovery, k->guid, 16);
			return commit(v, 0, NULL);
		}
	}
	if (!tried)
		return ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no recovery-password protector");
	return ssrp_error_set(SSRP_E_BAD_KEY,
			      "the recovery password does not unlock this volume (checked against "
			      "%d recovery protector(s))",
			      tried);
}

static int sim_protection_on(void *ctx)
{
	sim_volume *v = ctx;
	ssrp_fve_metadata *md = v->md;
	size_t kept = 0;
	for (size_t i = 0; i < md->n_vmks; i++) {
		if (md->vmks[i].protection == SSRP_FVE_PROTECT_CLEAR_KEY) {
			ssrp_memzero(&md->vmks[i], sizeof md->vmks[i]);
			continue;
		}
		if (kept != i)
			memcpy(&md->vmks[kept], &md->vmks[i], sizeof md->vmks[i]);
		kept++;
	}
	if (kept == md->n_vmks)
		return SSRP_OK;
	md->n_vmks = kept;
	return commit(v, 0, NULL);
}

static int sim_protection_off(void *ctx)
{
	sim_volume *v = ctx;
	if (has_protection(v, SSRP_FVE_PROTECT_CLEAR_KEY))
		return SSRP_OK;
	int rc = require_unlocked(v, "turn protection off");
	ssrp_fve_vmk *k;
	if (rc || (rc = new_vmk(v, &k, SSRP_FVE_PROTECT_CLEAR_KEY)))
		return rc;
	k->has_clear_key = k->has_wrapped_vmk = 1;
	rc = ssrp_random_bytes(k->clear_key, sizeof k->clear_key);
	if (!rc)
		rc = ssrp_sim_wrap_key(&k->wrapped_vmk, v->md, k->clear_key, SSRP_FVE_ALG_VMK, v->vmk,
				       32);
	return rc ? rc : commit(v, 1, NULL);
}

/* Logical sectors first.. that are stored in consecutive physical sectors;
 * *phys gets the first one's. */
static size_t run_length(const sim_volume *v, uint64_t first, uint64_t last, uint64_t *phys)
{
	*phys = ssrp_sim_layout_physical(&v->store.layout, first);
	size_t n = 1;
	while (first + n <= last && ssrp_sim_layout_physical(&v->store.layout, first + n) == *phys + n)
		n++;
	return n;
}

/* Whole sectors go straight between the caller's buffer and the mapped
 * file through XTS; a partial sector at either end goes through one sector
 * of bounce buffer (read, decrypt, patch, encrypt). */
static int transfer(sim_volume *v, uint64_t offset, uint8_t *buf, size_t len, int writing)
{
	int rc = require_unlocked(v, writing ? "write data" : "read data");
	while (rc == SSRP_OK && len) {
		uint64_t first = offset / SSRP_FVE_SECTOR;
		size_t skip = (size_t)(offset % SSRP_FVE_SECTOR);
		uint64_t last = (offset + len - 1) / SSRP_FVE_SECTOR, phys;
		size_t n = run_length(v, first, last, &phys);
		if (phys == UINT64_MAX) /* a hole: the core refuses these ranges */
			return ssrp_error_set(SSRP_E_RESERVED, "sector %llu is reserved",
					      (unsigned long long)first);
		uint8_t *disk = v->store.map + phys * SSRP_FVE_SECTOR;
		size_t bytes;
		if (skip == 0 && len >= SSRP_FVE_SECTOR) {
			size_t k = len / SSRP_FVE_SECTOR < n ? len / SSRP_FVE_SECTOR : n;
			bytes = k * SSRP_FVE_SECTOR;
			rc = writing ? ssrp_xts_encrypt(v->xts, disk, buf, phys, k, SSRP_FVE_SECTOR)
				     : ssrp_xts_decrypt(v->xts, buf, disk, phys, k, SSRP_FVE_SECTOR);
		} else {
			bytes = SSRP_FVE_SECTOR - skip < len ? SSRP_FVE_SECTOR - skip : len;
			rc = ssrp_xts_decrypt(v->xts, v->io, disk, phys, 1, SSRP_FVE_SECTOR);
			if (rc == SSRP_OK && writing) {
				memcpy(v->io + skip, buf, bytes);
				rc = ssrp_xts_encrypt(v->xts, disk, v->io, phys, 1, SSRP_FVE_SECTOR);
			} else if (rc == SSRP_OK) {
				memcpy(buf, v->io + skip, bytes);
			}
		}
		if (writing)
			v->store.data_dirty = 1;
		buf += bytes;
		offset += bytes;
		len -= bytes;
	}
	return rc;
}

static int sim_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return transfer(ctx, offset, buf, len, 0);
}

static int sim_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
	/* transfer() only reads from buf when writing. */
	return transfer(ctx, offset, (uint8_t *)(uintptr_t)buf, len, 1);
}

static int sim_regions(void *ctx, ssrp_volume_region *out, size_t cap, size_t *out_n)
{
	sim_volume *v = ctx;
	ssrp_volume_region all[SSRP_SIM_LAYOUT_REGIONS];
	*out_n = ssrp_sim_layout_regions(&v->store.layout, all);
	for (size_t i = 0; i < *out_n && i < cap; i++)
		out[i] = all[i];
	return SSRP_OK;
}

const ssrp_volume_backend ssrp_volume_backend_sim = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {
		.name = "sim",
		.description = "a file-backed volume in BitLocker's on-disk format",
		.config_help = "PATH of a volume made by `ssrp volume create`",
	},
	.caps = SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_READ_PASSWORD |
		SSRP_VOLUME_CAP_UNLOCK | SSRP_VOLUME_CAP_PROTECTION | SSRP_VOLUME_CAP_DATA,
	.ctx_size = sizeof(sim_volume),
	.open = sim_open,
	.close = sim_close,
	.get_status = sim_status,
	.list_protectors = sim_list,
	.add_tpm_protector = sim_add_tpm,
	.reseal_tpm_protector = sim_reseal_tpm,
	.add_recovery_password = sim_add_recovery,
	.delete_protector = sim_delete,
	.get_recovery_password = sim_get_recovery,
	.unlock_tpm = sim_unlock_tpm,
	.unlock_recovery_password = sim_unlock_recovery,
	.protection_on = sim_protection_on,
	.protection_off = sim_protection_off,
	.read = sim_read,
	.write = sim_write,
	.reserved_regions = sim_regions,
};
