/* volume_conformance [VOLUME-SPEC]: the volume backend conformance suite.
 *
 * Without an argument it checks the sim backend: each test gets a new 8 MiB
 * simulated volume in a private temporary directory, and a private swtpm
 * (PCRs 7 and 11 measured as a boot would) serves the TPM protector.
 *
 * With a VOLUME-SPEC it checks that volume (a vendor's backend), which must
 * be a scratch volume: before each test the suite turns protection off and
 * deletes every TPM and recovery-password protector. A TPM, if the backend
 * needs one, comes from SSRP_TPM; without it the TPM checks are left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ssrp/sim.h"
#include "ssrp/volume.h"
#include "tests/integration/swtpm_fixture.h"
#include "ssrp/conformance.h"

#define SIM_VOLUME_SIZE (8u * 1024 * 1024)

typedef struct sim_target {
	char dir[512];
	unsigned made;
} sim_target;

static int sim_fresh(void *ctx, char *spec, size_t cap)
{
	sim_target *t = ctx;
	char path[700];
	snprintf(path, sizeof path, "%s/volume-%u.img", t->dir, ++t->made);
	if (ssrp_sim_volume_create(path, SIM_VOLUME_SIZE)) {
		fprintf(stderr, "creating %s: %s\n", path, ssrp_error_last());
		return -1;
	}
	snprintf(spec, cap, "sim:%s", path);
	return 0;
}

static void sim_discard(void *ctx, const char *spec)
{
	(void)ctx;
	unlink(spec + 4);
}

/* Measure something into PCRs 7 and 11, as a boot would. */
static int measure_boot(const char *tpm_spec)
{
	ssrp_tpm *tpm = NULL;
	int rc = ssrp_tpm_open(&tpm, tpm_spec);
	if (!rc)
		rc = ssrp_tpm_pcr_extend(tpm, 7, "secure boot policy", 18);
	if (!rc)
		rc = ssrp_tpm_pcr_extend(tpm, 11, "boot manager", 12);
	if (rc)
		fprintf(stderr, "measuring the boot: %s\n", ssrp_error_last());
	ssrp_tpm_close(tpm);
	return rc;
}

static int run_sim(void)
{
	sim_target t = {"", 0};
	const char *tmp = getenv("TMPDIR");
	snprintf(t.dir, sizeof t.dir, "%s/ssrp-volume-conformance-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t.dir)) {
		fprintf(stderr, "cannot create a temporary directory\n");
		return 1;
	}
	ssrp_sim_swtpm tpm;
	memset(&tpm, 0, sizeof tpm);
	if (ssrp_sim_swtpm_start(&tpm, t.dir) != SSRP_OK) {
		fprintf(stderr, "cannot start swtpm: %s\n", ssrp_error_last());
		rmdir(t.dir);
		return 1;
	}
	int failed = 1;
	if (!measure_boot(tpm.spec)) {
		ssrp_conformance_volume_target target = {
			.version = SSRP_CONFORMANCE_VOLUME_TARGET_VERSION,
			.name = "sim on swtpm",
			.fresh = sim_fresh,
			.discard = sim_discard,
			.ctx = &t,
			.tpm_spec = tpm.spec,
		};
		failed = ssrp_conformance_volume_run(&target);
	}
	/* The swtpm state shares the directory; the fixture removes both. */
	swtpm_fixture_stop(&tpm);
	return failed ? 1 : 0;
}

/* SSRP_TPM, or NULL when it is unset or empty. */
static const char *tpm_from_env(void)
{
	const char *tpm = getenv("SSRP_TPM");
	return tpm && *tpm ? tpm : NULL;
}

static int vendor_fresh(void *ctx, char *spec, size_t cap)
{
	snprintf(spec, cap, "%s", (const char *)ctx);
	return ssrp_conformance_volume_reset(spec, tpm_from_env());
}

int main(int argc, char **argv)
{
	if (ssrp_sim_register_backends())
		return 1;
	setenv("TSS2_LOG", "all+NONE", 0);
	if (argc > 2 || (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))) {
		fprintf(stderr, "usage: %s [VOLUME-SPEC]   (a TPM from SSRP_TPM when needed)\n",
			argv[0]);
		return 2;
	}
	if (argc == 1)
		return run_sim();
	ssrp_conformance_volume_target target = {
		.version = SSRP_CONFORMANCE_VOLUME_TARGET_VERSION,
		.name = argv[1],
		.fresh = vendor_fresh,
		.ctx = argv[1],
		.tpm_spec = tpm_from_env(),
	};
	return ssrp_conformance_volume_run(&target) ? 1 : 0;
}
