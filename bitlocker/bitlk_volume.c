/* The "bitlk" volume backend: a file or block device in BitLocker's
 * on-disk format, Windows-made or ssrp-made, with the real key hierarchy.
 * Sectors are encrypted under the FVEK (any BitLocker method); the FVEK is
 * wrapped by the VMK; the VMK by each protector: a clear key, a stretched
 * recovery password or user password (AES-256-CCM), a startup key (.BEK
 * file), or the TPM (an ssrp sealed blob bound to PCRs). "bitlk:PATH" opens
 * read-only unless "?rw" follows the path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitlocker/fve_crypto.h"
#include "bitlocker/fve_sector.h"
#include "bitlocker/recovery_password.h"
#include "bitlocker/stretch.h"
#include "bitlocker/bitlk_volume.h"
#include "bitlocker/volume_backends.h"
#include "hal/clock.h"
#include "hal/crypto.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "bitlocker/bitlk_keys.h"
#include "bitlocker/bitlk_store.h"


typedef struct bitlk_volume {
	ssrp_bitlk_store store;
	ssrp_fve_metadata *md;
	int unlocked;
	uint8_t vmk[32];
	ssrp_fve_cipher *cipher;
	uint8_t *io; /* one sector, for partial-sector reads and writes */
	char repaired[512]; /* what opening repaired, for status */
} bitlk_volume;

#define IO_MAX 4096u /* the largest sector */

static int require_unlocked(const bitlk_volume *v, const char *what)
{
	if (v->unlocked)
		return SSRP_OK;
	return ssrp_error_set(SSRP_E_LOCKED,
			      "cannot %s: the volume is locked; unlock it with the TPM or a "
			      "recovery password first",
			      what);
}

/* Accept vmk only if it opens the FVEK and the metadata's validation
 * datum vouches for the metadata; then the volume is unlocked. */
static int use_vmk(bitlk_volume *v, const uint8_t vmk[32])
{
	uint8_t pt[SSRP_FVE_MAX_WRAPPED];
	const ssrp_fve_wrapped *w = &v->md->fvek;
	const uint8_t *fvek;
	size_t fvek_len;
	uint16_t alg;
	int rc = ssrp_ccm_decrypt(pt, vmk, w->nonce, w->tag, w->ct, w->len);
	if (rc) {
		/* Every caller got vmk from a protector whose AES-CCM tag (or the
		 * TPM's integrity check) matched: it is the volume's VMK, so an
		 * FVEK it cannot open has been altered. */
		ssrp_memzero(pt, sizeof pt);
		return ssrp_error_set(SSRP_E_FORMAT,
				      "tampered metadata: the volume master key, which the protector "
				      "opened, does not open the wrapped FVEK (its authentication tag "
				      "does not match)");
	}
	rc = ssrp_fve_key_datum_any(&fvek, &fvek_len, &alg, pt, w->len);
	if (!rc)
		rc = ssrp_bitlk_store_verify(&v->store, v->md, vmk);
	ssrp_fve_cipher *c = NULL;
	if (!rc)
		rc = ssrp_fve_cipher_new(&c, v->md->method, fvek, fvek_len);
	ssrp_memzero(pt, sizeof pt);
	if (rc)
		return rc;
	ssrp_fve_cipher_free(v->cipher);
	v->cipher = c;
	memcpy(v->vmk, vmk, 32);
	v->unlocked = 1;
	return SSRP_OK;
}

static int find_vmk(const bitlk_volume *v, const char *id)
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

static int has_protection(const bitlk_volume *v, uint16_t protection)
{
	for (size_t i = 0; i < v->md->n_vmks; i++)
		if (v->md->vmks[i].protection == protection)
			return 1;
	return 0;
}

/* A new protector entry, or SSRP_E_REFUSED when the format is full. */
static int new_vmk(bitlk_volume *v, ssrp_fve_vmk **out, uint16_t protection)
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
	k->changed = 1;
	*out = k;
	return SSRP_OK;
}

/* Commit a new entry (already filled) and write the metadata, sealed under
 * the VMK (callers check the volume is unlocked before changing anything);
 * on failure the in-memory metadata is re-read so it matches the disk
 * again. */
static int commit(bitlk_volume *v, int added, char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	if (added)
		v->md->n_vmks++;
	int rc = ssrp_bitlk_store_write_metadata(&v->store, v->md, v->unlocked ? v->vmk : NULL);
	if (rc) {
		char message[1024];
		snprintf(message, sizeof message, "%s", ssrp_error_last());
		ssrp_bitlk_store_read_metadata(&v->store, v->md);
		return ssrp_error_set(rc, "%s", message);
	}
	if (added && out_id)
		ssrp_guid_format(out_id, v->md->vmks[v->md->n_vmks - 1].guid);
	return SSRP_OK;
}

/* Unlock with the clear key when there is one (protection off). */
static void try_clear_key(bitlk_volume *v)
{
	for (size_t i = 0; i < v->md->n_vmks && !v->unlocked; i++) {
		const ssrp_fve_vmk *k = &v->md->vmks[i];
		uint8_t vmk[32];
		if (k->protection != SSRP_FVE_PROTECT_CLEAR_KEY || !k->has_clear_key ||
		    !k->has_wrapped_vmk)
			continue;
		if (!ssrp_bitlk_unwrap_key(vmk, 32, &k->wrapped_vmk, k->clear_key, SSRP_FVE_ALG_VMK) &&
		    use_vmk(v, vmk) == SSRP_E_FORMAT)
			snprintf(v->repaired, sizeof v->repaired, "%s", ssrp_error_last());
		ssrp_memzero(vmk, sizeof vmk);
	}
	ssrp_error_clear();
}

static void bitlk_close(void *ctx)
{
	bitlk_volume *v = ctx;
	ssrp_bitlk_store_close(&v->store); /* flushes data written through the map */
	ssrp_fve_cipher_free(v->cipher);
	ssrp_free_secret(v->md, sizeof *v->md);
	ssrp_free_secret(v->io, IO_MAX);
	ssrp_memzero(v->vmk, sizeof v->vmk);
}

/* "PATH[?opt[&opt...]]": ro, rw. */
static int parse_config(char *path, size_t cap, const char *config, int *writable)
{
	const char *q = strchr(config, '?');
	size_t n = q ? (size_t)(q - config) : strlen(config);
	if (!n || n >= cap)
		return ssrp_error_set(SSRP_E_SPEC, "a volume spec needs a file or device path: "
						   "bitlk:PATH");
	memcpy(path, config, n);
	path[n] = '\0';
	while (q && *q) {
		const char *opt = q + 1, *next = strchr(opt, '&');
		size_t len = next ? (size_t)(next - opt) : strlen(opt);
		if (len == 2 && !strncmp(opt, "ro", 2))
			*writable = 0;
		else if (len == 2 && !strncmp(opt, "rw", 2))
			*writable = 1;
		else
			return ssrp_error_set(SSRP_E_SPEC,
					      "volume option '%.*s' is not understood (ro, rw)",
					      (int)len, opt);
		q = next;
	}
	return SSRP_OK;
}

int ssrp_bitlk_volume_open(void *ctx, const char *config, const ssrp_bitlk_open_options *o)
{
	bitlk_volume *v = ctx;
	char path[1024];
	int writable = o ? o->writable : 0;
	v->store.fd = -1;
	int rc = parse_config(path, sizeof path, config, &writable);
	if (!rc)
		rc = ssrp_bitlk_store_open(&v->store, path, writable, NULL);
	if (!rc && o) { /* before any write: the repair below is one */
		v->store.write_region = o->write_region;
		v->store.write_region_ctx = o->write_region_ctx;
	}
	if (!rc && (!(v->md = ssrp_malloc(sizeof *v->md)) || !(v->io = ssrp_malloc(IO_MAX))))
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory opening %s", path);
	if (!rc)
		rc = ssrp_bitlk_store_read_metadata(&v->store, v->md);
	/* Put damaged or stale copies back in step before anything else, when
	 * writing is allowed; a read-only open reports them in the status. */
	if (!rc && !v->store.copies_in_step && writable) {
		int n = 0;
		for (int i = 0; i < 3; i++)
			if (!v->store.copy_ok[i] && n >= 0 && (size_t)n < sizeof v->repaired)
				n += snprintf(v->repaired + n, sizeof v->repaired - (size_t)n,
					      "%srepaired copy %d at 0x%llx (%s)", n ? "; " : "", i + 1,
					      (unsigned long long)v->store.boot.copies[i],
					      v->store.copy_note[i]);
		rc = ssrp_bitlk_store_repair(&v->store);
	}
	if (rc) {
		bitlk_close(v);
		return rc;
	}
	try_clear_key(v);
	return SSRP_OK;
}

static int bitlk_open(void *ctx, const char *config)
{
	return ssrp_bitlk_volume_open(ctx, config, NULL);
}

static int bitlk_status(void *ctx, ssrp_volume_status *out)
{
	bitlk_volume *v = ctx;
	out->protection = has_protection(v, SSRP_FVE_PROTECT_CLEAR_KEY) ? SSRP_PROTECTION_OFF
									 : SSRP_PROTECTION_ON;
	out->encryption_method = v->md->method;
	const ssrp_bitlk_layout *l = &v->store.layout;
	out->percent_encrypted = l->encrypted_size >= l->size ? 100
				 : (int)(l->encrypted_size * 100 / l->size);
	out->conversion_state = v->md->state;
	out->conversion_next_state = v->md->next_state;
	out->encrypted_size = l->encrypted_size;
	out->locked = !v->unlocked;
	out->last_unlock_recovery = (v->md->flags & SSRP_FVE_FLAG_LAST_UNLOCK_RECOVERY) != 0;
	if (out->last_unlock_recovery)
		ssrp_guid_format(out->last_unlock_recovery_id, v->md->used_recovery);
	out->size = v->store.layout.size;
	out->sector_size = v->store.layout.sector;
	out->to_go = v->store.boot.to_go;
	out->used_space_only = v->store.boot.used_space_only;
	out->metadata_copies_ok = 0;
	for (int i = 0; i < 3; i++)
		out->metadata_copies_ok += v->store.copy_ok[i];
	int n = 0;
	for (int i = 0; i < 3; i++)
		if (v->store.copy_note[i][0] && n >= 0 && (size_t)n < sizeof out->metadata_note)
			n += snprintf(out->metadata_note + n, sizeof out->metadata_note - (size_t)n,
				      "%scopy %d at 0x%llx: %s", n ? "; " : "", i + 1,
				      (unsigned long long)v->store.boot.copies[i],
				      v->store.copy_note[i]);
	if (!n && v->repaired[0])
		snprintf(out->metadata_note, sizeof out->metadata_note, "%s", v->repaired);
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
	case SSRP_FVE_PROTECT_SMART_CARD: return SSRP_PROTECTOR_SMART_CARD;
	default: return SSRP_PROTECTOR_OTHER;
	}
}

static int bitlk_list(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n)
{
	bitlk_volume *v = ctx;
	*out_n = v->md->n_vmks;
	for (size_t i = 0; i < v->md->n_vmks && i < cap; i++) {
		const ssrp_fve_vmk *k = &v->md->vmks[i];
		ssrp_guid_format(out[i].id, k->guid);
		out[i].type = type_of(k->protection);
		out[i].protection_code = k->protection;
		ssrp_bitlk_utf16_to_utf8(out[i].friendly_name, sizeof out[i].friendly_name, k->name,
				       k->name_len);
		out[i].created = ssrp_filetime_to_unix(k->filetime);
	}
	return SSRP_OK;
}

static int bitlk_add_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask,
		       char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	bitlk_volume *v = ctx;
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

static int bitlk_reseal_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask)
{
	bitlk_volume *v = ctx;
	int rc = require_unlocked(v, "seal the TPM protector again");
	if (rc)
		return rc;
	for (size_t i = 0; i < v->md->n_vmks; i++) {
		ssrp_fve_vmk *k = &v->md->vmks[i];
		/* Only ssrp's sealed blobs: Windows' TPM protector is Windows' own. */
		if (k->protection != SSRP_FVE_PROTECT_TPM || k->tpm_blob_len < 8 ||
		    memcmp(k->tpm_blob, "SSRPSEAL", 8))
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
			k->changed = 1;
			rc = commit(v, 0, NULL);
		}
		ssrp_buf_free(&blob);
		return rc;
	}
	return ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no TPM protector");
}

static int bitlk_add_recovery(void *ctx, const char *password, const uint8_t key[16],
			    char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	bitlk_volume *v = ctx;
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
		rc = ssrp_bitlk_wrap_key(&k->wrapped_vmk, v->md, stretched, SSRP_FVE_ALG_VMK, v->vmk, 32);
	if (!rc)
		rc = ssrp_bitlk_wrap_key(&k->key_copy, v->md, v->vmk, SSRP_BITLK_ALG_RECOVERY_KEY, key, 16);
	ssrp_memzero(stretched, sizeof stretched);
	return rc ? rc : commit(v, 1, out_id);
}

static int bitlk_get_recovery(void *ctx, const char *id, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	bitlk_volume *v = ctx;
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
	rc = ssrp_bitlk_unwrap_key(key, 16, &k->key_copy, v->vmk, SSRP_BITLK_ALG_RECOVERY_KEY);
	if (rc == SSRP_OK)
		ssrp_rp_format(out, key);
	ssrp_memzero(key, sizeof key);
	return rc;
}

static int bitlk_delete(void *ctx, const char *id)
{
	bitlk_volume *v = ctx;
	int i = find_vmk(v, id);
	if (i < 0)
		return SSRP_E_NOTFOUND;
	int rc = require_unlocked(v, "remove a protector (the metadata is sealed with the volume "
				     "master key)");
	if (rc)
		return rc;
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

static int bitlk_unlock_tpm(void *ctx, ssrp_tpm *tpm)
{
	bitlk_volume *v = ctx;
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

static int bitlk_unlock_recovery(void *ctx, const char *password, const uint8_t key[16])
{
	bitlk_volume *v = ctx;
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
			rc = ssrp_bitlk_unwrap_key(vmk, 32, &k->wrapped_vmk, stretched, SSRP_FVE_ALG_VMK);
		if (rc == SSRP_OK)
			rc = use_vmk(v, vmk);
		ssrp_memzero(stretched, sizeof stretched);
		ssrp_memzero(vmk, sizeof vmk);
		if (rc == SSRP_OK && (!v->store.writable || v->md->unmodelled))
			return SSRP_OK; /* read-only, or Windows' metadata: nothing is recorded */
		if (rc == SSRP_OK) {
			v->md->flags |= SSRP_FVE_FLAG_LAST_UNLOCK_RECOVERY;
			memcpy(v->md->used_recovery, k->guid, 16);
			return commit(v, 0, NULL);
		}
		if (rc == SSRP_E_FORMAT)
			return rc; /* the key was right; the metadata is not */
	}
	if (!tried)
		return ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no recovery-password protector");
	return ssrp_error_set(SSRP_E_BAD_KEY,
			      "the recovery password does not unlock this volume (checked against "
			      "%d recovery protector(s))",
			      tried);
}

/* Try each protector of kind protection with the key-encryption key
 * kek_of() derives for it; SSRP_E_BAD_KEY naming how many were tried. */
static int unlock_with(bitlk_volume *v, uint16_t protection, const char *what,
		       int (*kek_of)(uint8_t kek[32], const ssrp_fve_vmk *k, const void *arg),
		       const void *arg)
{
	int tried = 0;
	for (size_t i = 0; i < v->md->n_vmks; i++) {
		const ssrp_fve_vmk *k = &v->md->vmks[i];
		if (k->protection != protection || !k->has_wrapped_vmk)
			continue;
		uint8_t kek[32], vmk[32];
		int rc = kek_of(kek, k, arg);
		if (rc == SSRP_E_NOTFOUND)
			continue;
		tried++;
		if (rc == SSRP_OK)
			rc = ssrp_bitlk_unwrap_key(vmk, 32, &k->wrapped_vmk, kek, SSRP_FVE_ALG_VMK);
		if (rc == SSRP_OK)
			rc = use_vmk(v, vmk);
		ssrp_memzero(kek, sizeof kek);
		ssrp_memzero(vmk, sizeof vmk);
		if (rc == SSRP_OK || rc == SSRP_E_FORMAT)
			return rc;
	}
	if (!tried)
		return ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no %s protector that fits", what);
	return ssrp_error_set(SSRP_E_BAD_KEY,
			      "the %s does not unlock this volume (checked against %d protector(s))",
			      what, tried);
}

static int password_kek(uint8_t kek[32], const ssrp_fve_vmk *k, const void *arg)
{
	const uint8_t *initial = arg;
	if (!k->has_stretch)
		return SSRP_E_NOTFOUND;
	return ssrp_stretch(kek, initial, k->salt, SSRP_STRETCH_ITERATIONS);
}

static int bitlk_unlock_password(void *ctx, const char *password)
{
	uint8_t utf16[512], initial[32];
	size_t n = ssrp_bitlk_utf8_to_utf16(utf16, sizeof utf16, password);
	int rc = n ? ssrp_sha256(initial, utf16, n)
		   : ssrp_error_set(SSRP_E_INVALID, "the password is empty, too long or not UTF-8");
	if (!rc)
		rc = ssrp_sha256(initial, initial, sizeof initial);
	if (!rc)
		rc = unlock_with(ctx, SSRP_FVE_PROTECT_PASSWORD, "password", password_kek, initial);
	ssrp_memzero(utf16, sizeof utf16);
	ssrp_memzero(initial, sizeof initial);
	return rc;
}

typedef struct startup_key {
	uint8_t guid[16], key[32];
} startup_key;

static int startup_kek(uint8_t kek[32], const ssrp_fve_vmk *k, const void *arg)
{
	const startup_key *sk = arg;
	if (memcmp(k->guid, sk->guid, 16))
		return SSRP_E_NOTFOUND;
	memcpy(kek, sk->key, 32);
	return SSRP_OK;
}

static int bitlk_unlock_startup_key(void *ctx, const uint8_t *bek, size_t len)
{
	startup_key sk;
	int rc = ssrp_fve_bek_parse(sk.guid, sk.key, bek, len);
	if (!rc) {
		rc = unlock_with(ctx, SSRP_FVE_PROTECT_STARTUP_KEY, "startup key", startup_kek, &sk);
		if (rc == SSRP_E_NOTFOUND) {
			char id[SSRP_GUID_TEXT_LEN + 1];
			ssrp_guid_format(id, sk.guid);
			rc = ssrp_error_set(SSRP_E_BAD_KEY,
					    "the startup key belongs to protector %s, which this volume "
					    "does not have",
					    id);
		}
	}
	ssrp_memzero(&sk, sizeof sk);
	return rc;
}

static int bitlk_protection_on(void *ctx)
{
	bitlk_volume *v = ctx;
	ssrp_fve_metadata *md = v->md;
	if (!has_protection(v, SSRP_FVE_PROTECT_CLEAR_KEY))
		return SSRP_OK;
	int rc = require_unlocked(v, "turn protection on (the metadata is sealed with the volume "
				     "master key)");
	if (rc)
		return rc;
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
	md->n_vmks = kept;
	return commit(v, 0, NULL);
}

static int bitlk_protection_off(void *ctx)
{
	bitlk_volume *v = ctx;
	if (has_protection(v, SSRP_FVE_PROTECT_CLEAR_KEY))
		return SSRP_OK;
	int rc = require_unlocked(v, "turn protection off");
	ssrp_fve_vmk *k;
	if (rc || (rc = new_vmk(v, &k, SSRP_FVE_PROTECT_CLEAR_KEY)))
		return rc;
	k->has_clear_key = k->has_wrapped_vmk = 1;
	rc = ssrp_random_bytes(k->clear_key, sizeof k->clear_key);
	if (!rc)
		rc = ssrp_bitlk_wrap_key(&k->wrapped_vmk, v->md, k->clear_key, SSRP_FVE_ALG_VMK, v->vmk,
				       32);
	return rc ? rc : commit(v, 1, NULL);
}

/* Logical sectors first.. that are stored in consecutive physical sectors,
 * all encrypted or all as they are; *phys gets the first one's, *plain
 * says which. */
static size_t run_length(const bitlk_volume *v, uint64_t first, uint64_t last, uint64_t *phys,
			 int *plain)
{
	const ssrp_bitlk_layout *l = &v->store.layout;
	*phys = ssrp_bitlk_layout_physical(l, first);
	*plain = ssrp_bitlk_layout_plain(l, first);
	size_t n = 1;
	while (first + n <= last && ssrp_bitlk_layout_physical(l, first + n) == *phys + n &&
	       ssrp_bitlk_layout_plain(l, first + n) == *plain)
		n++;
	return n;
}

/* k sectors from in to out: through the cipher, or copied when they are
 * stored as they are (a conversion not finished). */
static int code(const bitlk_volume *v, uint8_t *out, const uint8_t *in, uint64_t phys, size_t k,
		int plain, int encrypting)
{
	size_t sector = v->store.layout.sector;
	if (plain) {
		if (out != in)
			memcpy(out, in, k * sector);
		return SSRP_OK;
	}
	return encrypting ? ssrp_fve_cipher_encrypt(v->cipher, out, in, phys, k, sector)
			  : ssrp_fve_cipher_decrypt(v->cipher, out, in, phys, k, sector);
}

/* Whole sectors go straight between the caller's buffer and the mapped
 * file through XTS; a partial sector at either end goes through one sector
 * of bounce buffer (read, decrypt, patch, encrypt). */
static int transfer(bitlk_volume *v, uint64_t offset, uint8_t *buf, size_t len, int writing)
{
	int rc = require_unlocked(v, writing ? "write data" : "read data");
	const size_t sector = v->store.layout.sector;
	if (!rc && writing && !v->store.writable)
		rc = ssrp_error_set(SSRP_E_REFUSED,
				    "volume %s is open read-only; open it for writing to change it "
				    "(bitlk:PATH?rw)",
				    v->store.path);
	while (rc == SSRP_OK && len) {
		uint64_t first = offset / sector;
		size_t skip = (size_t)(offset % sector);
		uint64_t last = (offset + len - 1) / sector, phys;
		int plain;
		size_t n = run_length(v, first, last, &phys, &plain);
		if (phys == UINT64_MAX) /* a hole: the core refuses these ranges */
			return ssrp_error_set(SSRP_E_RESERVED, "sector %llu is reserved",
					      (unsigned long long)first);
		uint8_t *disk = v->store.map + phys * sector;
		size_t bytes;
		if (skip == 0 && len >= sector) {
			size_t k = len / sector < n ? len / sector : n;
			bytes = k * sector;
			/* Reads go through pread and decrypt in place: faulting the
			 * mapping in would allocate pages for a sparse file's holes. */
			rc = writing ? code(v, disk, buf, phys, k, plain, 1)
				     : ssrp_bitlk_store_pread(&v->store, buf, bytes, phys * sector);
			if (!rc && !writing)
				rc = code(v, buf, buf, phys, k, plain, 0);
		} else {
			bytes = sector - skip < len ? sector - skip : len;
			rc = code(v, v->io, disk, phys, 1, plain, 0);
			if (rc == SSRP_OK && writing) {
				memcpy(v->io + skip, buf, bytes);
				rc = code(v, disk, v->io, phys, 1, plain, 1);
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

static int bitlk_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return transfer(ctx, offset, buf, len, 0);
}

static int bitlk_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
	/* transfer() only reads from buf when writing. */
	return transfer(ctx, offset, (uint8_t *)(uintptr_t)buf, len, 1);
}

static int bitlk_regions(void *ctx, ssrp_volume_region *out, size_t cap, size_t *out_n)
{
	bitlk_volume *v = ctx;
	ssrp_volume_region all[SSRP_BITLK_LAYOUT_REGIONS];
	*out_n = ssrp_bitlk_layout_regions(&v->store.layout, all);
	for (size_t i = 0; i < *out_n && i < cap; i++)
		out[i] = all[i];
	return SSRP_OK;
}

#define VOLUME_BACKEND_SLOTS                                                                   \
	.caps = SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_READ_PASSWORD | \
		SSRP_VOLUME_CAP_UNLOCK | SSRP_VOLUME_CAP_PROTECTION | SSRP_VOLUME_CAP_DATA,           \
	.ctx_size = sizeof(bitlk_volume), .close = bitlk_close, .get_status = bitlk_status,               \
	.list_protectors = bitlk_list, .add_tpm_protector = bitlk_add_tpm,                              \
	.reseal_tpm_protector = bitlk_reseal_tpm, .add_recovery_password = bitlk_add_recovery,          \
	.delete_protector = bitlk_delete, .get_recovery_password = bitlk_get_recovery,                  \
	.unlock_tpm = bitlk_unlock_tpm, .unlock_recovery_password = bitlk_unlock_recovery,              \
	.unlock_password = bitlk_unlock_password, .unlock_startup_key = bitlk_unlock_startup_key,       \
	.protection_on = bitlk_protection_on, .protection_off = bitlk_protection_off, .read = bitlk_read, \
	.write = bitlk_write, .reserved_regions = bitlk_regions

const ssrp_volume_backend ssrp_volume_backend_bitlk = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {
		.name = "bitlk",
		.description = "any BitLocker volume in a file or block device, read-only unless ?rw",
		.config_help = "PATH of a BitLocker volume (Windows- or ssrp-made) [?rw]",
	},
	.open = bitlk_open,
	VOLUME_BACKEND_SLOTS,
};
