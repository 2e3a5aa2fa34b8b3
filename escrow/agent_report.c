/* The agent's progress events, its compliance verdict and the report. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/agent_private.h"
#include "escrow/assoc.h"

const char *ssrp_agent_state_name(ssrp_agent_state s)
{
	switch (s) {
	case SSRP_AGENT_COMPLIANT: return "compliant";
	case SSRP_AGENT_NOT_YET: return "not-yet";
	case SSRP_AGENT_NOT_REGISTERED: return "not-registered";
	case SSRP_AGENT_FAILED: return "failed";
	}
	return "unknown";
}

const char *agent_assoc_mode_name(ssrp_association_mode m)
{
	switch (m) {
	case SSRP_ASSOCIATION_SERVICE: return "service";
	case SSRP_ASSOCIATION_WEBHOOK: return "webhook";
	default: return "off";
	}
}

void agent_event(agent_ctx *c, ssrp_agent_step step, int changed, const char *fmt, ...)
{
	if (!c->opt->progress)
		return;
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ssrp_agent_event ev = {step, msg, changed, 0};
	c->opt->progress(&ev, c->opt->progress_ctx);
}

void agent_not_yet(agent_ctx *c, const char *fmt, ...)
{
	if (c->not_yet++)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->not_yet_reason, sizeof c->not_yet_reason, fmt, ap);
	va_end(ap);
}

const char *agent_disk_problem(const agent_ctx *c, char *buf, size_t cap)
{
	size_t unescrowed = 0, recovery = 0;
	for (size_t i = 0; i < c->n_prot; i++) {
		if (c->prot[i].type != SSRP_PROTECTOR_RECOVERY_PASSWORD)
			continue;
		recovery++;
		unescrowed += !ssrp_journal_escrowed_at(&c->journal, c->prot[i].id);
	}
	if (!agent_count(c, SSRP_PROTECTOR_TPM))
		return "the volume has no TPM protector yet";
	if (!recovery)
		return "the volume has no recovery password yet";
	if (unescrowed) {
		snprintf(buf, cap, "%zu recovery password%s not yet escrowed to Entra ID",
			 unescrowed, unescrowed == 1 ? " is" : "s are");
		return buf;
	}
	if (c->st.protection != SSRP_PROTECTION_ON)
		return "protection is not on yet";
	if (agent_rotation_used(c))
		return "a recovery password that has been used is still on the volume";
	return NULL;
}

void agent_device_report(const agent_ctx *c, ssrp_device_report *r)
{
	char why[160];
	memset(r, 0, sizeof *r);
	snprintf(r->state, sizeof r->state, "%s",
		 c->not_yet || agent_disk_problem(c, why, sizeof why) ? "not-yet" : "compliant");
	r->verified_at = c->journal.verified_at;
	for (size_t i = 0; i < c->n_prot && r->n < SSRP_DEVICE_REPORT_MAX_PROTECTORS; i++)
		if (c->prot[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD)
			snprintf(r->protectors[r->n++], sizeof r->protectors[0], "%s", c->prot[i].id);
}

/* What the last association must have carried: the users, and for the
 * service the disk's report (its recovery passwords, their escrow, the
 * verdict), so a change to either is sent on the next run. */
void agent_assoc_hash(const agent_ctx *c, char out[65])
{
	if (c->assoc_mode != SSRP_ASSOCIATION_SERVICE) {
		memcpy(out, c->users_hash, 65);
		return;
	}
	char disk[40 * AGENT_MAX_PROT + 64], why[160];
	size_t used = (size_t)snprintf(disk, sizeof disk, "report:%s",
				       agent_disk_problem(c, why, sizeof why) ? "not-yet"
										: "compliant");
	for (size_t i = 0; i < c->n_prot && used < sizeof disk; i++)
		if (c->prot[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD)
			used += (size_t)snprintf(disk + used, sizeof disk - used, " %s",
						 c->prot[i].id);
	const char *parts[SSRP_ASSOC_MAX_USERS + 1];
	size_t n = 0;
	for (; n < c->n_users && n < SSRP_ASSOC_MAX_USERS; n++)
		parts[n] = c->users[n];
	parts[n++] = disk;
	ssrp_journal_users_hash(out, parts, n);
}

int agent_assoc_due(const agent_ctx *c)
{
	if (c->assoc_mode == SSRP_ASSOCIATION_OFF || !c->users || !c->n_users)
		return 0;
	const ssrp_journal *j = &c->journal;
	char hash[65];
	agent_assoc_hash(c, hash);
	if (strcmp(j->assoc_users_sha256, hash) ||
	    strcmp(j->assoc_mode, agent_assoc_mode_name(c->assoc_mode)))
		return 1;
	unsigned long interval = c->cfg->agent.association_interval_s;
	int64_t now = (int64_t)time(NULL);
	if (j->assoc_at <= 0 || j->assoc_at > now + 86400) /* never, or a clock set back */
		return 1;
	return j->assoc_at <= now && (uint64_t)(now - j->assoc_at) >= interval;
}

void agent_assess(agent_ctx *c)
{
	ssrp_agent_report *r = c->rep;
	const ssrp_journal *j = &c->journal;
	r->protection_on = c->st.protection == SSRP_PROTECTION_ON;
	r->n_protectors = 0;
	for (size_t i = 0; i < c->n_prot; i++) {
		const ssrp_protector *p = &c->prot[i];
		int64_t at = p->type == SSRP_PROTECTOR_RECOVERY_PASSWORD
				     ? ssrp_journal_escrowed_at(j, p->id)
				     : 0;
		if (r->n_protectors < SSRP_AGENT_MAX_PROTECTORS) {
			ssrp_agent_protector *o = &r->protectors[r->n_protectors++];
			memcpy(o->id, p->id, sizeof o->id);
			o->type = p->type;
			o->escrowed = at != 0;
			o->escrowed_at = at;
			const ssrp_journal_escrow *e = ssrp_journal_record(j, p->id);
			if (e && p->type == SSRP_PROTECTOR_RECOVERY_PASSWORD) {
				o->verified_at = e->verified;
				snprintf(o->verified_by, sizeof o->verified_by, "%s", e->by);
			}
		}
	}
	snprintf(r->association_mode, sizeof r->association_mode, "%s",
		 agent_assoc_mode_name(c->assoc_mode));
	r->last_association = j->assoc_at;
	r->association_pending = agent_assoc_due(c);
	r->rotation_pending = agent_rotation_used(c) != NULL;
	r->last_verification = j->verified_at;
	r->next_verification = j->verified_at ? agent_next_verification(c) : c->now;

	char buf[160];
	const char *why = agent_disk_problem(c, buf, sizeof buf);
	if (!why && r->association_pending)
		why = "the primary users have not reached the association service yet";
	if (c->not_yet) {
		r->state = SSRP_AGENT_NOT_YET;
		snprintf(r->reason, sizeof r->reason, "%s", c->not_yet_reason);
	} else if (why) {
		r->state = SSRP_AGENT_NOT_YET;
		snprintf(r->reason, sizeof r->reason, "%s", why);
	} else {
		r->state = SSRP_AGENT_COMPLIANT;
		r->reason[0] = '\0';
	}
}
