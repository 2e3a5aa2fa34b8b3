/* `ssrp volume`: status, protectors, unlock, protection, data.
 * A thin layer over include/ssrp/volume.h. Recovery passwords come only
 * from files or standard input and are printed only by show-recovery or
 * add-recovery --show. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/buf.h>
#include <ssrp/sys/error.h>
#include <ssrp/volume.h>
#include "tools/cli_util.h"
#include "tools/cmd_volume.h"
#include "tools/cmd_volume_data.h"

typedef struct volume_args {
	const char *volume, *tpm, *rp_file, *password_file, *id, *in, *out, *pcrs;
	const char *offset, *length, *startup_key;
	int json, show, follow_symlink, force;
	const char *positional;
} volume_args;

static int parse_args(volume_args *a, int argc, char **argv)
{
	static const char secret_hint[] =
		"use --recovery-password-file FILE or --password-file FILE ('-' for standard input)";
	static const cli_option opts[] = {
		{"--volume", CLI_VALUE, offsetof(volume_args, volume), NULL},
		{"--tpm", CLI_VALUE, offsetof(volume_args, tpm), NULL},
		{"--recovery-password-file", CLI_VALUE, offsetof(volume_args, rp_file), NULL},
		{"--password-file", CLI_VALUE, offsetof(volume_args, password_file), NULL},
		{"--id", CLI_VALUE, offsetof(volume_args, id), NULL},
		{"--in", CLI_VALUE, offsetof(volume_args, in), NULL},
		{"--out", CLI_VALUE, offsetof(volume_args, out), NULL},
		{"--pcrs", CLI_VALUE, offsetof(volume_args, pcrs), NULL},
		{"--offset", CLI_VALUE, offsetof(volume_args, offset), NULL},
		{"--length", CLI_VALUE, offsetof(volume_args, length), NULL},
		{"--json", CLI_FLAG, offsetof(volume_args, json), NULL},
		{"--show", CLI_FLAG, offsetof(volume_args, show), NULL},
		{"--follow-symlink", CLI_FLAG, offsetof(volume_args, follow_symlink), NULL},
		{"--force", CLI_FLAG, offsetof(volume_args, force), NULL},
		{"--startup-key", CLI_VALUE, offsetof(volume_args, startup_key), NULL},
		{"--recovery-password", CLI_REFUSE_SECRET, 0, secret_hint},
		{"--password", CLI_REFUSE_SECRET, 0, secret_hint},
	};
	memset(a, 0, sizeof *a);
	int n_positional = 0;
	int rc = cli_parse_options(a, opts, sizeof opts / sizeof opts[0], &a->positional, 1,
				   &n_positional, argc, argv);
	if (rc)
		return rc;
	if (!a->volume)
		return cli_usage_error("no volume: give --volume bitlk:PATH");
	return 0;
}


/* A password file's first line, NUL-terminated, in a zeroed-on-free buffer. */
static int read_password(ssrp_buf *out, const char *path)
{
	int rc = cli_read_file(out, path, 255);
	if (rc)
		return rc;
	/* cli_read_file leaves room for one more byte: terminate before
	 * scanning, so strcspn stops inside the buffer. */
	out->data[out->len] = '\0';
	out->data[strcspn((const char *)out->data, "\r\n")] = '\0';
	return SSRP_OK;
}

static int open_tpm(ssrp_tpm **tpm, const volume_args *a)
{
	*tpm = NULL;
	return ssrp_tpm_open(tpm, cli_tpm_spec(a->tpm));
}

static int unlock_with_file(ssrp_volume *vol, const char *path)
{
	ssrp_buf pw = SSRP_BUF_INIT;
	int rc = read_password(&pw, path);
	if (!rc)
		rc = ssrp_volume_unlock_recovery_password(vol, (const char *)pw.data);
	ssrp_buf_free(&pw);
	return rc;
}

static int unlock_with_tpm(ssrp_volume *vol, const volume_args *a)
{
	ssrp_tpm *tpm;
	int rc = open_tpm(&tpm, a);
	if (!rc)
		rc = ssrp_volume_unlock_tpm(vol, tpm);
	ssrp_tpm_close(tpm);
	return rc;
}

/* The key the user gave for opening a volume: a recovery password file, a
 * user password file or a startup key (.BEK); 0 when none was given. */
static int unlock_with_given(ssrp_volume *vol, const volume_args *a, int *given)
{
	*given = 1;
	if (a->rp_file)
		return unlock_with_file(vol, a->rp_file);
	ssrp_buf key = SSRP_BUF_INIT;
	int rc;
	if (a->password_file) {
		rc = read_password(&key, a->password_file);
		if (!rc)
			rc = ssrp_volume_unlock_password(vol, (const char *)key.data);
	} else if (a->startup_key) {
		rc = cli_read_file(&key, a->startup_key, 64 * 1024);
		if (!rc)
			rc = ssrp_volume_unlock_startup_key(vol, key.data, key.len);
	} else {
		*given = 0;
		rc = SSRP_OK;
	}
	ssrp_buf_free(&key);
	return rc;
}

/* Unlock when locked: the recovery password file if given, else the TPM. */
static int ensure_unlocked(ssrp_volume *vol, const volume_args *a)
{
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	int rc = ssrp_volume_get_status(vol, &st);
	if (rc || !st.locked)
		return rc;
	if (a->rp_file)
		return unlock_with_file(vol, a->rp_file);
	if (!cli_tpm_spec(a->tpm))
		return ssrp_error_set(SSRP_E_LOCKED,
				      "the volume is locked: give --tpm SPEC or "
				      "--recovery-password-file FILE");
	return unlock_with_tpm(vol, a);
}

static int list(ssrp_volume *vol, ssrp_protector **out, size_t *n)
{
	*out = NULL;
	int rc = ssrp_volume_list_protectors(vol, NULL, 0, n);
	if (rc || !*n)
		return rc;
	*out = calloc(*n, sizeof **out);
	if (!*out)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	rc = ssrp_volume_list_protectors(vol, *out, *n, n);
	return rc;
}

static const char *protection_name(ssrp_protection p)
{
	return p == SSRP_PROTECTION_ON ? "on" : p == SSRP_PROTECTION_OFF ? "off" : "unknown";
}

/* BitLocker's conversion state, in words. */
static const char *conversion_name(uint16_t state, uint16_t next)
{
	int decrypting = next == SSRP_VOLUME_CONVERSION_DECRYPTED;
	switch (state) {
	case SSRP_VOLUME_CONVERSION_DECRYPTED: return "decrypted";
	case SSRP_VOLUME_CONVERSION_CONVERTING: return decrypting ? "decrypting" : "encrypting";
	case SSRP_VOLUME_CONVERSION_ENCRYPT_ON_WRITE: return "encrypt on write";
	case SSRP_VOLUME_CONVERSION_ENCRYPTED:
		return next == SSRP_VOLUME_CONVERSION_ENCRYPTED ? "encrypted" : "encrypted, changing";
	case SSRP_VOLUME_CONVERSION_PAUSED:
		return decrypting ? "decryption paused" : "encryption paused";
	default: return "unknown";
	}
}

static int cmd_status(ssrp_volume *vol, const volume_args *a)
{
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	ssrp_protector *ps = NULL;
	ssrp_volume_region regions[8];
	size_t n = 0, n_regions = 0;
	int rc = ssrp_volume_get_status(vol, &st);
	if (!rc)
		rc = list(vol, &ps, &n);
	if (!rc && (ssrp_volume_capabilities(vol) & SSRP_VOLUME_CAP_DATA))
		rc = ssrp_volume_reserved_regions(vol, regions, 8, &n_regions);
	if (rc) {
		free(ps);
		return cli_fail(rc);
	}
	if (st.metadata_note[0])
		fprintf(stderr, "ssrp: warning: %s: metadata %s\n", a->volume, st.metadata_note);
	if (a->json) {
		cJSON *root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "volume", a->volume);
		cJSON_AddStringToObject(root, "protection", protection_name(st.protection));
		cJSON_AddStringToObject(root, "encryption_method",
					ssrp_volume_method_name(st.encryption_method));
		cJSON_AddNumberToObject(root, "percent_encrypted", st.percent_encrypted);
		cJSON_AddBoolToObject(root, "locked", st.locked);
		cJSON_AddBoolToObject(root, "last_unlock_recovery", st.last_unlock_recovery);
		if (st.last_unlock_recovery_id[0])
			cJSON_AddStringToObject(root, "last_unlock_recovery_id", st.last_unlock_recovery_id);
		cJSON_AddNumberToObject(root, "size", (double)st.size);
		if (st.sector_size)
			cJSON_AddNumberToObject(root, "sector_size", st.sector_size);
		cJSON_AddBoolToObject(root, "to_go", st.to_go);
		cJSON_AddBoolToObject(root, "used_space_only", st.used_space_only);
		cJSON_AddNumberToObject(root, "metadata_copies_ok", st.metadata_copies_ok);
		if (st.conversion_state) {
			cJSON_AddStringToObject(root, "conversion_state",
						conversion_name(st.conversion_state,
								st.conversion_next_state));
			cJSON_AddNumberToObject(root, "conversion_state_code", st.conversion_state);
			cJSON_AddNumberToObject(root, "conversion_next_state_code",
						st.conversion_next_state);
			cJSON_AddNumberToObject(root, "encrypted_size", (double)st.encrypted_size);
		}
		cJSON *arr = cJSON_AddArrayToObject(root, "protectors");
		for (size_t i = 0; i < n; i++) {
			cJSON *p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "id", ps[i].id);
			cJSON_AddStringToObject(p, "type", ssrp_protector_type_name(ps[i].type));
			cJSON_AddStringToObject(p, "friendly_name", ps[i].friendly_name);
			cJSON_AddNumberToObject(p, "created", (double)ps[i].created);
			cJSON_AddItemToArray(arr, p);
		}
		cJSON *reg = cJSON_AddArrayToObject(root, "reserved_regions");
		for (size_t i = 0; i < n_regions && i < 8; i++) {
			cJSON *r = cJSON_CreateObject();
			cJSON_AddNumberToObject(r, "offset", (double)regions[i].offset);
			cJSON_AddNumberToObject(r, "length", (double)regions[i].length);
			cJSON_AddStringToObject(r, "what", regions[i].what);
			cJSON_AddItemToArray(reg, r);
		}
		char *text = cJSON_Print(root);
		cJSON_Delete(root);
		if (text)
			puts(text);
		cJSON_free(text);
	} else {
		printf("volume:        %s\n", a->volume);
		printf("protection:    %s\n", protection_name(st.protection));
		printf("encryption:    %s, %d%% encrypted\n",
		       ssrp_volume_method_name(st.encryption_method), st.percent_encrypted);
		if (st.conversion_state)
			printf("conversion:    %s, %llu bytes encrypted\n",
			       conversion_name(st.conversion_state, st.conversion_next_state),
			       (unsigned long long)st.encrypted_size);
		printf("lock:          %s\n", st.locked ? "locked" : "unlocked");
		printf("size:          %llu bytes", (unsigned long long)st.size);
		if (st.sector_size)
			printf(", %u-byte sectors", st.sector_size);
		printf("\n");
		if (st.to_go)
			printf("kind:          BitLocker To Go (readers find it through a FAT "
			       "discovery volume)\n");
		if (st.used_space_only)
			printf("kind:          used space only (free space is encrypted when "
			       "written)\n");
		if (st.last_unlock_recovery)
			printf("note:          recovery password %s unlocked this volume; rotate it\n",
			       st.last_unlock_recovery_id[0] ? st.last_unlock_recovery_id : "(unknown)");
		for (size_t i = 0; i < n; i++)
			printf("protector:     %s  %s%s%s\n", ps[i].id,
			       ssrp_protector_type_name(ps[i].type), ps[i].friendly_name[0] ? "  " : "",
			       ps[i].friendly_name);
		for (size_t i = 0; i < n_regions && i < 8; i++)
			printf("reserved:      %llu..%llu (%s)\n",
			       (unsigned long long)regions[i].offset,
			       (unsigned long long)(regions[i].offset + regions[i].length - 1),
			       regions[i].what);
	}
	free(ps);
	return EXIT_OK;
}

static int cmd_add_tpm(ssrp_volume *vol, const volume_args *a)
{
	uint32_t mask = SSRP_TPM_PCRS_DEFAULT;
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	ssrp_tpm *tpm = NULL;
	int rc = a->pcrs ? cli_parse_pcrs(&mask, a->pcrs) : SSRP_OK;
	if (!rc)
		rc = ensure_unlocked(vol, a);
	if (!rc)
		rc = open_tpm(&tpm, a);
	if (!rc)
		rc = ssrp_volume_add_tpm_protector(vol, tpm, mask, id);
	ssrp_tpm_close(tpm);
	if (rc)
		return cli_fail(rc);
	printf("%s\n", id);
	fprintf(stderr, "added TPM protector %s\n", id);
	return EXIT_OK;
}

static int print_password(ssrp_volume *vol, const char *id)
{
	ssrp_buf pw = SSRP_BUF_INIT;
	int rc = ssrp_volume_get_recovery_password(vol, id, &pw);
	if (!rc)
		printf("%s\n", (const char *)pw.data);
	ssrp_buf_free(&pw);
	return rc;
}

static int cmd_add_recovery(ssrp_volume *vol, const volume_args *a)
{
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	ssrp_buf pw = SSRP_BUF_INIT;
	int rc = ensure_unlocked(vol, a);
	if (!rc && a->password_file)
		rc = read_password(&pw, a->password_file);
	if (!rc)
		rc = ssrp_volume_add_recovery_password(vol, pw.data ? (const char *)pw.data : NULL, id);
	ssrp_buf_free(&pw);
	if (!rc && a->show)
		rc = print_password(vol, id);
	else if (!rc)
		printf("%s\n", id);
	if (rc)
		return cli_fail(rc);
	fprintf(stderr, "added recovery password protector %s\n", id);
	return EXIT_OK;
}

static int cmd_show_recovery(ssrp_volume *vol, const volume_args *a)
{
	if (!a->id)
		return cli_usage_error("volume show-recovery needs --id ID");
	int rc = ensure_unlocked(vol, a);
	if (!rc)
		rc = print_password(vol, a->id);
	return rc ? cli_fail(rc) : EXIT_OK;
}

static int cmd_remove(ssrp_volume *vol, const volume_args *a)
{
	if (!a->id)
		return cli_usage_error("volume remove needs --id ID");
	/* The metadata is sealed with the volume master key: unlock first. */
	int given = 0;
	int rc = unlock_with_given(vol, a, &given);
	if (!rc && !given)
		rc = ensure_unlocked(vol, a);
	if (!rc)
		rc = ssrp_volume_delete_protector(vol, a->id);
	if (rc)
		return cli_fail(rc);
	fprintf(stderr, "removed protector %s\n", a->id);
	return EXIT_OK;
}

/* After a recovery unlock the TPM protector is sealed to the boot state
 * that sent the machine into recovery; with a TPM at hand, seal it to the
 * current one, as BitLocker does after a recovery boot. */
static void reseal_after_recovery(ssrp_volume *vol, const volume_args *a)
{
	ssrp_tpm *tpm;
	if (!cli_tpm_spec(a->tpm) || open_tpm(&tpm, a) != SSRP_OK)
		return;
	int rc = ssrp_volume_reseal_tpm_protector(vol, tpm, 0);
	if (rc == SSRP_OK)
		fprintf(stderr, "sealed the TPM protector to this boot's PCR values again\n");
	else if (rc != SSRP_E_NOTFOUND && rc != SSRP_E_NOTSUPPORTED)
		fprintf(stderr, "ssrp: the TPM protector could not be sealed again: %s\n", ssrp_error_last());
	ssrp_tpm_close(tpm);
}

static int cmd_unlock(ssrp_volume *vol, const volume_args *a)
{
	int given = 0;
	int rc = unlock_with_given(vol, a, &given);
	if (!rc && !given)
		rc = unlock_with_tpm(vol, a);
	if (rc)
		return cli_fail(rc);
	fprintf(stderr, "unlocked with %s\n",
		a->rp_file ? "the recovery password"
		: a->password_file ? "the password"
		: a->startup_key ? "the startup key"
				 : "the TPM");
	if (a->rp_file)
		reseal_after_recovery(vol, a);
	return EXIT_OK;
}

static int cmd_protection(ssrp_volume *vol, const volume_args *a)
{
	int on = a->positional && !strcmp(a->positional, "on");
	if (!a->positional || (!on && strcmp(a->positional, "off")))
		return cli_usage_error("volume protection takes 'on' or 'off'");
	int rc = on ? SSRP_OK : ensure_unlocked(vol, a);
	if (!rc)
		rc = on ? ssrp_volume_protection_on(vol) : ssrp_volume_protection_off(vol);
	if (rc)
		return cli_fail(rc);
	fprintf(stderr, "protection %s\n", on ? "on" : "off (a clear key opens the volume)");
	return EXIT_OK;
}

static int cmd_write(ssrp_volume *vol, const volume_args *a)
{
	uint64_t offset;
	if (!a->offset || !a->in)
		return cli_usage_error("volume write needs --offset N and --in FILE");
	int urc = cli_parse_size(&offset, a->offset, "--offset");
	if (urc)
		return urc;
	ssrp_buf data = SSRP_BUF_INIT;
	int rc = cli_read_file(&data, a->in, 64u * 1024 * 1024);
	if (!rc)
		rc = ensure_unlocked(vol, a);
	if (!rc)
		rc = ssrp_volume_write(vol, offset, data.data, data.len);
	if (!rc)
		fprintf(stderr, "wrote %zu bytes at offset %llu\n", data.len,
			(unsigned long long)offset);
	ssrp_buf_free(&data);
	return rc ? cli_fail(rc) : EXIT_OK;
}

static int cmd_read(ssrp_volume *vol, const volume_args *a)
{
	uint64_t offset, length;
	if (!a->offset || !a->length || !a->out)
		return cli_usage_error("volume read needs --offset N, --length L and --out FILE");
	int urc = cli_parse_size(&offset, a->offset, "--offset");
	if (!urc)
		urc = cli_parse_size(&length, a->length, "--length");
	if (urc)
		return urc;
	if (length > 64u * 1024 * 1024)
		return cli_usage_error("volume read moves at most 64M at a time");
	uint8_t *buf = ssrp_malloc((size_t)length);
	int given = 0;
	int rc = buf ? unlock_with_given(vol, a, &given) : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (!rc && !given)
		rc = ensure_unlocked(vol, a);
	if (!rc)
		rc = ssrp_volume_read(vol, offset, buf, (size_t)length);
	if (!rc)
		rc = cli_write_private_file(a->out, buf, (size_t)length, a->follow_symlink);
	ssrp_free_secret(buf, buf ? (size_t)length : 0);
	return rc ? cli_fail(rc) : EXIT_OK;
}

/* The whole decrypted volume as Windows sees it, streamed to --out. */
static int cmd_decrypt(ssrp_volume *vol, const volume_args *a)
{
	if (!a->out)
		return cli_usage_error("volume decrypt needs --out FILE (or - for standard output)");
	int given = 0;
	int rc = unlock_with_given(vol, a, &given);
	if (!rc && !given)
		rc = ensure_unlocked(vol, a);
	if (!rc)
		rc = cli_volume_stream_decrypted(vol, a->out, a->force);
	return rc ? cli_fail(rc) : EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(ssrp_volume *, const volume_args *);
	int read_only; /* opens bitlk:/sim: volumes without write access */
} commands[] = {
	{"status", cmd_status, 1},	{"add-tpm", cmd_add_tpm, 0},
	{"add-recovery", cmd_add_recovery, 0}, {"show-recovery", cmd_show_recovery, 0},
	{"remove", cmd_remove, 0},	{"unlock", cmd_unlock, 0},
	{"protection", cmd_protection, 0}, {"write", cmd_write, 0},
	{"read", cmd_read, 1},		{"decrypt", cmd_decrypt, 1},
};

int ssrp_cmd_volume(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("volume needs a subcommand: status, add-tpm, "
				       "add-recovery, show-recovery, remove, unlock, protection, "
				       "write, read, decrypt");
	volume_args a;
	int rc = parse_args(&a, argc - 2, argv + 2);
	if (rc)
		return rc;
	if (!strcmp(argv[1], "create"))
		return cli_usage_error("volume create makes simulated volumes: it is ssrp-sim's "
				       "(ssrp-sim volume create --volume sim:IMG --size 64M)");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (a.positional && commands[i].run != cmd_protection)
			return cli_usage_error("volume %s: unexpected argument '%s'", argv[1],
					       a.positional);
		ssrp_volume *vol = NULL;
		char spec[1100];
		rc = ssrp_volume_open(&vol, commands[i].read_only
						    ? cli_volume_spec_read_only(spec, sizeof spec, a.volume)
						    : a.volume);
		if (rc)
			return cli_fail(rc);
		ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
		if (!commands[i].read_only && ssrp_volume_get_status(vol, &st) == SSRP_OK &&
		    st.metadata_note[0])
			fprintf(stderr, "ssrp: %s: metadata %s\n", a.volume, st.metadata_note);
		rc = commands[i].run(vol, &a);
		ssrp_volume_close(vol);
		return rc;
	}
	return cli_usage_error("unknown volume subcommand '%s'", argv[1]);
}
