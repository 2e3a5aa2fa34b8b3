/* Helpers shared by the ssrp command's subcommands. */
#ifndef SSRP_TOOLS_CLI_UTIL_H
#define SSRP_TOOLS_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <ssrp/buf.h>
#include <ssrp/config.h>

/* Exit codes, documented in `ssrp help`. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1,     /* any other failure */
	EXIT_USAGE = 2,        /* wrong arguments */
	EXIT_NO_TPM = 3,       /* no TPM answered, or it stayed busy */
	EXIT_PCR_MISMATCH = 4, /* an unseal refused by the PCR policy */
	EXIT_LOCKOUT = 5,      /* the TPM is in dictionary-attack lockout */
	EXIT_BAD_DATA = 6,     /* malformed, tampered or foreign input */
	EXIT_UNSUPPORTED = 7,  /* the backend cannot do this */
	EXIT_BAD_KEY = 8,      /* a recovery password or key that does not unlock */
	EXIT_LOCKED = 9,       /* the volume must be unlocked first */
	EXIT_REFUSED = 10,     /* refused by policy or a reserved region */
};

/* Print "ssrp: <last error>" to stderr and return the exit code for rc. */
int cli_fail(int rc);
/* Print "ssrp: <message>" and a hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/* Read a whole input ("-" is stdin; a FIFO, device or directory is refused
 * at once), at most max bytes; the byte after the data is NUL. Secrets-safe:
 * the buffer is freed with ssrp_buf_free. */
int cli_read_file(ssrp_buf *out, const char *path, size_t max);
/* Write an output readable only by its owner: "-" is stdout, a character
 * device or FIFO is written in place, a regular file replaced atomically; a
 * symbolic link is refused unless follow_symlink (--follow-symlink). */
int cli_write_private_file(const char *path, const uint8_t *data, size_t len, int follow_symlink);

/* A whole decimal number from min to max: digits only, overflow refused. */
int cli_parse_uint(uint64_t *out, const char *text, uint64_t min, uint64_t max);

/* The configuration file: given (--config's value), else the platform's
 * (/etc/ssrp/config.json). NULL, after saying how to name one, when --config
 * is empty or the default does not exist (exit EXIT_USAGE). The command reads
 * no environment variable. */
const char *cli_config_path(const char *given);
/* Load the configuration cli_config_path names into *cfg (its path in *path
 * unless path is NULL): 0, EXIT_USAGE when none is named, or cli_fail's exit
 * code when it does not load. */
int cli_load_config(ssrp_cloud_config **cfg, const char *given, const char **path);

/* "64M", "1G", "4096" → bytes; EXIT_USAGE naming what (--size) when it is
 * not a size. */
int cli_parse_size(uint64_t *out, const char *text, const char *what);

/* "7,11" or "0-3,7" → bit mask of PCRs; 0 with a message on error. */
int cli_parse_pcrs(uint32_t *out, const char *text);

/* One option of a subcommand: "--name VALUE" / "--name=VALUE" stores a
 * const char * at offset in the arguments struct; a flag stores int 1; a
 * secret-refusing entry rejects options that would put a secret on the
 * command line, naming what to use instead. */
typedef enum { CLI_VALUE, CLI_FLAG, CLI_REFUSE_SECRET } cli_option_kind;
typedef struct cli_option {
	const char *name;
	cli_option_kind kind;
	size_t offset;    /* CLI_VALUE, CLI_FLAG */
	const char *hint; /* CLI_REFUSE_SECRET: what to use instead */
} cli_option;

/* Parse argv[0..argc) into args by opts; plain words go to positional[]
 * (at most max_positional, counted in *n_positional). Returns 0, or
 * EXIT_USAGE after printing what was wrong. */
int cli_parse_options(void *args, const cli_option *opts, size_t n_opts, const char **positional,
		      int max_positional, int *n_positional, int argc, char **argv);

/* The TPM spec: --tpm value, else NULL (the platform's TPM). */
const char *cli_tpm_spec(const char *option);

#endif
