/* users-file-agent CONFIG VOLUME-SPEC TPM-SPEC USERS-FILE JOURNAL: the
 * device agent with "usersfile:USERS-FILE" as its platform, named by spec.
 * The run must make the device compliant, asking the file for the primary
 * users and sending every user it lists (the progress names each). Exit 0
 * only when all of it holds. */
#include <stdio.h>
#include <string.h>

#include <ssrp/agent.h>
#include <ssrp/error.h>

#include "users_file.h"

typedef struct seen {
	char association[2048]; /* the association step's messages */
} seen;

static void progress(const ssrp_agent_event *ev, void *ctx)
{
	seen *s = ctx;
	if (ev->step == SSRP_AGENT_STEP_ASSOCIATION)
		snprintf(s->association + strlen(s->association),
			 sizeof s->association - strlen(s->association), "%s\n", ev->message);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s CONFIG VOLUME-SPEC TPM-SPEC USERS-FILE JOURNAL\n", argv[0]);
		return 2;
	}
	if (users_file_register()) {
		fprintf(stderr, "registering usersfile: %s\n", ssrp_error_last());
		return 1;
	}
	char platform_spec[1100];
	snprintf(platform_spec, sizeof platform_spec, "usersfile:%s", argv[4]);
	seen s = {""};
	ssrp_agent_options opt = SSRP_AGENT_OPTIONS_INIT;
	opt.config_path = argv[1];
	opt.volume_spec = argv[2];
	opt.tpm_spec = argv[3];
	opt.platform_spec = platform_spec;
	opt.journal_path = argv[5];
	opt.progress = progress;
	opt.progress_ctx = &s;
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	int rc = ssrp_agent_run(&opt, &r);
	printf("run: %s%s%s, association %s\n%s", ssrp_agent_state_name(r.state),
	       *r.reason ? ": " : "", r.reason, r.association_mode, s.association);
	int failures = 0;
	if (rc != SSRP_OK || r.state != SSRP_AGENT_COMPLIANT || !r.last_association) {
		fprintf(stderr, "users-file-agent: the run did not make the device compliant\n");
		failures++;
	}
	if (users_file_reads() == 0) {
		fprintf(stderr, "users-file-agent: the agent never asked the platform for users\n");
		failures++;
	}
	/* Every user in the file reached the association service. */
	FILE *f = fopen(argv[4], "r");
	char line[256];
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "#\r\n")] = '\0';
		if (*line && !strstr(s.association, line)) {
			fprintf(stderr, "users-file-agent: %s was not sent\n", line);
			failures++;
		}
	}
	if (f)
		fclose(f);
	return failures ? 1 : 0;
}
