/* audit-tpm-agent CONFIG VOLUME-SPEC INNER-TPM-SPEC JOURNAL: the device
 * agent on "audit:INNER-TPM-SPEC", named by spec like any built-in TPM.
 * The first run must make the device compliant, sealing the TPM protector
 * through the wrapper; the second must find it compliant without sealing or
 * unsealing; the status must agree. Exit 0 only when all of it holds. */
#include <stdio.h>
#include <string.h>

#include <ssrp/agent.h>
#include <ssrp/error.h>

#include "audit_tpm.h"

static int failures;

static void expect(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "audit-tpm-agent: %s\n", what);
		failures++;
	}
}

static size_t count_type(const ssrp_agent_report *r, ssrp_protector_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_protectors; i++)
		n += r->protectors[i].type == type;
	return n;
}

static void show(const char *what, int rc, const ssrp_agent_report *r)
{
	printf("%s: %s%s%s, protection %s, %zu protectors, %lu TPM commands, %lu unseals\n", what,
	       ssrp_agent_state_name(r->state), *r->reason ? ": " : "", r->reason,
	       r->protection_on ? "on" : "off", r->n_protectors, r->tpm_commands, r->tpm_unseals);
	expect(rc == SSRP_OK, "the call failed");
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s CONFIG VOLUME-SPEC INNER-TPM-SPEC JOURNAL\n", argv[0]);
		return 2;
	}
	if (audit_tpm_register()) {
		fprintf(stderr, "registering audit: %s\n", ssrp_error_last());
		return 1;
	}
	audit_tpm_set_log(stderr);
	char tpm_spec[1024];
	snprintf(tpm_spec, sizeof tpm_spec, "audit:%s", argv[3]);
	ssrp_agent_options opt = SSRP_AGENT_OPTIONS_INIT;
	opt.config_path = argv[1];
	opt.volume_spec = argv[2];
	opt.tpm_spec = tpm_spec;
	opt.journal_path = argv[4];

	audit_tpm_counts before, after;
	audit_tpm_counts_get(&before);
	ssrp_agent_report r1 = SSRP_AGENT_REPORT_INIT;
	show("first run", ssrp_agent_run(&opt, &r1), &r1);
	audit_tpm_counts_get(&after);
	expect(r1.state == SSRP_AGENT_COMPLIANT && r1.protection_on, "the first run left the "
	       "device not compliant");
	expect(count_type(&r1, SSRP_PROTECTOR_TPM) == 1, "no TPM protector in the report");
	expect(after.opens > before.opens, "the agent did not open the audit TPM");
	expect(after.seal > before.seal, "the TPM protector was not sealed through the audit TPM");
	expect(after.unseal - before.unseal == r1.tpm_unseals, "unseals differ from the report");
	expect(after.get_stats > before.get_stats && r1.tpm_commands > 0,
	       "the report's TPM commands did not come from the audit TPM");
	expect(after.opens == after.closes, "the agent left the audit TPM open");

	before = after;
	ssrp_agent_report r2 = SSRP_AGENT_REPORT_INIT;
	show("second run", ssrp_agent_run(&opt, &r2), &r2);
	audit_tpm_counts_get(&after);
	expect(r2.state == SSRP_AGENT_COMPLIANT, "the second run is not compliant");
	expect(after.seal == before.seal && after.unseal == before.unseal && r2.tpm_unseals == 0,
	       "a compliant device was sealed or unsealed again");

	ssrp_agent_report st = SSRP_AGENT_REPORT_INIT;
	show("status", ssrp_agent_status(&opt, &st), &st);
	expect(st.state == SSRP_AGENT_COMPLIANT && st.protection_on, "the status disagrees");
	expect(st.n_protectors == r1.n_protectors &&
		       !strcmp(st.protectors[0].id, r1.protectors[0].id),
	       "the status lists other protectors than the run");
	return failures ? 1 : 0;
}
