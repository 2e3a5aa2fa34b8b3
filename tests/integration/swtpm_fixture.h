/* Test fixture: a private swtpm in a fresh temporary directory. */
#ifndef SSRP_TESTS_SWTPM_FIXTURE_H
#define SSRP_TESTS_SWTPM_FIXTURE_H

#include "sim/swtpm.h"

/* Start a swtpm in a new directory under $TMPDIR; fails the test on error. */
void swtpm_fixture_start(ssrp_sim_swtpm *out);
/* Stop it and remove its directory. */
void swtpm_fixture_stop(ssrp_sim_swtpm *tpm);

#endif
