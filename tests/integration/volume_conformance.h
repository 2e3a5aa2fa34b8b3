/* The volume backend conformance suite: what any backend must do, checked
 * through the public API (include/ssrp/volume.h) only, skipping what its
 * capability bits disclaim after checking that it answers
 * SSRP_E_NOTSUPPORTED. A vendor runs it with `volume_conformance SPEC` on a
 * scratch volume: it adds and deletes protectors, turns protection on and
 * off and writes data. */
#ifndef SSRP_TESTS_VOLUME_CONFORMANCE_H
#define SSRP_TESTS_VOLUME_CONFORMANCE_H

#include <stddef.h>

typedef struct volume_conformance_target {
	const char *name; /* the group name in the report */
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
} volume_conformance_target;

/* Run the suite; returns the number of failed tests. */
int volume_conformance_run(const volume_conformance_target *target);

/* Bring a volume back to the starting state through the public API: unlock
 * it (with the TPM, or a recovery password the suite sets), protection off,
 * every TPM and recovery-password protector deleted. A fresh() for a
 * vendor's scratch volume. 0 on success, else a message on stderr. */
int volume_conformance_reset(const char *spec, const char *tpm_spec);

#endif
