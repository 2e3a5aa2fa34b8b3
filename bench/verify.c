/* A fleet of devices verifying their escrow within their jittered day,
 * through the real agent (ssrp_agent_run, in process) against the
 * simulated cloud's Device Registration Service over HTTPS, each device
 * with its own certificate, configuration and journal.
 *
 * What is not real: the volume. Every device's volume is the "fleet"
 * backend below (include/ssrp/sys/volume.h): BitLocker on, one TPM
 * protector and one recovery password whose id is the device's first key
 * in the tenant. The volume I/O of a run is measured elsewhere
 * (bench/agent, bench/volume); here a steady device's run costs what the
 * agent does around it, and a verification one DRS key-list read.
 *
 * Set-up: a certificate per device (CN = deviceId, issued by the
 * simulator's MS-Organization-Access CA, one RSA key for all: generating
 * 10,000 keys would take longer than the day), and a journal saying the
 * key was escrowed and last verified at a time spread over the day before
 * the first run (a fleet in its steady state, not one escrowed at once).
 * agent.verify_interval_s is the scaled day; association off; key
 * hygiene off (-1: the tenant's older keys are not what is measured).
 *
 * Then RUNS rounds a day for DAYS days: every device runs once a round
 * (the agent as a scheduled task would), the rounds spread over the day.
 * The day is a real one (agent.verify_interval_s 86,400 by default, the
 * agent's own default) on the fleet's clock: this program's time(), which
 * the agent reads, runs with the wall clock within a round and is moved on
 * by the round's share of the day between rounds, so a day passes in
 * however long the rounds take (a busy machine makes the bench slower, not
 * its figures different).
 * Round 0 at the start catches the devices already due; rounds 1 to
 * RUNS x DAYS are the measured days (each device's verification falls in
 * exactly one round of any RUNS in a row when the schedule holds). Counted
 * from each run's report: requests (all to DRS) and CPU time (getrusage,
 * this process) of runs that verified and of runs that had nothing to do.
 * The last line is one JSON object.
 *
 * usage: bench_verify --config SIM_CONFIG --pki DIR --tenant FILE --work DIR
 *                     [--devices N] [--day S] [--runs R] [--days D] */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench/bench_util.h"
#include "escrow/journal.h"
#include "ssrp/agent.h"
#include "ssrp/error.h"
#include "ssrp/sys/volume.h"

typedef struct device {
	char id[40], kid[40];
} device;

static device *fleet;
static size_t n_fleet;

/* ---- the fleet's volume: steady, protected, one recovery password --------- */

typedef struct fleet_vol {
	char kid[SSRP_PROTECTOR_ID_LEN + 1];
} fleet_vol;

static int fv_open(void *ctx, const char *config)
{
	fleet_vol *v = ctx;
	snprintf(v->kid, sizeof v->kid, "%s", config);
	return SSRP_OK;
}
static void fv_close(void *ctx)
{
	(void)ctx;
}
static int fv_status(void *ctx, ssrp_volume_status *out)
{
	(void)ctx;
	out->protection = SSRP_PROTECTION_ON;
	out->encryption_method = 0x8004;
	out->percent_encrypted = 100;
	out->last_unlock_recovery = 0;
	return SSRP_OK;
}
static int fv_list(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n)
{
	fleet_vol *v = ctx;
	*out_n = 2;
	if (cap >= 2) {
		memset(out, 0, 2 * sizeof *out);
		snprintf(out[0].id, sizeof out[0].id, "{00000000-0000-4000-8000-0000000000a1}");
		out[0].type = SSRP_PROTECTOR_TPM;
		out[0].protection_code = 0x0100;
		snprintf(out[1].id, sizeof out[1].id, "%s", v->kid);
		out[1].type = SSRP_PROTECTOR_RECOVERY_PASSWORD;
		out[1].protection_code = 0x0800;
	}
	return SSRP_OK;
}
/* A steady device changes nothing: these are never called. */
static int fv_add_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcrs, char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	(void)ctx, (void)tpm, (void)pcrs, (void)out_id;
	return SSRP_E_NOTSUPPORTED;
}
static int fv_add_rp(void *ctx, const char *pw, const uint8_t key[16],
		     char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	(void)ctx, (void)pw, (void)key, (void)out_id;
	return SSRP_E_NOTSUPPORTED;
}
static int fv_delete(void *ctx, const char *id)
{
	(void)ctx, (void)id;
	return SSRP_E_NOTSUPPORTED;
}

static const ssrp_volume_backend fleet_backend = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {"fleet", "bench/verify's steady device", "the recovery password's id"},
	.caps = SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTORS,
	.ctx_size = sizeof(fleet_vol),
	.open = fv_open,
	.close = fv_close,
	.get_status = fv_status,
	.list_protectors = fv_list,
	.add_tpm_protector = fv_add_tpm,
	.add_recovery_password = fv_add_rp,
	.delete_protector = fv_delete,
};

/* ---- the fleet's clock -------------------------------------------------------- */

static time_t clock_offset;

/* What the agent (linked into this program) reads as the time of day. */
time_t time(time_t *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_t t = ts.tv_sec + clock_offset;
	if (out)
		*out = t;
	return t;
}

/* ---- set-up ---------------------------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "bench_verify: %s\n", what);
	exit(1);
}

static cJSON *read_json(const char *path)
{
	size_t len = 0;
	char *text = bench_read_file(path, &len);
	cJSON *o = text ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	if (!o) {
		fprintf(stderr, "bench_verify: cannot read %s as JSON\n", path);
		exit(1);
	}
	return o;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const device *)a)->id, ((const device *)b)->id);
}

/* The first n enabled devices (tenant order) that have a key, each with
 * its first key as the volume's recovery password. */
static void pick_fleet(const char *tenant_path, size_t n)
{
	cJSON *t = read_json(tenant_path);
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(t, "devices");
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(t, "recoveryKeys");
	size_t nd = (size_t)cJSON_GetArraySize(devs);
	device *first = calloc(nd + 1, sizeof *first); /* deviceId -> first kid, sorted */
	size_t nf = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, keys) {
		if (nf && !strcmp(first[nf - 1].id, str(it, "deviceId")))
			continue; /* keys of a device come together */
		if (nf == nd)
			break;
		snprintf(first[nf].id, sizeof first[nf].id, "%s", str(it, "deviceId"));
		snprintf(first[nf].kid, sizeof first[nf].kid, "{%s}", str(it, "id"));
		for (char *p = first[nf].kid; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
		nf++;
	}
	qsort(first, nf, sizeof *first, by_id);
	fleet = calloc(n, sizeof *fleet);
	if (!fleet || !first)
		die("out of memory");
	cJSON_ArrayForEach(it, devs) {
		if (n_fleet == n)
			break;
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "accountEnabled")))
			continue;
		device key;
		snprintf(key.id, sizeof key.id, "%s", str(it, "deviceId"));
		const device *d = bsearch(&key, first, nf, sizeof *first, by_id);
		if (d)
			fleet[n_fleet++] = *d;
	}
	free(first);
	cJSON_Delete(t);
	if (n_fleet < n) {
		fprintf(stderr, "bench_verify: the tenant has %zu enabled devices with a key, not %zu\n",
			n_fleet, n);
		exit(1);
	}
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return x;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* dir/cert.pem: CN=device_id issued by the simulator's
 * MS-Organization-Access CA for key, then that CA (the chain DRS wants). */
static void issue(const char *path, const char *device_id, EVP_PKEY *key, X509 *ca,
		  EVP_PKEY *ca_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = x && name && RAND_bytes(serial, sizeof serial) == 1;
	serial[0] &= 0x7f;
	ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)device_id,
					-1, -1, 0) &&
	     X509_set_subject_name(x, name) && X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) && X509_set_pubkey(x, key) &&
	     add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
	     add_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
	     add_ext(x, ca, NID_ext_key_usage, "clientAuth") &&
	     add_ext(x, ca, NID_authority_key_identifier, "keyid:always") &&
	     X509_sign(x, ca_key, EVP_sha256()) > 0;
	FILE *f = ok ? fopen(path, "w") : NULL;
	ok = f && PEM_write_X509(f, x) && PEM_write_X509(f, ca);
	if (f)
		ok = !fclose(f) && ok;
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(x);
	if (!ok)
		die("cannot issue a device certificate");
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f) || chmod(path, mode))
		die("cannot write a file");
}

static void path_of(char *out, size_t cap, const char *work, size_t i, const char *name)
{
	snprintf(out, cap, "%s/d%zu/%s", work, i, name);
}

/* Certificates, configurations and journals of the fleet under work. */
static void set_up(const char *base_config, const char *pki, const char *work, unsigned day)
{
	char p[1200], q[1200];
	snprintf(p, sizeof p, "%s/msorg-ca.pem", pki);
	X509 *ca = load_cert(p);
	snprintf(p, sizeof p, "%s/msorg-ca.key", pki);
	FILE *f = fopen(p, "r");
	EVP_PKEY *ca_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	EVP_PKEY *key = EVP_RSA_gen(2048);
	if (!ca || !ca_key || !key)
		die("cannot load the simulator's MS-Organization-Access CA or make a key");
	char key_path[1100];
	snprintf(key_path, sizeof key_path, "%s/device.key", work);
	f = fopen(key_path, "w");
	if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) || fclose(f) ||
	    chmod(key_path, 0600))
		die("cannot write the device key");
	cJSON *base = read_json(base_config);
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < n_fleet; i++) {
		const device *d = &fleet[i];
		snprintf(p, sizeof p, "%s/d%zu", work, i);
		if (mkdir(p, 0700) && errno != EEXIST)
			die("cannot make a device directory");
		path_of(p, sizeof p, work, i, "cert.pem");
		issue(p, d->id, key, ca, ca_key);
		cJSON *c = cJSON_Duplicate(base, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(c, "device");
		cJSON_DeleteItemFromObjectCaseSensitive(c, "agent");
		cJSON *dv = cJSON_AddObjectToObject(c, "device");
		cJSON_AddStringToObject(dv, "device_id", d->id);
		cJSON_AddStringToObject(dv, "cert_file", p);
		cJSON_AddStringToObject(dv, "key_file", key_path);
		cJSON_AddStringToObject(dv, "join_type", "azuread");
		cJSON *ag = cJSON_AddObjectToObject(c, "agent");
		cJSON_AddStringToObject(ag, "association", "off");
		cJSON_AddNumberToObject(ag, "verify_interval_s", day);
		cJSON_AddNumberToObject(ag, "key_retention_days", -1);
		char *text = cJSON_Print(c);
		cJSON_Delete(c);
		path_of(q, sizeof q, work, i, "config.json");
		write_text(q, text, 0600);
		cJSON_free(text);
		/* escrowed before, last verified somewhere in the day before */
		ssrp_journal j;
		memset(&j, 0, sizeof j);
		snprintf(j.device_id, sizeof j.device_id, "%s", d->id);
		int64_t at = now - 1 - (int64_t)((uint64_t)i * 7919u % day);
		if (ssrp_journal_mark_escrowed(&j, d->kid, at - (int64_t)day) ||
		    ssrp_journal_mark_verified(&j, d->kid, at, "drs"))
			die("cannot make a journal");
		j.verified_at = at;
		path_of(q, sizeof q, work, i, "agent.journal");
		if (ssrp_journal_save(&j, q))
			die(ssrp_error_last());
	}
	cJSON_Delete(base);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
}

/* ---- the day ------------------------------------------------------------------ */

static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct tally {
	unsigned long runs, verifying, requests, warmup_requests, failures, noncompliant;
	double cpu_verifying, cpu_idle;
	unsigned long *per_device; /* requests */
} tally;

static void run_device(const char *work, size_t i, tally *t, int counted)
{
	char config[1200], journal[1200];
	path_of(config, sizeof config, work, i, "config.json");
	path_of(journal, sizeof journal, work, i, "agent.journal");
	ssrp_volume *vol = NULL;
	if (ssrp_volume_open_backend(&vol, &fleet_backend, fleet[i].kid) != SSRP_OK)
		die(ssrp_error_last());
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = config;
	o.journal_path = journal;
	o.volume = vol;
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	double c0 = cpu_ms();
	int rc = ssrp_agent_run(&o, &r);
	double c = cpu_ms() - c0;
	ssrp_volume_close(vol);
	t->runs++;
	if (counted) {
		t->requests += r.http_requests;
		t->per_device[i] += r.http_requests;
	} else {
		t->warmup_requests += r.http_requests;
	}
	if (rc) {
		if (!t->failures++)
			fprintf(stderr, "bench_verify: device %zu: %s\n", i, ssrp_error_last());
	} else if (r.state != SSRP_AGENT_COMPLIANT) {
		if (!t->noncompliant++)
			fprintf(stderr, "bench_verify: device %zu not compliant: %s\n", i, r.reason);
	}
	if (r.verified_this_run) {
		t->verifying++;
		t->cpu_verifying += c;
	} else if (!r.http_requests) {
		t->cpu_idle += c;
	}
}

static unsigned long arg_num(const char *v, unsigned long min)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (*end || n < min)
		die("bad number");
	return n;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *pki = NULL, *tenant = NULL, *work = NULL;
	unsigned long devices = 10000, day = 86400, runs = 4, days = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--config"))
			config = v;
		else if (!strcmp(k, "--pki"))
			pki = v;
		else if (!strcmp(k, "--tenant"))
			tenant = v;
		else if (!strcmp(k, "--work"))
			work = v;
		else if (!strcmp(k, "--devices"))
			devices = arg_num(v, 1);
		else if (!strcmp(k, "--day"))
			day = arg_num(v, 10);
		else if (!strcmp(k, "--runs"))
			runs = arg_num(v, 1);
		else if (!strcmp(k, "--days"))
			days = arg_num(v, 1);
		else
			die("usage: bench_verify --config F --pki DIR --tenant F --work DIR [--devices N] "
			    "[--day S] [--runs R] [--days D]");
	}
	if (!config || !pki || !tenant || !work)
		die("--config, --pki, --tenant and --work are needed");
	double t0 = now_s();
	pick_fleet(tenant, devices);
	set_up(config, pki, work, (unsigned)day);
	double setup_s = now_s() - t0;
	fprintf(stderr, "bench_verify: %zu devices set up in %.1f s; %lu rounds a day of %lu s\n",
		n_fleet, setup_s, runs, day);

	tally t = {0};
	t.per_device = calloc(n_fleet, sizeof *t.per_device);
	if (!t.per_device)
		die("out of memory");
	double wall0 = now_s();
	time_t start = time(NULL);
	unsigned long rounds = runs * days + 1;
	for (unsigned long k = 0; k < rounds; k++) {
		/* round k begins k/RUNS of a day after round 0 on the fleet's clock */
		time_t due = start + (time_t)(k * day / runs);
		clock_offset += due - time(NULL);
		for (size_t i = 0; i < n_fleet; i++)
			run_device(work, i, &t, k > 0);
		fprintf(stderr, "bench_verify: round %lu/%lu: %lu requests so far\n", k + 1, rounds,
			t.requests);
	}
	/* Rounds 1..K hold the verifications due after round 0 began and
	 * before round K began: DAYS days. */
	double measured_days = (double)days, wall_s = now_s() - wall0;
	unsigned long max_dev = 0, zero_dev = 0;
	for (size_t i = 0; i < n_fleet; i++) {
		if (t.per_device[i] > max_dev)
			max_dev = t.per_device[i];
		zero_dev += !t.per_device[i];
	}
	unsigned long idle_runs = t.runs - t.verifying;
	printf("{\"devices\":%zu,\"scaled_day_s\":%lu,\"rounds_per_day\":%lu,\"days\":%lu,"
	       "\"measured_days\":%.3f,\"runs\":%lu,\"drs_requests\":%lu,\"drs_requests_round_0\":%lu,"
	       "\"drs_requests_per_device_per_day\":%.3f,\"verifications\":%lu,"
	       "\"max_requests_one_device\":%lu,\"devices_without_request\":%lu,"
	       "\"agent_cpu_ms_per_verification\":%.3f,\"agent_cpu_ms_per_run_nothing_due\":%.3f,"
	       "\"failures\":%lu,\"not_compliant\":%lu,\"rounds_wall_s\":%.1f,\"setup_s\":%.1f}\n",
	       n_fleet, day, runs, days, measured_days, t.runs, t.requests, t.warmup_requests,
	       (double)t.requests / (double)n_fleet / measured_days, t.verifying, max_dev, zero_dev,
	       t.verifying ? t.cpu_verifying / (double)t.verifying : 0.0,
	       idle_runs ? t.cpu_idle / (double)idle_runs : 0.0, t.failures, t.noncompliant, wall_s,
	       setup_s);
	free(t.per_device);
	free(fleet);
	return t.failures ? 1 : 0;
}
