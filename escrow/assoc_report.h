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
#include "ssrp/assoc_report.h"

/* SSRP_REPORT_NEAR_LIMIT, ssrp_report, ssrp_assoc_report_read and _free:
 * public, ssrp/assoc_report.h. */

/* Read the tenant through g (app-only). SSRP_OK with *out filled; an error
 * naming what could not be read otherwise (*out then empty). */
int ssrp_assoc_report_build(ssrp_graph *g, ssrp_report *out);
/* The same, joined with the devices' reports (NULL: none); reports must
 * outlive out. */
int ssrp_assoc_report_build_with(ssrp_graph *g, const ssrp_device_reports *reports,
				 ssrp_report *out);

#endif
