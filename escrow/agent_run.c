/* The agent's orchestration (include/ssrp/agent.h): configuration in, the
 * steps in order, the report out; and the read-only status.
 *
 * A compliant device costs a configuration read, the journal's trust
 * check, lock and read, the volume's status and protector list: the TPM is
 * opened only when the volume needs work, the volume's key unsealed only
 * when a step needs it, the network used only for an escrow, a
 * confirmation or an association that is due. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escrow/agent_private.h"
#include "hal/clock.h"
#include "hal/mem.h"
#include "hal/platform_paths.h"
#include "hal/struct_version.h"
#include "ssrp/sys/error.h"


static ssrp_association_mode resolve_mode(const ssrp_cloud_config *cfg)
{
	if (cfg->agent.association != SSRP_ASSOCIATION_DEFAULT)
		return cfg->agent.association;
	if (cfg->assoc.url)
		return SSRP_ASSOCIATION_SERVICE;
	if (cfg->webhook_url_file)
		return SSRP_ASSOCIATION_WEBHOOK;
	return SSRP_ASSOCIATION_OFF;
}

static void cleanup(agent_ctx *c)
{
	if (c->users)
		ssrp_primary_users_free(c->users);
	if (!c->plat_borrowed)
		ssrp_platform_close(c->plat);
	if (!c->vol_borrowed)
		ssrp_volume_close(c->vol);
	ssrp_tpm_stats ts = SSRP_TPM_STATS_INIT;
	if (c->tpm && c->rep && ssrp_tpm_get_stats(c->tpm, &ts) == SSRP_OK)
		c->rep->tpm_commands = (unsigned long)ts.commands;
	if (!c->tpm_borrowed)
		ssrp_tpm_close(c->tpm);
	agent_journal_close(c); /* after the volume: the lock covers every change */
	ssrp_free(c->drs_keys);
	ssrp_cloud_config_free(c->cfg);
	ssrp_memzero(c, sizeof *c);
}

/* Configuration, identity, journal (for_run: its lock too), volume.
 * SSRP_OK with c->rep->state NOT_REGISTERED when the device is not joined. */
static int setup(agent_ctx *c, const ssrp_agent_options *opt, ssrp_agent_report *out,
		 int for_run)
{
	memset(c, 0, sizeof *c);
	unsigned int version = out->version;
	memset(out, 0, sizeof *out);
	out->version = version;
	out->tpm_ready = -1;
	out->drs_keys = -1;
	out->state = SSRP_AGENT_FAILED;
	c->opt = opt;
	c->rep = out;
	c->now = (int64_t)time(NULL);
	if (!opt || !opt->config_path)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the agent needs a configuration file (config_path)");
	int rc = ssrp_cloud_config_load(&c->cfg, opt->config_path);
	if (rc)
		return rc;
	const ssrp_cloud_config *cfg = c->cfg;
	c->idc = (ssrp_identity_config)SSRP_IDENTITY_CONFIG_INIT;
	if ((rc = ssrp_cloud_config_identity(cfg, &c->idc)) != SSRP_OK)
		return rc;
	c->volume_spec = opt->volume_spec ? opt->volume_spec
			 : cfg->agent.volume ? cfg->agent.volume
					     : ssrp_default_os_volume;
	c->tpm_spec = opt->tpm_spec ? opt->tpm_spec : cfg->agent.tpm; /* NULL: the default */
	c->journal_path = opt->journal_path ? opt->journal_path
			  : cfg->agent.journal ? cfg->agent.journal
					       : ssrp_default_agent_journal;
	c->pcr_mask = cfg->agent.pcr_mask;
	c->assoc_mode = resolve_mode(cfg);
	snprintf(out->association_mode, sizeof out->association_mode, "%s",
		 agent_assoc_mode_name(c->assoc_mode));

	const char *platform_spec = opt->platform_spec ? opt->platform_spec : cfg->agent.platform;
	if (opt->platform) {
		c->plat = opt->platform;
		c->plat_borrowed = 1;
	} else if ((rc = ssrp_platform_open(&c->plat, platform_spec)) != SSRP_OK) {
		return rc;
	}
	c->id = (ssrp_device_identity)SSRP_DEVICE_IDENTITY_INIT;
	rc = ssrp_platform_read_identity(c->plat, &c->idc, &c->id);
	if ((rc == SSRP_E_NOTFOUND) || (!rc && c->id.join == SSRP_JOIN_NONE)) {
		if (!rc)
			ssrp_error_set(SSRP_E_NOTFOUND, "this device is not registered in Entra ID");
		out->state = SSRP_AGENT_NOT_REGISTERED;
		snprintf(out->reason, sizeof out->reason, "%s", ssrp_error_last());
		agent_event(c, SSRP_AGENT_STEP_IDENTITY, 0, "%s: nothing was done", out->reason);
		return SSRP_OK;
	}
	if (rc)
		return rc;
	snprintf(out->device_id, sizeof out->device_id, "%s", c->id.device_id);
	if (c->id.display_name[0])
		agent_event(c, SSRP_AGENT_STEP_IDENTITY, 0, "this device is %s (device id %s), %s joined",
			    c->id.display_name, c->id.device_id, ssrp_join_type_name(c->id.join));
	else
		agent_event(c, SSRP_AGENT_STEP_IDENTITY, 0, "this device is %s, %s joined",
			    c->id.device_id, ssrp_join_type_name(c->id.join));
	if (!c->volume_spec && !opt->volume)
		return ssrp_error_set(SSRP_E_INVALID,
				      "no volume to protect: set \"agent\": {\"volume\": ...} in %s "
				      "or give one (--volume)",
				      opt->config_path);
	if ((rc = agent_journal_open(c, for_run)) != SSRP_OK)
		return rc;
	if (opt->volume) {
		c->vol = opt->volume;
		c->vol_borrowed = 1;
	} else {
		rc = ssrp_volume_open(&c->vol, c->volume_spec);
	}
	if (!rc)
		rc = agent_refresh(c);
	return rc;
}

/* Journal entries of protectors that are no longer on the volume. */
static void forget_stale(agent_ctx *c)
{
	ssrp_journal *j = &c->journal;
	for (size_t i = 0; i < j->n_escrowed;) {
		if (agent_find(c, j->escrowed[i].id) ||
		    (j->rotation_used[0] && !strcmp(j->escrowed[i].id, j->rotation_used))) {
			i++;
			continue;
		}
		char id[SSRP_PROTECTOR_ID_LEN + 1];
		memcpy(id, j->escrowed[i].id, sizeof id);
		ssrp_journal_forget(j, id);
		c->journal_dirty = 1;
	}
}

static int volume_needs_work(agent_ctx *c)
{
	if (!agent_count(c, SSRP_PROTECTOR_TPM) || !agent_count(c, SSRP_PROTECTOR_RECOVERY_PASSWORD) ||
	    c->st.protection != SSRP_PROTECTION_ON || agent_rotation_used(c))
		return 1;
	for (size_t i = 0; i < c->n_prot; i++)
		if (c->prot[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD &&
		    !ssrp_journal_escrowed_at(&c->journal, c->prot[i].id))
			return 1;
	return 0;
}

void agent_retry_options(const agent_ctx *c, ssrp_retry_options *ro)
{
	*ro = (ssrp_retry_options)SSRP_RETRY_OPTIONS_INIT;
	ro->cancel = c->opt->cancel;
	ro->cancel_ctx = c->opt->cancel_ctx;
	if (c->opt->timeout_ms) {
		uint64_t used = ssrp_monotonic_ms() - c->started_ms;
		uint64_t left = used < c->opt->timeout_ms ? c->opt->timeout_ms - used : 1;
		ro->deadline_ms = left < SSRP_RETRY_DEFAULT_DEADLINE_MS ? (unsigned)left
									: SSRP_RETRY_DEFAULT_DEADLINE_MS;
	}
}

/* SSRP_E_CANCELLED when the caller asked to stop or the time is up. */
static int should_stop(agent_ctx *c)
{
	const ssrp_agent_options *o = c->opt;
	if (o->cancel && o->cancel(o->cancel_ctx))
		return ssrp_error_set(SSRP_E_CANCELLED,
				      "the run was cancelled before its next step; what was done is "
				      "kept and the next run goes on");
	if (o->timeout_ms && ssrp_monotonic_ms() - c->started_ms >= o->timeout_ms)
		return ssrp_error_set(SSRP_E_CANCELLED,
				      "the run stopped after %lu ms (its time limit) before its next "
				      "step; what was done is kept and the next run goes on",
				      o->timeout_ms);
	return SSRP_OK;
}

typedef int (*agent_step)(agent_ctx *c);

static int run_list(agent_ctx *c, const agent_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = should_stop(c);
		if (!rc)
			rc = steps[i](c);
		if (rc)
			return rc;
	}
	return SSRP_OK;
}

static int run_steps(agent_ctx *c)
{
	static const agent_step volume_steps[] = {agent_tpm_ready, agent_step_tpm_protector,
						  agent_step_recovery, agent_step_escrow,
						  agent_step_protection};
	/* the association last: the report it carries tells what this run left */
	static const agent_step other_steps[] = {agent_step_rotation, agent_step_verify,
						 agent_step_hygiene, agent_step_association};
	forget_stale(c);
	int rc = volume_needs_work(c) ? run_list(c, volume_steps, 5) : SSRP_OK;
	if (!rc)
		rc = run_list(c, other_steps, 4);
	/* a stop keeps what the finished steps recorded */
	if ((!rc || rc == SSRP_E_CANCELLED) && c->journal_dirty) {
		char why[512];
		snprintf(why, sizeof why, "%s", ssrp_error_last());
		int jrc = agent_journal_save(c);
		if (jrc)
			return jrc;
		if (rc)
			return ssrp_error_set(rc, "%s", why);
	}
	return rc;
}

static int finish(agent_ctx *c, int rc, uint64_t t0)
{
	ssrp_agent_report *out = c->rep;
	if (rc) {
		out->state = SSRP_AGENT_FAILED;
		snprintf(out->reason, sizeof out->reason, "%s", ssrp_error_last());
	}
	out->elapsed_ms = ssrp_monotonic_ms() - t0;
	char reason[sizeof out->reason];
	memcpy(reason, out->reason, sizeof reason);
	cleanup(c);
	if (rc)
		return ssrp_error_set(rc, "%s", reason);
	return SSRP_OK;
}

int ssrp_agent_options_init(ssrp_agent_options *opts, unsigned int version)
{
	if (!opts || version != SSRP_AGENT_OPTIONS_VERSION)
		return ssrp_error_set(SSRP_E_INVALID,
				      "agent options version %u is not one this library knows (1 to "
				      "%u)",
				      version, SSRP_AGENT_OPTIONS_VERSION);
	memset(opts, 0, sizeof *opts);
	opts->version = version;
	return SSRP_OK;
}

/* Both structs carry the version the caller was built with. */
static int check_versions(const ssrp_agent_options *opt, const ssrp_agent_report *out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "the agent needs a report to fill (out is NULL)");
	int rc = ssrp_struct_version_check("agent report", out->version,
					   SSRP_AGENT_REPORT_VERSION, "SSRP_AGENT_REPORT_INIT");
	if (!rc && opt)
		rc = ssrp_struct_version_check("agent options", opt->version,
					       SSRP_AGENT_OPTIONS_VERSION, "SSRP_AGENT_OPTIONS_INIT");
	return rc;
}

int ssrp_agent_run(const ssrp_agent_options *opt, ssrp_agent_report *out)
{
	int vrc = check_versions(opt, out);
	if (vrc)
		return vrc;
	uint64_t t0 = ssrp_monotonic_ms();
	agent_ctx c;
	int rc = setup(&c, opt, out, 1);
	c.started_ms = t0;
	if (rc || out->state == SSRP_AGENT_NOT_REGISTERED)
		return finish(&c, rc, t0);
	rc = run_steps(&c);
	if (!rc) {
		(void)agent_read_users(&c);
		agent_assess(&c);
	} else if (c.vol) {
		/* the state the volume was left in, for the report */
		int keep = rc;
		char why[512];
		snprintf(why, sizeof why, "%s", ssrp_error_last());
		if (agent_refresh(&c) == SSRP_OK)
			agent_assess(&c);
		rc = ssrp_error_set(keep, "%s", why);
	}
	return finish(&c, rc, t0);
}

int ssrp_agent_status(const ssrp_agent_options *opt, ssrp_agent_report *out)
{
	int vrc = check_versions(opt, out);
	if (vrc)
		return vrc;
	uint64_t t0 = ssrp_monotonic_ms();
	agent_ctx c;
	int rc = setup(&c, opt, out, 0);
	if (!rc && out->state != SSRP_AGENT_NOT_REGISTERED) {
		(void)agent_read_users(&c);
		agent_assess(&c);
	}
	return finish(&c, rc, t0);
}
