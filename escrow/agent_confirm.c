/* Confirming an escrow before anything that relies on it: turning
 * protection on, deleting a used recovery password. The journal records
 * what was uploaded, but it is a file on the device, not the service: the
 * proof is a 2xx to an upload in this same run, or the service's own list
 * of the device's keys (ssrp/escrow.h ssrp_drs_list_keys, authenticated by
 * the device certificate), read at most once a run and only when such a
 * step is due, so a compliant device still costs no request. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/agent_private.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

int agent_confirmed_this_run(const agent_ctx *c, const char *id)
{
	for (size_t i = 0; id && i < c->n_confirmed; i++)
		if (!strcmp(c->confirmed[i], id))
			return 1;
	return 0;
}

void agent_mark_confirmed(agent_ctx *c, const char *id)
{
	if (agent_confirmed_this_run(c, id) || c->n_confirmed >= AGENT_MAX_PROT)
		return;
	snprintf(c->confirmed[c->n_confirmed++], sizeof c->confirmed[0], "%s", id);
}

int agent_list_keys(agent_ctx *c, int fresh)
{
	if (c->drs_listed && !fresh)
		return c->drs_list_rc ? ssrp_error_set(c->drs_list_rc, "%s", c->drs_list_why)
				      : SSRP_OK;
	c->drs_listed = 1;
	int rc;
	if (!c->drs_keys && !(c->drs_keys = ssrp_calloc(1, sizeof *c->drs_keys))) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	} else {
		c->drs_keys->version = SSRP_DRS_KEYS_VERSION;
		ssrp_retry_options ro;
		agent_retry_options(c, &ro);
		ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
		rc = ssrp_drs_list_keys(c->cfg, &c->id, &ro, c->drs_keys, &res);
		c->rep->http_requests += res.attempts;
		c->rep->drs_keys = rc ? c->rep->drs_keys : (long)c->drs_keys->n;
	}
	if (rc)
		snprintf(c->drs_list_why, sizeof c->drs_list_why, "%s", ssrp_error_last());
	c->drs_list_rc = rc;
	return rc;
}

int agent_confirm_escrow(agent_ctx *c, const char *id)
{
	if (agent_confirmed_this_run(c, id))
		return SSRP_OK;
	int rc = agent_list_keys(c, 0);
	if (!rc && ssrp_drs_keys_has(c->drs_keys, id)) {
		agent_mark_confirmed(c, id);
		if (ssrp_journal_mark_verified(&c->journal, id, (int64_t)time(NULL), "drs") == SSRP_OK)
			c->journal_dirty = 1;
		agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
			    "recovery password %s is escrowed to Entra ID (the Device Registration "
			    "Service lists it)",
			    id);
		return SSRP_OK;
	}
	if (rc == SSRP_E_IO || rc == SSRP_E_NOMEM)
		return ssrp_error_set(rc, "the escrow of recovery password %s cannot be confirmed: %s",
				      id, c->drs_list_why);
	if (!rc) {
		agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
			    "the journal records recovery password %s as escrowed, but the Device "
			    "Registration Service does not list it: uploading it again",
			    id);
		ssrp_journal_forget(&c->journal, id);
		c->journal_dirty = 1;
	} else {
		agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
			    "the Device Registration Service's key list could not be read (%s): "
			    "uploading recovery password %s again to confirm its escrow",
			    c->drs_list_why, id);
	}
	return agent_escrow_one(c, id);
}

int agent_confirm_any(agent_ctx *c)
{
	int recorded = 0;
	for (size_t i = 0; i < c->n_prot; i++) {
		const char *id = c->prot[i].id;
		if (c->prot[i].type != SSRP_PROTECTOR_RECOVERY_PASSWORD)
			continue;
		if (agent_confirmed_this_run(c, id))
			return SSRP_OK;
		recorded += ssrp_journal_escrowed_at(&c->journal, id) != 0;
	}
	if (!recorded)
		return ssrp_error_set(SSRP_E_NOTFOUND, "no recovery password on the volume is "
						       "escrowed yet");
	int rc = SSRP_E_NOTFOUND;
	for (size_t i = 0; i < c->n_prot; i++) {
		char id[SSRP_PROTECTOR_ID_LEN + 1];
		memcpy(id, c->prot[i].id, sizeof id);
		if (c->prot[i].type != SSRP_PROTECTOR_RECOVERY_PASSWORD ||
		    !ssrp_journal_escrowed_at(&c->journal, id))
			continue;
		if ((rc = agent_confirm_escrow(c, id)) == SSRP_OK || agent_fatal(rc) ||
		    rc == SSRP_E_IO)
			return rc;
	}
	return rc;
}
