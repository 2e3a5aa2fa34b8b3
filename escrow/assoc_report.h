/* The administrator's report (`ssrp assoc report`): for every device in
 * the tenant, its join type (trustType), the recovery keys Entra ID holds
 * for it (count, newest, oldest) and its registered owners, and the lines
 * an administrator acts on: devices with no key, devices without an owner
 * (their users cannot look their key up themselves), devices near Entra
 * ID's limit of 200 keys.
 *
 * Read with an app-only token (Device.Read.All, BitLockerKey.ReadBasic.All:
 * key metadata, never a key) in few requests: the devices in pages of 999,
 * every key's metadata in the list's pages, the owners by $batch (20
 * devices a request). Keys whose device is gone from the directory are
 * counted apart.
 *
 * With the devices' reports (escrow/device_report.h, what ssrp-assocd
 * kept), each device that reported also shows the recovery protector ids
 * on its disk and whether Entra ID holds a key of each: a protector Entra
 * lacks is a disk nobody can recover from the directory. */
#ifndef SSRP_ESCROW_ASSOC_REPORT_H
#define SSRP_ESCROW_ASSOC_REPORT_H

#include <stddef.h>

#include "escrow/device_report.h"
#include "escrow/graph_client.h"

/* From this many keys a device counts as near the limit. */
#define SSRP_REPORT_NEAR_LIMIT 150

typedef struct ssrp_report_device {
	char id[40];          /* object id */
	char device_id[40];   /* deviceId */
	char *name;           /* displayName; "" when none */
	char trust_type[16];  /* "AzureAd", "ServerAd", "Workplace"; "" unknown */
	int enabled;
	size_t n_keys;
	char newest[40], oldest[40]; /* createdDateTime as Graph gave it; "" none */
	size_t n_owners;
	char *owners;         /* userPrincipalNames joined by ", "; "" none */
	/* what the device reported, NULL when it has not (points into the
	 * reports given to the build) */
	const ssrp_device_report *reported;
	unsigned char in_entra[SSRP_DEVICE_REPORT_MAX_PROTECTORS]; /* per reported id */
	size_t n_lacking; /* reported protectors Entra ID holds no key of */
} ssrp_report_device;

typedef struct ssrp_report {
	ssrp_report_device *devices; /* sorted by deviceId */
	size_t n;
	size_t no_key, no_owner, near_limit;
	size_t keys, orphan_keys; /* all keys; keys of no device in the list */
	size_t reported;          /* devices with a report */
	size_t lacking;           /* devices whose disk holds a protector Entra lacks */
	size_t reported_unknown;  /* reports of devices not in the directory */
	unsigned long graph_requests; /* token requests included */
} ssrp_report;

/* Read the tenant through g (app-only). SSRP_OK with *out filled; an error
 * naming what could not be read otherwise (*out then empty). */
int ssrp_assoc_report_build(ssrp_graph *g, ssrp_report *out);
/* The same, joined with the devices' reports (NULL: none); reports must
 * outlive out. */
int ssrp_assoc_report_build_with(ssrp_graph *g, const ssrp_device_reports *reports,
				 ssrp_report *out);
void ssrp_assoc_report_free(ssrp_report *r);

#endif
