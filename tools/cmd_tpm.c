/* `ssrp tpm`: info, random, pcr-read, pcr-extend, seal, unseal,
 * srk-provision. A thin layer over include/ssrp/tpm.h. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/tpm.h>
#include "tools/cli_util.h"
#include "tools/cmd_tpm.h"

/* The options any tpm subcommand may take. */
typedef struct tpm_args {
	const char *spec, *in, *out, *data, *pcrs;
	int json, raw, follow_symlink;
	const char *positional[2];
	int n_positional;
} tpm_args;

static int parse_args(tpm_args *a, int argc, char **argv)
{
	static const cli_option opts[] = {
		{"--tpm", CLI_VALUE, offsetof(tpm_args, spec), NULL},
		{"--in", CLI_VALUE, offsetof(tpm_args, in), NULL},
		{"--out", CLI_VALUE, offsetof(tpm_args, out), NULL},
		{"--data", CLI_VALUE, offsetof(tpm_args, data), NULL},
		{"--pcrs", CLI_VALUE, offsetof(tpm_args, pcrs), NULL},
		{"--json", CLI_FLAG, offsetof(tpm_args, json), NULL},
		{"--raw", CLI_FLAG, offsetof(tpm_args, raw), NULL},
		{"--follow-symlink", CLI_FLAG, offsetof(tpm_args, follow_symlink), NULL},
	};
	memset(a, 0, sizeof *a);
	return cli_parse_options(a, opts, sizeof opts / sizeof opts[0], a->positional, 2,
				 &a->n_positional, argc, argv);
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static char *hex(char *dst, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(dst + 2 * i, "%02x", p[i]);
	dst[2 * n] = '\0';
	return dst;
}

static int print_json(cJSON *root)
{
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return EXIT_FAILURE_;
	puts(text);
	cJSON_free(text);
	return EXIT_OK;
}

static void pcr_list(char *dst, size_t size, uint32_t mask)
{
	size_t n = 0;
	dst[0] = '\0';
	for (unsigned i = 0; i < 24 && n < size; i++)
		if (mask & (1u << i))
			n += (size_t)snprintf(dst + n, size - n, "%s%u", n ? "," : "", i);
}

static int cmd_info(ssrp_tpm *tpm, const tpm_args *a)
{
	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	int rc = ssrp_tpm_get_info(tpm, &info);
	if (rc)
		return cli_fail(rc);
	char pcrs[80];
	if (a->json) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "backend", ssrp_tpm_backend_name(tpm));
		cJSON_AddBoolToObject(root, "present", info.present);
		cJSON_AddStringToObject(root, "family", info.family);
		cJSON_AddStringToObject(root, "manufacturer", info.manufacturer);
		cJSON_AddNumberToObject(root, "manufacturer_id", info.manufacturer_id);
		cJSON_AddStringToObject(root, "vendor", info.vendor);
		char fw[32];
		snprintf(fw, sizeof fw, "%u.%u.%u.%u", info.firmware_1 >> 16, info.firmware_1 & 0xFFFF,
			 info.firmware_2 >> 16, info.firmware_2 & 0xFFFF);
		cJSON_AddStringToObject(root, "firmware", fw);
		cJSON_AddNumberToObject(root, "spec_level", info.spec_level);
		cJSON_AddNumberToObject(root, "spec_revision", info.spec_revision);
		cJSON *banks = cJSON_AddArrayToObject(root, "pcr_banks");
		for (unsigned i = 0; i < info.n_banks; i++) {
			cJSON *b = cJSON_CreateObject();
			cJSON_AddStringToObject(b, "alg", ssrp_tpm_alg_name(info.banks[i].alg));
			pcr_list(pcrs, sizeof pcrs, info.banks[i].pcr_mask);
			cJSON_AddStringToObject(b, "pcrs", pcrs);
			cJSON_AddItemToArray(banks, b);
		}
		cJSON *lock = cJSON_AddObjectToObject(root, "lockout");
		cJSON_AddNumberToObject(lock, "counter", info.lockout_counter);
		cJSON_AddNumberToObject(lock, "max_tries", info.max_auth_fail);
		cJSON_AddNumberToObject(lock, "interval_s", info.lockout_interval);
		cJSON_AddNumberToObject(lock, "recovery_s", info.lockout_recovery);
		cJSON_AddBoolToObject(lock, "in_lockout", info.in_lockout);
		return print_json(root);
	}
	printf("backend:       %s\n", ssrp_tpm_backend_name(tpm));
	printf("present:       %s\n", info.present ? "yes" : "no");
	printf("family:        %s\n", info.family);
	printf("manufacturer:  %s (0x%08x)\n", info.manufacturer, info.manufacturer_id);
	printf("vendor:        %s\n", info.vendor);
	printf("firmware:      %u.%u.%u.%u\n", info.firmware_1 >> 16, info.firmware_1 & 0xFFFF,
	       info.firmware_2 >> 16, info.firmware_2 & 0xFFFF);
	printf("spec:          level %u, revision %u.%02u\n", info.spec_level,
	       info.spec_revision / 100, info.spec_revision % 100);
	for (unsigned i = 0; i < info.n_banks; i++) {
		pcr_list(pcrs, sizeof pcrs, info.banks[i].pcr_mask);
		printf("pcr bank:      %-7s PCRs %s\n", ssrp_tpm_alg_name(info.banks[i].alg), pcrs);
	}
	printf("lockout:       %u of %u failures counted, one forgiven every %u s, %s\n",
	       info.lockout_counter, info.max_auth_fail, info.lockout_interval,
	       info.in_lockout ? "IN LOCKOUT" : "not in lockout");
	return EXIT_OK;
}

static int cmd_random(ssrp_tpm *tpm, const tpm_args *a)
{
	uint64_t n = 0;
	if (!a->n_positional || cli_parse_uint(&n, a->positional[0], 1, 4096))
		return cli_usage_error("tpm random takes a byte count from 1 to 4096");
	uint8_t buf[4096];
	int rc = ssrp_tpm_get_random(tpm, buf, n);
	if (rc)
		return cli_fail(rc);
	if (a->raw)
		fwrite(buf, 1, n, stdout);
	else
		print_hex(buf, n);
	return EXIT_OK;
}

static int cmd_pcr_read(ssrp_tpm *tpm, const tpm_args *a)
{
	uint32_t mask = SSRP_TPM_PCRS_DEFAULT;
	int rc = a->pcrs ? cli_parse_pcrs(&mask, a->pcrs) : SSRP_OK;
	if (rc)
		return cli_fail(rc);
	ssrp_pcr_values v;
	if ((rc = ssrp_tpm_pcr_read(tpm, &v, mask)))
		return cli_fail(rc);
	char h[65], name[8];
	cJSON *root = a->json ? cJSON_CreateObject() : NULL;
	cJSON *bank = root ? cJSON_AddObjectToObject(root, "sha256") : NULL;
	for (unsigned i = 0; i < SSRP_TPM_PCR_COUNT; i++) {
		if (!(v.mask & (1u << i)))
			continue;
		hex(h, v.digest[i], 32);
		if (bank) {
			snprintf(name, sizeof name, "%u", i);
			cJSON_AddStringToObject(bank, name, h);
		} else {
			printf("sha256:%-2u %s\n", i, h);
		}
	}
	return root ? print_json(root) : EXIT_OK;
}

static int cmd_pcr_extend(ssrp_tpm *tpm, const tpm_args *a)
{
	uint64_t pcr = 0;
	if (!a->n_positional || cli_parse_uint(&pcr, a->positional[0], 0, 23))
		return cli_usage_error("tpm pcr-extend takes a PCR number from 0 to 23");
	if (!a->data)
		return cli_usage_error("tpm pcr-extend needs --data TEXT (the event measured)");
	int rc = ssrp_tpm_pcr_extend(tpm, (unsigned)pcr, a->data, strlen(a->data));
	if (rc)
		return cli_fail(rc);
	fprintf(stderr, "measured %zu bytes into PCR %lu\n", strlen(a->data), pcr);
	return EXIT_OK;
}

static int cmd_seal(ssrp_tpm *tpm, const tpm_args *a)
{
	uint32_t mask = SSRP_TPM_PCRS_DEFAULT;
	if (!a->in || !a->out)
		return cli_usage_error("tpm seal needs --in FILE (the secret) and --out BLOB");
	int rc = a->pcrs ? cli_parse_pcrs(&mask, a->pcrs) : SSRP_OK;
	ssrp_buf secret = SSRP_BUF_INIT, blob = SSRP_BUF_INIT;
	if (!rc)
		rc = cli_read_file(&secret, a->in, SSRP_TPM_SEAL_MAX);
	if (!rc)
		rc = ssrp_tpm_seal(tpm, &blob, secret.data, secret.len, mask);
	if (!rc)
		rc = cli_write_private_file(a->out, blob.data, blob.len, a->follow_symlink);
	char pcrs[80];
	pcr_list(pcrs, sizeof pcrs, mask);
	if (!rc)
		fprintf(stderr, "sealed %zu bytes to sha256 PCRs %s into %s\n", secret.len, pcrs,
			a->out);
	ssrp_buf_free(&secret);
	ssrp_buf_free(&blob);
	return rc ? cli_fail(rc) : EXIT_OK;
}

static int cmd_unseal(ssrp_tpm *tpm, const tpm_args *a)
{
	if (!a->in || !a->out)
		return cli_usage_error("tpm unseal needs --in BLOB and --out FILE ('-' for stdout)");
	ssrp_buf blob = SSRP_BUF_INIT, secret = SSRP_BUF_INIT;
	int rc = cli_read_file(&blob, a->in, 16384);
	if (!rc)
		rc = ssrp_tpm_unseal(tpm, &secret, blob.data, blob.len);
	if (!rc)
		rc = cli_write_private_file(a->out, secret.data, secret.len, a->follow_symlink);
	if (!rc && strcmp(a->out, "-"))
		fprintf(stderr, "unsealed %zu bytes into %s\n", secret.len, a->out);
	ssrp_buf_free(&blob);
	ssrp_buf_free(&secret);
	return rc ? cli_fail(rc) : EXIT_OK;
}

static int cmd_srk_provision(ssrp_tpm *tpm, const tpm_args *a)
{
	(void)a;
	int created = 0;
	int rc = ssrp_tpm_srk_provision(tpm, &created);
	if (rc)
		return cli_fail(rc);
	fprintf(stderr, "%s\n", created ? "created the SRK at persistent handle 0x81000001"
					: "an SRK is already at persistent handle 0x81000001");
	return EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(ssrp_tpm *, const tpm_args *);
	int positional; /* positional arguments it takes */
} commands[] = {
	{"info", cmd_info, 0},
	{"random", cmd_random, 1},
	{"pcr-read", cmd_pcr_read, 0},
	{"pcr-extend", cmd_pcr_extend, 1},
	{"seal", cmd_seal, 0},
	{"unseal", cmd_unseal, 0},
	{"srk-provision", cmd_srk_provision, 0},
};

int ssrp_cmd_tpm(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("tpm needs a subcommand: info, random, pcr-read, pcr-extend, "
				       "seal, unseal, srk-provision");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		tpm_args a;
		int rc = parse_args(&a, argc - 2, argv + 2);
		if (rc)
			return rc;
		if (a.n_positional > commands[i].positional)
			return cli_usage_error("tpm %s: unexpected argument '%s'", commands[i].name,
					       a.positional[commands[i].positional]);
		ssrp_tpm *tpm = NULL;
		rc = ssrp_tpm_open(&tpm, cli_tpm_spec(a.spec));
		if (rc)
			return cli_fail(rc);
		rc = commands[i].run(tpm, &a);
		ssrp_tpm_close(tpm);
		return rc;
	}
	return cli_usage_error("unknown tpm subcommand '%s'", argv[1]);
}
