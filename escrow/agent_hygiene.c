/* Key hygiene: Entra ID keeps every recovery key ever escrowed for a device
 * and refuses new ones past SSRP_DRS_MAX_KEYS, so a device that rotates
 * must delete what it no longer needs. Deleted here, through the Device
 * Registration Service (SSRP_DRS_MAX_DELETE ids a request), are keys that
 * are
 *   - of this volume's type (a data volume's keys are not ours to judge),
 *   - on none of the volume's protectors (read from the volume, never from
 *     the journal, which may be damaged),
 *   - not the newest key the service holds,
 *   - created agent.key_retention_days ago or more (-1: never delete),
 * and only in a run whose verification found every recovery password on
 * the volume in the key list; or, when the service refused an upload
 * because the device holds SSRP_DRS_MAX_KEYS keys already (a recovery
 * password on the volume cannot be escrowed at all then), to make room:
 * the keys deleted are still only ones no protector on the volume has. */
#include <stdio.h>
#include <string.h>

#include "escrow/agent_private.h"
#include "ssrp/sys/error.h"

#define WARN_AT 150

static int volume_type_code(const agent_ctx *c)
{
	const char *t = c->cfg->agent.volume_type;
	return !t || !strcmp(t, "OSV") ? 1 : !strcmp(t, "FDV") ? 2 : 3;
}

/* Take the deleted ids out of the list, so what is reported stays true. */
static void drop(ssrp_drs_keys *k, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t x = 0; x < k->n; x++)
			if (!strcmp(k->keys[x].kid, ids[i])) {
				k->keys[x] = k->keys[--k->n];
				break;
			}
}

/* The keys the rules above let go, copied into ids (the list is
 * reordered by drop()). */
static size_t candidates(const agent_ctx *c, char ids[][SSRP_PROTECTOR_ID_LEN + 1])
{
	const ssrp_drs_keys *k = c->drs_keys;
	long days = c->cfg->agent.key_retention_days;
	size_t n = 0;
	if (days < 0 || k->n < 2)
		return 0;
	size_t newest = 0;
	/* in a tie (seconds), a key on the volume counts as the newest */
	for (size_t i = 1; i < k->n; i++)
		if (k->keys[i].created > k->keys[newest].created ||
		    (k->keys[i].created == k->keys[newest].created &&
		     agent_find(c, k->keys[i].kid) && !agent_find(c, k->keys[newest].kid)))
			newest = i;
	int64_t cutoff = c->now - (int64_t)days * 86400;
	for (size_t i = 0; i < k->n; i++) {
		const ssrp_drs_key *key = &k->keys[i];
		if (i == newest || agent_find(c, key->kid) ||
		    key->volume_type != volume_type_code(c) || key->created > cutoff ||
		    !strcmp(key->kid, c->journal.rotation_used) ||
		    !strcmp(key->kid, c->journal.rotation_new))
			continue;
		memcpy(ids[n++], key->kid, SSRP_PROTECTOR_ID_LEN + 1);
	}
	return n;
}

/* Delete the candidates, SSRP_DRS_MAX_DELETE a request; how many went. */
static size_t delete_old(agent_ctx *c)
{
	ssrp_drs_keys *k = c->drs_keys;
	char idbuf[SSRP_DRS_MAX_KEYS][SSRP_PROTECTOR_ID_LEN + 1];
	const char *ids[SSRP_DRS_MAX_KEYS];
	size_t n = candidates(c, idbuf);
	for (size_t i = 0; i < n; i++)
		ids[i] = idbuf[i];
	size_t done = 0;
	while (done < n) {
		size_t chunk = n - done < SSRP_DRS_MAX_DELETE ? n - done : SSRP_DRS_MAX_DELETE;
		ssrp_retry_options ro;
		agent_retry_options(c, &ro);
		ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
		size_t removed = 0;
		int rc = ssrp_drs_delete_keys(c->cfg, &c->id, ids + done, chunk, &ro, &removed, &res);
		c->rep->http_requests += res.attempts;
		if (rc) {
			agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
				    "%zu old key%s stay in Entra ID for now (%s): the next "
				    "verification tries again",
				    n - done, n - done == 1 ? "" : "s", ssrp_error_last());
			break;
		}
		c->rep->keys_deleted += removed;
		drop(k, ids + done, chunk);
		done += chunk;
	}
	if (done)
		agent_event(c, SSRP_AGENT_STEP_ESCROW, 1,
			    "deleted %zu key%s of recovery passwords no longer on the volume from "
			    "Entra ID (%zu left)",
			    done, done == 1 ? "" : "s", k->n);
	c->rep->drs_keys = (long)k->n;
	return done;
}

int agent_step_hygiene(agent_ctx *c)
{
	if (!c->verified || !c->drs_keys)
		return SSRP_OK;
	(void)delete_old(c);
	size_t n = c->drs_keys->n;
	if (n >= WARN_AT)
		agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
			    "warning: Entra ID holds %zu recovery keys for this device and refuses "
			    "new ones past %d (agent.key_retention_days decides which old ones go)",
			    n, SSRP_DRS_MAX_KEYS);
	return SSRP_OK;
}

int agent_make_room(agent_ctx *c)
{
	if (agent_list_keys(c, 1) != SSRP_OK || c->drs_keys->n < SSRP_DRS_MAX_KEYS)
		return 0;
	agent_event(c, SSRP_AGENT_STEP_ESCROW, 0,
		    "Entra ID holds %zu recovery keys for this device, the most it keeps: "
		    "deleting old ones no protector on the volume has",
		    c->drs_keys->n);
	return delete_old(c) > 0;
}
