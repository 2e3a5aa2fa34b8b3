/* The agent's journal on disk: who may have written it, the lock that lets
 * one run at a time use it, loading it (a file that is not a usable journal
 * of this device is moved aside, never overwritten) and saving it.
 *
 * The journal decides what the agent does next, so it is refused unless
 * only the agent's own user (or root) could have written it and its
 * directory (hal/fs.h ssrp_fs_check_trusted, SSRP_FS_TRUST_OWN_DIR). Even
 * then it is a cache: before protection goes on or a used recovery password
 * is deleted, the escrow is confirmed by the service (agent_confirm.c). */
#include <stdio.h>
#include <string.h>

#include "escrow/agent_private.h"
#include "hal/fs.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

/* How long a run waits for another to finish before it gives up. */
#define AGENT_LOCK_WAIT_MS 5000u

static const char what[] = "the agent's journal";


static int refuse(int rc)
{
	char why[700];
	snprintf(why, sizeof why, "%s", ssrp_error_last());
	return ssrp_error_set(rc, "%s%s; the agent changed nothing", why,
			      rc == SSRP_E_PERMISSION
				      ? " (the agent trusts no journal another user could have written)"
				      : "");
}

/* Start from an empty journal; the file at the path goes aside first. */
static int move_aside(agent_ctx *c, const char *why)
{
	char moved[sizeof c->rep->journal_moved_to];
	int rc = ssrp_fs_move_aside(c->journal_path, moved, sizeof moved);
	if (rc)
		return ssrp_error_prefix(rc,
					 "%s cannot be used (%s) and could not be moved aside, so "
					 "the agent changed nothing",
					 c->journal_path, why);
	snprintf(c->rep->journal_moved_to, sizeof c->rep->journal_moved_to, "%s", moved);
	agent_event(c, SSRP_AGENT_STEP_IDENTITY, 0,
		    "%s cannot be used (%s): moved it aside to %s and started a fresh one, so "
		    "recovery passwords are escrowed again",
		    c->journal_path, why, moved);
	memset(&c->journal, 0, sizeof c->journal);
	return SSRP_OK;
}

/* Load; a journal that does not parse or belongs to another device is moved
 * aside (for_run) or read as empty (status, which changes nothing). */
static int load(agent_ctx *c, int for_run)
{
	int rc = ssrp_journal_load(&c->journal, c->journal_path);
	char why[600];
	if (rc == SSRP_E_FORMAT) {
		snprintf(why, sizeof why, "%s", ssrp_error_last());
	} else if (rc) {
		return rc;
	} else if (c->journal.device_id[0] && !ssrp_ascii_ieq(c->journal.device_id, c->id.device_id)) {
		snprintf(why, sizeof why, "it belongs to device %s, not to this one",
			 c->journal.device_id);
	} else {
		return SSRP_OK;
	}
	if (for_run)
		return move_aside(c, why);
	agent_event(c, SSRP_AGENT_STEP_IDENTITY, 0,
		    "%s cannot be used (%s): read as empty; the next run moves it aside", what,
		    why);
	memset(&c->journal, 0, sizeof c->journal);
	return SSRP_OK;
}

int agent_journal_open(agent_ctx *c, int for_run)
{
	int rc;
	if (!for_run) {
		/* status changes nothing: no directory made, no lock taken (the
		 * journal is replaced atomically, so it reads the state before or
		 * after a running agent's step); with no journal there is nothing
		 * to judge. */
		if (!ssrp_fs_exists(c->journal_path))
			return SSRP_OK;
		if ((rc = ssrp_fs_check_trusted(c->journal_path, what, SSRP_FS_TRUST_OWN_DIR)))
			return refuse(rc);
		return load(c, 0);
	}
	char dir[1024];
	if (ssrp_fs_dirname(c->journal_path, dir, sizeof dir))
		(void)ssrp_fs_mkdirs(dir, 0700); /* the check below says what is wrong */
	if ((rc = ssrp_fs_check_trusted(c->journal_path, what, SSRP_FS_TRUST_OWN_DIR)))
		return refuse(rc);
	char lock[1100];
	if ((size_t)snprintf(lock, sizeof lock, "%s.lock", c->journal_path) >= sizeof lock)
		return ssrp_error_set(SSRP_E_INVALID, "the journal's path %s is too long",
				      c->journal_path);
	rc = ssrp_fs_lock_acquire(&c->lock, lock, AGENT_LOCK_WAIT_MS);
	if (rc == SSRP_E_BUSY)
		return ssrp_error_set(rc,
				      "another run of the agent is in progress (it holds %s; waited "
				      "%u s): this one did nothing, run again later",
				      lock, AGENT_LOCK_WAIT_MS / 1000);
	if (rc)
		return rc;
	return load(c, 1);
}

void agent_journal_close(agent_ctx *c)
{
	ssrp_fs_lock_release(c->lock);
	c->lock = NULL;
}

int agent_journal_save(agent_ctx *c)
{
	snprintf(c->journal.device_id, sizeof c->journal.device_id, "%s", c->id.device_id);
	agent_before_write(c, 0);
	int rc = ssrp_journal_save(&c->journal, c->journal_path);
	if (!rc)
		c->journal_dirty = 0;
	return rc;
}
