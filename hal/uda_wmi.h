/* SCCM's user-device affinity over WMI (uda_wmi.c) and what configures it:
 * the "windows" platform backend's config text (identity_windows.c), e.g.
 *   windows:sccm_class=CCM_UserAffinity,sccm_affinity=any
 * with, comma-separated, each at most once:
 *   sccm_namespace=NS    the WMI namespace  [ROOT\ccm\Policy\Machine\ActualConfig]
 *   sccm_class=CLASS     the class with one instance per user  [CCM_UserAffinity]
 *   sccm_affinity=RULE   which instances name a primary user:
 *                        "set" those whose IsUserAffinitySet is true, "any"
 *                        all of them, "off" none: SCCM is not asked  [set]
 * Microsoft documents neither the class nor its properties (only the
 * site's side of user device affinity); the defaults are what ConfigMgr
 * clients expose, as the docs/windows.md section on primary users says.
 * Windows only; not installed. */
#ifndef SSRP_HAL_UDA_WMI_H
#define SSRP_HAL_UDA_WMI_H

#include <stddef.h>

#include "hal/wmi_windows.h"

typedef enum ssrp_uda_rule {
	SSRP_UDA_SET = 0, /* IsUserAffinitySet true */
	SSRP_UDA_ANY,     /* every instance */
	SSRP_UDA_OFF,     /* SCCM not asked */
} ssrp_uda_rule;

typedef struct ssrp_uda_config {
	WCHAR ns[128];
	WCHAR cls[64];
	ssrp_uda_rule rule;
} ssrp_uda_config;

/* The config text above ("" for the defaults) into *out; SSRP_E_SPEC
 * naming what is wrong. */
int ssrp_uda_config_parse(ssrp_uda_config *out, const char *config);

/* ConsoleUser of each instance of cfg's class in cfg's namespace that the
 * rule takes, UTF-8, without duplicates (case ignored), through api.
 * SSRP_E_NOTFOUND when the device has no such namespace or class (no SCCM
 * client); an empty list when the rule is "off". */
int ssrp_uda_wmi_read(const ssrp_uda_config *cfg, const ssrp_wmi_api *api, char ***users,
		      size_t *n);

/* The "windows" platform backend's open (identity_windows.c) with primary
 * users read through api; its open is this with ole32's. */
int ssrp_platform_windows_open_api(void *ctx, const char *config, const ssrp_wmi_api *api);

#endif
