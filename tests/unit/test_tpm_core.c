/* The TPM core through a fake backend that fills the same ops table as the
 * real ones and scripts its answers: busy-then-ok, busy forever, lockout,
 * malformed PCR answers, empty slots, bad tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/sys/tpm.h"

#define SCRIPT_MAX 16

/* The fake's private state: what each call answers, in order. */
typedef struct fake {
	int script[SCRIPT_MAX];
	int n_script, next;
	int calls;
	uint32_t pcr_mask_returned; /* what pcr_read claims to have read */
} fake;

static int closed_count;

static int next_answer(fake *f)
{
	f->calls++;
	int rc = f->next < f->n_script ? f->script[f->next++] : SSRP_OK;
	if (rc == SSRP_E_TPM_BUSY)
		return ssrp_error_set(rc, "fake: the TPM asked to retry the command");
	if (rc == SSRP_E_TPM_LOCKOUT)
		return ssrp_error_set(rc, "fake: the TPM is in dictionary-attack lockout");
	if (rc)
		return ssrp_error_set(rc, "fake: scripted failure %d", rc);
	return SSRP_OK;
}

static int fake_open(void *ctx, const char *config)
{
	fake *f = ctx;
	const char *config_start = config;
	/* config is a comma list of scripted answers: "busy,busy,ok". */
	while (*config && f->n_script < SCRIPT_MAX) {
		size_t n = strcspn(config, ",");
		int rc = !strncmp(config, "busy", n)	  ? SSRP_E_TPM_BUSY
			 : !strncmp(config, "lockout", n) ? SSRP_E_TPM_LOCKOUT
			 : !strncmp(config, "fail", n)	  ? SSRP_E_TPM
							  : SSRP_OK;
		if (strncmp(config, "short", n))
			f->script[f->n_script++] = rc;
		config += n + (config[n] == ',');
	}
	/* "short" (first) makes pcr_read drop PCR 11 from its answers. */
	f->pcr_mask_returned = strncmp(config_start, "short", 5) ? 0xFFFFFFFFu : ~(1u << 11);
	return SSRP_OK;
}

static void fake_close(void *ctx)
{
	(void)ctx;
	closed_count++;
}

static int fake_info(void *ctx, ssrp_tpm_info *out)
{
	(void)ctx;
	if (out->version != SSRP_TPM_INFO_VERSION || out->present) /* zeroed, versioned */
		return ssrp_error_set(SSRP_E_INVALID, "fake: the core handed a bad ssrp_tpm_info");
	out->present = 1;
	strcpy(out->family, "2.0");
	out->lockout_counter = 5;
	out->max_auth_fail = 3;
	out->lockout_interval = 600;
	out->in_lockout = 1;
	return SSRP_OK;
}

static int fake_random(void *ctx, uint8_t *out, size_t len)
{
	int rc = next_answer(ctx);
	if (rc)
		return rc;
	assert_true(len <= 32);
	memset(out, 0xA5, len);
	return SSRP_OK;
}

static int fake_pcr_read(void *ctx, ssrp_pcr_values *out, uint32_t mask)
{
	fake *f = ctx;
	int rc = next_answer(f);
	if (rc)
		return rc;
	out->alg = SSRP_TPM_ALG_SHA256;
	out->mask = mask & f->pcr_mask_returned;
	return SSRP_OK;
}

static int fake_seal(void *ctx, ssrp_sealed_parts *out, const uint8_t *secret, size_t len,
		     uint32_t pcr_mask)
{
	fake *f = ctx;
	int rc = next_answer(f);
	if (rc)
		return rc;
	/* A "sealed" object the fake can open again: the secret in public. */
	out->pcr_alg = SSRP_TPM_ALG_SHA256;
	out->pcr_mask = pcr_mask;
	out->parent_alg = SSRP_TPM_ALG_ECC;
	out->parent_name_len = 34;
	memset(out->parent_name, 0x11, 34);
	out->public_len = (uint16_t)(len + 2);
	out->public_area[0] = 0;
	out->public_area[1] = (uint8_t)len;
	memcpy(out->public_area + 2, secret, len);
	out->private_len = 4;
	memcpy(out->private_area, "\x00\x02pv", 4);
	return SSRP_OK;
}

static int fake_unseal(void *ctx, uint8_t *out, size_t *out_len, const ssrp_sealed_parts *in)
{
	int rc = next_answer(ctx);
	if (rc)
		return rc;
	*out_len = in->public_area[1];
	memcpy(out, in->public_area + 2, *out_len);
	return SSRP_OK;
}

static const ssrp_tpm_backend fake_backend = {
	.version = SSRP_TPM_BACKEND_VERSION,
	.info = {.name = "fake", .description = "scripted", .config_help = "answers"},
	.caps = SSRP_TPM_CAP_INFO | SSRP_TPM_CAP_RANDOM | SSRP_TPM_CAP_PCR_READ | SSRP_TPM_CAP_SEAL,
	.ctx_size = sizeof(fake),
	.open = fake_open,
	.close = fake_close,
	.get_info = fake_info,
	.get_random = fake_random,
	.pcr_read = fake_pcr_read,
	.seal = fake_seal,
	.unseal = fake_unseal,
};

static ssrp_tpm *open_fake(const char *script)
{
	ssrp_tpm *tpm = NULL;
	assert_int_equal(ssrp_tpm_open_backend(&tpm, &fake_backend, script), SSRP_OK);
	assert_non_null(tpm);
	return tpm;
}

static void busy_then_ok_is_retried(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("busy,busy,ok");
	uint8_t buf[8];
	assert_int_equal(ssrp_tpm_get_random(tpm, buf, sizeof buf), SSRP_OK);
	assert_int_equal(buf[0], 0xA5);
	ssrp_tpm_stats st = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &st), SSRP_OK);
	assert_int_equal(st.retries, 2);
	ssrp_tpm_close(tpm);
}

static void busy_forever_gives_up(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("busy,busy,busy,busy,busy,busy,busy");
	uint8_t buf[8];
	assert_int_equal(ssrp_tpm_get_random(tpm, buf, sizeof buf), SSRP_E_TPM_BUSY);
	assert_non_null(strstr(ssrp_error_last(), "still busy after 5 tries"));
	ssrp_tpm_stats st = SSRP_TPM_STATS_INIT;
	ssrp_tpm_get_stats(tpm, &st);
	assert_int_equal(st.retries, 4); /* five tries, four resends */
	ssrp_tpm_close(tpm);
}

/* A struct from a header this library does not know (or one the caller did
 * not initialise) is refused before anything is written into it. */
static void result_versions_are_checked(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("ok,ok,ok,ok");
	ssrp_tpm_info info;
	memset(&info, 0x5A, sizeof info);
	info.version = 0;
	assert_int_equal(ssrp_tpm_get_info(tpm, &info), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_TPM_INFO_INIT"));
	assert_int_equal(info.present, 0x5A5A5A5A);
	info.version = SSRP_TPM_INFO_VERSION + 1;
	assert_int_equal(ssrp_tpm_get_info(tpm, &info), SSRP_E_INVALID);
	assert_int_equal(info.present, 0x5A5A5A5A);
	ssrp_tpm_info ok = SSRP_TPM_INFO_INIT;
	assert_int_equal(ssrp_tpm_get_info(tpm, &ok), SSRP_OK);
	assert_int_equal(ok.version, SSRP_TPM_INFO_VERSION);
	assert_int_equal(ok.present, 1);

	ssrp_tpm_stats st;
	memset(&st, 0x5A, sizeof st);
	st.version = 7;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &st), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_TPM_STATS_INIT"));
	assert_int_equal(st.commands, 0x5A5A5A5A5A5A5A5Aull);
	ssrp_tpm_close(tpm);
}

static void lockout_says_for_how_long(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("lockout");
	ssrp_buf blob = SSRP_BUF_INIT;
	assert_int_equal(ssrp_tpm_seal(tpm, &blob, (const uint8_t *)"k", 1, 0), SSRP_E_TPM_LOCKOUT);
	assert_null(blob.data);
	const char *msg = ssrp_error_last();
	assert_non_null(strstr(msg, "lockout"));
	/* 5 failures, 3 allowed: 3 over, 600 s each = 30 minutes. */
	assert_non_null(strstr(msg, "about 30 minute"));
	assert_int_equal(ssrp_error_last_code(), SSRP_E_TPM_LOCKOUT);
	ssrp_tpm_close(tpm);
}

static void other_failures_are_not_retried(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("fail,ok");
	uint8_t b;
	assert_int_equal(ssrp_tpm_get_random(tpm, &b, 1), SSRP_E_TPM);
	assert_int_equal(ssrp_tpm_get_random(tpm, &b, 1), SSRP_OK);
	ssrp_tpm_close(tpm);
}

static void random_is_chunked(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("");
	uint8_t buf[100];
	memset(buf, 0, sizeof buf);
	assert_int_equal(ssrp_tpm_get_random(tpm, buf, sizeof buf), SSRP_OK);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], 0xA5);
	ssrp_tpm_close(tpm);
}

static void short_pcr_answer_is_refused(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("");
	ssrp_pcr_values v;
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, SSRP_TPM_PCRS_DEFAULT), SSRP_OK);
	assert_int_equal(v.mask, SSRP_TPM_PCRS_DEFAULT);
	ssrp_tpm_close(tpm);

	/* A backend that silently returns fewer PCRs is caught by the core. */
	tpm = open_fake("short");
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, SSRP_TPM_PCRS_DEFAULT), SSRP_E_TPM);
	assert_non_null(strstr(ssrp_error_last(), "sha256 bank allocated"));
	ssrp_tpm_close(tpm);
	assert_int_equal(ssrp_tpm_pcr_read(NULL, &v, 1), SSRP_E_INVALID);
}

static void bad_pcr_selections_are_refused(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("");
	ssrp_pcr_values v;
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, 0), SSRP_E_INVALID);
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, 1u << 24), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "above 23"));
	ssrp_tpm_close(tpm);
}

static void empty_slots_answer_notsupported(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("");
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, 11, "x", 1), SSRP_E_NOTSUPPORTED);
	assert_non_null(strstr(ssrp_error_last(), "'fake' TPM backend cannot extend PCRs"));
	assert_int_equal(ssrp_tpm_srk_provision(tpm, NULL), SSRP_E_NOTSUPPORTED);
	assert_false(ssrp_tpm_capabilities(tpm) & SSRP_TPM_CAP_PCR_EXTEND);
	ssrp_tpm_close(tpm);
}

static void seal_roundtrip_through_blob(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("");
	ssrp_buf blob = SSRP_BUF_INIT, secret = SSRP_BUF_INIT;
	assert_int_equal(ssrp_tpm_seal(tpm, &blob, (const uint8_t *)"volume key", 10, 0), SSRP_OK);
	assert_memory_equal(blob.data, "SSRPSEAL", 8);
	assert_int_equal(ssrp_tpm_unseal(tpm, &secret, blob.data, blob.len), SSRP_OK);
	assert_int_equal(secret.len, 10);
	assert_memory_equal(secret.data, "volume key", 10);
	/* A damaged blob never reaches the backend. */
	blob.data[blob.len - 1] ^= 0x40;
	ssrp_buf_free(&secret);
	assert_int_equal(ssrp_tpm_unseal(tpm, &secret, blob.data, blob.len), SSRP_E_FORMAT);
	assert_null(secret.data);
	ssrp_buf_free(&blob);
	assert_null(blob.data);
	ssrp_tpm_close(tpm);
}

static void seal_size_limits(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_fake("");
	uint8_t big[SSRP_TPM_SEAL_MAX + 1] = {0};
	ssrp_buf blob = SSRP_BUF_INIT;
	assert_int_equal(ssrp_tpm_seal(tpm, &blob, big, sizeof big, 0), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "1 to 128 bytes"));
	assert_int_equal(ssrp_tpm_seal(tpm, &blob, big, 0, 0), SSRP_E_INVALID);
	ssrp_tpm_close(tpm);
}

static void bad_tables_are_refused(void **state)
{
	(void)state;
	ssrp_tpm *tpm = (ssrp_tpm *)1;
	ssrp_tpm_backend newer = fake_backend;
	newer.version = SSRP_TPM_BACKEND_VERSION + 1;
	assert_int_equal(ssrp_tpm_open_backend(&tpm, &newer, ""), SSRP_E_NOTSUPPORTED);
	assert_null(tpm);
	assert_non_null(strstr(ssrp_error_last(), "interface version"));
	ssrp_tpm_backend no_open = fake_backend;
	no_open.open = NULL;
	assert_int_equal(ssrp_tpm_open_backend(&tpm, &no_open, ""), SSRP_E_INVALID);
	assert_int_equal(ssrp_tpm_open_backend(&tpm, NULL, ""), SSRP_E_INVALID);
}

static void close_is_called_once(void **state)
{
	(void)state;
	int before = closed_count;
	ssrp_tpm_close(open_fake(""));
	ssrp_tpm_close(NULL);
	assert_int_equal(closed_count, before + 1);
}

/* The one built-in backend: tpm2-tss on POSIX, TPM Base Services on
 * Windows. */
#ifdef _WIN32
#define BUILTIN_TPM "tbs"
#else
#define BUILTIN_TPM "tss2"
#endif

static void spec_strings(void **state)
{
	(void)state;
	ssrp_tpm *tpm = NULL;
	/* No TCTI library of that name: a spec error, not "no TPM". */
	assert_int_equal(ssrp_tpm_open(&tpm, "nosuchtcti:foo"), SSRP_E_SPEC);
	assert_non_null(strstr(ssrp_error_last(), "nosuchtcti"));
#ifndef _WIN32
	/* A real TCTI with nobody listening: no TPM. */
	assert_int_equal(ssrp_tpm_open(&tpm, "tss2:swtpm:host=127.0.0.1,port=1"), SSRP_E_TPM_ABSENT);
	assert_null(tpm);
#endif
	int n = 0;
	for (const ssrp_tpm_backend *const *b = ssrp_tpm_builtin_backends(); *b; b++, n++)
		assert_non_null((*b)->info.config_help);
	assert_int_equal(n, 1);
	assert_string_equal(ssrp_tpm_builtin_backends()[0]->info.name, BUILTIN_TPM);
}

/* A vendor's table, registered, is reachable by its spec name; a table
 * whose capability bits promise slots it lacks is refused, as is a
 * built-in's name or a second table under a taken name. */
static void registration(void **state)
{
	(void)state;
	static ssrp_tpm_backend vendor, clash, liar;
	vendor = fake_backend;
	vendor.info.name = "vendor-tpm";
	assert_int_equal(ssrp_tpm_backend_register(&vendor), SSRP_OK);
	assert_int_equal(ssrp_tpm_backend_register(&vendor), SSRP_OK); /* again: nothing */
	ssrp_tpm *tpm = NULL;
	assert_int_equal(ssrp_tpm_open(&tpm, "vendor-tpm:anything"), SSRP_OK);
	assert_string_equal(ssrp_tpm_backend_name(tpm), "vendor-tpm");
	ssrp_tpm_close(tpm);
	size_t i = 0;
	while (ssrp_tpm_registered_backend(i) && ssrp_tpm_registered_backend(i) != &vendor)
		i++;
	assert_ptr_equal(ssrp_tpm_registered_backend(i), &vendor);

	clash = fake_backend;
	clash.info.name = "vendor-tpm";
	assert_int_equal(ssrp_tpm_backend_register(&clash), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "already registered as 'vendor-tpm'"));
	clash.info.name = BUILTIN_TPM;
	assert_int_equal(ssrp_tpm_backend_register(&clash), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "built-in"));

	liar = fake_backend;
	liar.info.name = "liar";
	liar.caps |= SSRP_TPM_CAP_SEAL;
	liar.seal = NULL;
	assert_int_equal(ssrp_tpm_backend_register(&liar), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SEAL without seal and unseal"));
	assert_int_equal(ssrp_tpm_open_backend(&tpm, &liar, ""), SSRP_E_INVALID);
	assert_null(tpm);
}

static void error_messages_compose(void **state)
{
	(void)state;
	ssrp_error_clear();
	assert_string_equal(ssrp_error_last(), "");
	assert_int_equal(ssrp_error_set(SSRP_E_IO, "reading %s", "x"), SSRP_E_IO);
	assert_int_equal(ssrp_error_prefix(SSRP_E_IO, "opening volume"), SSRP_E_IO);
	assert_string_equal(ssrp_error_last(), "opening volume: reading x");
	assert_int_equal(ssrp_tpm_rc_error(0x99d, "unsealing"), SSRP_E_TPM_PCR_MISMATCH);
	assert_non_null(strstr(ssrp_error_last(), "firmware update"));
	assert_int_equal(ssrp_tpm_rc_error(0x922, "x"), SSRP_E_TPM_BUSY);
	assert_int_equal(ssrp_tpm_rc_error(0x921, "x"), SSRP_E_TPM_LOCKOUT);
	assert_int_equal(ssrp_tpm_rc_error(0x1df, "x"), SSRP_E_TPM_INTEGRITY); /* param 1 */
	assert_int_equal(ssrp_tpm_rc_error(0x7ff, "x"), SSRP_E_TPM);
	assert_non_null(strstr(ssrp_error_last(), "0x7ff"));
	assert_string_equal(ssrp_error_name(SSRP_E_TPM_PCR_MISMATCH), "PCR policy mismatch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(busy_then_ok_is_retried),
		cmocka_unit_test(busy_forever_gives_up),
		cmocka_unit_test(result_versions_are_checked),
		cmocka_unit_test(lockout_says_for_how_long),
		cmocka_unit_test(other_failures_are_not_retried),
		cmocka_unit_test(random_is_chunked),
		cmocka_unit_test(short_pcr_answer_is_refused),
		cmocka_unit_test(bad_pcr_selections_are_refused),
		cmocka_unit_test(empty_slots_answer_notsupported),
		cmocka_unit_test(seal_roundtrip_through_blob),
		cmocka_unit_test(seal_size_limits),
		cmocka_unit_test(bad_tables_are_refused),
		cmocka_unit_test(close_is_called_once),
		cmocka_unit_test(spec_strings),
		cmocka_unit_test(registration),
		cmocka_unit_test(error_messages_compose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
