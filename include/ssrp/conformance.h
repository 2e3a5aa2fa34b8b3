/* ssrp: the backend conformance suites, for backend authors.
 *
 * What any TPM, volume or platform backend must do, checked through the
 * public API only (ssrp/tpm.h, ssrp/volume.h, ssrp/platform.h), skipping
 * what the backend's capability bits disclaim after checking that it
 * answers SSRP_E_NOTSUPPORTED. A
 * vendor registers their backend (ssrp_*_backend_register) and runs the
 * suites against its spec.
 *
 * libssrp-conformance is a static library built on cmocka: link it with
 * `pkg-config --libs ssrp-conformance`, or find_package(ssrp COMPONENTS
 * conformance) and the target ssrp::conformance. Each run prints cmocka's
 * report on stdout (CMOCKA_MESSAGE_OUTPUT=tap etc. choose its format). See
 * PORTING.md and examples/vendor-*. */
#ifndef SSRP_CONFORMANCE_H
#define SSRP_CONFORMANCE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Run the TPM suite against spec ("name:config"); group names the run in
 * the report. It touches only PCR 23 (application use), so it is safe on a
 * machine's own TPM. Returns the number of failed tests. */
int ssrp_conformance_tpm_run(const char *group, const char *spec);

/* Versioned as ssrp_agent_options (ssrp/agent.h): start from
 * SSRP_CONFORMANCE_VOLUME_TARGET_INIT and set the members. (The TPM and
 * platform suites take their spec as a string: no struct.) */
#define SSRP_CONFORMANCE_VOLUME_TARGET_VERSION 1
typedef struct ssrp_conformance_volume_target {
	unsigned int version; /* SSRP_CONFORMANCE_VOLUME_TARGET_VERSION */
	const char *name;     /* the group name in the report */
	/* Give a volume in the state every test starts from: encrypted,
	 * protection off, unlocked, no TPM or recovery-password protector.
	 * Its spec goes into spec; 0 on success, else a message on stderr. */
	int (*fresh)(void *ctx, char *spec, size_t cap);
	/* Done with the volume fresh() gave (may be NULL). */
	void (*discard)(void *ctx, const char *spec);
	void *ctx;
	/* A TPM whose PCRs stay put during the run (NULL: the TPM checks are
	 * left out, and said so). */
	const char *tpm_spec;
} ssrp_conformance_volume_target;
#define SSRP_CONFORMANCE_VOLUME_TARGET_INIT {.version = SSRP_CONFORMANCE_VOLUME_TARGET_VERSION}

/** Run the volume suite: it adds and deletes protectors, turns protection
 * on and off and writes data, so the volumes must be scratch volumes.
 * Returns the number of failed tests, or -1 without running any when
 * target is NULL or of a version this library does not know (the reason
 * on stderr; for a version, also in ssrp_error_last()). */
int ssrp_conformance_volume_run(const ssrp_conformance_volume_target *target);

/** Bring a volume back to the starting state through the public API:
 * unlock it (with the TPM, or a recovery password the suite sets),
 * protection off, every TPM and recovery-password protector deleted. A
 * fresh() for a vendor's one scratch volume. 0 on success, else a message
 * on stderr. */
int ssrp_conformance_volume_reset(const char *spec, const char *tpm_spec);

/** Run the platform suite against spec ("name:config"): the identity the
 * platform gives when nothing is configured, its primary users (or the
 * configuration's when it keeps none). It only reads. Returns the number of
 * failed tests. */
int ssrp_conformance_platform_run(const char *group, const char *spec);

#ifdef __cplusplus
}
#endif

#endif
