/* SCCM's user-device affinity over WMI (uda_wmi.c), configured by the
 * "windows" platform backend's config text (hal/uda_config.h). Windows
 * only; not installed. */
#ifndef SSRP_HAL_UDA_WMI_H
#define SSRP_HAL_UDA_WMI_H

#include <stddef.h>

#include "hal/uda_config.h"
#include "hal/wmi_windows.h"

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
