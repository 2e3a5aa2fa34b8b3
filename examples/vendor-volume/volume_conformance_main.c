/* audit-volume-conformance INNER-VOLUME-SPEC [TPM-SPEC]: register "audit:",
 * run the installed volume conformance suite on "audit:INNER-VOLUME-SPEC"
 * (a scratch volume: the suite resets it before each test, adds and deletes
 * protectors and writes data), then check what the audit saw: every kind of
 * call went through the wrapper and every volume the suite opened was
 * closed. Without a TPM-SPEC the suite leaves its TPM checks out. Exit 0
 * only when all of it holds. */
#include <stdio.h>

#include <ssrp/conformance.h>
#include <ssrp/error.h>

#include "audit_volume.h"

static int failures;

static void expect(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "audit-volume-conformance: %s\n", what);
		failures++;
	}
}

typedef struct scratch {
	char spec[1024];
	const char *tpm_spec;
} scratch;

/* The one scratch volume, brought back to where every test starts. */
static int fresh(void *ctx, char *spec, size_t cap)
{
	const scratch *s = ctx;
	snprintf(spec, cap, "%s", s->spec);
	return ssrp_conformance_volume_reset(s->spec, s->tpm_spec);
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s INNER-VOLUME-SPEC [TPM-SPEC]   (e.g. bitlk:IMG?rw)\n",
			argv[0]);
		return 2;
	}
	if (audit_volume_register()) {
		fprintf(stderr, "registering audit: %s\n", ssrp_error_last());
		return 1;
	}
	scratch s = {.tpm_spec = argc == 3 ? argv[2] : NULL};
	snprintf(s.spec, sizeof s.spec, "audit:%s", argv[1]);
	ssrp_conformance_volume_target target = {
		.version = SSRP_CONFORMANCE_VOLUME_TARGET_VERSION,
		.name = "audit volume backend",
		.fresh = fresh,
		.ctx = &s,
		.tpm_spec = s.tpm_spec,
	};
	failures = ssrp_conformance_volume_run(&target);

	audit_volume_counts c;
	audit_volume_counts_get(&c);
	printf("audit: %lu opens, %lu closes, %lu protectors added, %lu deleted, %lu unlocks, "
	       "protection on %lu / off %lu, %lu reads, %lu writes, %lu refused\n",
	       c.opens, c.closes, c.add_tpm_protector + c.add_recovery_password,
	       c.delete_protector, c.unlocks, c.protection_on, c.protection_off, c.reads,
	       c.writes, c.failures);
	expect(c.opens > 0 && c.opens == c.closes, "a volume was left open");
	expect(c.get_status > 0 && c.list_protectors > 0 && c.get_recovery_password > 0,
	       "a query did not go through the wrapper");
	expect(c.add_recovery_password > 0 && c.delete_protector > 0 && c.unlocks > 0,
	       "a protector operation did not go through the wrapper");
	expect(!s.tpm_spec || c.add_tpm_protector > 0, "no TPM protector went through the wrapper");
	expect(c.protection_on > 0 && c.protection_off > 0, "protection did not go through the "
	       "wrapper");
	expect(c.reads > 0 && c.writes > 0 && c.reserved_regions > 0,
	       "data did not go through the wrapper");
	expect(c.failures > 0, "no refusal was passed on");
	return failures ? 1 : 0;
}
