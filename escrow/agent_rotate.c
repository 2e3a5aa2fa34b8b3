/* The agent's rotation step: a recovery password that unlocked the volume
 * has been seen by a person, so it is replaced (and, with
 * agent.rotate_after_days, one escrowed that many days ago is replaced the
 * same way): record which one (journal),
 * take or add a new one (journal), escrow the new one (journal), and only
 * once the service confirms that escrow (this run's upload or its key
 * list) delete the used one. At every point an escrowed recovery password
 * still unlocks the volume, and a kill at any point lets the next run
 * finish without adding a second new one. */
#include <stdio.h>
#include <string.h>

#include "escrow/agent_private.h"
#include "ssrp/sys/error.h"

/* With agent.rotate_after_days: the recovery password escrowed longest
 * ago, when every one on the volume was escrowed that many days ago or
 * more; else NULL. */
static const char *scheduled(const agent_ctx *c)
{
	unsigned long days = c->cfg->agent.rotate_after_days;
	if (!days)
		return NULL;
	const char *oldest = NULL;
	int64_t oldest_at = 0, cutoff = c->now - (int64_t)days * 86400;
	for (size_t i = 0; i < c->n_prot; i++) {
		if (c->prot[i].type != SSRP_PROTECTOR_RECOVERY_PASSWORD)
			continue;
		int64_t at = ssrp_journal_escrowed_at(&c->journal, c->prot[i].id);
		if (!at || at > cutoff)
			return NULL; /* a recent (or unescrowed) one: not due */
		if (!oldest || at < oldest_at) {
			oldest = c->prot[i].id;
			oldest_at = at;
		}
	}
	return oldest;
}

const char *agent_rotation_used(const agent_ctx *c)
{
	const ssrp_journal *j = &c->journal;
	if (j->rotation_used[0])
		return j->rotation_used;
	if (c->cfg->agent.rotate_after_recovery && c->st.last_unlock_recovery == 1 &&
	    c->st.last_unlock_recovery_id[0] && agent_find(c, c->st.last_unlock_recovery_id))
		return c->st.last_unlock_recovery_id;
	return scheduled(c);
}

static int finish(agent_ctx *c, const char *used)
{
	ssrp_journal *j = &c->journal;
	if (used)
		ssrp_journal_forget(j, used);
	j->rotation_used[0] = '\0';
	j->rotation_new[0] = '\0';
	return agent_journal_save(c);
}

/* The replacement: the one recorded, else any other recovery password on
 * the volume (one added before a kill, or one that was there), else a new
 * one, recorded before anything else happens. */
static int pick_new(agent_ctx *c, const char *used, char out[SSRP_PROTECTOR_ID_LEN + 1])
{
	ssrp_journal *j = &c->journal;
	if (j->rotation_new[0] && agent_find(c, j->rotation_new)) {
		memcpy(out, j->rotation_new, SSRP_PROTECTOR_ID_LEN + 1);
		return SSRP_OK;
	}
	const ssrp_protector *other = NULL;
	for (size_t i = 0; i < c->n_prot && !other; i++)
		if (c->prot[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD &&
		    strcmp(c->prot[i].id, used))
			other = &c->prot[i];
	int rc;
	if (other) {
		memcpy(out, other->id, SSRP_PROTECTOR_ID_LEN + 1);
		agent_event(c, SSRP_AGENT_STEP_ROTATION, 0,
			    "recovery password %s replaces the used one", out);
	} else {
		if ((rc = agent_unlock(c)) != SSRP_OK || (rc = agent_add_recovery(c, out)) != SSRP_OK)
			return rc;
		agent_event(c, SSRP_AGENT_STEP_ROTATION, 1,
			    "added recovery password %s to replace the used one", out);
	}
	memcpy(j->rotation_new, out, SSRP_PROTECTOR_ID_LEN + 1);
	return agent_journal_save(c);
}

int agent_step_rotation(agent_ctx *c)
{
	const char *u = agent_rotation_used(c);
	if (!u)
		return SSRP_OK;
	char used[SSRP_PROTECTOR_ID_LEN + 1];
	snprintf(used, sizeof used, "%s", u);
	ssrp_journal *j = &c->journal;
	int rc;
	if (!agent_find(c, used)) {
		/* deleted before a kill: only the journal is behind */
		if ((rc = finish(c, used)) != SSRP_OK)
			return rc;
		agent_event(c, SSRP_AGENT_STEP_ROTATION, 0,
			    "the used recovery password %s is gone: rotation finished", used);
		return SSRP_OK;
	}
	if (!j->rotation_used[0]) {
		if (scheduled(c) && !strcmp(scheduled(c), used))
			agent_event(c, SSRP_AGENT_STEP_ROTATION, 0,
				    "recovery password %s was escrowed %lu days ago or more: "
				    "replacing it on schedule",
				    used, c->cfg->agent.rotate_after_days);
		else
			agent_event(c, SSRP_AGENT_STEP_ROTATION, 0,
				    "recovery password %s unlocked the volume: replacing it", used);
		memcpy(j->rotation_used, used, sizeof used);
		j->rotation_new[0] = '\0';
		if ((rc = agent_journal_save(c)) != SSRP_OK)
			return rc;
	}
	char fresh[SSRP_PROTECTOR_ID_LEN + 1];
	if ((rc = pick_new(c, used, fresh)) != SSRP_OK)
		return rc;
	/* The used one goes only once the service confirms the new one: the
	 * journal's record alone is not proof. */
	rc = ssrp_journal_escrowed_at(j, fresh) ? agent_confirm_escrow(c, fresh)
						: agent_escrow_one(c, fresh);
	if (rc == SSRP_E_LOCKED || rc == SSRP_E_TPM_PCR_MISMATCH)
		return rc;
	if (rc) {
		char why[700];
		snprintf(why, sizeof why,
			 "the escrow of the replacement recovery password %s is not confirmed yet "
			 "(%s): the used one stays until it is",
			 fresh, ssrp_error_last());
		agent_not_yet(c, "%s", why);
		agent_event(c, SSRP_AGENT_STEP_ROTATION, 0, "%s", why);
		return SSRP_OK;
	}
	agent_before_write(c, 1);
	rc = ssrp_volume_delete_protector(c->vol, used);
	if (rc == SSRP_E_LOCKED && (rc = agent_unlock(c)) == SSRP_OK)
		rc = ssrp_volume_delete_protector(c->vol, used);
	if (rc)
		return rc;
	if ((rc = agent_refresh(c)) != SSRP_OK || (rc = finish(c, used)) != SSRP_OK)
		return rc;
	c->rotated = 1;
	agent_event(c, SSRP_AGENT_STEP_ROTATION, 1,
		    "deleted the used recovery password %s: %s is the one in Entra ID now", used,
		    fresh);
	return SSRP_OK;
}
