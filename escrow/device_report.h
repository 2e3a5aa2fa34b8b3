/* What a device tells the association service about its disk, and the
 * service's cache of the latest such report per device.
 *
 * The agent sends it as the "report" member of the request it makes anyway
 * (escrow/assoc.h, POST /v1/associate), never in a request of its own:
 *   "report":{"state":"compliant","verifiedAt":1764900000,
 *             "protectors":["{6A3C...-...}", ...]}
 * state is the agent's verdict leaving the association aside ("compliant"
 * or "not-yet"), verifiedAt the last complete verification against the
 * Device Registration Service's key list (Unix seconds, 0 never), and
 * protectors the ids of the recovery-password protectors on the volume (at
 * most SSRP_DEVICE_REPORT_MAX_PROTECTORS, each a GUID).
 *
 * The service keeps the latest report of each device in one file it can
 * rebuild (every device reports again within agent.association_interval_s):
 *   {"version":1,"devices":[{"deviceId","state","verifiedAt","receivedAt",
 *    "protectors":[...]}, ...]}
 * at most SSRP_DEVICE_REPORTS_MAX devices (the one heard from longest ago
 * makes room) and SSRP_DEVICE_REPORTS_MAX_FILE bytes. `ssrp assoc report`
 * reads the same file. */
#ifndef SSRP_ESCROW_DEVICE_REPORT_H
#define SSRP_ESCROW_DEVICE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ssrp/assoc_report.h"

/* SSRP_DEVICE_REPORT_MAX_PROTECTORS, SSRP_DEVICE_REPORTS_MAX, the default
 * directory and file name, ssrp_device_report: public, ssrp/assoc_report.h. */
#define SSRP_DEVICE_REPORTS_MAX_FILE (64u * 1024u * 1024u)

/* The wire member: parse v (untrusted) into out, device_id left ""; or
 * SSRP_E_FORMAT naming what is wrong ("report.protectors[2]: ..."). */
int ssrp_device_report_parse(const cJSON *v, ssrp_device_report *out);
/* The wire member for r (NULL when out of memory). */
cJSON *ssrp_device_report_json(const ssrp_device_report *r);

/* The cache: sorted by device_id (opaque in ssrp/assoc_report.h, whose
 * calls make, fill, write and read one; here also a value the library's
 * own code keeps, emptied with ssrp_device_reports_free). */
struct ssrp_device_reports {
	ssrp_device_report **v;
	size_t n, cap;
};

/* Keep r (r->device_id set) as its device's latest, replacing an older
 * one; when SSRP_DEVICE_REPORTS_MAX devices are kept, the one received
 * longest ago goes. */
int ssrp_device_reports_put(ssrp_device_reports *c, const ssrp_device_report *r);
const ssrp_device_report *ssrp_device_reports_find(const ssrp_device_reports *c,
						   const char *device_id);
void ssrp_device_reports_free(ssrp_device_reports *c);
/* ssrp_device_reports_load over the file's text (len bytes); path only
 * names it. */
int ssrp_device_reports_parse(ssrp_device_reports *c, const char *text, size_t len,
			      const char *path, size_t *skipped, char *why, size_t cap);

#endif
