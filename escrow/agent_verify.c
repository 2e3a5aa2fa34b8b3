/* Verification from the source of truth: the journal says what was
 * uploaded, the Device Registration Service's key list (read with the
 * device's own certificate) says what Entra ID holds. A key deleted there
 * (an administrator's clean-up, a stale-key script) leaves a recovery
 * password on the volume that nobody can look up; this step finds it and
 * escrows it again, whatever the journal says.
 *
 * Due on the first escrow and after every rotation (any upload or rotation
 * in this run), when asked (opt.verify), and every agent.verify_interval_s
 * after the last complete verification, less a share of up to a tenth of
 * the interval fixed by the device id, so a fleet escrowed in the same
 * hour does not verify in the same minute. Between verifications a
 * compliant device still costs no request. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/agent_private.h"
#include "ssrp/sys/error.h"

/* FNV-1a of the device id (case folded): the same every run. */
static unsigned long jitter(const char *device_id, unsigned long interval)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = device_id; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		h ^= ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
		h *= 1099511628211ull;
	}
	return (unsigned long)(h % (interval / 10 + 1));
}

int64_t agent_next_verification(const agent_ctx *c)
{
	const ssrp_journal *j = &c->journal;
	if (!j->verified_at)
		return 0;
	unsigned long interval = c->cfg->agent.verify_interval_s;
	return j->verified_at + (int64_t)(interval - jitter(c->id.device_id, interval));
}

static int recovery_count(const agent_ctx *c)
{
	return (int)agent_count(c, SSRP_PROTECTOR_RECOVERY_PASSWORD);
}

int agent_verify_due(const agent_ctx *c)
{
	if (!recovery_count(c))
		return 0;
	const ssrp_journal *j = &c->journal;
	if (c->opt->verify || c->uploaded || c->rotated || j->verify_pending)
		return 1;
	if (!j->n_escrowed)
		return 0; /* nothing claimed yet: the escrow step uploads first */
	if (!j->verified_at || j->verified_at > c->now + 86400) /* never, or a clock set back */
		return 1;
	return c->now >= agent_next_verification(c);
}

/* The recovery passwords on the volume that the list does not hold. */
static size_t missing(const agent_ctx *c, char out[][SSRP_PROTECTOR_ID_LEN + 1])
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_prot; i++)
		if (c->prot[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD &&
		    !ssrp_drs_keys_has(c->drs_keys, c->prot[i].id))
			memcpy(out[n++], c->prot[i].id, SSRP_PROTECTOR_ID_LEN + 1);
	return n;
}

/* Every recovery password on the volume is listed: record it. */
static void record_listed(agent_ctx *c)
{
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < c->n_prot; i++) {
		const char *id = c->prot[i].id;
		if (c->prot[i].type != SSRP_PROTECTOR_RECOVERY_PASSWORD)
			continue;
		if (!ssrp_journal_escrowed_at(&c->journal, id))
			(void)ssrp_journal_mark_escrowed(&c->journal, id, now);
		(void)ssrp_journal_mark_verified(&c->journal, id, now, "drs");
		agent_mark_confirmed(c, id);
	}
	c->journal.verified_at = now;
	c->journal.verify_pending = 0;
	c->journal_dirty = 1;
	c->verified = 1;
	c->rep->verified_this_run = 1;
}

/* A verification that could not finish is owed: the next run verifies,
 * whatever the schedule says. */
static int cannot(agent_ctx *c, const char *what)
{
	char why[600];
	snprintf(why, sizeof why, "%s", ssrp_error_last());
	if (!c->journal.verify_pending) {
		c->journal.verify_pending = 1;
		c->journal_dirty = 1;
	}
	agent_event(c, SSRP_AGENT_STEP_ESCROW, 0, "%s (%s): the next run tries again", what, why);
	agent_not_yet(c, "%s: %s", what, why);
	return SSRP_OK;
}

int agent_step_verify(agent_ctx *c)
{
	if (!agent_verify_due(c))
		return SSRP_OK;
	int rc = agent_list_keys(c, 1);
	if (rc)
		return cannot(c, "the escrow could not be verified against Entra ID");
	char gone[AGENT_MAX_PROT][SSRP_PROTECTOR_ID_LEN + 1];
	size_t n = missing(c, gone);
	if (n && !c->journal.verify_pending) {
		/* owed until the missing ones are back, whatever a kill does */
		c->journal.verify_pending = 1;
		if ((rc = agent_journal_save(c)) != SSRP_OK)
			return rc;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t at = ssrp_journal_escrowed_at(&c->journal, gone[i]);
		if (at)
			agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
				    "recovery password %s is not in Entra ID although the journal "
				    "records its escrow: escrowing it again",
				    gone[i]);
		ssrp_journal_forget(&c->journal, gone[i]);
		c->journal_dirty = 1;
		if ((rc = agent_escrow_one(c, gone[i])) != SSRP_OK) {
			if (agent_fatal(rc))
				return rc;
			char what[160];
			snprintf(what, sizeof what, "recovery password %.38s is not in Entra ID",
				 gone[i]);
			return cannot(c, what);
		}
		c->rep->keys_reescrowed++;
	}
	/* What was escrowed again must show in the list too: a 2xx alone is
	 * not what the directory holds. */
	if (n && (rc = agent_list_keys(c, 1)) != SSRP_OK)
		return cannot(c, "the escrow could not be verified against Entra ID");
	if (n && (n = missing(c, gone)) != 0) {
		ssrp_error_set(SSRP_E_IO,
			       "the service accepted recovery password %s but does not list it",
			       gone[0]);
		return cannot(c, "the escrow could not be verified against Entra ID");
	}
	record_listed(c);
	agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
		    "verified: Entra ID holds every recovery password on the volume (%zu key%s "
		    "for this device)",
		    c->drs_keys->n, c->drs_keys->n == 1 ? "" : "s");
	return agent_journal_save(c);
}
