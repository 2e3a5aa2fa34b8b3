/* audit-volume-agent CONFIG INNER-VOLUME-SPEC TPM-SPEC JOURNAL: the device
 * agent on "audit:INNER-VOLUME-SPEC", named by spec like any built-in
 * volume. The first run must make the device compliant through the wrapper
 * (a TPM protector, a recovery password, protection on: each once); the
 * second must change nothing; the status must agree, both from the spec and
 * from an "audit:" volume the program opened itself and lends the agent
 * (opt.volume: used, never closed). Exit 0 only when all of it holds. */
#include <stdio.h>
#include <string.h>

#include <ssrp/agent.h>
#include <ssrp/error.h>
#include <ssrp/volume.h>

#include "audit_volume.h"

static int failures;

static void expect(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "audit-volume-agent: %s\n", what);
		failures++;
	}
}

static unsigned long changes(const audit_volume_counts *c)
{
	return c->add_tpm_protector + c->add_recovery_password + c->delete_protector +
	       c->reseal_tpm_protector + c->protection_on + c->protection_off + c->writes;
}

static void show(const char *what, int rc, const ssrp_agent_report *r)
{
	printf("%s: %s%s%s, protection %s, %zu protectors, %lu volume changes\n", what,
	       ssrp_agent_state_name(r->state), *r->reason ? ": " : "", r->reason,
	       r->protection_on ? "on" : "off", r->n_protectors, r->volume_changes);
	expect(rc == SSRP_OK, "the call failed");
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s CONFIG INNER-VOLUME-SPEC TPM-SPEC JOURNAL\n", argv[0]);
		return 2;
	}
	if (audit_volume_register()) {
		fprintf(stderr, "registering audit: %s\n", ssrp_error_last());
		return 1;
	}
	audit_volume_set_log(stderr);
	char volume_spec[1024];
	snprintf(volume_spec, sizeof volume_spec, "audit:%s", argv[2]);
	ssrp_agent_options opt = SSRP_AGENT_OPTIONS_INIT;
	opt.config_path = argv[1];
	opt.volume_spec = volume_spec;
	opt.tpm_spec = argv[3];
	opt.journal_path = argv[4];

	audit_volume_counts before, after;
	audit_volume_counts_get(&before);
	ssrp_agent_report r1 = SSRP_AGENT_REPORT_INIT;
	show("first run", ssrp_agent_run(&opt, &r1), &r1);
	audit_volume_counts_get(&after);
	expect(r1.state == SSRP_AGENT_COMPLIANT && r1.protection_on,
	       "the first run left the device not compliant");
	expect(after.add_tpm_protector - before.add_tpm_protector == 1 &&
		       after.add_recovery_password - before.add_recovery_password == 1 &&
		       after.protection_on - before.protection_on == 1,
	       "the first run did not add one TPM protector, one recovery password and turn "
	       "protection on through the audit volume");
	expect(r1.n_protectors >= 2, "the report lacks the new protectors");
	expect(after.opens == after.closes, "the agent left the audit volume open");

	before = after;
	ssrp_agent_report r2 = SSRP_AGENT_REPORT_INIT;
	show("second run", ssrp_agent_run(&opt, &r2), &r2);
	audit_volume_counts_get(&after);
	expect(r2.state == SSRP_AGENT_COMPLIANT, "the second run is not compliant");
	expect(after.opens > before.opens, "the second run did not open the audit volume");
	expect(changes(&after) == changes(&before) && r2.volume_changes == 0,
	       "a compliant device's volume was changed");

	ssrp_agent_report st = SSRP_AGENT_REPORT_INIT;
	show("status", ssrp_agent_status(&opt, &st), &st);
	expect(st.state == SSRP_AGENT_COMPLIANT && st.protection_on, "the status disagrees");
	expect(st.n_protectors == r1.n_protectors &&
		       !strcmp(st.protectors[0].id, r1.protectors[0].id),
	       "the status lists other protectors than the run");

	ssrp_volume *vol = NULL;
	if (ssrp_volume_open(&vol, volume_spec)) {
		fprintf(stderr, "opening %s: %s\n", volume_spec, ssrp_error_last());
		return 1;
	}
	opt.volume = vol;
	opt.volume_spec = NULL;
	audit_volume_counts_get(&before);
	ssrp_agent_report lent = SSRP_AGENT_REPORT_INIT;
	show("status on a lent volume", ssrp_agent_status(&opt, &lent), &lent);
	audit_volume_counts_get(&after);
	expect(after.opens == before.opens && after.closes == before.closes,
	       "the agent opened or closed a volume it was lent");
	expect(after.get_status > before.get_status, "the agent did not use the lent volume");
	expect(lent.protection_on && lent.n_protectors == st.n_protectors,
	       "the status on the lent volume disagrees");
	ssrp_volume_status vs = SSRP_VOLUME_STATUS_INIT;
	expect(ssrp_volume_get_status(vol, &vs) == SSRP_OK, "the lent volume is unusable after");
	ssrp_volume_close(vol);
	return failures ? 1 : 0;
}
