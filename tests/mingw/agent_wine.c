/* agent_wine.exe CONFIG VOLUME-SPEC TPM-SPEC JOURNAL RUNS: the device
 * agent run RUNS times (1 or 2) by a program built against libssrp.dll (its
 * import library, the public headers only), under Wine. The TPM is
 * whatever TPM-SPEC names ("tbs": TPM Base Services); the volume whatever
 * VOLUME-SPEC names: "bitlk:IMG?rw" (the on-disk codec in libssrp.dll), or
 * "wine-volume:STATE-FILE", registered here through
 * ssrp_volume_backend_register, for what Wine cannot show: it has no
 * BitLocker WMI class, and a recovery unlock is marked in the state file so
 * that rotation can be checked. wine-volume keeps its state in a text file:
 * protection, a 32-byte volume key, its protectors, and which recovery
 * password last unlocked the volume ("unlocked-by-recovery ID", as a
 * recovery unlock on Windows leaves it; reported in the status while that
 * protector is there). Its TPM protector
 * does what BitLocker does inside Windows, through the TPM the agent hands
 * it: it records the sha256 PCR values of its mask, read from the TPM, and
 * unlocking reads them again and compares. A recovery password is kept as
 * given. Prints each run's report; exit 0 when every run went through
 * and left the device compliant with protection on, and a second run
 * changed nothing on the volume. */
/* rand_s, for protector ids. */
#define _CRT_RAND_S
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/agent.h>
#include <ssrp/error.h>
#include <ssrp/sys/volume.h>
#include <ssrp/tpm.h>

#define MAX_PROT 8
#define BLOB_MAX 4096

typedef struct prot {
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	ssrp_protector_type type;
	char password[SSRP_RECOVERY_PASSWORD_LEN + 1]; /* recovery password */
	uint8_t blob[BLOB_MAX]; /* TPM: the PCR mask (4 bytes) and the values it bound */
	size_t blob_len;
} prot;

typedef struct vol {
	char path[1024];
	int protection_on, locked;
	uint8_t key[32];
	prot p[MAX_PROT];
	size_t n;
	char unlocked_by[SSRP_PROTECTOR_ID_LEN + 1]; /* recovery password of the last unlock */
	unsigned long changes;
} vol;

static int hex_in(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s) / 2;
	if (n > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n;
	return 0;
}

static void hex_out(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static int bad(const vol *v, const char *what)
{
	return ssrp_error_set(SSRP_E_FORMAT, "wine-volume %s: %s", v->path, what);
}

static int load(vol *v)
{
	FILE *f = fopen(v->path, "r");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "wine-volume %s: %s", v->path, strerror(errno));
	static char line[2 * BLOB_MAX + 128];
	int rc = SSRP_OK, have_key = 0;
	while (!rc && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *arg = strchr(line, ' ');
		if (!arg) {
			rc = bad(v, "a line without a value");
			break;
		}
		*arg++ = '\0';
		size_t len = 0;
		if (!strcmp(line, "protection")) {
			v->protection_on = !strcmp(arg, "on");
		} else if (!strcmp(line, "key")) {
			rc = hex_in(arg, v->key, sizeof v->key, &len) || len != 32 ? bad(v, "bad key") : 0;
			have_key = 1;
		} else if (!strcmp(line, "unlocked-by-recovery")) {
			if (strlen(arg) != SSRP_PROTECTOR_ID_LEN) {
				rc = bad(v, "unlocked-by-recovery without a protector id");
				break;
			}
			snprintf(v->unlocked_by, sizeof v->unlocked_by, "%s", arg);
		} else if ((!strcmp(line, "tpm") || !strcmp(line, "recovery")) && v->n < MAX_PROT) {
			prot *p = &v->p[v->n++];
			char *val = strchr(arg, ' ');
			if (!val || val - arg != SSRP_PROTECTOR_ID_LEN) {
				rc = bad(v, "a protector without an id and a value");
				break;
			}
			*val++ = '\0';
			snprintf(p->id, sizeof p->id, "%s", arg);
			p->type = line[0] == 't' ? SSRP_PROTECTOR_TPM : SSRP_PROTECTOR_RECOVERY_PASSWORD;
			if (p->type == SSRP_PROTECTOR_TPM)
				rc = hex_in(val, p->blob, sizeof p->blob, &p->blob_len) ? bad(v, "bad blob") : 0;
			else
				snprintf(p->password, sizeof p->password, "%s", val);
		} else {
			rc = bad(v, "an unknown line");
		}
	}
	fclose(f);
	return rc ? rc : have_key ? SSRP_OK : bad(v, "no volume key");
}

static int save(vol *v)
{
	char tmp[1100];
	snprintf(tmp, sizeof tmp, "%s.new", v->path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "wine-volume %s: %s", tmp, strerror(errno));
	fprintf(f, "protection %s\nkey ", v->protection_on ? "on" : "off");
	hex_out(f, v->key, sizeof v->key);
	fprintf(f, "\n");
	for (size_t i = 0; i < v->n; i++) {
		fprintf(f, "%s %s ", v->p[i].type == SSRP_PROTECTOR_TPM ? "tpm" : "recovery", v->p[i].id);
		if (v->p[i].type == SSRP_PROTECTOR_TPM)
			hex_out(f, v->p[i].blob, v->p[i].blob_len);
		else
			fprintf(f, "%s", v->p[i].password);
		fprintf(f, "\n");
	}
	if (v->unlocked_by[0])
		fprintf(f, "unlocked-by-recovery %s\n", v->unlocked_by);
	int ok = fclose(f) == 0 && remove(v->path) == 0 && rename(tmp, v->path) == 0;
	v->changes++;
	return ok ? SSRP_OK : ssrp_error_set(SSRP_E_IO, "wine-volume %s: cannot save", v->path);
}

static void new_id(char out[SSRP_PROTECTOR_ID_LEN + 1])
{
	unsigned r[4];
	for (int i = 0; i < 4; i++)
		rand_s(&r[i]);
	snprintf(out, SSRP_PROTECTOR_ID_LEN + 1, "{%08X-%04X-%04X-%04X-%04X%08X}", r[0],
		 r[1] & 0xffff, (r[1] >> 16 & 0x0fff) | 0x4000, (r[2] & 0x3fff) | 0x8000,
		 r[2] >> 16, r[3]);
}

static int v_open(void *ctx, const char *config)
{
	vol *v = ctx;
	snprintf(v->path, sizeof v->path, "%s", config);
	return load(v);
}

static void v_close(void *ctx)
{
	ssrp_memzero(ctx, sizeof(vol));
}

static int v_status(void *ctx, ssrp_volume_status *out)
{
	vol *v = ctx;
	memset(out, 0, sizeof *out);
	out->protection = v->protection_on ? SSRP_PROTECTION_ON : SSRP_PROTECTION_OFF;
	out->encryption_method = 0x8005; /* XTS-AES-256 */
	out->percent_encrypted = 100;
	out->locked = v->locked;
	out->last_unlock_recovery = 0;
	for (size_t i = 0; v->unlocked_by[0] && i < v->n; i++)
		if (v->p[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD &&
		    !strcmp(v->p[i].id, v->unlocked_by)) {
			out->last_unlock_recovery = 1;
			memcpy(out->last_unlock_recovery_id, v->unlocked_by, sizeof v->unlocked_by);
		}
	out->conversion_state = out->conversion_next_state = SSRP_VOLUME_CONVERSION_ENCRYPTED;
	return SSRP_OK;
}

static int v_list(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n)
{
	vol *v = ctx;
	*out_n = v->n;
	for (size_t i = 0; i < v->n && i < cap; i++) {
		memset(&out[i], 0, sizeof out[i]);
		snprintf(out[i].id, sizeof out[i].id, "%s", v->p[i].id);
		out[i].type = v->p[i].type;
		out[i].protection_code = v->p[i].type == SSRP_PROTECTOR_TPM ? 0x0100 : 0x0800;
	}
	return SSRP_OK; /* the core asks with cap 0 first for the total */
}

static prot *add(vol *v, ssrp_protector_type type, char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	if (v->n == MAX_PROT)
		return NULL;
	prot *p = &v->p[v->n++];
	memset(p, 0, sizeof *p);
	p->type = type;
	new_id(p->id);
	memcpy(out_id, p->id, sizeof p->id);
	return p;
}

/* The mask (big-endian) and the sha256 values of its PCRs into out. */
static int pcr_binding(ssrp_tpm *tpm, uint32_t mask, uint8_t *out, size_t *len)
{
	ssrp_pcr_values pcrs;
	int rc = ssrp_tpm_pcr_read(tpm, &pcrs, mask);
	if (rc)
		return rc;
	size_t n = 4;
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(mask >> (24 - 8 * i));
	for (unsigned i = 0; i < SSRP_TPM_PCR_COUNT; i++)
		if (mask & (1u << i)) {
			if (!(pcrs.mask & (1u << i)))
				return ssrp_error_set(SSRP_E_TPM, "the TPM did not give PCR %u", i);
			memcpy(out + n, pcrs.digest[i], 32);
			n += 32;
		}
	*len = n;
	return SSRP_OK;
}

static int v_add_tpm(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask,
		     char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	vol *v = ctx;
	uint8_t binding[BLOB_MAX];
	size_t len = 0;
	int rc = pcr_binding(tpm, pcr_mask ? pcr_mask : (1u << 7 | 1u << 11), binding, &len);
	if (rc)
		return rc;
	prot *p = add(v, SSRP_PROTECTOR_TPM, out_id);
	if (!p)
		return ssrp_error_set(SSRP_E_BUFSIZE, "no room for a protector");
	memcpy(p->blob, binding, len);
	p->blob_len = len;
	return save(v);
}

static int v_add_recovery(void *ctx, const char *password, const uint8_t key[16],
			  char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	(void)key;
	vol *v = ctx;
	prot *p = add(v, SSRP_PROTECTOR_RECOVERY_PASSWORD, out_id);
	if (!p)
		return ssrp_error_set(SSRP_E_BUFSIZE, "no room for a protector");
	snprintf(p->password, sizeof p->password, "%s", password);
	return save(v);
}

static prot *find(vol *v, const char *id)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->p[i].id, id))
			return &v->p[i];
	return NULL;
}

static int v_delete(void *ctx, const char *id)
{
	vol *v = ctx;
	prot *p = find(v, id);
	if (!p)
		return ssrp_error_set(SSRP_E_NOTFOUND, "no protector %s", id);
	memmove(p, p + 1, (size_t)(&v->p[v->n] - (p + 1)) * sizeof *p);
	v->n--;
	if (!strcmp(v->unlocked_by, id))
		v->unlocked_by[0] = '\0'; /* the used password is gone */
	return save(v);
}

static int v_get_password(void *ctx, const char *id, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	prot *p = find(ctx, id);
	if (!p || p->type != SSRP_PROTECTOR_RECOVERY_PASSWORD)
		return ssrp_error_set(SSRP_E_NOTFOUND, "no recovery password %s", id);
	memcpy(out, p->password, SSRP_RECOVERY_PASSWORD_LEN + 1);
	return SSRP_OK;
}

static int v_unlock_tpm(void *ctx, ssrp_tpm *tpm)
{
	vol *v = ctx;
	for (size_t i = 0; i < v->n; i++) {
		if (v->p[i].type != SSRP_PROTECTOR_TPM)
			continue;
		const uint8_t *b = v->p[i].blob;
		uint8_t now[BLOB_MAX];
		size_t len = 0;
		int rc = v->p[i].blob_len < 4
				 ? ssrp_error_set(SSRP_E_FORMAT, "a TPM protector without a binding")
				 : pcr_binding(tpm,
					       (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
						       (uint32_t)b[2] << 8 | b[3],
					       now, &len);
		if (rc)
			return rc;
		if (len != v->p[i].blob_len || memcmp(now, b, len))
			return ssrp_error_set(SSRP_E_TPM_PCR_MISMATCH,
					      "the PCRs the TPM protector is bound to have changed");
		v->locked = 0;
		return SSRP_OK;
	}
	return ssrp_error_set(SSRP_E_NOTFOUND, "no TPM protector");
}

static int v_unlock_recovery(void *ctx, const char *password, const uint8_t key[16])
{
	(void)key;
	vol *v = ctx;
	for (size_t i = 0; i < v->n; i++)
		if (v->p[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD &&
		    !strcmp(v->p[i].password, password)) {
			v->locked = 0;
			return SSRP_OK;
		}
	return ssrp_error_set(SSRP_E_BAD_KEY, "wrong recovery password");
}

static int v_protection(vol *v, int on)
{
	v->protection_on = on;
	return save(v);
}

static int v_on(void *ctx)
{
	return v_protection(ctx, 1);
}

static int v_off(void *ctx)
{
	return v_protection(ctx, 0);
}

static const ssrp_volume_backend wine_volume = {
	.version = 1,
	.info = {"wine-volume", "the Wine test's volume (tests/mingw/agent_wine.c)", "STATE-FILE"},
	.caps = SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_READ_PASSWORD |
		SSRP_VOLUME_CAP_UNLOCK | SSRP_VOLUME_CAP_PROTECTION,
	.ctx_size = sizeof(vol),
	.open = v_open,
	.close = v_close,
	.get_status = v_status,
	.list_protectors = v_list,
	.add_tpm_protector = v_add_tpm,
	.add_recovery_password = v_add_recovery,
	.delete_protector = v_delete,
	.get_recovery_password = v_get_password,
	.unlock_tpm = v_unlock_tpm,
	.unlock_recovery_password = v_unlock_recovery,
	.protection_on = v_on,
	.protection_off = v_off,
};

static void report(const char *what, int rc, const ssrp_agent_report *r)
{
	size_t escrowed = 0;
	for (size_t i = 0; i < r->n_protectors; i++)
		escrowed += r->protectors[i].escrowed != 0;
	printf("%s: rc=%s state=%s protection=%s protectors=%zu escrowed=%zu volume_changes=%lu "
	       "http_requests=%lu tpm_commands=%lu journal_writes=%lu keys_deleted=%lu "
	       "rotation_pending=%d association=%s associated=%s association_pending=%d%s%s\n",
	       what, rc ? ssrp_error_name(rc) : "ok", ssrp_agent_state_name(r->state),
	       r->protection_on ? "on" : "off", r->n_protectors, escrowed, r->volume_changes,
	       r->http_requests, r->tpm_commands, r->journal_writes, r->keys_deleted,
	       r->rotation_pending, *r->association_mode ? r->association_mode : "none",
	       r->last_association ? "yes" : "never", r->association_pending,
	       *r->reason ? " reason=" : "", r->reason);
}

int main(int argc, char **argv)
{
	int runs = argc == 6 ? atoi(argv[5]) : 0;
	if (runs < 1 || runs > 2) {
		fprintf(stderr, "usage: agent_wine CONFIG VOLUME-SPEC TPM-SPEC JOURNAL 1|2\n");
		return 2;
	}
	if (ssrp_volume_backend_register(&wine_volume)) {
		fprintf(stderr, "registering wine-volume: %s\n", ssrp_error_last());
		return 1;
	}
	ssrp_agent_options opt = SSRP_AGENT_OPTIONS_INIT;
	opt.config_path = argv[1];
	opt.volume_spec = argv[2];
	opt.tpm_spec = argv[3];
	opt.journal_path = argv[4];
	int failed = 0;
	for (int run = 1; run <= runs; run++) {
		ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
		int rc = ssrp_agent_run(&opt, &r);
		report(run == 1 ? "first run" : "second run", rc, &r);
		failed |= rc || r.state != SSRP_AGENT_COMPLIANT || !r.protection_on;
		if (run == 2)
			failed |= r.volume_changes != 0;
	}
	fflush(stdout);
	return failed;
}
