/* bench_tpm: seal + unseal of a 32-byte secret to sha256 PCRs 7 and 11 on a
 * software TPM, three ways in the same run against the same swtpm:
 *   (a) ssrp:       ssrp_tpm_seal + ssrp_tpm_unseal (include/ssrp/tpm.h);
 *   (b) raw ESAPI:  the minimal ESAPI sequence with the same protection,
 *                   written out below. Seal and unseal are separate
 *                   operations, as they are in use (they happen at
 *                   different boots), so each makes its own SRK from the
 *                   TCG template, as ssrp does when no SRK is persisted;
 *   (c) tpm2-tools: the usual shell pipeline, a process per step.
 * Each iteration is one seal followed by one unseal; the figure is the
 * median. A human table goes to stdout, and as its last line one JSON
 * object. Exit 0 when it measured (whether or not the goals were met), 1 on
 * errors, 2 on wrong arguments. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "sim/swtpm.h"
#include "ssrp/tpm.h"
#include "tpm/tss2_counting_tcti.h"

extern char **environ;

#define SECRET_LEN 32
#define PCR_MASK ((1u << 7) | (1u << 11))
#define GOAL_RATIO_MAX 1.1    /* ssrp at most 10 % slower than raw ESAPI */
#define GOAL_SPEEDUP_MIN 5.0  /* and at least 5 times faster than tpm2-tools */

typedef struct bench_opts {
	int iterations;
	int tools_iterations;
	int warmup;
	const char *dir; /* swtpm state dir; NULL: a temporary one */
	int skip_ssrp, skip_raw, skip_tools;
} bench_opts;

/* One method's result; ms < 0 when it did not run. */
typedef struct bench_result {
	const char *name;
	int iterations;
	double median_ms, min_ms, p90_ms;
	double commands_per_op; /* < 0 when unknown */
} bench_result;

static const uint8_t *bench_secret(void)
{
	static uint8_t secret[SECRET_LEN];
	for (unsigned i = 0; i < SECRET_LEN; i++)
		secret[i] = (uint8_t)(0xA5u ^ (i * 37u));
	return secret;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts samples in place. */
static void summarise(bench_result *r, double *samples, int n)
{
	qsort(samples, (size_t)n, sizeof *samples, cmp_double);
	r->iterations = n;
	r->min_ms = samples[0];
	r->median_ms = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
	int p90 = (int)((double)(n - 1) * 0.9 + 0.5);
	r->p90_ms = samples[p90];
}

/* ---- a counting TCTI ------------------------------------------------ */

/* Forwards everything to the real TCTI and counts commands sent. ESAPI
 * only sees the common header, so this is a complete TCTI. */
/* The raw sequence talks through ssrp's counting TCTI wrapper, the same
 * one the tss2 backend uses, so both count TPM commands alike. */
typedef struct bench_tcti {
	ssrp_counting_tcti counting;
	TSS2_TCTI_CONTEXT *inner;
} bench_tcti;

static int esys_open(ESYS_CONTEXT **out, bench_tcti *tcti, const char *conf)
{
	memset(tcti, 0, sizeof *tcti);
	TSS2_RC rc = Tss2_TctiLdr_Initialize(conf, &tcti->inner);
	if (rc != TSS2_RC_SUCCESS) {
		fprintf(stderr, "bench_tpm: TCTI '%s': %s\n", conf, Tss2_RC_Decode(rc));
		return -1;
	}
	ssrp_counting_tcti_init(&tcti->counting, tcti->inner);
	rc = Esys_Initialize(out, (TSS2_TCTI_CONTEXT *)(void *)&tcti->counting, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		fprintf(stderr, "bench_tpm: Esys_Initialize: %s\n", Tss2_RC_Decode(rc));
		Tss2_TctiLdr_Finalize(&tcti->inner);
		return -1;
	}
	return 0;
}

static void esys_close(ESYS_CONTEXT **ectx, bench_tcti *tcti)
{
	Esys_Finalize(ectx);
	Tss2_TctiLdr_Finalize(&tcti->inner);
}

static int esys_fail(TSS2_RC rc, const char *what)
{
	fprintf(stderr, "bench_tpm: raw ESAPI: %s: %s\n", what, Tss2_RC_Decode(rc));
	return -1;
}

/* ---- (b) the raw ESAPI sequence ------------------------------------- */

static const TPMT_SYM_DEF session_aes = {
	.algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB};

static void pcr_selection(TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof *sel);
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	for (unsigned pcr = 0; pcr < 24; pcr++)
		if (PCR_MASK & (1u << pcr))
			sel->pcrSelections[0].pcrSelect[pcr / 8] |= (uint8_t)(1u << (pcr % 8));
}

/* The TCG SRK template: ECC NIST P-256, AES-128-CFB, SHA-256. */
static TSS2_RC create_srk(ESYS_CONTEXT *ectx, ESYS_TR *srk)
{
	TPM2B_PUBLIC tmpl = {0};
	tmpl.publicArea.type = TPM2_ALG_ECC;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes =
		TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
		TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
		TPMA_OBJECT_DECRYPT;
	TPMS_ECC_PARMS *ecc = &tmpl.publicArea.parameters.eccDetail;
	ecc->symmetric.algorithm = TPM2_ALG_AES;
	ecc->symmetric.keyBits.aes = 128;
	ecc->symmetric.mode.aes = TPM2_ALG_CFB;
	ecc->scheme.scheme = TPM2_ALG_NULL;
	ecc->curveID = TPM2_ECC_NIST_P256;
	ecc->kdf.scheme = TPM2_ALG_NULL;
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	return Esys_CreatePrimary(ectx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				  ESYS_TR_NONE, &sens, &tmpl, &outside, &none, srk, NULL, NULL,
				  NULL, NULL);
}

/* PolicyPCR digest from a trial-free computation:
 * H(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || H(PCR values)). */
static int policy_digest(TPM2B_DIGEST *out, const TPML_PCR_SELECTION *sel,
			 const TPML_DIGEST *values)
{
	uint8_t buf[32 + 4 + sizeof(TPML_PCR_SELECTION) + 32];
	size_t off = 32;
	memset(buf, 0, 32);
	if (Tss2_MU_TPM2_CC_Marshal(TPM2_CC_PolicyPCR, buf, sizeof buf, &off) ||
	    Tss2_MU_TPML_PCR_SELECTION_Marshal(sel, buf, sizeof buf, &off))
		return -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned len = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (UINT32 i = 0; ok && i < values->count; i++)
		ok = EVP_DigestUpdate(md, values->digests[i].buffer, values->digests[i].size);
	ok = ok && EVP_DigestFinal_ex(md, buf + off, &len);
	EVP_MD_CTX_free(md);
	if (!ok || len != 32)
		return -1;
	off += 32;
	out->size = 32;
	return EVP_Digest(buf, off, out->buffer, &len, EVP_sha256(), NULL) && len == 32 ? 0 : -1;
}

/* Seal: SRK, PCR_Read, policy digest, salted HMAC session with command
 * encryption, Create, flush. The session has no continueSession, so the
 * TPM closes it after Create; ESAPI only forgets it (TR_Close). */
static int raw_seal(ESYS_CONTEXT *ectx, TPM2B_PUBLIC **pub, TPM2B_PRIVATE **priv)
{
	ESYS_TR srk = ESYS_TR_NONE, sess = ESYS_TR_NONE;
	TPML_PCR_SELECTION sel, *sel_out = NULL;
	TPML_DIGEST *values = NULL;
	TPM2B_DIGEST policy = {0};
	int ret = -1;
	pcr_selection(&sel);

	TSS2_RC rc = create_srk(ectx, &srk);
	if (rc) {
		esys_fail(rc, "CreatePrimary");
		goto out;
	}
	rc = Esys_PCR_Read(ectx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL, &sel_out,
			   &values);
	if (rc) {
		esys_fail(rc, "PCR_Read");
		goto out;
	}
	if (values->count != 2 || sel_out->count != 1 ||
	    sel_out->pcrSelections[0].hash != TPM2_ALG_SHA256 ||
	    memcmp(sel_out->pcrSelections[0].pcrSelect, sel.pcrSelections[0].pcrSelect, 3)) {
		fprintf(stderr, "bench_tpm: raw ESAPI: PCR_Read returned another selection\n");
		goto out;
	}
	if (policy_digest(&policy, &sel, values)) {
		fprintf(stderr, "bench_tpm: raw ESAPI: computing the policy digest failed\n");
		goto out;
	}
	rc = Esys_StartAuthSession(ectx, srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, TPM2_SE_HMAC, &session_aes, TPM2_ALG_SHA256,
				   &sess);
	if (rc) {
		esys_fail(rc, "StartAuthSession (HMAC)");
		goto out;
	}
	/* Command encryption; no continueSession: the TPM ends it after Create. */
	rc = Esys_TRSess_SetAttributes(ectx, sess, TPMA_SESSION_DECRYPT, 0xff);
	if (rc) {
		esys_fail(rc, "TRSess_SetAttributes");
		goto out;
	}

	TPM2B_SENSITIVE_CREATE sens = {0};
	sens.sensitive.data.size = SECRET_LEN;
	memcpy(sens.sensitive.data.buffer, bench_secret(), SECRET_LEN);
	TPM2B_PUBLIC tmpl = {0};
	tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
	tmpl.publicArea.authPolicy = policy;
	tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	rc = Esys_Create(ectx, srk, sess, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside,
			 &none, priv, pub, NULL, NULL, NULL);
	if (rc) {
		esys_fail(rc, "Create");
		goto out;
	}
	Esys_TR_Close(ectx, &sess);
	ret = 0;
out:
	if (sess != ESYS_TR_NONE)
		Esys_FlushContext(ectx, sess);
	if (srk != ESYS_TR_NONE)
		Esys_FlushContext(ectx, srk);
	Esys_Free(sel_out);
	Esys_Free(values);
	return ret;
}

/* Unseal: SRK, Load, salted policy session with response encryption,
 * PolicyPCR, Unseal, flush. */
static int raw_unseal(ESYS_CONTEXT *ectx, const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv,
		      uint8_t out[SSRP_TPM_SEAL_MAX], size_t *out_len)
{
	ESYS_TR srk = ESYS_TR_NONE, item = ESYS_TR_NONE, sess = ESYS_TR_NONE;
	TPM2B_SENSITIVE_DATA *data = NULL;
	TPML_PCR_SELECTION sel;
	int ret = -1;
	pcr_selection(&sel);

	TSS2_RC rc = create_srk(ectx, &srk);
	if (rc) {
		esys_fail(rc, "CreatePrimary");
		goto out;
	}
	rc = Esys_Load(ectx, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &item);
	if (rc) {
		esys_fail(rc, "Load");
		goto out;
	}
	rc = Esys_StartAuthSession(ectx, srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &session_aes,
				   TPM2_ALG_SHA256, &sess);
	if (rc) {
		esys_fail(rc, "StartAuthSession (policy)");
		goto out;
	}
	/* Response encryption: the secret does not cross the bus in clear. */
	rc = Esys_TRSess_SetAttributes(ectx, sess, TPMA_SESSION_ENCRYPT, 0xff);
	if (rc) {
		esys_fail(rc, "TRSess_SetAttributes");
		goto out;
	}
	TPM2B_DIGEST current = {0}; /* empty: the TPM takes the PCRs' current values */
	rc = Esys_PolicyPCR(ectx, sess, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &current, &sel);
	if (rc) {
		esys_fail(rc, "PolicyPCR");
		goto out;
	}
	rc = Esys_Unseal(ectx, item, sess, ESYS_TR_NONE, ESYS_TR_NONE, &data);
	if (rc) {
		esys_fail(rc, "Unseal");
		goto out;
	}
	Esys_TR_Close(ectx, &sess);
	if (data->size > SSRP_TPM_SEAL_MAX) {
		fprintf(stderr, "bench_tpm: raw ESAPI: Unseal returned %u bytes\n",
			(unsigned)data->size);
		goto out;
	}
	memcpy(out, data->buffer, data->size);
	*out_len = data->size;
	ret = 0;
out:
	if (sess != ESYS_TR_NONE)
		Esys_FlushContext(ectx, sess);
	if (item != ESYS_TR_NONE)
		Esys_FlushContext(ectx, item);
	if (srk != ESYS_TR_NONE)
		Esys_FlushContext(ectx, srk);
	Esys_Free(data);
	return ret;
}

static int raw_round(ESYS_CONTEXT *ectx)
{
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_PRIVATE *priv = NULL;
	uint8_t out[SSRP_TPM_SEAL_MAX];
	size_t len = 0;
	int ret = raw_seal(ectx, &pub, &priv);
	if (!ret)
		ret = raw_unseal(ectx, pub, priv, out, &len);
	if (!ret && (len != SECRET_LEN || memcmp(out, bench_secret(), SECRET_LEN))) {
		fprintf(stderr, "bench_tpm: raw ESAPI unsealed something else than it sealed\n");
		ret = -1;
	}
	Esys_Free(pub);
	Esys_Free(priv);
	return ret;
}

/* n timed rounds on a fresh connection after warmup untimed ones; adds
 * the TPM commands of the timed rounds to *commands. */
static int raw_block(const ssrp_sim_swtpm *sw, int warmup, double *samples, int n,
		     uint64_t *commands)
{
	ESYS_CONTEXT *ectx = NULL;
	bench_tcti tcti;
	if (esys_open(&ectx, &tcti, sw->tcti))
		return -1;
	int ret = 0;
	for (int i = 0; i < warmup && !ret; i++)
		ret = raw_round(ectx);
	uint64_t before = tcti.counting.commands;
	for (int i = 0; i < n && !ret; i++) {
		double t0 = now_ms();
		ret = raw_round(ectx);
		samples[i] = now_ms() - t0;
	}
	*commands += tcti.counting.commands - before;
	esys_close(&ectx, &tcti);
	return ret;
}

/* ---- set-up and checks through ESAPI -------------------------------- */

/* Measure something into PCRs 7 and 11, as a boot would, so the policy is
 * not over all-zero PCRs. */
static int measure_boot(const ssrp_sim_swtpm *sw)
{
	ESYS_CONTEXT *ectx = NULL;
	bench_tcti tcti;
	if (esys_open(&ectx, &tcti, sw->tcti))
		return -1;
	TPM2B_EVENT ev = {0};
	static const char text[] = "ssrp bench_tpm boot measurement";
	ev.size = sizeof text - 1;
	memcpy(ev.buffer, text, ev.size);
	int ret = 0;
	const ESYS_TR pcrs[] = {ESYS_TR_PCR7, ESYS_TR_PCR11};
	for (size_t i = 0; i < 2 && !ret; i++) {
		TPML_DIGEST_VALUES *d = NULL;
		TSS2_RC rc = Esys_PCR_Event(ectx, pcrs[i], ESYS_TR_PASSWORD, ESYS_TR_NONE,
					    ESYS_TR_NONE, &ev, &d);
		Esys_Free(d);
		if (rc)
			ret = esys_fail(rc, "PCR_Event");
	}
	esys_close(&ectx, &tcti);
	return ret;
}

/* Fail when a method left objects or sessions loaded in the TPM. */
static int check_nothing_loaded(const ssrp_sim_swtpm *sw, const char *after)
{
	ESYS_CONTEXT *ectx = NULL;
	bench_tcti tcti;
	if (esys_open(&ectx, &tcti, sw->tcti))
		return -1;
	static const struct {
		TPM2_HANDLE first;
		const char *what;
	} ranges[] = {{TPM2_TRANSIENT_FIRST, "transient objects"},
		      {TPM2_LOADED_SESSION_FIRST, "sessions"}};
	int ret = 0;
	for (size_t i = 0; i < 2 && !ret; i++) {
		TPMS_CAPABILITY_DATA *cap = NULL;
		TSS2_RC rc = Esys_GetCapability(ectx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
						TPM2_CAP_HANDLES, ranges[i].first, 16, NULL, &cap);
		if (rc) {
			ret = esys_fail(rc, "GetCapability");
		} else {
			UINT32 n = 0;
			for (UINT32 k = 0; k < cap->data.handles.count; k++)
				if ((cap->data.handles.handle[k] & 0xFF000000u) ==
				    (ranges[i].first & 0xFF000000u))
					n++;
			if (n) {
				fprintf(stderr, "bench_tpm: %u %s still loaded after %s\n",
					(unsigned)n, ranges[i].what, after);
				ret = -1;
			}
		}
		Esys_Free(cap);
	}
	esys_close(&ectx, &tcti);
	return ret;
}

/* ---- (a) ssrp ------------------------------------------------------- */

static int ssrp_round(ssrp_tpm *tpm)
{
	ssrp_buf blob = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	int rc = ssrp_tpm_seal(tpm, &blob, bench_secret(), SECRET_LEN, PCR_MASK);
	if (rc)
		fprintf(stderr, "bench_tpm: ssrp_tpm_seal: %s\n", ssrp_error_last());
	if (!rc && (rc = ssrp_tpm_unseal(tpm, &out, blob.data, blob.len)) != SSRP_OK)
		fprintf(stderr, "bench_tpm: ssrp_tpm_unseal: %s\n", ssrp_error_last());
	if (!rc && (out.len != SECRET_LEN || memcmp(out.data, bench_secret(), SECRET_LEN))) {
		fprintf(stderr, "bench_tpm: ssrp unsealed something else than it sealed\n");
		rc = -1;
	}
	ssrp_buf_free(&blob);
	ssrp_buf_free(&out);
	return rc ? -1 : 0;
}

/* As raw_block, through the public API, counting with ssrp_tpm_get_stats;
 * *have_stats becomes 0 when the backend keeps no counters. */
static int ssrp_block(const ssrp_sim_swtpm *sw, int warmup, double *samples, int n,
		      uint64_t *commands, int *have_stats)
{
	ssrp_tpm *tpm = NULL;
	if (ssrp_tpm_open(&tpm, sw->spec)) {
		fprintf(stderr, "bench_tpm: ssrp_tpm_open %s: %s\n", sw->spec, ssrp_error_last());
		return -1;
	}
	int ret = 0;
	for (int i = 0; i < warmup && !ret; i++)
		ret = ssrp_round(tpm);
	ssrp_tpm_stats before = SSRP_TPM_STATS_INIT, after = SSRP_TPM_STATS_INIT;
	int stats = ssrp_tpm_get_stats(tpm, &before) == SSRP_OK;
	for (int i = 0; i < n && !ret; i++) {
		double t0 = now_ms();
		ret = ssrp_round(tpm);
		samples[i] = now_ms() - t0;
	}
	if (stats && ssrp_tpm_get_stats(tpm, &after) == SSRP_OK)
		*commands += after.commands - before.commands;
	else
		*have_stats = 0;
	ssrp_tpm_close(tpm);
	return ret;
}

/* (a) and (b) alternate in blocks, each on its own connection (swtpm
 * serves one at a time), so drift in the machine's load hits both alike;
 * which goes first alternates too. */
#define BLOCK_ROUNDS 25

static int bench_ssrp_and_raw(const bench_opts *o, const ssrp_sim_swtpm *sw,
			      bench_result *ssrp_res, bench_result *raw_res, double *ssrp_samples,
			      double *raw_samples)
{
	uint64_t ssrp_cmds = 0, raw_cmds = 0;
	int have_stats = 1;
	for (int done = 0, block = 0; done < o->iterations; block++) {
		int n = o->iterations - done < BLOCK_ROUNDS ? o->iterations - done : BLOCK_ROUNDS;
		/* The first block warms the TPM up; later ones just their
		 * fresh connection. */
		int warmup = block == 0 ? o->warmup : (o->warmup > 0);
		for (int k = 0; k < 2; k++) {
			int ssrp_turn = (k == 0) == (block % 2 == 0);
			int ret = 0;
			if (ssrp_turn && !o->skip_ssrp)
				ret = ssrp_block(sw, warmup, ssrp_samples + done, n, &ssrp_cmds,
						 &have_stats);
			else if (!ssrp_turn && !o->skip_raw)
				ret = raw_block(sw, warmup, raw_samples + done, n, &raw_cmds);
			if (ret)
				return -1;
		}
		done += n;
	}
	if (!o->skip_ssrp) {
		ssrp_res->commands_per_op = have_stats ? (double)ssrp_cmds / o->iterations : -1;
		summarise(ssrp_res, ssrp_samples, o->iterations);
	}
	if (!o->skip_raw) {
		raw_res->commands_per_op = (double)raw_cmds / o->iterations;
		summarise(raw_res, raw_samples, o->iterations);
	}
	return 0;
}

/* ---- (c) tpm2-tools ------------------------------------------------- */

typedef struct tools_ctx {
	char dir[1100]; /* work files */
	char err[1200]; /* stderr of the last tool */
} tools_ctx;

/* Run one tool, stdout to /dev/null, stderr to ctx->err; 0 when it
 * exited 0. */
static int run_tool(tools_ctx *c, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, c->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		if (e == ENOENT)
			fprintf(stderr, "bench_tpm: %s not found: tpm2-tools is not installed "
					"(apt-get install tpm2-tools), or pass --skip tools\n",
				argv[0]);
		else
			fprintf(stderr, "bench_tpm: cannot run %s: %s\n", argv[0], strerror(e));
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "bench_tpm: %s failed (status %d):\n", argv[0], status);
	FILE *f = fopen(c->err, "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f))
			fprintf(stderr, "  %s", line);
		fclose(f);
	}
	return -1;
}

static int tools_round(tools_ctx *c)
{
	char prim[1200], pcr[1200], pol[1200], secret[1200], pub[1200], priv[1200], item[1200],
		out[1200];
	snprintf(prim, sizeof prim, "%s/prim.ctx", c->dir);
	snprintf(pcr, sizeof pcr, "%s/pcr.bin", c->dir);
	snprintf(pol, sizeof pol, "%s/pol", c->dir);
	snprintf(secret, sizeof secret, "%s/secret", c->dir);
	snprintf(pub, sizeof pub, "%s/pub", c->dir);
	snprintf(priv, sizeof priv, "%s/priv", c->dir);
	snprintf(item, sizeof item, "%s/item.ctx", c->dir);
	snprintf(out, sizeof out, "%s/unsealed", c->dir);
	unlink(out);
	/* No resource manager: each tool leaves what it loaded, so flush
	 * transient objects after each step that loads some, and the policy
	 * session tpm2_unseal leaves behind. */
	char *const steps[][16] = {
		{"tpm2_createprimary", "-Q", "-C", "o", "-G", "ecc", "-c", prim, NULL},
		{"tpm2_flushcontext", "-t", NULL},
		{"tpm2_pcrread", "-Q", "-o", pcr, "sha256:7,11", NULL},
		{"tpm2_createpolicy", "-Q", "--policy-pcr", "-l", "sha256:7,11", "-f", pcr, "-L",
		 pol, NULL},
		{"tpm2_create", "-Q", "-C", prim, "-L", pol, "-i", secret, "-u", pub, "-r", priv,
		 NULL},
		{"tpm2_flushcontext", "-t", NULL},
		{"tpm2_load", "-Q", "-C", prim, "-u", pub, "-r", priv, "-c", item, NULL},
		{"tpm2_flushcontext", "-t", NULL},
		{"tpm2_unseal", "-Q", "-c", item, "-p", "pcr:sha256:7,11", "-o", out, NULL},
		{"tpm2_flushcontext", "-t", NULL},
		{"tpm2_flushcontext", "-l", NULL},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (run_tool(c, steps[i]))
			return -1;
	uint8_t got[SECRET_LEN + 1];
	FILE *f = fopen(out, "rb");
	size_t n = f ? fread(got, 1, sizeof got, f) : 0;
	if (f)
		fclose(f);
	if (n != SECRET_LEN || memcmp(got, bench_secret(), SECRET_LEN)) {
		fprintf(stderr, "bench_tpm: tpm2_unseal gave something else than was sealed\n");
		return -1;
	}
	return 0;
}

static int bench_tools(const bench_opts *o, const ssrp_sim_swtpm *sw, bench_result *r,
		       double *samples)
{
	tools_ctx c;
	snprintf(c.dir, sizeof c.dir, "%s/tpm2-tools", sw->dir);
	snprintf(c.err, sizeof c.err, "%s/stderr", c.dir);
	if (mkdir(c.dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "bench_tpm: mkdir %s: %s\n", c.dir, strerror(errno));
		return -1;
	}
	char secret[1200];
	snprintf(secret, sizeof secret, "%s/secret", c.dir);
	FILE *f = fopen(secret, "wb");
	if (!f || fwrite(bench_secret(), 1, SECRET_LEN, f) != SECRET_LEN || fclose(f)) {
		fprintf(stderr, "bench_tpm: cannot write %s\n", secret);
		return -1;
	}
	setenv("TPM2TOOLS_TCTI", sw->tcti, 1);
	int ret = 0;
	int warmup = o->warmup < 1 ? o->warmup : 1; /* slow; one is enough */
	for (int i = 0; i < warmup && !ret; i++)
		ret = tools_round(&c);
	for (int i = 0; i < o->tools_iterations && !ret; i++) {
		double t0 = now_ms();
		ret = tools_round(&c);
		samples[i] = now_ms() - t0;
	}
	if (!ret) {
		r->commands_per_op = -1;
		summarise(r, samples, o->tools_iterations);
	}
	return ret;
}

/* ---- main ----------------------------------------------------------- */

static volatile pid_t swtpm_pid;

/* Ctrl-C must not leave a swtpm daemon behind. */
static void on_signal(int sig)
{
	if (swtpm_pid > 0)
		kill(swtpm_pid, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void usage(FILE *f)
{
	fputs("usage: bench_tpm [--iterations N] [--tools-iterations N] [--warmup N]\n"
	      "                 [--dir DIR] [--skip ssrp|raw|tools]...\n"
	      "Seal + unseal a 32-byte secret to PCRs 7,11 on a software TPM it starts:\n"
	      "ssrp vs a minimal raw ESAPI sequence vs the tpm2-tools pipeline.\n"
	      "  --iterations N        rounds for ssrp and raw ESAPI (default 200)\n"
	      "  --tools-iterations N  rounds for tpm2-tools (default 20)\n"
	      "  --warmup N            untimed rounds first (default 3)\n"
	      "  --dir DIR             swtpm state dir, kept (default: a temporary one)\n"
	      "  --skip WHAT           leave out one method (the goals are then not met)\n",
	      f);
}

static int parse_count(const char *opt, const char *v, int min, int *out)
{
	char *end;
	long n = v ? strtol(v, &end, 10) : 0;
	if (!v || *end || end == v || n < min || n > 1000000) {
		fprintf(stderr, "bench_tpm: %s needs a number from %d to 1000000\n", opt, min);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int parse_args(bench_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->iterations = 200;
	o->tools_iterations = 20;
	o->warmup = 3;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;
		if (!strcmp(a, "--iterations"))
			rc = parse_count(a, v, 1, &o->iterations), i++;
		else if (!strcmp(a, "--tools-iterations"))
			rc = parse_count(a, v, 1, &o->tools_iterations), i++;
		else if (!strcmp(a, "--warmup"))
			rc = parse_count(a, v, 0, &o->warmup), i++;
		else if (!strcmp(a, "--dir") && v)
			o->dir = v, i++;
		else if (!strcmp(a, "--skip") && v && !strcmp(v, "ssrp"))
			o->skip_ssrp = 1, i++;
		else if (!strcmp(a, "--skip") && v && !strcmp(v, "raw"))
			o->skip_raw = 1, i++;
		else if (!strcmp(a, "--skip") && v && !strcmp(v, "tools"))
			o->skip_tools = 1, i++;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout), 1;
		else {
			fprintf(stderr, "bench_tpm: bad argument '%s'%s\n", a,
				!strcmp(a, "--skip") ? " (--skip takes ssrp, raw or tools)" : "");
			usage(stderr);
			return -1;
		}
		if (rc)
			return -1;
	}
	return 0;
}

static void print_row(const bench_result *r)
{
	if (r->median_ms < 0) {
		printf("%-12s %10s\n", r->name, "skipped");
		return;
	}
	printf("%-12s %10d %11.3f %10.3f %10.3f", r->name, r->iterations, r->median_ms,
	       r->min_ms, r->p90_ms);
	if (r->commands_per_op >= 0)
		printf(" %12.1f\n", r->commands_per_op);
	else
		printf(" %12s\n", "-");
}

static void json_num(const char *key, double v, int ok, const char *sep)
{
	if (ok)
		printf("\"%s\":%.3f%s", key, v, sep);
	else
		printf("\"%s\":null%s", key, sep);
}

/* Remove what the bench put into a temporary state dir. */
static void remove_state(const char *dir)
{
	static const char *const files[] = {
		"tpm2-tools/prim.ctx", "tpm2-tools/pcr.bin", "tpm2-tools/pol",
		"tpm2-tools/secret",   "tpm2-tools/pub",     "tpm2-tools/priv",
		"tpm2-tools/item.ctx", "tpm2-tools/unsealed", "tpm2-tools/stderr",
		"tpm2-00.permall",     "swtpm.log",          ".lock"};
	char path[1200];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/tpm2-tools", dir);
	rmdir(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	bench_opts o;
	int rc = parse_args(&o, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	/* tpm2-tss (in here and in tpm2-tools) logs errors to stderr itself;
	 * the bench reports failures in its own words. */
	setenv("TSS2_LOG", "all+NONE", 0);

	char tmp_dir[256] = "";
	const char *dir = o.dir;
	if (!dir) {
		const char *t = getenv("TMPDIR");
		snprintf(tmp_dir, sizeof tmp_dir, "%s/ssrp-bench-tpm.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmp_dir)) {
			fprintf(stderr, "bench_tpm: mkdtemp %s: %s\n", tmp_dir, strerror(errno));
			return 1;
		}
		dir = tmp_dir;
	}
	ssrp_sim_swtpm sw;
	if (ssrp_sim_swtpm_start(&sw, dir)) {
		fprintf(stderr, "bench_tpm: %s\n", ssrp_error_last());
		if (tmp_dir[0])
			rmdir(tmp_dir);
		return 1;
	}
	swtpm_pid = (pid_t)sw.pid;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	double *samples[3] = {calloc((size_t)o.iterations, sizeof(double)),
			      calloc((size_t)o.iterations, sizeof(double)),
			      calloc((size_t)o.tools_iterations, sizeof(double))};
	bench_result res[3] = {{"ssrp", 0, -1, -1, -1, -1},
			       {"raw ESAPI", 0, -1, -1, -1, -1},
			       {"tpm2-tools", 0, -1, -1, -1, -1}};
	fprintf(stderr, "bench_tpm: swtpm pid %ld on 127.0.0.1:%d, state in %s\n", sw.pid, sw.port,
		sw.dir);
	int failed = !samples[0] || !samples[1] || !samples[2] || measure_boot(&sw);
	if (!failed && !(o.skip_ssrp && o.skip_raw))
		failed = bench_ssrp_and_raw(&o, &sw, &res[0], &res[1], samples[0], samples[1]) ||
			 check_nothing_loaded(&sw, "the ssrp and raw ESAPI rounds");
	if (!failed && !o.skip_tools)
		failed = bench_tools(&o, &sw, &res[2], samples[2]) ||
			 check_nothing_loaded(&sw, "the tpm2-tools rounds");
	for (int i = 0; i < 3; i++)
		free(samples[i]);

	if (ssrp_sim_swtpm_stop(sw.dir))
		fprintf(stderr, "bench_tpm: %s\n", ssrp_error_last());
	swtpm_pid = 0;
	if (failed) {
		fprintf(stderr, "bench_tpm: failed; swtpm state and log kept in %s\n", sw.dir);
		return 1;
	}
	if (tmp_dir[0])
		remove_state(tmp_dir);

	const bench_result *a = &res[0], *b = &res[1], *c = &res[2];
	int have_ratio = a->median_ms > 0 && b->median_ms > 0;
	int have_speedup = a->median_ms > 0 && c->median_ms > 0;
	double ratio = have_ratio ? a->median_ms / b->median_ms : 0;
	double speedup = have_speedup ? c->median_ms / a->median_ms : 0;
	int met = have_ratio && have_speedup && ratio <= GOAL_RATIO_MAX &&
		  speedup >= GOAL_SPEEDUP_MIN;

	printf("TPM seal + unseal, %d-byte secret, sha256 PCRs 7,11, swtpm on loopback\n",
	       SECRET_LEN);
	printf("%-12s %10s %11s %10s %10s %12s\n", "method", "iterations", "median ms", "min ms",
	       "p90 ms", "commands/op");
	for (int i = 0; i < 3; i++)
		print_row(&res[i]);
	if (have_ratio)
		printf("ssrp / raw ESAPI: %.3f (goal <= %.2f)\n", ratio, GOAL_RATIO_MAX);
	if (have_speedup)
		printf("tpm2-tools / ssrp: %.1fx faster (goal >= %.0fx)\n", speedup,
		       GOAL_SPEEDUP_MIN);
	printf("goals %s\n", met ? "met" : "NOT met");

	printf("{\"bench\":\"tpm\",\"iterations\":%d,\"tools_iterations\":%d,", o.iterations,
	       o.skip_tools ? 0 : o.tools_iterations);
	json_num("ssrp_ms", a->median_ms, a->median_ms >= 0, ",");
	json_num("raw_esapi_ms", b->median_ms, b->median_ms >= 0, ",");
	json_num("tpm2_tools_ms", c->median_ms, c->median_ms >= 0, ",");
	json_num("ratio_ssrp_vs_raw", ratio, have_ratio, ",");
	json_num("speedup_vs_tpm2_tools", speedup, have_speedup, ",");
	json_num("ssrp_commands_per_op", a->commands_per_op, a->commands_per_op >= 0, ",");
	json_num("raw_commands_per_op", b->commands_per_op, b->commands_per_op >= 0, ",");
	printf("\"goal_ratio_max\":%.1f,\"goal_speedup_min\":%.0f,\"met\":%s}\n", GOAL_RATIO_MAX,
	       GOAL_SPEEDUP_MIN, met ? "true" : "false");
	return 0;
}
