/* The agent's association step: the device's primary users to ssrp's
 * association service (device certificate) or to an Automation webhook,
 * again only when they changed, the mode changed, the interval passed or
 * the caller forces it. To the service the same request carries the
 * device's report (escrow/device_report.h): its recovery passwords and its
 * verdict, so a change to those is also sent on the next run, and a
 * compliant device that changed nothing still makes no request. The step
 * runs after the others, so the report says what this run left. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/agent_private.h"
#include "escrow/assoc_client.h"
#include "ssrp/sys/error.h"

int agent_read_users(agent_ctx *c)
{
	if (c->users)
		return SSRP_OK;
	int rc = ssrp_platform_read_primary_users(c->plat, &c->idc, &c->users, &c->n_users, NULL);
	if (rc) {
		c->users = NULL;
		c->n_users = 0;
		return rc;
	}
	ssrp_journal_users_hash(c->users_hash, (const char *const *)c->users, c->n_users);
	return SSRP_OK;
}

int agent_step_association(agent_ctx *c)
{
	if (c->assoc_mode == SSRP_ASSOCIATION_OFF)
		return SSRP_OK;
	int rc = agent_read_users(c);
	if (rc) {
		agent_not_yet(c, "the primary users could not be read: %s", ssrp_error_last());
		agent_event(c, SSRP_AGENT_STEP_ASSOCIATION, 0, "%s", c->not_yet_reason);
		return SSRP_OK;
	}
	if (!c->n_users) {
		agent_event(c, SSRP_AGENT_STEP_ASSOCIATION, 0,
			    "no primary user is known for this device: nothing to send");
		return SSRP_OK;
	}
	if (!c->opt->force_association && !agent_assoc_due(c))
		return SSRP_OK;
	ssrp_retry_options ro;
	agent_retry_options(c, &ro);
	ssrp_assoc_client_result res = SSRP_ASSOC_CLIENT_RESULT_INIT;
	const char *const *users = (const char *const *)c->users;
	ssrp_device_report report;
	agent_device_report(c, &report);
	if (c->assoc_mode == SSRP_ASSOCIATION_SERVICE)
		rc = ssrp_assoc_client_send_service(c->cfg, &c->id, users, c->n_users, &report, &ro,
						    &res);
	else
		rc = ssrp_assoc_client_send_webhook(c->cfg, &c->id, users, c->n_users, &ro, &res);
	c->rep->http_requests += res.attempts;
	const char *mode = agent_assoc_mode_name(c->assoc_mode);
	if (rc) {
		agent_not_yet(c, "the primary users did not reach the association %s: %s",
			      mode, ssrp_error_last());
		agent_event(c, SSRP_AGENT_STEP_ASSOCIATION, 0,
			    "the primary users did not reach the association %s: %s", mode,
			    ssrp_error_last());
		ssrp_assoc_client_result_free(&res);
		return SSRP_OK;
	}
	char summary[400];
	ssrp_assoc_client_summary(&res, summary, sizeof summary);
	ssrp_assoc_client_result_free(&res);
	ssrp_journal *j = &c->journal;
	agent_assoc_hash(c, j->assoc_users_sha256);
	j->assoc_at = (int64_t)time(NULL);
	snprintf(j->assoc_mode, sizeof j->assoc_mode, "%s", mode);
	if ((rc = agent_journal_save(c)) != SSRP_OK)
		return rc;
	agent_event(c, SSRP_AGENT_STEP_ASSOCIATION, 1, "the primary users went to the association %s: %s",
		    mode, summary);
	return SSRP_OK;
}
