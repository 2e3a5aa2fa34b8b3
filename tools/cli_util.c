/* Helpers shared by the ssrp command's subcommands. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ssrp/buf.h>
#include <ssrp/file.h>
#include <ssrp/sys/error.h>
#include "tools/cli_util.h"

int cli_fail(int rc)
{
	const char *msg = ssrp_error_last();
	fprintf(stderr, "ssrp: %s\n", *msg ? msg : ssrp_error_name(rc));
	switch (rc) {
	case SSRP_E_INVALID:
	case SSRP_E_SPEC: return EXIT_USAGE;
	case SSRP_E_TPM_ABSENT:
	case SSRP_E_TPM_BUSY: return EXIT_NO_TPM;
	case SSRP_E_TPM_PCR_MISMATCH: return EXIT_PCR_MISMATCH;
	case SSRP_E_TPM_LOCKOUT: return EXIT_LOCKOUT;
	case SSRP_E_FORMAT:
	case SSRP_E_TPM_WRONG_TPM:
	case SSRP_E_TPM_INTEGRITY: return EXIT_BAD_DATA;
	case SSRP_E_NOTSUPPORTED: return EXIT_UNSUPPORTED;
	case SSRP_E_BAD_KEY: return EXIT_BAD_KEY;
	case SSRP_E_LOCKED: return EXIT_LOCKED;
	case SSRP_E_REFUSED:
	case SSRP_E_RESERVED: return EXIT_REFUSED;
	default: return EXIT_FAILURE_;
	}
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("ssrp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see 'ssrp help')\n", stderr);
	return EXIT_USAGE;
}

int cli_read_file(ssrp_buf *out, const char *path, size_t max)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = ssrp_fs_read_input(path, max, &data, &len);
	if (rc)
		return rc;
	/* One byte beyond the data is ours and NUL: callers may terminate. */
	out->data = data;
	out->len = len;
	return SSRP_OK;
}

int cli_write_private_file(const char *path, const uint8_t *data, size_t len, int follow_symlink)
{
	return ssrp_fs_write_output(path, data, len, 0600,
				    follow_symlink ? SSRP_FS_FOLLOW_SYMLINK : 0);
}

int cli_parse_uint(uint64_t *out, const char *text, uint64_t min, uint64_t max)
{
	/* Digits only: no sign, no blanks, no base prefix, and nothing that
	 * strtoull would quietly clamp (2^64 is not 2^64 - 1). */
	if (!text || !*text)
		return ssrp_error_set(SSRP_E_INVALID, "expected a number, got nothing");
	uint64_t v = 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return ssrp_error_set(SSRP_E_INVALID, "'%s' is not a whole number", text);
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return ssrp_error_set(SSRP_E_INVALID, "'%s' is too large", text);
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return ssrp_error_set(SSRP_E_INVALID, "'%s' is out of range (%llu to %llu)", text,
				      (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return SSRP_OK;
}

static int parse_pcr_number(const char **p, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(*p, &end, 10);
	if (end == *p || errno || v >= 24)
		return -1;
	*out = (unsigned)v;
	*p = end;
	return 0;
}

int cli_parse_pcrs(uint32_t *out, const char *text)
{
	uint32_t mask = 0;
	const char *p = text;
	while (*p) {
		unsigned lo, hi;
		if (parse_pcr_number(&p, &lo))
			return ssrp_error_set(SSRP_E_INVALID,
					      "PCR list '%s': expected numbers 0 to 23 like '7,11' or "
					      "'0-7'",
					      text);
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_pcr_number(&p, &hi) || hi < lo)
				return ssrp_error_set(SSRP_E_INVALID,
						      "PCR list '%s': bad range", text);
		}
		for (unsigned i = lo; i <= hi; i++)
			mask |= 1u << i;
		if (*p == ',')
			p++;
		else if (*p)
			return ssrp_error_set(SSRP_E_INVALID,
					      "PCR list '%s': unexpected '%c'", text, *p);
	}
	if (!mask)
		return ssrp_error_set(SSRP_E_INVALID, "PCR list is empty");
	*out = mask;
	return SSRP_OK;
}

const char *cli_tpm_spec(const char *option)
{
	return option && *option ? option : NULL;
}

static const cli_option *find_option(const cli_option *opts, size_t n, const char *arg,
				     const char **inline_value)
{
	for (size_t k = 0; k < n; k++) {
		size_t len = strlen(opts[k].name);
		if (strncmp(arg, opts[k].name, len) || (arg[len] && arg[len] != '='))
			continue;
		*inline_value = arg[len] == '=' ? arg + len + 1 : NULL;
		return &opts[k];
	}
	return NULL;
}

int cli_parse_options(void *args, const cli_option *opts, size_t n_opts, const char **positional,
		      int max_positional, int *n_positional, int argc, char **argv)
{
	*n_positional = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		const cli_option *o = find_option(opts, n_opts, arg, &value);
		if (o && o->kind == CLI_REFUSE_SECRET)
			return cli_usage_error("%s: a secret is never taken on the command line; %s",
					       o->name, o->hint);
		if (o && o->kind == CLI_FLAG) {
			if (value)
				return cli_usage_error("%s takes no value", o->name);
			*(int *)(void *)((char *)args + o->offset) = 1;
		} else if (o) {
			if (!value && (value = i + 1 < argc ? argv[++i] : NULL) == NULL)
				return cli_usage_error("%s needs a value", o->name);
			*(const char **)(void *)((char *)args + o->offset) = value;
		} else if (arg[0] == '-' && arg[1]) {
			return cli_usage_error("unknown option '%s'", arg);
		} else if (*n_positional < max_positional) {
			positional[(*n_positional)++] = arg;
		} else {
			return cli_usage_error("unexpected argument '%s'", arg);
		}
	}
	return 0;
}

const char *cli_config_path(const char *given)
{
	if (given && !*given) {
		cli_usage_error("--config names no file");
		return NULL;
	}
	if (!given && !ssrp_fs_exists(ssrp_config_default_path())) {
		cli_usage_error("no configuration: give --config FILE (%s does not exist)",
				ssrp_config_default_path());
		return NULL;
	}
	return given ? given : ssrp_config_default_path();
}

int cli_load_config(ssrp_cloud_config **cfg, const char *given, const char **path)
{
	const char *p = cli_config_path(given);
	if (!p)
		return EXIT_USAGE;
	if (path)
		*path = p;
	int rc = ssrp_cloud_config_load(cfg, p);
	return rc ? cli_fail(rc) : 0;
}

/* "64M", "1G", "4096" → bytes: digits, then at most one unit letter. */
int cli_parse_size(uint64_t *out, const char *text, const char *what)
{
	char digits[32];
	size_t n = strlen(text);
	uint64_t unit = 1;
	switch (n ? toupper((unsigned char)text[n - 1]) : 0) {
	case 'K': unit = 1024; n--; break;
	case 'M': unit = 1024 * 1024; n--; break;
	case 'G': unit = 1024ull * 1024 * 1024; n--; break;
	default: break;
	}
	uint64_t v = 0;
	if (n == 0 || n >= sizeof digits)
		return cli_usage_error("%s '%s' is not a size (like 4096, 64K, 64M, 1G)", what, text);
	memcpy(digits, text, n);
	digits[n] = '\0';
	if (cli_parse_uint(&v, digits, 0, UINT64_MAX / unit))
		return cli_usage_error("%s '%s' is not a size (like 4096, 64K, 64M, 1G) below 2^64: %s",
				       what, text, ssrp_error_last());
	*out = v * unit;
	return 0;
}
