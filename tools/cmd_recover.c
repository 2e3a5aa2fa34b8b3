/* `ssrp recover`: a person reads the BitLocker recovery password of a
 * device they own from Entra ID (escrow/recover.h), or unlocks a volume
 * with it without ever seeing it.
 *
 *   ssrp recover [--config FILE] [--device NAME | --key-id HEX] [--list]
 *                [--json] [--unlock VOLUME [--tpm SPEC]] [--username UPN --password-file F]
 *
 * Without --username the sign-in is a device code: the prompt goes to
 * standard error, the password (what was asked for) to standard output. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ssrp/buf.h>
#include <ssrp/config.h>
#include <ssrp/recover.h>
#include <ssrp/sys/error.h>
#include <ssrp/tpm.h>
#include <ssrp/volume.h>
#include "tools/cli_util.h"
#include "tools/cmd_recover.h"
#include "tools/cmd_volume_data.h"

static const char usage[] =
	"usage: ssrp recover [--config FILE] [--device NAME | --key-id HEX] [--list] [--json]\n"
	"                    [--unlock VOLUME [--tpm SPEC] [--out FILE|- [--force]]]\n"
	"                    [--username UPN --password-file FILE]\n"
	"\n"
	"Signs you in (a device code to enter at a browser; --username with --password-file\n"
	"uses the password grant, for the simulator and tests), finds the devices you own\n"
	"in Entra ID and prints the recovery password of one of them:\n"
	"  --device NAME    the device by its name\n"
	"  --key-id HEX     the key by its id or the start of it, at least 8 hex digits\n"
	"                   (the recovery screen shows the key id)\n"
	"  --list           list your devices with their key ids and dates, print no key\n"
	"  --json           {\"device\",\"keyId\",\"created\",\"recoveryPassword\"}\n"
	"  --unlock VOLUME  unlock that volume (e.g. bitlk:IMG?rw) with the key instead of\n"
	"                   printing it; with --tpm SPEC, then seal its TPM protector to\n"
	"                   this boot's PCR values, as BitLocker does after a recovery\n"
	"                   boot\n"
	"  --out FILE|-     with --unlock: then write the decrypted volume, as Windows\n"
	"                   sees it, to FILE (complete or not at all; an existing FILE\n"
	"                   only with --force) or standard output: a dead machine's disk\n"
	"                   rescued without anyone seeing its password\n"
	"The configuration comes from --config (default /etc/ssrp/config.json).\n"
	"Exit codes: 0 ok, 10 refused (not your device, no such key), 8 the key did not\n"
	"unlock the volume, 2 usage, 1 anything else.\n";

typedef struct recover_args {
	const char *config, *device, *key_id, *unlock, *tpm, *username, *password_file, *out;
	int list, json, help, force;
	const char *positional;
} recover_args;

static void show_code(const char *uri, const char *code, const char *message, void *ctx)
{
	(void)message;
	(void)ctx;
	fprintf(stderr, "To sign in, open %s and enter the code %s.\n", uri, code);
	fflush(stderr);
}

static int print_list(const ssrp_recover_list *l, int json)
{
	if (json) {
		cJSON *root = cJSON_CreateArray();
		int bad = !root;
		for (size_t i = 0; !bad && i < l->n; i++) {
			const ssrp_recover_device *d = &l->devices[i];
			cJSON *o = cJSON_CreateObject();
			cJSON *keys = NULL;
			bad = !o || !cJSON_AddItemToArray(root, o) ||
			      !cJSON_AddStringToObject(o, "device", d->name) ||
			      !cJSON_AddStringToObject(o, "deviceId", d->device_id) ||
			      !(keys = cJSON_AddArrayToObject(o, "keys"));
			for (size_t k = 0; !bad && k < d->n_keys; k++) {
				cJSON *ko = cJSON_CreateObject();
				bad = !ko || !cJSON_AddItemToArray(keys, ko) ||
				      !cJSON_AddStringToObject(ko, "keyId", d->keys[k].id) ||
				      !cJSON_AddStringToObject(ko, "created", d->keys[k].created) ||
				      !cJSON_AddStringToObject(ko, "volumeType", d->keys[k].volume_type);
			}
		}
		char *text = bad ? NULL : cJSON_Print(root);
		cJSON_Delete(root);
		if (!text)
			return cli_fail(ssrp_error_set(SSRP_E_NOMEM, "out of memory"));
		printf("%s\n", text);
		cJSON_free(text);
		return EXIT_OK;
	}
	if (!l->n) {
		printf("You own no devices in Entra ID.\n");
		return EXIT_OK;
	}
	for (size_t i = 0; i < l->n; i++) {
		const ssrp_recover_device *d = &l->devices[i];
		printf("%s  (device id %s)\n", d->name[0] ? d->name : "(no name)",
		       d->device_id[0] ? d->device_id : "none");
		if (!d->n_keys)
			printf("    no recovery key escrowed\n");
		for (size_t k = 0; k < d->n_keys; k++)
			printf("    key id %s  created %s%s%s\n", d->keys[k].id,
			       d->keys[k].created[0] ? d->keys[k].created : "(unknown)",
			       d->keys[k].volume_type[0] ? "  volume type " : "",
			       d->keys[k].volume_type);
	}
	return EXIT_OK;
}

/* Several keys match and a person is at the terminal: let them pick. */
static int menu(const ssrp_recover_list *l, const recover_args *a, ssrp_recover_choice *out)
{
	size_t n = ssrp_recover_candidates(l, a->device, a->key_id, NULL, 0);
	ssrp_recover_choice *c = ssrp_calloc(n, sizeof *c);
	if (!c)
		return cli_fail(ssrp_error_set(SSRP_E_NOMEM, "out of memory"));
	ssrp_recover_candidates(l, a->device, a->key_id, c, n);
	fprintf(stderr, "Recovery keys of your devices:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %2zu) %s  key id %s  created %s\n", i + 1, c[i].device->name,
			c[i].key->id, c[i].key->created[0] ? c[i].key->created : "(unknown)");
	fprintf(stderr, "Which one (1-%zu)? ", n);
	fflush(stderr);
	char line[32];
	int rc = EXIT_OK;
	char *end = NULL;
	unsigned long pick = fgets(line, sizeof line, stdin) ? strtoul(line, &end, 10) : 0;
	while (end && (*end == '\n' || *end == ' ' || *end == '\r'))
		end++;
	if (!end || *end || pick < 1 || pick > n)
		rc = cli_usage_error("no key chosen: answer with a number from 1 to %zu", n);
	else
		*out = c[pick - 1];
	ssrp_free(c);
	return rc;
}

static int print_key(const ssrp_recover_choice *c, const char *password, int json)
{
	if (!json) {
		printf("device:            %s\nkey id:            %s\ncreated:           %s\n"
		       "recovery password: %s\n",
		       c->device->name, c->key->id, c->key->created, password);
		return EXIT_OK;
	}
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (o && cJSON_AddStringToObject(o, "device", c->device->name) &&
	    cJSON_AddStringToObject(o, "keyId", c->key->id) &&
	    cJSON_AddStringToObject(o, "created", c->key->created) &&
	    cJSON_AddStringToObject(o, "recoveryPassword", password))
		text = cJSON_PrintUnformatted(o);
	cJSON *pw = cJSON_GetObjectItemCaseSensitive(o, "recoveryPassword");
	if (cJSON_IsString(pw))
		ssrp_memzero(pw->valuestring, strlen(pw->valuestring));
	cJSON_Delete(o);
	if (!text)
		return cli_fail(ssrp_error_set(SSRP_E_NOMEM, "out of memory"));
	printf("%s\n", text);
	ssrp_memzero(text, strlen(text));
	cJSON_free(text);
	return EXIT_OK;
}

static int unlock_volume(const char *spec, const char *tpm_spec, const ssrp_recover_choice *c,
			 const char *password, const char *out, int force)
{
	ssrp_volume *vol = NULL;
	int rc = ssrp_volume_open(&vol, spec);
	int resealed = 0;
	/* With the volume on standard output, what happened goes to stderr. */
	FILE *say = out && !strcmp(out, "-") ? stderr : stdout;
	if (!rc) {
		rc = ssrp_volume_unlock_recovery_password(vol, password);
		/* As BitLocker does after a recovery boot: with a TPM at hand
		 * (--tpm), seal the TPM protector to this boot's PCRs, so
		 * the next start unlocks by itself again. */
		ssrp_tpm *tpm = NULL;
		if (rc == SSRP_OK && tpm_spec && ssrp_tpm_open(&tpm, tpm_spec) == SSRP_OK)
			resealed = ssrp_volume_reseal_tpm_protector(vol, tpm, 0) == SSRP_OK;
		ssrp_tpm_close(tpm);
		if (rc) {
			ssrp_error_prefix(rc, "the recovery key %s of %s did not unlock %s",
					  c->key->id, c->device->name, spec);
		} else if (out && (rc = cli_volume_stream_decrypted(vol, out, force))) {
			ssrp_error_prefix(rc, "unlocked %s, but its decrypted volume was not written",
					  spec);
		}
		ssrp_volume_close(vol);
	} else {
		ssrp_error_prefix(rc, "the recovery key %s of %s did not unlock %s", c->key->id,
				  c->device->name, spec);
	}
	if (rc)
		return cli_fail(rc);
	fprintf(say, "unlocked %s with the recovery key %s of %s\n", spec, c->key->id,
		c->device->name);
	if (resealed)
		fprintf(say, "sealed its TPM protector to this boot's PCR values again\n");
	if (out && strcmp(out, "-"))
		fprintf(say, "wrote the decrypted volume to %s\n", out);
	return EXIT_OK;
}

static int run(const recover_args *a)
{
	ssrp_cloud_config *cfg = NULL;
	int rc = cli_load_config(&cfg, a->config, NULL);
	if (rc)
		return rc;
	ssrp_recover_signin how = {.version = SSRP_RECOVER_SIGNIN_VERSION,
				   .username = a->username,
				   .password_file = a->password_file,
				   .prompt = show_code};
	ssrp_graph *g = NULL;
	ssrp_recover_list list = SSRP_RECOVER_LIST_INIT;
	int ex = EXIT_OK;
	char upn[256];
	rc = ssrp_recover_connect(&g, cfg, &how);
	if (!rc)
		rc = ssrp_graph_token(g); /* the sign-in */
	if (!rc)
		rc = ssrp_recover_whoami(g, upn, sizeof upn);
	if (!rc) {
		fprintf(stderr, "signed in as %s\n", upn);
		rc = ssrp_recover_list_devices(g, &list);
	}
	if (rc) {
		ex = cli_fail(rc);
		goto out;
	}
	if (a->list) {
		ex = print_list(&list, a->json);
		goto out;
	}
	ssrp_recover_choice c;
	rc = ssrp_recover_choose(&list, a->device, a->key_id, &c);
	if (rc == SSRP_E_INVALID && ssrp_recover_candidates(&list, a->device, a->key_id, NULL, 0) > 1) {
		if (isatty(0)) {
			ex = menu(&list, a, &c);
			if (ex)
				goto out;
			rc = SSRP_OK;
		} else {
			ex = cli_fail(rc);
			fprintf(stderr, "ssrp: pick one with --key-id and as many digits of its id "
					"as said above (see 'ssrp recover --list')\n");
			goto out;
		}
	}
	if (rc) {
		ex = cli_fail(rc);
		goto out;
	}
	char password[SSRP_RECOVERY_PASSWORD_LEN + 1];
	rc = ssrp_recover_fetch_key(g, c.key->id, password);
	if (rc) {
		ex = cli_fail(rc);
		goto out;
	}
	ex = a->unlock ? unlock_volume(a->unlock, cli_tpm_spec(a->tpm), &c, password, a->out, a->force) : print_key(&c, password, a->json);
	ssrp_memzero(password, sizeof password);
out:
	fflush(stdout);
	ssrp_recover_list_free(&list);
	ssrp_graph_free(g);
	ssrp_cloud_config_free(cfg);
	return ex;
}

int ssrp_cmd_recover(int argc, char **argv)
{
	static const char secret_hint[] = "use --password-file FILE (mode 0600)";
	static const cli_option opts[] = {
		{"--config", CLI_VALUE, offsetof(recover_args, config), NULL},
		{"--device", CLI_VALUE, offsetof(recover_args, device), NULL},
		{"--key-id", CLI_VALUE, offsetof(recover_args, key_id), NULL},
		{"--unlock", CLI_VALUE, offsetof(recover_args, unlock), NULL},
		{"--tpm", CLI_VALUE, offsetof(recover_args, tpm), NULL},
		{"--username", CLI_VALUE, offsetof(recover_args, username), NULL},
		{"--password-file", CLI_VALUE, offsetof(recover_args, password_file), NULL},
		{"--out", CLI_VALUE, offsetof(recover_args, out), NULL},
		{"--force", CLI_FLAG, offsetof(recover_args, force), NULL},
		{"--list", CLI_FLAG, offsetof(recover_args, list), NULL},
		{"--json", CLI_FLAG, offsetof(recover_args, json), NULL},
		{"--help", CLI_FLAG, offsetof(recover_args, help), NULL},
		{"-h", CLI_FLAG, offsetof(recover_args, help), NULL},
		{"--password", CLI_REFUSE_SECRET, 0, secret_hint},
		{"--recovery-password", CLI_REFUSE_SECRET, 0,
		 "ssrp recover prints the recovery password; it takes none"},
	};
	recover_args a;
	memset(&a, 0, sizeof a);
	int n_positional = 0;
	int rc = cli_parse_options(&a, opts, sizeof opts / sizeof opts[0], &a.positional, 1,
				   &n_positional, argc - 1, argv + 1);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (a.positional)
		return cli_usage_error("recover: unexpected argument '%s'", a.positional);
	if (a.username && !a.password_file)
		return cli_usage_error("recover: --username needs --password-file FILE");
	if (a.password_file && !a.username)
		return cli_usage_error("recover: --password-file needs --username UPN");
	if (a.list && (a.device || a.key_id || a.unlock))
		return cli_usage_error("recover: --list prints every key id; it takes no --device, "
				       "--key-id or --unlock");
	if ((a.out || a.force) && !a.unlock)
		return cli_usage_error("recover: --out and --force go with --unlock VOLUME");
	if (a.unlock && a.json)
		return cli_usage_error("recover: --unlock prints no password, so no --json");
	return run(&a);
}
