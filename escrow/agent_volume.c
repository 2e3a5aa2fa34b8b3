/* The agent's volume and TPM steps: the TPM (opened only when something
 * needs it), unlocking (only when something needs the key), the TPM
 * protector, the recovery password, protection on; and the event before
 * every durable write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/agent_private.h"
#include "ssrp/sys/error.h"

void agent_before_write(agent_ctx *c, int volume_change)
{
	c->durable++;
	if (volume_change)
		c->rep->volume_changes++;
	else
		c->rep->journal_writes++;
	if (!c->opt->progress)
		return;
	ssrp_agent_event ev = {SSRP_AGENT_STEP_WRITE,
			       volume_change ? "about to change the volume" : "about to save the journal",
			       0, c->durable};
	c->opt->progress(&ev, c->opt->progress_ctx);
}

int agent_refresh(agent_ctx *c)
{
	c->st = (ssrp_volume_status)SSRP_VOLUME_STATUS_INIT;
	int rc = ssrp_volume_get_status(c->vol, &c->st);
	if (!rc)
		rc = ssrp_volume_list_protectors(c->vol, c->prot, AGENT_MAX_PROT, &c->n_prot);
	if (rc == SSRP_E_BUFSIZE)
		rc = ssrp_error_set(SSRP_E_BUFSIZE,
				    "the volume has more than %d protectors; the agent leaves it alone",
				    AGENT_MAX_PROT);
	return rc;
}

const ssrp_protector *agent_find(const agent_ctx *c, const char *id)
{
	for (size_t i = 0; id && i < c->n_prot; i++)
		if (!strcmp(c->prot[i].id, id))
			return &c->prot[i];
	return NULL;
}

size_t agent_count(const agent_ctx *c, ssrp_protector_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_prot; i++)
		n += c->prot[i].type == t;
	return n;
}

int agent_tpm_ready(agent_ctx *c)
{
	if (c->tpm_checked)
		return SSRP_OK;
	c->rep->tpm_ready = 0;
	int rc = SSRP_OK;
	if (c->opt->tpm) {
		c->tpm = c->opt->tpm;
		c->tpm_borrowed = 1;
	} else {
		rc = ssrp_tpm_open(&c->tpm, c->tpm_spec);
	}
	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	if (!rc)
		rc = ssrp_tpm_get_info(c->tpm, &info);
	if (!rc && !info.present)
		rc = ssrp_error_set(SSRP_E_TPM_ABSENT, "no TPM answered");
	if (rc) {
		char why[400];
		snprintf(why, sizeof why, "%s", ssrp_error_last());
		return ssrp_error_set(rc == SSRP_E_TPM_LOCKOUT ? rc : SSRP_E_TPM_ABSENT,
				      "no TPM is ready on this device (%s): nothing was changed", why);
	}
	if (info.in_lockout)
		return ssrp_error_set(SSRP_E_TPM_LOCKOUT,
				      "the TPM is in dictionary-attack lockout (%u failures counted; "
				      "one is forgiven every %u s): nothing was changed",
				      info.lockout_counter, info.lockout_interval);
	c->tpm_checked = 1;
	c->rep->tpm_ready = 1;
	agent_event(c, SSRP_AGENT_STEP_TPM, 0, "the TPM is present and ready");
	return SSRP_OK;
}

int agent_unlock(agent_ctx *c)
{
	if (!c->st.locked)
		return SSRP_OK;
	if (!agent_count(c, SSRP_PROTECTOR_TPM))
		return ssrp_error_set(SSRP_E_LOCKED,
				      "the volume is locked and has no TPM protector: the agent cannot "
				      "reach its key (unlock it once, e.g. with its recovery password)");
	int rc = agent_tpm_ready(c);
	if (rc)
		return rc;
	c->rep->tpm_unseals++;
	rc = ssrp_volume_unlock_tpm(c->vol, c->tpm);
	if (rc == SSRP_E_TPM_PCR_MISMATCH)
		return ssrp_error_set(rc,
				      "the TPM refused to unlock the volume because the boot state "
				      "changed (PCRs differ): unlock it once with the recovery "
				      "password (ssrp recover --unlock), then run the agent again");
	if (rc)
		return rc;
	c->st.locked = 0;
	return SSRP_OK;
}

int agent_step_tpm_protector(agent_ctx *c)
{
	if (agent_count(c, SSRP_PROTECTOR_TPM))
		return SSRP_OK;
	int rc = agent_tpm_ready(c);
	if (!rc && c->st.locked)
		rc = ssrp_error_set(SSRP_E_LOCKED,
				    "the volume is locked and has no TPM protector: the agent cannot "
				    "add one without the volume's key (unlock it once with its "
				    "recovery password)");
	if (rc)
		return rc;
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "";
	int added = 0;
	agent_before_write(c, 1);
	rc = ssrp_volume_ensure_tpm_protector(c->vol, c->tpm, c->pcr_mask, id, &added);
	if (rc)
		return rc;
	agent_event(c, SSRP_AGENT_STEP_TPM, added,
		    added ? "the volume had no TPM protector: added %s" : "the TPM protector is %s",
		    id);
	return agent_refresh(c);
}

int agent_add_recovery(agent_ctx *c, char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	agent_before_write(c, 1);
	int rc = ssrp_volume_add_recovery_password(c->vol, NULL, out_id);
	return rc ? rc : agent_refresh(c);
}

int agent_step_recovery(agent_ctx *c)
{
	size_t n = agent_count(c, SSRP_PROTECTOR_RECOVERY_PASSWORD);
	if (n) {
		if (n > 1)
			agent_event(c, SSRP_AGENT_STEP_RECOVERY, 0,
				    "the volume has %zu recovery passwords: keeping them all", n);
		return SSRP_OK;
	}
	int rc = agent_unlock(c);
	if (rc)
		return rc;
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "";
	int added = 0;
	agent_before_write(c, 1);
	rc = ssrp_volume_ensure_recovery_password(c->vol, id, &added);
	if (rc)
		return rc;
	agent_event(c, SSRP_AGENT_STEP_RECOVERY, added,
		    added ? "the volume has no recovery password: added %s"
			  : "the recovery password is %s",
		    id);
	return agent_refresh(c);
}

int agent_step_protection(agent_ctx *c)
{
	if (c->st.protection == SSRP_PROTECTION_ON)
		return SSRP_OK;
	if (c->cfg->agent.escrow_before_protect) {
		/* confirmed by the service, not by the journal alone */
		int rc = agent_confirm_any(c);
		if (agent_fatal(rc))
			return rc;
		if (rc) {
			char why[600];
			snprintf(why, sizeof why, "%s", ssrp_error_last());
			agent_event(c, SSRP_AGENT_STEP_PROTECTION, 0,
				    "protection stays off until a recovery password is confirmed "
				    "escrowed (%s)",
				    why);
			agent_not_yet(c,
				      "protection waits for a confirmed escrow of a recovery "
				      "password: %s",
				      why);
			return SSRP_OK;
		}
	}
	agent_before_write(c, 1);
	int rc = ssrp_volume_protection_on(c->vol);
	if (rc)
		return rc;
	agent_event(c, SSRP_AGENT_STEP_PROTECTION, 1,
		    "protection is on: only the TPM or a recovery password opens the volume now");
	return agent_refresh(c);
}
