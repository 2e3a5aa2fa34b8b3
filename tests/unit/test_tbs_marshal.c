/* The tbs backend's command core over a scripted transport: each step
 * checks the exact command bytes and answers with a scripted response, in
 * the style of tpm2-tss's fake TCTIs. The backend runs through the public
 * ssrp_tpm_* API on a copy of ssrp_tpm_backend_tbs whose open() puts it on
 * the fake (ssrp_tbs_open_on_transport), so the core's retries and lockout
 * explanation are exercised too. Commands and responses are encoded here
 * independently of tpm2_marshal.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/sim.h"
#include "ssrp/sys/tpm.h"
#include "tpm/tbs_transport.h"
#include "tpm/tpm2_marshal.h"
#include "tpm/tpm_backends.h"

/* ---- messages ---------------------------------------------------------- */

typedef struct msg {
	uint8_t b[1024];
	size_t n;
} msg;

static void put(msg *m, uint32_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static void put_fill(msg *m, uint8_t byte, size_t n)
{
	memset(m->b + m->n, byte, n);
	m->n += n;
}

static void header(msg *m, uint16_t tag, uint32_t code_or_rc)
{
	m->n = 0;
	put(m, tag, 2);
	put(m, 0, 4); /* size, set by seal_size() */
	put(m, code_or_rc, 4);
}

static void seal_size(msg *m)
{
	m->b[2] = (uint8_t)(m->n >> 24);
	m->b[3] = (uint8_t)(m->n >> 16);
	m->b[4] = (uint8_t)(m->n >> 8);
	m->b[5] = (uint8_t)m->n;
}

/* ---- the scripted transport -------------------------------------------- */

#define MAX_STEPS 16

typedef struct step {
	msg cmd; /* expected command; n == 0: not checked */
	msg rsp;
	int fail; /* nonzero: the transport fails with this code instead */
} step;

typedef struct fake {
	step steps[MAX_STEPS];
	size_t n, next;
	int closes;
} fake;

static int fake_submit(void *t, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp, size_t rsp_cap,
		       size_t *rsp_len)
{
	fake *f = t;
	if (f->next >= f->n)
		fail_msg("command %zu was not scripted", f->next + 1);
	const step *s = &f->steps[f->next++];
	if (s->cmd.n) {
		assert_int_equal(cmd_len, s->cmd.n);
		assert_memory_equal(cmd, s->cmd.b, cmd_len);
	}
	if (s->fail)
		return ssrp_error_set(s->fail, "scripted transport failure");
	assert_true(s->rsp.n <= rsp_cap);
	memcpy(rsp, s->rsp.b, s->rsp.n);
	*rsp_len = s->rsp.n;
	return SSRP_OK;
}

static void fake_close(void *t)
{
	((fake *)t)->closes++;
}

static fake *pending; /* the fake the next fake_open() attaches */

static int fake_open(void *ctx, const char *config)
{
	(void)config;
	ssrp_tbs_transport t = {.t = pending, .submit = fake_submit, .close = fake_close};
	return ssrp_tbs_open_on_transport(ctx, &t);
}

static ssrp_tpm_backend fake_tbs; /* ssrp_tpm_backend_tbs with fake_open */

static ssrp_tpm *open_fake(fake *f)
{
	fake_tbs = ssrp_tpm_backend_tbs;
	fake_tbs.open = fake_open;
	pending = f;
	ssrp_tpm *tpm = NULL;
	assert_int_equal(ssrp_tpm_open_backend(&tpm, &fake_tbs, ""), SSRP_OK);
	return tpm;
}

/* Close, and check every step ran and the transport closed once. */
static void finish(ssrp_tpm *tpm, fake *f)
{
	ssrp_tpm_close(tpm);
	assert_int_equal(f->next, f->n);
	assert_int_equal(f->closes, 1);
}

static step *add(fake *f)
{
	assert_true(f->n < MAX_STEPS);
	step *s = &f->steps[f->n++];
	memset(s, 0, sizeof *s);
	return s;
}

static void assert_error(int rc, int code, const char *needle)
{
	if (rc != code || !strstr(ssrp_error_last(), needle))
		fail_msg("got %d \"%s\"; expected %d with \"%s\"", rc, ssrp_error_last(), code,
			 needle);
}

/* ---- commands expected ------------------------------------------------- */

static void expect_get_random(step *s, uint16_t n)
{
	header(&s->cmd, 0x8001, 0x17B);
	put(&s->cmd, n, 2);
	seal_size(&s->cmd);
}

static void expect_get_capability(step *s, uint32_t cap, uint32_t property, uint32_t count)
{
	header(&s->cmd, 0x8001, 0x17A);
	put(&s->cmd, cap, 4);
	put(&s->cmd, property, 4);
	put(&s->cmd, count, 4);
	seal_size(&s->cmd);
}

static void expect_pcr_read(step *s, uint32_t mask)
{
	header(&s->cmd, 0x8001, 0x17E);
	put(&s->cmd, 1, 4);
	put(&s->cmd, 0x000B, 2);
	put(&s->cmd, 3, 1);
	for (int i = 0; i < 3; i++)
		put(&s->cmd, (uint8_t)(mask >> (8 * i)), 1);
	seal_size(&s->cmd);
}

/* ---- responses --------------------------------------------------------- */

static void answer_rc(msg *m, uint32_t rc)
{
	header(m, 0x8001, rc);
	seal_size(m);
}

static void answer_random(msg *m, uint8_t first, uint16_t n)
{
	header(m, 0x8001, 0);
	put(m, n, 2);
	for (uint16_t i = 0; i < n; i++)
		put(m, (uint8_t)(first + i), 1);
	seal_size(m);
}

static void answer_properties(msg *m, int more, const uint32_t (*props)[2], size_t n)
{
	header(m, 0x8001, 0);
	put(m, (uint32_t)more, 1);
	put(m, 6, 4);
	put(m, (uint32_t)n, 4);
	for (size_t i = 0; i < n; i++) {
		put(m, props[i][0], 4);
		put(m, props[i][1], 4);
	}
	seal_size(m);
}

/* A PCR_Read answer for the sha256 PCRs in mask; PCR p holds seed + p. */
static void answer_pcr_read(msg *m, uint32_t counter, uint32_t mask, uint8_t seed)
{
	header(m, 0x8001, 0);
	put(m, counter, 4);
	put(m, 1, 4);
	put(m, 0x000B, 2);
	put(m, 3, 1);
	for (int i = 0; i < 3; i++)
		put(m, (uint8_t)(mask >> (8 * i)), 1);
	uint32_t n = 0;
	for (int p = 0; p < 24; p++)
		n += (mask >> p) & 1;
	put(m, n, 4);
	for (int p = 0; p < 24; p++) {
		if (!(mask & (1u << p)))
			continue;
		put(m, 32, 2);
		put_fill(m, (uint8_t)(seed + p), 32);
	}
	seal_size(m);
}

/* GetCapability steps as a real TPM answers them; the fixed properties come
 * in two answers (moreData) to exercise the continuation. */
static void script_info(fake *f, uint32_t permanent, uint32_t lockout_counter)
{
	static const uint32_t fixed1[][2] = {
		{0x100, 0x322E3000}, {0x101, 0}, {0x102, 164},
		{0x103, 75},         {0x104, 2021}, {0x105, 0x49424D00},
	};
	static const uint32_t fixed2[][2] = {
		{0x106, 0x53572020}, {0x107, 0x2054504D}, {0x108, 0},       {0x109, 0},
		{0x10A, 1},          {0x10B, 0x20191023}, {0x10C, 0x163636},
	};
	uint32_t var[][2] = {
		{0x200, permanent},       {0x201, 0x8000000F}, {0x20E, lockout_counter},
		{0x20F, 3},               {0x210, 1000},       {0x211, 1000},
	};
	step *s = add(f);
	expect_get_capability(s, 6, 0x100, 13);
	answer_properties(&s->rsp, 1, fixed1, 6);
	s = add(f);
	expect_get_capability(s, 6, 0x106, 7);
	answer_properties(&s->rsp, 1, fixed2, 7); /* more beyond 0x10C: not needed */
	s = add(f);
	expect_get_capability(s, 6, 0x200, 18);
	answer_properties(&s->rsp, 0, (const uint32_t(*)[2])var, 6);
	s = add(f);
	expect_get_capability(s, 5, 0, 16);
	header(&s->rsp, 0x8001, 0);
	put(&s->rsp, 0, 1);
	put(&s->rsp, 5, 4);
	put(&s->rsp, 2, 4);
	put(&s->rsp, 0x0004, 2);
	put(&s->rsp, 3, 1);
	put_fill(&s->rsp, 0xFF, 3);
	put(&s->rsp, 0x000B, 2);
	put(&s->rsp, 3, 1);
	put_fill(&s->rsp, 0xFF, 3);
	seal_size(&s->rsp);
}

/* ---- the marshalling core on its own ----------------------------------- */

static void test_commands_exact_bytes(void **state)
{
	(void)state;
	static const uint8_t get_random[] = {0x80, 0x01, 0x00, 0x00, 0x00, 0x0C,
					     0x00, 0x00, 0x01, 0x7B, 0x00, 0x20};
	static const uint8_t get_capability[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7A, 0x00,
		0x00, 0x00, 0x06, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x12};
	static const uint8_t pcr_read[] = {0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00,
					   0x00, 0x01, 0x7E, 0x00, 0x00, 0x00, 0x01,
					   0x00, 0x0B, 0x03, 0x80, 0x08, 0x00};
	uint8_t buf[64];
	size_t n;
	assert_int_equal(ssrp_tpm2_build_get_random(buf, sizeof buf, &n, 32), SSRP_OK);
	assert_int_equal(n, sizeof get_random);
	assert_memory_equal(buf, get_random, n);
	assert_int_equal(ssrp_tpm2_build_get_capability(buf, sizeof buf, &n, 6, 0x200, 18), SSRP_OK);
	assert_int_equal(n, sizeof get_capability);
	assert_memory_equal(buf, get_capability, n);
	assert_int_equal(ssrp_tpm2_build_pcr_read(buf, sizeof buf, &n, 0x000B,
						  SSRP_TPM_PCRS_DEFAULT),
			 SSRP_OK);
	assert_int_equal(n, sizeof pcr_read);
	assert_memory_equal(buf, pcr_read, n);
	/* A buffer one byte short is refused, never overrun. */
	assert_error(ssrp_tpm2_build_pcr_read(buf, sizeof pcr_read - 1, &n, 0x000B, 1),
		     SSRP_E_BUFSIZE, "PCR_Read command: does not fit");
	assert_int_equal(n, 0);
}

static void test_attach_needs_submit_and_close(void **state)
{
	(void)state;
	uint8_t ctx[64] = {0};
	ssrp_tbs_transport t = {.t = NULL, .submit = fake_submit, .close = NULL};
	assert_error(ssrp_tbs_open_on_transport(ctx, &t), SSRP_E_INVALID, "submit and close");
}

/* ---- services through the public API ----------------------------------- */

static void test_get_random(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_get_random(s, 16);
	answer_random(&s->rsp, 0x40, 16);
	ssrp_tpm *tpm = open_fake(&f);
	assert_string_equal(ssrp_tpm_backend_name(tpm), "tbs");
	assert_int_equal(ssrp_tpm_capabilities(tpm),
			 SSRP_TPM_CAP_INFO | SSRP_TPM_CAP_RANDOM | SSRP_TPM_CAP_PCR_READ |
				 SSRP_TPM_CAP_SEAL | SSRP_TPM_CAP_SRK_PROVISION);
	uint8_t out[16];
	assert_int_equal(ssrp_tpm_get_random(tpm, out, sizeof out), SSRP_OK);
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], 0x40 + i);
	finish(tpm, &f);
}

/* 40 bytes: the core asks 32 then 8; the TPM gives only 20 of the first 32,
 * so the backend asks for the 12 missing. */
static void test_get_random_short_answers(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_get_random(s, 32);
	answer_random(&s->rsp, 0, 20);
	s = add(&f);
	expect_get_random(s, 12);
	answer_random(&s->rsp, 20, 12);
	s = add(&f);
	expect_get_random(s, 8);
	answer_random(&s->rsp, 32, 8);
	ssrp_tpm *tpm = open_fake(&f);
	uint8_t out[40];
	assert_int_equal(ssrp_tpm_get_random(tpm, out, sizeof out), SSRP_OK);
	for (int i = 0; i < 40; i++)
		assert_int_equal(out[i], i);
	ssrp_tpm_stats stats = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &stats), SSRP_OK);
	assert_int_equal(stats.commands, 3);
	assert_int_equal(stats.retries, 0);
	finish(tpm, &f);
}

/* At most 8 digests per answer: three PCR_Reads for 24 PCRs. */
static void test_pcr_read_in_pieces(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_pcr_read(s, 0xFFFFFF);
	answer_pcr_read(&s->rsp, 7, 0x0000FF, 0x10);
	s = add(&f);
	expect_pcr_read(s, 0xFFFF00);
	answer_pcr_read(&s->rsp, 7, 0x00FF00, 0x10);
	s = add(&f);
	expect_pcr_read(s, 0xFF0000);
	answer_pcr_read(&s->rsp, 7, 0xFF0000, 0x10);
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_pcr_values v;
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, 0xFFFFFF), SSRP_OK);
	assert_int_equal(v.alg, SSRP_TPM_ALG_SHA256);
	assert_int_equal(v.mask, 0xFFFFFF);
	for (int p = 0; p < 24; p++)
		for (int i = 0; i < 32; i++)
			assert_int_equal(v.digest[p][i], 0x10 + p);
	finish(tpm, &f);
}

/* pcrUpdateCounter moves between the two answers: read all again. */
static void test_pcr_read_restarts_when_pcrs_change(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_pcr_read(s, 0x00FFFF);
	answer_pcr_read(&s->rsp, 5, 0x0000FF, 0x10);
	s = add(&f);
	expect_pcr_read(s, 0x00FF00);
	answer_pcr_read(&s->rsp, 6, 0x00FF00, 0x10);
	s = add(&f);
	expect_pcr_read(s, 0x00FFFF);
	answer_pcr_read(&s->rsp, 6, 0x0000FF, 0x50);
	s = add(&f);
	expect_pcr_read(s, 0x00FF00);
	answer_pcr_read(&s->rsp, 6, 0x00FF00, 0x50);
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_pcr_values v;
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, 0x00FFFF), SSRP_OK);
	assert_int_equal(v.mask, 0x00FFFF);
	assert_int_equal(v.digest[0][0], 0x50);
	assert_int_equal(v.digest[15][31], 0x50 + 15);
	finish(tpm, &f);
}

static void test_pcr_read_bank_missing(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_pcr_read(s, 0x000080);
	header(&s->rsp, 0x8001, 0);
	put(&s->rsp, 1, 4); /* pcrUpdateCounter */
	put(&s->rsp, 0, 4); /* no selection */
	put(&s->rsp, 0, 4); /* no digests */
	seal_size(&s->rsp);
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_pcr_values v;
	assert_error(ssrp_tpm_pcr_read(tpm, &v, 0x80), SSRP_E_TPM, "sha256 bank allocated");
	finish(tpm, &f);
}

static void test_get_info(void **state)
{
	(void)state;
	fake f = {0};
	script_info(&f, 1u << 9, 2);
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	assert_int_equal(ssrp_tpm_get_info(tpm, &info), SSRP_OK);
	assert_int_equal(info.present, 1);
	assert_string_equal(info.family, "2.0");
	assert_int_equal(info.manufacturer_id, 0x49424D00);
	assert_string_equal(info.manufacturer, "IBM");
	assert_non_null(strstr(info.vendor, "SW"));
	assert_non_null(strstr(info.vendor, "TPM"));
	assert_int_equal(info.spec_level, 0);
	assert_int_equal(info.spec_revision, 164);
	assert_int_equal(info.firmware_1, 0x20191023);
	assert_int_equal(info.firmware_2, 0x163636);
	assert_int_equal(info.in_lockout, 1);
	assert_int_equal(info.lockout_counter, 2);
	assert_int_equal(info.max_auth_fail, 3);
	assert_int_equal(info.lockout_interval, 1000);
	assert_int_equal(info.lockout_recovery, 1000);
	assert_int_equal(info.n_banks, 2);
	assert_int_equal(info.banks[0].alg, SSRP_TPM_ALG_SHA1);
	assert_int_equal(info.banks[1].alg, SSRP_TPM_ALG_SHA256);
	assert_int_equal(info.banks[1].pcr_mask, 0xFFFFFF);
	ssrp_tpm_stats stats = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &stats), SSRP_OK);
	assert_int_equal(stats.commands, 4);
	finish(tpm, &f);
}

static void test_retry_then_success(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_get_random(s, 8);
	answer_rc(&s->rsp, 0x922); /* TPM_RC_RETRY */
	s = add(&f);
	expect_get_random(s, 8);
	answer_random(&s->rsp, 1, 8);
	ssrp_tpm *tpm = open_fake(&f);
	uint8_t out[8];
	assert_int_equal(ssrp_tpm_get_random(tpm, out, sizeof out), SSRP_OK);
	assert_int_equal(out[7], 8);
	ssrp_tpm_stats stats = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &stats), SSRP_OK);
	assert_int_equal(stats.commands, 2);
	assert_int_equal(stats.retries, 1);
	finish(tpm, &f);
}

/* YIELDED, TESTING, RETRY... until the core gives up after its 5 tries. */
static void test_busy_until_the_core_gives_up(void **state)
{
	(void)state;
	static const uint32_t busy[] = {0x908, 0x90A, 0x922, 0x922, 0x922};
	fake f = {0};
	for (size_t i = 0; i < 5; i++) {
		step *s = add(&f);
		expect_pcr_read(s, 0x80);
		answer_rc(&s->rsp, busy[i]);
	}
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_pcr_values v;
	assert_error(ssrp_tpm_pcr_read(tpm, &v, 0x80), SSRP_E_TPM_BUSY, "still busy after 5 tries");
	assert_non_null(strstr(ssrp_error_last(), "0x922"));
	finish(tpm, &f);
}

/* 0x921 is lockout; the core then asks get_info to say for how long. */
static void test_lockout(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_get_random(s, 4);
	answer_rc(&s->rsp, 0x921);
	script_info(&f, 1u << 9, 3);
	ssrp_tpm *tpm = open_fake(&f);
	uint8_t out[4];
	assert_error(ssrp_tpm_get_random(tpm, out, sizeof out), SSRP_E_TPM_LOCKOUT,
		     "dictionary-attack lockout");
	assert_non_null(strstr(ssrp_error_last(), "about 17 minute(s)"));
	finish(tpm, &f);
}

static void test_transport_failure_passes_through(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	expect_get_random(s, 4);
	s->fail = SSRP_E_IO;
	ssrp_tpm *tpm = open_fake(&f);
	uint8_t out[4];
	assert_error(ssrp_tpm_get_random(tpm, out, sizeof out), SSRP_E_IO,
		     "scripted transport failure");
	finish(tpm, &f);
}

/* Sealing goes through ESAPI over the same transport: its first command is
 * tss2's PCR_Read of the sealing PCRs (7 and 11: sha256, select 80 08 00),
 * and a transport failure there comes back as the TPM being unreachable.
 * PCR extension stays unsupported. */
static void test_seal_through_esapi_no_extend(void **state)
{
	(void)state;
	fake f = {0};
	step *s = add(&f);
	header(&s->cmd, 0x8001, 0x17E);
	put(&s->cmd, 1, 4);
	put(&s->cmd, 0x000B, 2);
	put(&s->cmd, 3, 1);
	put(&s->cmd, 0x800800, 3);
	seal_size(&s->cmd);
	s->fail = SSRP_E_IO;
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_buf blob = SSRP_BUF_INIT;
	const uint8_t secret[4] = {1, 2, 3, 4};
	assert_error(ssrp_tpm_seal(tpm, &blob, secret, sizeof secret, (1u << 7) | (1u << 11)),
		     SSRP_E_TPM_ABSENT, "connection to the TPM failed");
	assert_null(blob.data);
	assert_error(ssrp_tpm_pcr_extend(tpm, 16, secret, sizeof secret), SSRP_E_NOTSUPPORTED,
		     "cannot extend");
	finish(tpm, &f);
}

/* ---- malformed answers ------------------------------------------------- */

typedef struct bad_case {
	const char *name;
	void (*make)(msg *m);
	const char *needle;
} bad_case;

static void run_bad_get_random(const bad_case *c, uint16_t asked)
{
	fake f = {0};
	step *s = add(&f);
	expect_get_random(s, asked);
	c->make(&s->rsp);
	ssrp_tpm *tpm = open_fake(&f);
	uint8_t out[32];
	int rc = ssrp_tpm_get_random(tpm, out, asked);
	if (rc != SSRP_E_TPM || !strstr(ssrp_error_last(), c->needle))
		fail_msg("%s: got %d \"%s\"; expected SSRP_E_TPM with \"%s\"", c->name, rc,
			 ssrp_error_last(), c->needle);
	finish(tpm, &f);
}

static void rnd_short_header(msg *m)
{
	m->n = 0;
	put(m, 0x8001, 2);
	put(m, 0, 3);
}

static void rnd_cut_body(msg *m)
{
	answer_random(m, 0, 16);
	m->n -= 8; /* the size field still says 28 */
}

static void rnd_size_field_small(msg *m)
{
	answer_random(m, 0, 16);
	put(m, 0xEE, 1); /* one byte more than the size field says */
}

static void rnd_oversized(msg *m)
{
	header(m, 0x8001, 0);
	put(m, 40, 2);
	put_fill(m, 0xAB, 40);
	seal_size(m);
}

static void rnd_wrong_tag(msg *m)
{
	answer_random(m, 0, 16);
	m->b[1] = 0x02; /* TPM_ST_SESSIONS */
}

static void rnd_garbage(msg *m)
{
	m->n = 0;
	put_fill(m, 0xA5, 48);
}

static void rnd_digest_cut(msg *m)
{
	header(m, 0x8001, 0);
	put(m, 16, 2);
	put_fill(m, 1, 10);
	seal_size(m);
}

static void rnd_trailing(msg *m)
{
	header(m, 0x8001, 0);
	put(m, 16, 2);
	put_fill(m, 1, 18);
	seal_size(m);
}

static void rnd_empty(msg *m)
{
	header(m, 0x8001, 0);
	put(m, 0, 2);
	seal_size(m);
}

static void rnd_tpm12_error(msg *m)
{
	header(m, 0x00C4, 0x01E); /* TPM_RC_BAD_TAG, TPM 1.2 style */
	seal_size(m);
}

static void test_malformed_get_random(void **state)
{
	(void)state;
	static const bad_case cases[] = {
		{"truncated header", rnd_short_header, "5 byte(s) is shorter than the 10-byte"},
		{"truncated body", rnd_cut_body, "size field says 28 bytes but 20 were received"},
		{"size field too small", rnd_size_field_small,
		 "size field says 28 bytes but 29 were received"},
		{"oversized", rnd_oversized, "GetRandom response: digest size 40 exceeds the 16 "
					     "asked for"},
		{"wrong tag", rnd_wrong_tag, "tag 0x8002 is not TPM_ST_NO_SESSIONS"},
		{"garbage", rnd_garbage, "size field says 2779096485 bytes but 48 were received"},
		{"digest cut", rnd_digest_cut,
		 "truncated: randomBytes.buffer needs 16 byte(s) at offset 12, 10 left"},
		{"trailing bytes", rnd_trailing, "2 byte(s) left over after the last parameter"},
		{"no bytes", rnd_empty, "no random bytes"},
		{"TPM 1.2 error", rnd_tpm12_error, "response code 0x01e"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_bad_get_random(&cases[i], 16);
}

static void run_bad_pcr_read(const char *name, const msg *rsp, uint32_t mask, const char *needle)
{
	fake f = {0};
	step *s = add(&f);
	expect_pcr_read(s, mask);
	s->rsp = *rsp;
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_pcr_values v;
	int rc = ssrp_tpm_pcr_read(tpm, &v, mask);
	if (rc != SSRP_E_TPM || !strstr(ssrp_error_last(), needle))
		fail_msg("%s: got %d \"%s\"; expected SSRP_E_TPM with \"%s\"", name, rc,
			 ssrp_error_last(), needle);
	finish(tpm, &f);
}

/* A PCR_Read answer: one selection (alg, size, bytes), then n digests of
 * digest_size bytes. */
static void pcr_answer(msg *m, uint32_t selections, uint16_t alg, uint8_t size, uint32_t select,
		       uint32_t n, uint16_t digest_size)
{
	header(m, 0x8001, 0);
	put(m, 1, 4);
	put(m, selections, 4);
	for (uint32_t k = 0; k < selections; k++) {
		put(m, alg, 2);
		put(m, size, 1);
		for (uint8_t i = 0; i < size; i++)
			put(m, (uint8_t)(select >> (8 * (i % 4))), 1);
	}
	put(m, n, 4);
	for (uint32_t i = 0; i < n; i++) {
		put(m, digest_size, 2);
		put_fill(m, 0, digest_size);
	}
	seal_size(m);
}

static void test_malformed_pcr_read(void **state)
{
	(void)state;
	msg m;
	pcr_answer(&m, 1, 0x000B, 3, 0x000081, 2, 32);
	run_bad_pcr_read("not asked", &m, 0x80, "PCRs were returned that were not asked for");
	pcr_answer(&m, 1, 0x000B, 3, 0x000080, 2, 32);
	run_bad_pcr_read("count", &m, 0x80, "2 digest(s) for the 1 PCR(s) selected");
	pcr_answer(&m, 1, 0x000B, 3, 0x000080, 1, 20);
	run_bad_pcr_read("digest size", &m, 0x80, "digest 0 has 20 bytes; sha256 needs 32");
	pcr_answer(&m, 1, 0x0004, 3, 0x000080, 1, 20);
	run_bad_pcr_read("bank", &m, 0x80, "bank 0x0004 answered; sha256 (0x000b) was asked");
	pcr_answer(&m, 2, 0x000B, 3, 0x000080, 1, 32);
	run_bad_pcr_read("two banks", &m, 0x80, "2 banks in pcrSelectionOut");
	pcr_answer(&m, 1, 0x000B, 3, 0xFFFFFF, 9, 32);
	run_bad_pcr_read("nine digests", &m, 0xFFFFFF, "9 digests exceed TPML_DIGEST's 8");
	pcr_answer(&m, 1, 0x000B, 9, 0x000080, 1, 32);
	run_bad_pcr_read("bitmap", &m, 0x80, "bank 0x000b has a 9-byte PCR bitmap");
	pcr_answer(&m, 1, 0x000B, 3, 0x000080, 1, 32);
	m.n -= 31;
	seal_size(&m);
	run_bad_pcr_read("cut digest", &m, 0x80, "truncated: pcrValues.digests.buffer needs 32");
}

static void run_bad_properties(const char *name, const msg *rsp, const char *needle)
{
	fake f = {0};
	step *s = add(&f);
	expect_get_capability(s, 6, 0x100, 13);
	s->rsp = *rsp;
	ssrp_tpm *tpm = open_fake(&f);
	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	int rc = ssrp_tpm_get_info(tpm, &info);
	if (rc != SSRP_E_TPM || !strstr(ssrp_error_last(), needle))
		fail_msg("%s: got %d \"%s\"; expected SSRP_E_TPM with \"%s\"", name, rc,
			 ssrp_error_last(), needle);
	finish(tpm, &f);
}

static void test_malformed_get_capability(void **state)
{
	(void)state;
	static const uint32_t two[][2] = {{0x100, 1}, {0x101, 2}};
	static const uint32_t backwards[][2] = {{0x101, 1}, {0x100, 2}};
	static const uint32_t before[][2] = {{0x0FF, 1}};
	uint32_t many[14][2];
	for (uint32_t i = 0; i < 14; i++) {
		many[i][0] = 0x100 + i;
		many[i][1] = 0;
	}
	msg m;
	answer_properties(&m, 2, two, 2);
	run_bad_properties("moreData", &m, "moreData 2 is neither YES nor NO");
	answer_properties(&m, 0, two, 2);
	m.b[14] = 5; /* capability TPM_CAP_PCRS */
	run_bad_properties("capability", &m, "capability 0x5 answered; 0x6 was asked for");
	answer_properties(&m, 0, (const uint32_t(*)[2])many, 14);
	run_bad_properties("count", &m, "14 properties exceed the 13 asked for");
	answer_properties(&m, 0, backwards, 2);
	run_bad_properties("order", &m, "property 0x100 is out of order");
	answer_properties(&m, 0, before, 1);
	run_bad_properties("before first", &m, "property 0xff is out of order");
	answer_properties(&m, 0, two, 2);
	m.n -= 4;
	seal_size(&m);
	run_bad_properties("cut", &m, "truncated: tpmProperty.value needs 4 byte(s)");
}

/* ---- spec strings ------------------------------------------------------ */

static void test_spec_errors(void **state)
{
	(void)state;
	ssrp_tpm *tpm = (ssrp_tpm *)(uintptr_t)1; /* must come back NULL */
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:bogus"), SSRP_E_SPEC, "expected HOST:PORT");
	assert_null(tpm);
	/* The Windows table refuses a config: "tbs" takes nothing after it. */
	ssrp_tpm *t2 = NULL;
	assert_error(ssrp_tpm_open_backend(&t2, &ssrp_tpm_backend_tbs, "socket=127.0.0.1:1"),
		     SSRP_E_SPEC, "'socket=127.0.0.1:1' is not understood");
	assert_null(t2);
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:"), SSRP_E_SPEC, "expected HOST:PORT");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:localhost"), SSRP_E_SPEC, "expected HOST:PORT");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:::1:2321"), SSRP_E_SPEC, "expected HOST:PORT");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:[::1:2321"), SSRP_E_SPEC, "expected HOST:PORT");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket::2321"), SSRP_E_SPEC, "expected HOST:PORT");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:127.0.0.1:0"), SSRP_E_SPEC,
		     "port '0' is not a number from 1 to 65535");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:127.0.0.1:65536"), SSRP_E_SPEC, "port '65536'");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:127.0.0.1:23x"), SSRP_E_SPEC, "port '23x'");
	assert_error(ssrp_tpm_open(&tpm, "tbs-socket:127.0.0.1:"), SSRP_E_SPEC, "port ''");
#ifndef _WIN32
	assert_error(ssrp_tpm_open_backend(&tpm, &ssrp_tpm_backend_tbs, ""), SSRP_E_NOTSUPPORTED,
		     "Windows TPM Base Services exist only on Windows; use "
		     "tbs-socket:HOST:PORT");
#endif
	assert_null(tpm);
}

int main(void)
{
	if (ssrp_sim_register_backends())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands_exact_bytes),
		cmocka_unit_test(test_attach_needs_submit_and_close),
		cmocka_unit_test(test_get_random),
		cmocka_unit_test(test_get_random_short_answers),
		cmocka_unit_test(test_pcr_read_in_pieces),
		cmocka_unit_test(test_pcr_read_restarts_when_pcrs_change),
		cmocka_unit_test(test_pcr_read_bank_missing),
		cmocka_unit_test(test_get_info),
		cmocka_unit_test(test_retry_then_success),
		cmocka_unit_test(test_busy_until_the_core_gives_up),
		cmocka_unit_test(test_lockout),
		cmocka_unit_test(test_transport_failure_passes_through),
		cmocka_unit_test(test_seal_through_esapi_no_extend),
		cmocka_unit_test(test_malformed_get_random),
		cmocka_unit_test(test_malformed_pcr_read),
		cmocka_unit_test(test_malformed_get_capability),
		cmocka_unit_test(test_spec_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
