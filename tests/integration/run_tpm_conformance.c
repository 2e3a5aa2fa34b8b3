/* tpm_conformance [SPEC]: the TPM backend conformance suite. With a SPEC it
 * checks that TPM (a vendor's backend, a real /dev/tpmrm0); without one it
 * starts a private swtpm and checks both built-in backends against it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ssrp/sim.h"
#include "tests/integration/swtpm_fixture.h"
#include "ssrp/conformance.h"

int main(int argc, char **argv)
{
	if (ssrp_sim_register_backends())
		return 1;
	setenv("TSS2_LOG", "all+NONE", 0);
	if (argc > 1)
		return ssrp_conformance_tpm_run(argv[1], argv[1]) ? 1 : 0;
	ssrp_sim_swtpm tpm;
	swtpm_fixture_start(&tpm);
	int failed = ssrp_conformance_tpm_run("tss2 on swtpm", tpm.spec);
	failed += ssrp_conformance_tpm_run("tbs core on swtpm", tpm.tbs_spec);
	swtpm_fixture_stop(&tpm);
	return failed ? 1 : 0;
}
