/* `ssrp assoc login`: sign the association service's account in and keep
 * its refresh token in the configuration's refresh_token_file (0600,
 * written atomically), from where `ssrp assoc` renews its tokens.
 *
 *   ssrp assoc login [--config FILE] [--username UPN --password-file F]
 *
 * A device code by default (the prompt on standard error); --username with
 * --password-file uses the password grant (the simulator and tests). The
 * token itself is never printed. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/assoc.h>
#include <ssrp/config.h>
#include <ssrp/sys/error.h>
#include "tools/cli_util.h"
#include "tools/cmd_assoc_login.h"

static const char usage[] =
	"usage: ssrp assoc login [--config FILE] [--username UPN --password-file FILE]\n"
	"\n"
	"Signs the service account in (a device code to enter at a browser; --username\n"
	"with --password-file uses the password grant, for the simulator and tests) and\n"
	"writes its refresh token to the configuration's refresh_token_file (0600).\n"
	"The configuration comes from --config (default /etc/ssrp/config.json).\n";

typedef struct login_args {
	const char *config, *username, *password_file;
	int help;
	const char *positional;
} login_args;

static void show_code(const char *uri, const char *code, const char *message, void *ctx)
{
	(void)message;
	(void)ctx;
	fprintf(stderr, "To sign in, open %s and enter the code %s.\n", uri, code);
	fflush(stderr);
}

static int run(const login_args *a)
{
	ssrp_cloud_config *cfg = NULL;
	const char *config = NULL;
	int rc = cli_load_config(&cfg, a->config, &config);
	if (rc)
		return rc;
	const char *keep = ssrp_cloud_config_string(cfg, "refresh_token_file");
	if (!keep) {
		ssrp_cloud_config_free(cfg);
		return cli_fail(ssrp_error_set(SSRP_E_INVALID,
					       "%s has no \"refresh_token_file\": name the file where "
					       "the service account's refresh token is to be kept",
					       config));
	}
	char upn[256] = "";
	rc = ssrp_assoc_login(cfg, a->username, a->password_file, show_code, NULL, upn, sizeof upn);
	int ex = EXIT_OK;
	if (rc)
		ex = cli_fail(rc);
	else
		printf("signed in as %s; its refresh token is in %s (mode 0600)\n", upn, keep);
	ssrp_cloud_config_free(cfg);
	return ex;
}

int ssrp_cmd_assoc_login(int argc, char **argv)
{
	static const cli_option opts[] = {
		{"--config", CLI_VALUE, offsetof(login_args, config), NULL},
		{"--username", CLI_VALUE, offsetof(login_args, username), NULL},
		{"--password-file", CLI_VALUE, offsetof(login_args, password_file), NULL},
		{"--help", CLI_FLAG, offsetof(login_args, help), NULL},
		{"-h", CLI_FLAG, offsetof(login_args, help), NULL},
		{"--password", CLI_REFUSE_SECRET, 0, "use --password-file FILE (mode 0600)"},
		{"--refresh-token", CLI_REFUSE_SECRET, 0,
		 "assoc login writes the refresh token to the configured refresh_token_file"},
	};
	login_args a;
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
		return cli_usage_error("assoc login: unexpected argument '%s'", a.positional);
	if (!a.username != !a.password_file)
		return cli_usage_error("assoc login: --username and --password-file go together");
	return run(&a);
}
