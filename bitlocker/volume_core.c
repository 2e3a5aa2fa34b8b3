/* The volume core: opens a backend from a spec string, dispatches each
 * service to its slot, and holds the policy every backend shares: password
 * parsing and generation, never deleting the last way into a volume,
 * protection only with a real protector, idempotent ensure_* calls, and
 * refusing I/O on reserved regions. */
#include <stdio.h>
#include <string.h>

#include "bitlocker/recovery_password.h"
#include "bitlocker/volume_backends.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/registry.h"
#include "hal/secmem.h"
#include "hal/struct_version.h"

struct ssrp_volume {
	const ssrp_volume_backend *backend;
	void *ctx; /* backend->ctx_size bytes */
};

static ssrp_registry registered = SSRP_REGISTRY_INIT;

const ssrp_volume_backend *const *ssrp_volume_builtin_backends(void)
{
	return ssrp_volume_builtin;
}

/* A capability bit promises its slots: a table that sets one without them
 * is refused when opened, not when a caller first reaches the NULL. */
static const char *missing_slot(const ssrp_volume_backend *b)
{
	uint32_t c = b->caps;
	if ((c & SSRP_VOLUME_CAP_STATUS) && !b->get_status)
		return "STATUS without get_status";
	if ((c & SSRP_VOLUME_CAP_PROTECTORS) &&
	    (!b->list_protectors || !b->add_recovery_password || !b->delete_protector))
		return "PROTECTORS without list_protectors, add_recovery_password and "
		       "delete_protector";
	if ((c & SSRP_VOLUME_CAP_READ_PASSWORD) && !b->get_recovery_password)
		return "READ_PASSWORD without get_recovery_password";
	if ((c & SSRP_VOLUME_CAP_UNLOCK) && !b->unlock_recovery_password)
		return "UNLOCK without unlock_recovery_password";
	if ((c & SSRP_VOLUME_CAP_PROTECTION) && (!b->protection_on || !b->protection_off))
		return "PROTECTION without protection_on and protection_off";
	if ((c & SSRP_VOLUME_CAP_DATA) && (!b->read || !b->write || !b->reserved_regions))
		return "DATA without read, write and reserved_regions";
	return NULL;
}

static int check_table(const ssrp_volume_backend *b)
{
	if (!b || !b->open || !b->close || !b->info.name)
		return ssrp_error_set(SSRP_E_INVALID, "volume backend table lacks a name, open or close");
	if (b->version < 1 || b->version > SSRP_VOLUME_BACKEND_VERSION)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "volume backend '%s' has interface version %u; this library "
				      "speaks versions 1 to %u",
				      b->info.name, b->version, SSRP_VOLUME_BACKEND_VERSION);
	const char *why = missing_slot(b);
	if (why)
		return ssrp_error_set(SSRP_E_INVALID,
				      "volume backend '%s' claims a capability it has no slot for "
				      "(%s)",
				      b->info.name, why);
	return SSRP_OK;
}

static const ssrp_volume_backend *find_builtin(const char *name, size_t n)
{
	for (size_t i = 0; ssrp_volume_builtin[i]; i++)
		if (strlen(ssrp_volume_builtin[i]->info.name) == n &&
		    !memcmp(ssrp_volume_builtin[i]->info.name, name, n))
			return ssrp_volume_builtin[i];
	return NULL;
}

int ssrp_volume_backend_register(const ssrp_volume_backend *b)
{
	int rc = check_table(b);
	if (rc)
		return rc;
	if (find_builtin(b->info.name, strlen(b->info.name)))
		return ssrp_error_set(SSRP_E_INVALID,
				      "'%s' is a built-in volume backend; register yours under "
				      "another name",
				      b->info.name);
	return ssrp_registry_add(&registered, "volume", b->info.name, b);
}

const ssrp_volume_backend *ssrp_volume_registered_backend(size_t i)
{
	return ssrp_registry_at(&registered, i);
}

int ssrp_volume_open_backend(ssrp_volume **out, const ssrp_volume_backend *b, const char *config)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_volume_open: out is NULL");
	*out = NULL;
	int rc = check_table(b);
	if (rc)
		return rc;
	/* The backend's state holds the volume's keys (the VMK) while it is
	 * open: kept out of core dumps and swap. */
	ssrp_volume *v = ssrp_calloc(1, sizeof *v);
	if (!v || !(v->ctx = ssrp_secmem_alloc(b->ctx_size))) {
		ssrp_free(v);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory opening a volume");
	}
	v->backend = b;
	rc = b->open(v->ctx, config ? config : "");
	if (rc) {
		ssrp_secmem_free(v->ctx, b->ctx_size);
		ssrp_free(v);
		return rc;
	}
	*out = v;
	return SSRP_OK;
}

int ssrp_volume_open(ssrp_volume **out, const char *spec)
{
	if (out)
		*out = NULL;
	if (!spec || !*spec)
		return ssrp_error_set(SSRP_E_SPEC, "no volume given (%s)", SSRP_VOLUME_SPEC_HINT);
	size_t n = strcspn(spec, ":");
	const ssrp_volume_backend *b = NULL;
	if (spec[n] == ':' && !(b = find_builtin(spec, n)))
		b = ssrp_registry_find(&registered, spec, n);
	if (b)
		return ssrp_volume_open_backend(out, b, spec + n + 1);
	return ssrp_error_set(SSRP_E_SPEC,
			      "volume spec '%s' names no backend of this build or registered "
			      "one (%s)",
			      spec, SSRP_VOLUME_SPEC_HINT);
}

void ssrp_volume_close(ssrp_volume *v)
{
	if (!v)
		return;
	v->backend->close(v->ctx);
	ssrp_secmem_free(v->ctx, v->backend->ctx_size);
	ssrp_free(v);
}

const char *ssrp_volume_backend_name(const ssrp_volume *v)
{
	return v ? v->backend->info.name : "";
}

uint32_t ssrp_volume_capabilities(const ssrp_volume *v)
{
	return v ? v->backend->caps : 0;
}

static int unsupported(const ssrp_volume *v, const char *what)
{
	return ssrp_error_set(SSRP_E_NOTSUPPORTED, "the '%s' volume backend cannot %s",
			      v->backend->info.name, what);
}

#define REQUIRE(v, slot, what)                                                          \
	do {                                                                            \
		if (!(v))                                                               \
			return ssrp_error_set(SSRP_E_INVALID, "no volume given");       \
		if (!(v)->backend->slot)                                                \
			return unsupported((v), (what));                                \
	} while (0)

int ssrp_volume_get_status(ssrp_volume *v, ssrp_volume_status *out)
{
	REQUIRE(v, get_status, "report status");
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_volume_get_status: out is NULL");
	int rc = ssrp_struct_version_check("ssrp_volume_status", out->version,
					   SSRP_VOLUME_STATUS_VERSION, "SSRP_VOLUME_STATUS_INIT");
	if (rc)
		return rc;
	/* The backend fills this library's layout; the caller gets its own
	 * version's fields (version 1 is all of them so far), also what a
	 * failing backend filled before it failed. */
	ssrp_volume_status full = SSRP_VOLUME_STATUS_INIT;
	full.percent_encrypted = -1;
	full.last_unlock_recovery = -1;
	rc = v->backend->get_status(v->ctx, &full);
	full.version = out->version;
	*out = full;
	return rc;
}

int ssrp_volume_list_protectors(ssrp_volume *v, ssrp_protector *out, size_t cap, size_t *out_n)
{
	REQUIRE(v, list_protectors, "list protectors");
	if (!out_n || (!out && cap))
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_volume_list_protectors: NULL argument");
	*out_n = 0;
	if (out)
		memset(out, 0, cap * sizeof *out);
	int rc = v->backend->list_protectors(v->ctx, out, cap, out_n);
	if (rc == SSRP_OK && *out_n > cap && out)
		return ssrp_error_set(SSRP_E_BUFSIZE, "the volume has %zu protectors; room for %zu",
				      *out_n, cap);
	return rc;
}

/* All protectors in a fresh array the caller frees with ssrp_free. */
static int list_all(ssrp_volume *v, ssrp_protector **out, size_t *n)
{
	*out = NULL;
	int rc = ssrp_volume_list_protectors(v, NULL, 0, n);
	if (rc || !*n)
		return rc;
	*out = ssrp_calloc(*n, sizeof **out);
	if (!*out)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory listing protectors");
	rc = ssrp_volume_list_protectors(v, *out, *n, n);
	if (rc) {
		ssrp_free(*out);
		*out = NULL;
	}
	return rc;
}

static int find_first(ssrp_volume *v, ssrp_protector_type type, char out_id[SSRP_PROTECTOR_ID_LEN + 1],
		      int *found)
{
	ssrp_protector *list;
	size_t n;
	*found = 0;
	int rc = list_all(v, &list, &n);
	for (size_t i = 0; rc == SSRP_OK && i < n && !*found; i++)
		if (list[i].type == type) {
			*found = 1;
			if (out_id)
				memcpy(out_id, list[i].id, sizeof list[i].id);
		}
	ssrp_free(list);
	return rc;
}

/* Ids are compared as GUIDs: braces optional, any case. The backend always
 * gets the canonical "{UPPER-CASE}" form. */
static int canonical_id(char out[SSRP_PROTECTOR_ID_LEN + 1], const char *id)
{
	uint8_t guid[SSRP_GUID_LEN];
	if (!id)
		return ssrp_error_set(SSRP_E_INVALID, "no protector id given");
	int rc = ssrp_guid_parse(guid, id);
	if (rc)
		return ssrp_error_prefix(rc, "protector id '%s'", id);
	ssrp_guid_format(out, guid);
	return SSRP_OK;
}

int ssrp_volume_add_tpm_protector(ssrp_volume *v, ssrp_tpm *tpm, uint32_t pcr_mask,
				  char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	REQUIRE(v, add_tpm_protector, "add a TPM protector");
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "";
	int rc = v->backend->add_tpm_protector(v->ctx, tpm, pcr_mask ? pcr_mask : SSRP_TPM_PCRS_DEFAULT,
					       id);
	if (rc == SSRP_OK && out_id)
		memcpy(out_id, id, sizeof id);
	return rc;
}

int ssrp_volume_add_recovery_password(ssrp_volume *v, const char *password,
				      char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	REQUIRE(v, add_recovery_password, "add a recovery password");
	uint8_t key[SSRP_RP_KEY_LEN];
	char text[SSRP_RECOVERY_PASSWORD_LEN + 1];
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "";
	int rc = password ? ssrp_rp_parse(key, password, strlen(password)) : ssrp_rp_generate(key);
	if (rc == SSRP_OK) {
		ssrp_rp_format(text, key);
		rc = v->backend->add_recovery_password(v->ctx, text, key, id);
	}
	ssrp_memzero(key, sizeof key);
	ssrp_memzero(text, sizeof text);
	if (rc == SSRP_OK && out_id)
		memcpy(out_id, id, sizeof id);
	return rc;
}

int ssrp_volume_get_recovery_password(ssrp_volume *v, const char *id, ssrp_buf *out)
{
	REQUIRE(v, get_recovery_password, "read a recovery password back");
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_volume_get_recovery_password: NULL argument");
	out->data = NULL;
	out->len = 0;
	char text[SSRP_RECOVERY_PASSWORD_LEN + 1] = "", cid[SSRP_PROTECTOR_ID_LEN + 1];
	int rc = canonical_id(cid, id);
	if (rc == SSRP_OK)
		rc = v->backend->get_recovery_password(v->ctx, cid, text);
	if (rc == SSRP_OK && ssrp_buf_set(out, text, strlen(text) + 1))
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (rc == SSRP_OK)
		out->len--; /* the NUL is there, not counted */
	ssrp_memzero(text, sizeof text);
	return rc;
}

static int can_unlock(ssrp_protector_type t)
{
	return t != SSRP_PROTECTOR_OTHER;
}

int ssrp_volume_delete_protector(ssrp_volume *v, const char *id)
{
	REQUIRE(v, delete_protector, "delete protectors");
	char cid[SSRP_PROTECTOR_ID_LEN + 1];
	int rc = canonical_id(cid, id);
	if (rc)
		return rc;
	ssrp_protector *list;
	size_t n, others = 0;
	int found = 0;
	rc = list_all(v, &list, &n);
	for (size_t i = 0; rc == SSRP_OK && i < n; i++) {
		if (!strcmp(list[i].id, cid))
			found = 1;
		else if (can_unlock(list[i].type))
			others++;
	}
	ssrp_free(list);
	if (rc)
		return rc;
	if (!found)
		return ssrp_error_set(SSRP_E_NOTFOUND, "the volume has no protector %s", cid);
	if (!others)
		return ssrp_error_set(SSRP_E_REFUSED,
				      "refused: %s is the last protector that can unlock the volume; "
				      "add another one first",
				      cid);
	return v->backend->delete_protector(v->ctx, cid);
}

int ssrp_volume_ensure_tpm_protector(ssrp_volume *v, ssrp_tpm *tpm, uint32_t pcr_mask,
				     char out_id[SSRP_PROTECTOR_ID_LEN + 1], int *out_added)
{
	int found, rc = find_first(v, SSRP_PROTECTOR_TPM, out_id, &found);
	if (out_added)
		*out_added = 0;
	if (rc || found)
		return rc;
	rc = ssrp_volume_add_tpm_protector(v, tpm, pcr_mask, out_id);
	if (rc == SSRP_OK && out_added)
		*out_added = 1;
	return rc;
}

int ssrp_volume_ensure_recovery_password(ssrp_volume *v, char out_id[SSRP_PROTECTOR_ID_LEN + 1],
					 int *out_added)
{
	int found, rc = find_first(v, SSRP_PROTECTOR_RECOVERY_PASSWORD, out_id, &found);
	if (out_added)
		*out_added = 0;
	if (rc || found)
		return rc;
	rc = ssrp_volume_add_recovery_password(v, NULL, out_id);
	if (rc == SSRP_OK && out_added)
		*out_added = 1;
	return rc;
}

int ssrp_volume_unlock_tpm(ssrp_volume *v, ssrp_tpm *tpm)
{
	REQUIRE(v, unlock_tpm, "unlock with the TPM");
	return v->backend->unlock_tpm(v->ctx, tpm);
}

int ssrp_volume_unlock_recovery_password(ssrp_volume *v, const char *password)
{
	REQUIRE(v, unlock_recovery_password, "unlock with a recovery password");
	if (!password)
		return ssrp_error_set(SSRP_E_INVALID, "no recovery password given");
	uint8_t key[SSRP_RP_KEY_LEN];
	char text[SSRP_RECOVERY_PASSWORD_LEN + 1];
	int rc = ssrp_rp_parse(key, password, strlen(password));
	if (rc == SSRP_OK) {
		ssrp_rp_format(text, key);
		rc = v->backend->unlock_recovery_password(v->ctx, text, key);
	}
	ssrp_memzero(key, sizeof key);
	ssrp_memzero(text, sizeof text);
	return rc;
}

int ssrp_volume_unlock_password(ssrp_volume *v, const char *password)
{
	if (!v)
		return ssrp_error_set(SSRP_E_INVALID, "no volume given");
	if (v->backend->version < 3 || !v->backend->unlock_password)
		return unsupported(v, "unlock with a password");
	if (!password || !*password)
		return ssrp_error_set(SSRP_E_INVALID, "no password given");
	return v->backend->unlock_password(v->ctx, password);
}

int ssrp_volume_unlock_startup_key(ssrp_volume *v, const uint8_t *bek, size_t len)
{
	if (!v)
		return ssrp_error_set(SSRP_E_INVALID, "no volume given");
	if (v->backend->version < 3 || !v->backend->unlock_startup_key)
		return unsupported(v, "unlock with a startup key");
	if (!bek || !len)
		return ssrp_error_set(SSRP_E_INVALID, "no startup key given");
	return v->backend->unlock_startup_key(v->ctx, bek, len);
}

int ssrp_volume_reseal_tpm_protector(ssrp_volume *v, ssrp_tpm *tpm, uint32_t pcr_mask)
{
	if (!v)
		return ssrp_error_set(SSRP_E_INVALID, "no volume given");
	/* The slot exists only in tables written for version 2 or later. */
	if (v->backend->version < 2 || !v->backend->reseal_tpm_protector)
		return unsupported(v, "seal a TPM protector again");
	if (!tpm)
		return ssrp_error_set(SSRP_E_INVALID, "sealing a TPM protector again needs a TPM");
	return v->backend->reseal_tpm_protector(v->ctx, tpm, pcr_mask);
}

int ssrp_volume_protection_on(ssrp_volume *v)
{
	REQUIRE(v, protection_on, "turn protection on");
	int tpm, rp;
	int rc = find_first(v, SSRP_PROTECTOR_TPM, NULL, &tpm);
	if (rc == SSRP_OK)
		rc = find_first(v, SSRP_PROTECTOR_RECOVERY_PASSWORD, NULL, &rp);
	if (rc)
		return rc;
	if (!tpm && !rp)
		return ssrp_error_set(SSRP_E_REFUSED,
				      "refused: protection on needs a TPM or recovery-password "
				      "protector, or nothing could unlock the volume");
	return v->backend->protection_on(v->ctx);
}

int ssrp_volume_protection_off(ssrp_volume *v)
{
	REQUIRE(v, protection_off, "turn protection off");
	return v->backend->protection_off(v->ctx);
}

int ssrp_volume_reserved_regions(ssrp_volume *v, ssrp_volume_region *out, size_t cap,
				 size_t *out_n)
{
	REQUIRE(v, reserved_regions, "list reserved regions");
	if (!out_n || (!out && cap))
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_volume_reserved_regions: NULL argument");
	*out_n = 0;
	return v->backend->reserved_regions(v->ctx, out, cap, out_n);
}

/* Refuse a range that leaves the view or touches a reserved region, naming
 * the region: both readers show zeros there, so data written would be lost. */
static int check_range(ssrp_volume *v, uint64_t offset, size_t len, const char *verb)
{
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	int rc = ssrp_volume_get_status(v, &st);
	if (rc)
		return rc;
	if (offset > st.size || len > st.size - offset)
		return ssrp_error_set(SSRP_E_INVALID,
				      "cannot %s %zu bytes at offset %llu: the volume holds %llu bytes",
				      verb, len, (unsigned long long)offset,
				      (unsigned long long)st.size);
	ssrp_volume_region regions[8];
	size_t n = 0;
	if ((rc = ssrp_volume_reserved_regions(v, regions, 8, &n)))
		return rc;
	for (size_t i = 0; i < n && i < 8; i++)
		if (len && offset < regions[i].offset + regions[i].length &&
		    regions[i].offset < offset + len)
			return ssrp_error_set(SSRP_E_RESERVED,
					      "cannot %s bytes %llu..%llu: they overlap the %s at "
					      "%llu..%llu, which BitLocker reserves",
					      verb, (unsigned long long)offset,
					      (unsigned long long)(offset + len - 1), regions[i].what,
					      (unsigned long long)regions[i].offset,
					      (unsigned long long)(regions[i].offset +
								   regions[i].length - 1));
	return SSRP_OK;
}

int ssrp_volume_read(ssrp_volume *v, uint64_t offset, void *buf, size_t len)
{
	REQUIRE(v, read, "read data");
	if (!buf && len)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_volume_read: NULL buffer");
	int rc = check_range(v, offset, len, "read");
	return rc ? rc : v->backend->read(v->ctx, offset, buf, len);
}

int ssrp_volume_write(ssrp_volume *v, uint64_t offset, const void *buf, size_t len)
{
	REQUIRE(v, write, "write data");
	if (!buf && len)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_volume_write: NULL buffer");
	int rc = check_range(v, offset, len, "write");
	return rc ? rc : v->backend->write(v->ctx, offset, buf, len);
}

const char *ssrp_volume_method_name(uint16_t method)
{
	switch (method) {
	case 0x8000: return "AES-128-CBC with diffuser";
	case 0x8001: return "AES-256-CBC with diffuser";
	case 0x8002: return "AES-128-CBC";
	case 0x8003: return "AES-256-CBC";
	case 0x8004: return "XTS-AES-128";
	case 0x8005: return "XTS-AES-256";
	case 0: return "none";
	case SSRP_VOLUME_METHOD_UNKNOWN: return "unknown (hardware or locked)";
	default: return "unknown";
	}
}

const char *ssrp_protector_type_name(ssrp_protector_type type)
{
	switch (type) {
	case SSRP_PROTECTOR_TPM: return "TPM";
	case SSRP_PROTECTOR_RECOVERY_PASSWORD: return "recovery password";
	case SSRP_PROTECTOR_CLEAR_KEY: return "clear key";
	case SSRP_PROTECTOR_STARTUP_KEY: return "startup key";
	case SSRP_PROTECTOR_TPM_PIN: return "TPM and PIN";
	case SSRP_PROTECTOR_PASSWORD: return "password";
	case SSRP_PROTECTOR_SMART_CARD: return "smart card";
	default: return "other";
	}
}
