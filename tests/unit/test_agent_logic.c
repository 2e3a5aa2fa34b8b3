/* The agent's rules (escrow/agent_run.c and the steps it calls) over fake
 * backends written through the public backend interfaces (include/ssrp/sys),
 * borrowed by ssrp_agent_run as a vendor's open handles would be: a volume
 * that keeps its protectors and protection in memory and counts its calls,
 * a TPM that seals by a reversible transform and can be told it is not
 * ready, a platform that says whether the device is joined. The cloud is
 * 127.0.0.1 on a closed port and the device has no certificate, so every
 * escrow fails at once, before any request: what the agent does when it
 * cannot escrow is what is checked. Runs on Linux and under Wine; the runs
 * against real swtpm and the simulated cloud are tests/integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <direct.h>
#define rmdir _rmdir
#else
#include <unistd.h>
#endif

#include <cmocka.h>

#include "escrow/journal.h"
#include "ssrp/agent.h"
#include "ssrp/buf.h"
#include "ssrp/sys/platform.h"
#include "ssrp/sys/tpm.h"
#include "ssrp/sys/volume.h"
#include "tests/unit/test_tmpdir.h"

#define TENANT "11111111-2222-4333-8444-555555555555"
#define DEVICE "0b7c1c2e-1f0e-4c55-9d3e-2f6a8e1d4b21"
#define CLOSED "127.0.0.1:1" /* nothing listens on port 1 */
#define FAKE_KEY_LEN 32

/* ---- the TPM ---- */

enum { TPM_READY, TPM_ABSENT, TPM_LOCKOUT };

static struct {
	int mode;
	unsigned long get_info, seal, unseal;
} tpm_state;

typedef struct fake_tpm {
	int open;
} fake_tpm;

static int tpm_open(void *ctx, const char *config)
{
	(void)config;
	((fake_tpm *)ctx)->open = 1;
	return SSRP_OK;
}

static void tpm_close(void *ctx)
{
	((fake_tpm *)ctx)->open = 0;
}

static int tpm_get_info(void *ctx, ssrp_tpm_info *out)
{
	(void)ctx;
	tpm_state.get_info++;
	if (tpm_state.mode == TPM_ABSENT)
		return SSRP_OK; /* present stays 0: nothing answered */
	out->present = 1;
	snprintf(out->family, sizeof out->family, "2.0");
	if (tpm_state.mode == TPM_LOCKOUT) {
		out->in_lockout = 1;
		out->lockout_counter = 32;
		out->lockout_interval = 7200;
	}
	return SSRP_OK;
}

static int tpm_get_random(void *ctx, uint8_t *out, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(0xA5 ^ i);
	return SSRP_OK;
}

static int tpm_pcr_read(void *ctx, ssrp_pcr_values *out, uint32_t mask)
{
	(void)ctx;
	memset(out->digest, 0, sizeof out->digest);
	out->mask = mask;
	return SSRP_OK;
}

/* "Sealed": the secret XORed with 0x5A in the private area. */
static int tpm_seal(void *ctx, ssrp_sealed_parts *out, const uint8_t *secret, size_t len,
		    uint32_t pcr_mask)
{
	(void)ctx;
	tpm_state.seal++;
	out->pcr_alg = SSRP_TPM_ALG_SHA256;
	out->pcr_mask = pcr_mask;
	out->parent_alg = SSRP_TPM_ALG_ECC;
	out->parent_name_len = 34;
	memset(out->parent_name, 0x11, 34);
	out->public_len = 4;
	memcpy(out->public_area, "\x00\x02pb", 4);
	out->private_len = (uint16_t)(len + 2);
	out->private_area[0] = 0;
	out->private_area[1] = (uint8_t)len;
	for (size_t i = 0; i < len; i++)
		out->private_area[2 + i] = secret[i] ^ 0x5A;
	return SSRP_OK;
}

static int tpm_unseal(void *ctx, uint8_t *out, size_t *out_len, const ssrp_sealed_parts *in)
{
	(void)ctx;
	tpm_state.unseal++;
	*out_len = in->private_area[1];
	for (size_t i = 0; i < *out_len; i++)
		out[i] = in->private_area[2 + i] ^ 0x5A;
	return SSRP_OK;
}

static const ssrp_tpm_backend fake_tpm_backend = {
	.version = SSRP_TPM_BACKEND_VERSION,
	.info = {.name = "fake-tpm", .description = "in memory", .config_help = ""},
	.caps = SSRP_TPM_CAP_INFO | SSRP_TPM_CAP_RANDOM | SSRP_TPM_CAP_PCR_READ | SSRP_TPM_CAP_SEAL,
	.ctx_size = sizeof(fake_tpm),
	.open = tpm_open,
	.close = tpm_close,
	.get_info = tpm_get_info,
	.get_random = tpm_get_random,
	.pcr_read = tpm_pcr_read,
	.seal = tpm_seal,
	.unseal = tpm_unseal,
};

/* ---- the volume ---- */

#define MAX_FAKE_PROT 8

typedef struct fake_prot {
	ssrp_protector p;
	char password[SSRP_RECOVERY_PASSWORD_LEN + 1];
	ssrp_buf blob; /* a TPM protector's sealed key */
} fake_prot;

static struct {
	fake_prot prot[MAX_FAKE_PROT];
	size_t n;
	ssrp_protection protection;
	unsigned next_id;
	uint8_t key[FAKE_KEY_LEN];
	/* calls */
	unsigned long get_status, list, add_tpm, add_recovery, del, get_password, unlock,
		protection_on, protection_off;
} vol_state;

static unsigned long volume_changes(void)
{
	return vol_state.add_tpm + vol_state.add_recovery + vol_state.del + vol_state.unlock +
	       vol_state.protection_on + vol_state.protection_off;
}

static size_t count_type(ssrp_protector_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < vol_state.n; i++)
		n += vol_state.prot[i].p.type == t;
	return n;
}

static fake_prot *new_prot(ssrp_protector_type t, char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	if (vol_state.n >= MAX_FAKE_PROT)
		return NULL;
	fake_prot *f = &vol_state.prot[vol_state.n++];
	memset(f, 0, sizeof *f);
	snprintf(f->p.id, sizeof f->p.id, "{6B3F1C2E-0A1B-4C2D-8E3F-0011223344%02X}",
		 ++vol_state.next_id & 0xFF);
	f->p.type = t;
	f->p.protection_code = t == SSRP_PROTECTOR_TPM ? 0x0100 : 0x0800;
	memcpy(out_id, f->p.id, sizeof f->p.id);
	return f;
}

static int vol_open(void *ctx, const char *config)
{
	(void)ctx;
	(void)config;
	return SSRP_OK;
}

static void vol_close(void *ctx)
{
	(void)ctx;
}

static int vol_get_status(void *ctx, ssrp_volume_status *out)
{
	(void)ctx;
	vol_state.get_status++;
	out->protection = vol_state.protection;
	out->encryption_method = 0x8004;
	out->percent_encrypted = 100;
	out->last_unlock_recovery = 0;
	out->size = 1024 * 1024;
	return SSRP_OK;
}

static int vol_list(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n)
{
	(void)ctx;
	vol_state.list++;
	for (size_t i = 0; i < vol_state.n && i < cap; i++)
		out[i] = vol_state.prot[i].p;
	*out_n = vol_state.n;
	return SSRP_OK;
}

static int vol_add_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask,
		       char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	(void)ctx;
	vol_state.add_tpm++;
	ssrp_buf blob = SSRP_BUF_INIT;
	int rc = ssrp_tpm_seal(tpm, &blob, vol_state.key, sizeof vol_state.key, pcr_mask);
	if (rc)
		return rc;
	fake_prot *f = new_prot(SSRP_PROTECTOR_TPM, out_id);
	if (!f) {
		ssrp_buf_free(&blob);
		return ssrp_error_set(SSRP_E_BUFSIZE, "fake volume: no room for a protector");
	}
	f->blob = blob;
	return SSRP_OK;
}

static int vol_add_recovery(void *ctx, const char *password, const uint8_t key[16],
			    char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	(void)ctx;
	(void)key;
	vol_state.add_recovery++;
	fake_prot *f = new_prot(SSRP_PROTECTOR_RECOVERY_PASSWORD, out_id);
	if (!f)
		return ssrp_error_set(SSRP_E_BUFSIZE, "fake volume: no room for a protector");
	snprintf(f->password, sizeof f->password, "%s", password);
	return SSRP_OK;
}

static fake_prot *find_prot(const char *id)
{
	for (size_t i = 0; i < vol_state.n; i++)
		if (!strcmp(vol_state.prot[i].p.id, id))
			return &vol_state.prot[i];
	return NULL;
}

static int vol_delete(void *ctx, const char *id)
{
	(void)ctx;
	vol_state.del++;
	fake_prot *f = find_prot(id);
	if (!f)
		return ssrp_error_set(SSRP_E_NOTFOUND, "fake volume: no protector %s", id);
	ssrp_buf_free(&f->blob);
	size_t i = (size_t)(f - vol_state.prot);
	memmove(f, f + 1, (vol_state.n - i - 1) * sizeof *f);
	vol_state.n--;
	return SSRP_OK;
}

static int vol_get_password(void *ctx, const char *id, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	(void)ctx;
	vol_state.get_password++;
	fake_prot *f = find_prot(id);
	if (!f || f->p.type != SSRP_PROTECTOR_RECOVERY_PASSWORD)
		return ssrp_error_set(SSRP_E_NOTFOUND, "fake volume: no recovery password %s", id);
	memcpy(out, f->password, SSRP_RECOVERY_PASSWORD_LEN + 1);
	return SSRP_OK;
}

static int vol_unlock_tpm(void *ctx, ssrp_tpm *tpm)
{
	(void)ctx;
	vol_state.unlock++;
	for (size_t i = 0; i < vol_state.n; i++) {
		if (vol_state.prot[i].p.type != SSRP_PROTECTOR_TPM)
			continue;
		ssrp_buf key = SSRP_BUF_INIT;
		int rc = ssrp_tpm_unseal(tpm, &key, vol_state.prot[i].blob.data,
					 vol_state.prot[i].blob.len);
		int same = !rc && key.len == FAKE_KEY_LEN &&
			   !memcmp(key.data, vol_state.key, FAKE_KEY_LEN);
		ssrp_buf_free(&key);
		if (rc)
			return rc;
		return same ? SSRP_OK
			    : ssrp_error_set(SSRP_E_TPM_PCR_MISMATCH, "fake volume: wrong key");
	}
	return ssrp_error_set(SSRP_E_NOTFOUND, "fake volume: no TPM protector");
}

static int vol_unlock_recovery(void *ctx, const char *password, const uint8_t key[16])
{
	(void)ctx;
	(void)key;
	vol_state.unlock++;
	for (size_t i = 0; i < vol_state.n; i++)
		if (!strcmp(vol_state.prot[i].password, password))
			return SSRP_OK;
	return ssrp_error_set(SSRP_E_PERMISSION, "fake volume: wrong recovery password");
}

static int vol_protection_on(void *ctx)
{
	(void)ctx;
	vol_state.protection_on++;
	vol_state.protection = SSRP_PROTECTION_ON;
	return SSRP_OK;
}

static int vol_protection_off(void *ctx)
{
	(void)ctx;
	vol_state.protection_off++;
	vol_state.protection = SSRP_PROTECTION_OFF;
	return SSRP_OK;
}

static const ssrp_volume_backend fake_volume_backend = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {.name = "fake-volume", .description = "in memory", .config_help = ""},
	.caps = SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_READ_PASSWORD |
		SSRP_VOLUME_CAP_UNLOCK | SSRP_VOLUME_CAP_PROTECTION,
	.open = vol_open,
	.close = vol_close,
	.get_status = vol_get_status,
	.list_protectors = vol_list,
	.add_tpm_protector = vol_add_tpm,
	.add_recovery_password = vol_add_recovery,
	.delete_protector = vol_delete,
	.get_recovery_password = vol_get_password,
	.unlock_tpm = vol_unlock_tpm,
	.unlock_recovery_password = vol_unlock_recovery,
	.protection_on = vol_protection_on,
	.protection_off = vol_protection_off,
};

/* ---- the platform ---- */

/* Joined, with no device certificate: the Device Registration Service
 * knows a device only by it, so an escrow fails before any request. */
static int plat_identity(void *ctx, const ssrp_identity_config *configured,
			 ssrp_device_identity *out)
{
	(void)ctx;
	(void)configured;
	out->join = SSRP_JOIN_AZUREAD;
	snprintf(out->device_id, sizeof out->device_id, "%s", DEVICE);
	snprintf(out->tenant_id, sizeof out->tenant_id, "%s", TENANT);
	snprintf(out->display_name, sizeof out->display_name, "FAKE-PC");
	return SSRP_OK;
}

static int plat_open(void *ctx, const char *config)
{
	(void)ctx;
	(void)config;
	return SSRP_OK;
}

static void plat_close(void *ctx)
{
	(void)ctx;
}

static const ssrp_platform_backend joined_platform = {
	.version = SSRP_PLATFORM_BACKEND_VERSION,
	.info = {.name = "fake-joined", .description = "joined", .config_help = ""},
	.caps = SSRP_PLATFORM_CAP_IDENTITY,
	.open = plat_open,
	.close = plat_close,
	.read_identity = plat_identity,
};

/* Knows no join: the configuration's "device" member decides. */
static const ssrp_platform_backend config_only_platform = {
	.version = SSRP_PLATFORM_BACKEND_VERSION,
	.info = {.name = "fake-config", .description = "configuration only", .config_help = ""},
	.caps = 0,
	.open = plat_open,
	.close = plat_close,
};

/* ---- the runs ---- */

static char dir[260];
static char cfg_path[400], journal_path[400];

typedef struct run_ctx {
	ssrp_tpm *tpm;
	ssrp_volume *vol;
	ssrp_platform *plat;
	unsigned long events, changed_events;
	int stop_after_first_event; /* the cancel callback says stop once an event came */
	unsigned long cancel_asked;
} run_ctx;

static void on_progress(const ssrp_agent_event *ev, void *p)
{
	run_ctx *r = p;
	r->events++;
	r->changed_events += ev->changed != 0;
}

static int on_cancel(void *p)
{
	run_ctx *r = p;
	r->cancel_asked++;
	return r->stop_after_first_event && r->events > 0;
}

static void write_config(const char *agent_extra)
{
	FILE *f = fopen(cfg_path, "wb");
	assert_non_null(f);
	fprintf(f,
		"{\"tenant_id\":\"" TENANT "\","
		"\"hosts\":{\"login\":\"" CLOSED "\",\"graph\":\"" CLOSED "\",\"drs\":\"" CLOSED "\"},"
		"\"agent\":{\"association\":\"off\",\"journal\":\"%s\"%s}}",
		journal_path, agent_extra);
	fclose(f);
}

static void reset_fakes(int tpm_mode)
{
	for (size_t i = 0; i < vol_state.n; i++)
		ssrp_buf_free(&vol_state.prot[i].blob);
	memset(&vol_state, 0, sizeof vol_state);
	vol_state.protection = SSRP_PROTECTION_OFF;
	for (size_t i = 0; i < FAKE_KEY_LEN; i++)
		vol_state.key[i] = (uint8_t)(i * 7 + 1);
	memset(&tpm_state, 0, sizeof tpm_state);
	tpm_state.mode = tpm_mode;
}

static void open_fakes(run_ctx *r, const ssrp_platform_backend *platform)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(ssrp_tpm_open_backend(&r->tpm, &fake_tpm_backend, ""), SSRP_OK);
	assert_int_equal(ssrp_volume_open_backend(&r->vol, &fake_volume_backend, ""), SSRP_OK);
	assert_int_equal(ssrp_platform_open_backend(&r->plat, platform, ""), SSRP_OK);
}

static void close_fakes(run_ctx *r)
{
	ssrp_platform_close(r->plat);
	ssrp_volume_close(r->vol);
	ssrp_tpm_close(r->tpm);
}

static int run_agent(run_ctx *r, ssrp_agent_report *rep)
{
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = cfg_path;
	o.tpm = r->tpm;
	o.volume = r->vol;
	o.platform = r->plat;
	o.progress = on_progress;
	o.progress_ctx = r;
	o.cancel = on_cancel;
	o.cancel_ctx = r;
	*rep = (ssrp_agent_report)SSRP_AGENT_REPORT_INIT;
	return ssrp_agent_run(&o, rep);
}

static int journal_exists(void)
{
	FILE *f = fopen(journal_path, "rb");
	if (f)
		fclose(f);
	return f != NULL;
}

static int setup_case(void **st)
{
	(void)st;
	if (!test_tmpdir(dir, sizeof dir, "agent-logic"))
		return -1;
	snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
	snprintf(journal_path, sizeof journal_path, "%s/agent.journal", dir);
	return 0;
}

static int teardown_case(void **st)
{
	(void)st;
	char lock[420];
	snprintf(lock, sizeof lock, "%s.lock", journal_path);
	remove(cfg_path);
	remove(journal_path);
	remove(lock);
	rmdir(dir);
	reset_fakes(TPM_READY);
	return 0;
}

/* (1) The configuration names no device and the platform knows no join:
 * not registered, and no backend is asked anything, let alone changed. */
static void test_not_registered_touches_nothing(void **st)
{
	(void)st;
	reset_fakes(TPM_READY);
	write_config("");
	run_ctx r;
	open_fakes(&r, &config_only_platform);
	ssrp_agent_report rep;
	assert_int_equal(run_agent(&r, &rep), SSRP_OK);
	assert_int_equal(rep.state, SSRP_AGENT_NOT_REGISTERED);
	assert_non_null(strstr(rep.reason, "not registered"));
	assert_int_equal(rep.tpm_ready, -1);
	assert_int_equal(rep.volume_changes + rep.journal_writes + rep.http_requests, 0);
	assert_int_equal(r.changed_events, 0);
	assert_int_equal(volume_changes(), 0);
	assert_int_equal(vol_state.get_status + vol_state.list + vol_state.get_password, 0);
	assert_int_equal(tpm_state.get_info + tpm_state.seal + tpm_state.unseal, 0);
	assert_false(journal_exists());
	close_fakes(&r);
}

static void tpm_not_ready(int mode, int want_rc)
{
	reset_fakes(mode);
	write_config("");
	run_ctx r;
	open_fakes(&r, &joined_platform);
	ssrp_agent_report rep;
	assert_int_equal(run_agent(&r, &rep), want_rc);
	assert_int_equal(rep.state, SSRP_AGENT_FAILED);
	assert_string_equal(rep.device_id, DEVICE);
	assert_int_equal(rep.tpm_ready, 0);
	assert_non_null(strstr(rep.reason, "nothing was changed"));
	assert_true(tpm_state.get_info > 0);
	assert_int_equal(tpm_state.seal, 0);
	assert_int_equal(volume_changes(), 0);
	assert_int_equal(vol_state.n, 0);
	assert_int_equal(vol_state.protection, SSRP_PROTECTION_OFF);
	assert_int_equal(rep.volume_changes + rep.http_requests, 0);
	assert_int_equal(rep.n_protectors, 0);
	close_fakes(&r);
}

/* (2) No TPM answers, or it is in lockout: the run fails with that error
 * and the volume is as it was. */
static void test_tpm_absent(void **st)
{
	(void)st;
	tpm_not_ready(TPM_ABSENT, SSRP_E_TPM_ABSENT);
}

static void test_tpm_lockout(void **st)
{
	(void)st;
	tpm_not_ready(TPM_LOCKOUT, SSRP_E_TPM_LOCKOUT);
}

static const ssrp_agent_protector *report_recovery(const ssrp_agent_report *rep, size_t *n)
{
	const ssrp_agent_protector *found = NULL;
	*n = 0;
	for (size_t i = 0; i < rep->n_protectors; i++)
		if (rep->protectors[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD) {
			found = &rep->protectors[i];
			(*n)++;
		}
	return found;
}

/* (3) A volume with no protectors and no way to escrow: a TPM protector
 * (sealed by the TPM) and a recovery password are added, protection stays
 * off because nothing confirmed the escrow, the journal does not record
 * the password as escrowed; a second run adds nothing. */
static void test_escrow_before_protect(void **st)
{
	(void)st;
	reset_fakes(TPM_READY);
	write_config("");
	run_ctx r;
	open_fakes(&r, &joined_platform);
	ssrp_agent_report rep;
	assert_int_equal(run_agent(&r, &rep), SSRP_OK);
	assert_int_equal(rep.state, SSRP_AGENT_NOT_YET);
	assert_int_equal(rep.tpm_ready, 1);
	assert_int_equal(count_type(SSRP_PROTECTOR_TPM), 1);
	assert_int_equal(count_type(SSRP_PROTECTOR_RECOVERY_PASSWORD), 1);
	assert_int_equal(tpm_state.seal, 1);
	assert_int_equal(vol_state.add_tpm, 1);
	assert_int_equal(vol_state.add_recovery, 1);
	assert_int_equal(vol_state.protection_on, 0);
	assert_int_equal(vol_state.protection, SSRP_PROTECTION_OFF);
	assert_int_equal(rep.protection_on, 0);
	assert_int_equal(rep.volume_changes, 2);
	assert_non_null(strstr(rep.reason, "not escrowed"));
	size_t n_rp;
	const ssrp_agent_protector *rp = report_recovery(&rep, &n_rp);
	assert_int_equal(n_rp, 1);
	assert_non_null(rp);
	assert_int_equal(rp->escrowed, 0);
	assert_int_equal(rp->escrowed_at, 0);
	char rp_id[SSRP_PROTECTOR_ID_LEN + 1];
	memcpy(rp_id, rp->id, sizeof rp_id);
	assert_non_null(find_prot(rp_id));
	/* the journal, if written at all, holds no escrow of it */
	ssrp_journal j;
	memset(&j, 0, sizeof j);
	assert_int_equal(ssrp_journal_load(&j, journal_path), SSRP_OK);
	assert_int_equal(ssrp_journal_escrowed_at(&j, rp_id), 0);

	/* the TPM protector holds the volume's key: the fake unseals it */
	ssrp_buf key = SSRP_BUF_INIT;
	for (size_t i = 0; i < vol_state.n; i++)
		if (vol_state.prot[i].p.type == SSRP_PROTECTOR_TPM)
			assert_int_equal(ssrp_tpm_unseal(r.tpm, &key, vol_state.prot[i].blob.data,
							 vol_state.prot[i].blob.len),
					 SSRP_OK);
	assert_int_equal(key.len, FAKE_KEY_LEN);
	assert_memory_equal(key.data, vol_state.key, FAKE_KEY_LEN);
	ssrp_buf_free(&key);

	/* again: the same protectors, still no protection */
	assert_int_equal(run_agent(&r, &rep), SSRP_OK);
	assert_int_equal(rep.state, SSRP_AGENT_NOT_YET);
	assert_int_equal(count_type(SSRP_PROTECTOR_TPM), 1);
	assert_int_equal(count_type(SSRP_PROTECTOR_RECOVERY_PASSWORD), 1);
	assert_int_equal(vol_state.add_tpm, 1);
	assert_int_equal(vol_state.add_recovery, 1);
	assert_int_equal(vol_state.del, 0);
	assert_int_equal(vol_state.protection_on, 0);
	assert_int_equal(rep.volume_changes, 0);
	rp = report_recovery(&rep, &n_rp);
	assert_int_equal(n_rp, 1);
	assert_string_equal(rp->id, rp_id);
	assert_int_equal(rp->escrowed, 0);
	close_fakes(&r);
}

/* The contrast that shows the fake volume can be protected: with
 * agent.escrow_before_protect false the same run turns protection on. */
static void test_protect_without_escrow_when_configured(void **st)
{
	(void)st;
	reset_fakes(TPM_READY);
	write_config(",\"escrow_before_protect\":false");
	run_ctx r;
	open_fakes(&r, &joined_platform);
	ssrp_agent_report rep;
	assert_int_equal(run_agent(&r, &rep), SSRP_OK);
	assert_int_equal(rep.state, SSRP_AGENT_NOT_YET); /* the escrow is still missing */
	assert_int_equal(vol_state.protection_on, 1);
	assert_int_equal(vol_state.protection, SSRP_PROTECTION_ON);
	assert_int_equal(rep.protection_on, 1);
	assert_int_equal(rep.volume_changes, 3);
	close_fakes(&r);
}

/* (4) The cancel callback says stop as soon as the first progress event
 * (the device's identity) has come: nothing is changed or written. */
static void test_cancel_at_first_event(void **st)
{
	(void)st;
	reset_fakes(TPM_READY);
	write_config("");
	run_ctx r;
	open_fakes(&r, &joined_platform);
	r.stop_after_first_event = 1;
	ssrp_agent_report rep;
	assert_int_equal(run_agent(&r, &rep), SSRP_E_CANCELLED);
	assert_int_equal(rep.state, SSRP_AGENT_FAILED);
	assert_non_null(strstr(rep.reason, "cancelled"));
	assert_true(r.events >= 1);
	assert_true(r.cancel_asked >= 1);
	assert_int_equal(r.changed_events, 0);
	assert_int_equal(volume_changes(), 0);
	assert_int_equal(vol_state.n, 0);
	assert_int_equal(tpm_state.get_info + tpm_state.seal, 0);
	assert_int_equal(rep.volume_changes + rep.journal_writes + rep.http_requests, 0);
	assert_false(journal_exists());
	close_fakes(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_not_registered_touches_nothing, setup_case,
						teardown_case),
		cmocka_unit_test_setup_teardown(test_tpm_absent, setup_case, teardown_case),
		cmocka_unit_test_setup_teardown(test_tpm_lockout, setup_case, teardown_case),
		cmocka_unit_test_setup_teardown(test_escrow_before_protect, setup_case,
						teardown_case),
		cmocka_unit_test_setup_teardown(test_protect_without_escrow_when_configured,
						setup_case, teardown_case),
		cmocka_unit_test_setup_teardown(test_cancel_at_first_event, setup_case,
						teardown_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
