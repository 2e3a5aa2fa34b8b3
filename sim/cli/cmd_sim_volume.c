/* `ssrp-sim volume create`: a new BitLocker volume in a file, for the
 * simulator (ssrp_sim_volume_create_with). Every other `volume` word is the
 * production command's. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ssrp/sim.h"
#include "ssrp/volume.h"
#include "tools/cli_util.h"
#include "sim/cli/cmd_sim.h"

typedef struct create_args {
	const char *volume, *size, *method;
	int help;
} create_args;

static const cli_option options[] = {
	{"--volume", CLI_VALUE, offsetof(create_args, volume), NULL},
	{"--size", CLI_VALUE, offsetof(create_args, size), NULL},
	{"--method", CLI_VALUE, offsetof(create_args, method), NULL},
	{"--help", CLI_FLAG, offsetof(create_args, help), NULL},
	{"-h", CLI_FLAG, offsetof(create_args, help), NULL},
};

static const struct {
	const char *name;
	uint16_t method;
} methods[] = {
	{"xts-aes-128", SSRP_VOLUME_METHOD_XTS_AES_128},
	{"xts-aes-256", SSRP_VOLUME_METHOD_XTS_AES_256},
	{"aes-cbc-128", SSRP_VOLUME_METHOD_AES_128_CBC},
	{"aes-cbc-256", SSRP_VOLUME_METHOD_AES_256_CBC},
	{"aes-cbc-diffuser-128", SSRP_VOLUME_METHOD_AES_128_CBC_DIFFUSER},
	{"aes-cbc-diffuser-256", SSRP_VOLUME_METHOD_AES_256_CBC_DIFFUSER},
};

static const char usage[] =
	"usage: ssrp-sim volume create --volume sim:IMG --size 64M\n"
	"              [--method xts-aes-128|xts-aes-256|aes-cbc-128|aes-cbc-256|\n"
	"                        aes-cbc-diffuser-128|aes-cbc-diffuser-256]\n"
	"A new BitLocker volume in a file (never over an existing one), encrypted and\n"
	"unlocked by a clear key; open it as sim:IMG or bitlk:IMG.\n";

int ssrp_cmd_sim_volume_create(int argc, char **argv)
{
	create_args a;
	memset(&a, 0, sizeof a);
	int n_pos = 0;
	int rc = cli_parse_options(&a, options, sizeof options / sizeof *options, NULL, 0, &n_pos,
				   argc, argv);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!a.volume || !a.size)
		return cli_usage_error("volume create needs --volume sim:IMG and --size SIZE "
				       "(like 64M)");
	const char *path = !strncmp(a.volume, "sim:", 4) ? a.volume + 4 : NULL;
	if (!path || !*path)
		return cli_usage_error("volume create makes simulated volumes: --volume sim:PATH");
	uint64_t size;
	int urc = cli_parse_size(&size, a.size, "--size");
	if (urc)
		return urc;
	uint16_t method = SSRP_VOLUME_METHOD_XTS_AES_128;
	if (a.method) {
		size_t i = 0;
		while (i < sizeof methods / sizeof methods[0] && strcmp(methods[i].name, a.method))
			i++;
		if (i == sizeof methods / sizeof methods[0])
			return cli_usage_error("--method '%s' is not one of xts-aes-128, xts-aes-256, "
					       "aes-cbc-128, aes-cbc-256, aes-cbc-diffuser-128, "
					       "aes-cbc-diffuser-256",
					       a.method);
		method = methods[i].method;
	}
	rc = ssrp_sim_volume_create_with(path, size, method, 0);
	if (rc)
		return cli_fail(rc);
	fprintf(stderr, "created %s: %llu bytes, %s, protection off (clear key)\n", path,
		(unsigned long long)size, ssrp_volume_method_name(method));
	return EXIT_OK;
}
