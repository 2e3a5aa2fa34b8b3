/* The devices' reports inside the association service (see
 * assoc_server_private.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <ssrp/buf.h>
#include <ssrp/clock.h>
#include <ssrp/file.h>
#include <ssrp/sys/error.h>
#include "tools/assoc_server_private.h"

#define REPORTS_WRITE_EVERY_MS 2000u
#define COMPLAIN_EVERY_MS 60000u

int reports_open(report_cache *c, const char *state_dir)
{
	memset(c, 0, sizeof *c);
	if (pthread_mutex_init(&c->lock, NULL))
		return ssrp_error_set(SSRP_E_GENERIC, "cannot make a lock");
	c->made = 1;
	int rc = ssrp_device_reports_new(&c->all);
	if (rc)
		return rc;
	const char *dir = state_dir ? state_dir : SSRP_DEVICE_REPORTS_DEFAULT_DIR;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"ssrp-assocd: the state directory %s does not exist: the devices' reports "
			"are kept in memory only (make it, or give --state-dir)\n",
			dir);
		return SSRP_OK;
	}
	snprintf(c->path, sizeof c->path, "%s/" SSRP_DEVICE_REPORTS_FILE, dir);
	size_t skipped = 0;
	char why[300];
	rc = ssrp_device_reports_load(c->all, c->path, &skipped, why, sizeof why);
	if (rc == SSRP_E_NOMEM)
		return rc;
	if (rc) {
		char moved[1200] = "";
		int mrc = ssrp_fs_move_aside(c->path, moved, sizeof moved);
		fprintf(stderr,
			"ssrp-assocd: ignoring the device reports: %s; %s%s; they are rebuilt as "
			"devices report\n",
			ssrp_error_last(), mrc ? "could not move it aside" : "moved aside as ",
			mrc ? "" : moved);
		return SSRP_OK;
	}
	if (skipped)
		fprintf(stderr,
			"ssrp-assocd: %s: %zu device report%s ignored (the first: %s); they are "
			"rebuilt as devices report\n",
			c->path, skipped, skipped == 1 ? "" : "s", why);
	fprintf(stderr, "ssrp-assocd: %zu device report%s from %s\n",
		ssrp_device_reports_count(c->all), ssrp_device_reports_count(c->all) == 1 ? "" : "s",
		c->path);
	return SSRP_OK;
}

int reports_put(report_cache *c, const char *device, const ssrp_device_report *r)
{
	pthread_mutex_lock(&c->lock);
	int rc = ssrp_device_reports_keep(c->all, device, r);
	if (!rc)
		c->dirty = 1;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void reports_flush(report_cache *c, int force)
{
	if (!c->made || !c->path[0])
		return;
	uint64_t now = ssrp_monotonic_ms();
	pthread_mutex_lock(&c->lock);
	if (!c->dirty || (!force && now - c->written_ms < REPORTS_WRITE_EVERY_MS)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	size_t len = 0;
	char *text = ssrp_device_reports_text(c->all, &len);
	c->dirty = 0;
	c->written_ms = now;
	pthread_mutex_unlock(&c->lock);
	/* One writer: the watchdog thread, or the stop after it has ended. */
	int rc = text ? ssrp_fs_write_atomic(c->path, text, len, 0600)
		      : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	ssrp_free(text);
	if (rc) {
		pthread_mutex_lock(&c->lock);
		c->dirty = 1;
		pthread_mutex_unlock(&c->lock);
		if (force || !c->complained_ms || now - c->complained_ms >= COMPLAIN_EVERY_MS) {
			c->complained_ms = now;
			fprintf(stderr,
				"ssrp-assocd: the device reports could not be written to %s: %s "
				"(tried again later)\n",
				c->path, ssrp_error_last());
		}
	}
}

void reports_close(report_cache *c)
{
	if (!c->made)
		return;
	reports_flush(c, 1);
	ssrp_device_reports_destroy(c->all);
	c->all = NULL;
	pthread_mutex_destroy(&c->lock);
	c->made = 0;
}
