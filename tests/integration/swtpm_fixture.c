#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/swtpm_fixture.h"

void swtpm_fixture_start(ssrp_sim_swtpm *out)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512];
	snprintf(dir, sizeof dir, "%s/ssrp-swtpm-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		fail_msg("cannot create a temporary directory");
	if (ssrp_sim_swtpm_start(out, dir) != SSRP_OK)
		fail_msg("cannot start swtpm: %s", ssrp_error_last());
}

void swtpm_fixture_stop(ssrp_sim_swtpm *tpm)
{
	if (!tpm->dir[0])
		return;
	ssrp_sim_swtpm_stop(tpm->dir);
	static const char *const files[] = {"tpm2-00.permall", "swtpm.log", "swtpm.pid",
					    "swtpm.env", ".lock"};
	char path[1100];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tpm->dir, files[i]);
		unlink(path);
	}
	if (rmdir(tpm->dir) != 0)
		fprintf(stderr, "note: left %s behind (unexpected files in it)\n", tpm->dir);
	tpm->dir[0] = '\0';
}
