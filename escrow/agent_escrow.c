/* The agent's escrow step: every recovery password on the volume that the
 * journal does not record as escrowed goes to the Device Registration
 * Service; a 2xx is recorded at once (one journal save per escrow). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/agent_private.h"
#include "escrow/drs.h"
#include "ssrp/sys/error.h"

int agent_fatal(int rc)
{
	return rc == SSRP_E_LOCKED || rc == SSRP_E_TPM_PCR_MISMATCH || rc == SSRP_E_TPM_ABSENT ||
	       rc == SSRP_E_CANCELLED ||
	       rc == SSRP_E_TPM_LOCKOUT;
}

int agent_escrow_one(agent_ctx *c, const char *id)
{
	int rc = agent_unlock(c);
	if (rc)
		return rc;
	ssrp_buf pw = SSRP_BUF_INIT;
	rc = ssrp_volume_get_recovery_password(c->vol, id, &pw);
	if (rc)
		return rc;
	ssrp_retry_options ro;
	agent_retry_options(c, &ro);
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	rc = ssrp_drs_upload(c->cfg, &c->id, id, (const char *)pw.data, c->cfg->agent.volume_type,
			     &ro, &res);
	c->rep->http_requests += res.attempts;
	if (rc && res.status == 409) {
		/* Entra ID's limit of keys a device, perhaps: room, then once more */
		char why[600];
		snprintf(why, sizeof why, "%s", ssrp_error_last());
		if (agent_make_room(c)) {
			rc = ssrp_drs_upload(c->cfg, &c->id, id, (const char *)pw.data,
					     c->cfg->agent.volume_type, &ro, &res);
			c->rep->http_requests += res.attempts;
		} else {
			rc = ssrp_error_set(rc, "%s", why);
		}
	}
	ssrp_buf_free(&pw);
	if (rc)
		return rc;
	agent_mark_confirmed(c, id);
	int64_t now = (int64_t)time(NULL);
	if ((rc = ssrp_journal_mark_escrowed(&c->journal, id, now)) != SSRP_OK ||
	    (rc = ssrp_journal_mark_verified(&c->journal, id, now, "upload")) != SSRP_OK)
		return rc;
	c->uploaded++;
	if ((rc = agent_journal_save(c)) != SSRP_OK)
		return rc;
	agent_event(c, SSRP_AGENT_STEP_ESCROW, 1,
		    "recovery password %s is escrowed to Entra ID (the Device Registration "
		    "Service confirmed it)",
		    id);
	return SSRP_OK;
}

int agent_step_escrow(agent_ctx *c)
{
	for (size_t i = 0; i < c->n_prot; i++) {
		const ssrp_protector *p = &c->prot[i];
		if (p->type != SSRP_PROTECTOR_RECOVERY_PASSWORD ||
		    ssrp_journal_escrowed_at(&c->journal, p->id))
			continue;
		char id[SSRP_PROTECTOR_ID_LEN + 1];
		memcpy(id, p->id, sizeof id);
		int rc = agent_escrow_one(c, id);
		if (agent_fatal(rc))
			return rc; /* no key: nothing else can be escrowed either */
		if (rc) {
			agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
				    "recovery password %s is not escrowed yet: %s", id,
				    ssrp_error_last());
			agent_not_yet(c, "recovery password %s is not escrowed yet: %s", id,
				      ssrp_error_last());
		}
	}
	return SSRP_OK;
}
