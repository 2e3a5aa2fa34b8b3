/* The wmi volume backend's open over a given COM table (hal/wmi_windows.h):
 * ssrp_volume_backend_wmi.open is this with ole32's; a test hands in a
 * scripted WMI. Windows only; not installed. */
#ifndef SSRP_BITLOCKER_BACKEND_WMI_H
#define SSRP_BITLOCKER_BACKEND_WMI_H

#include "hal/wmi_windows.h"

/* ssrp_volume_backend_wmi.open (config "C:" or "C:?pcrs") through api. */
int ssrp_wmi_volume_open_api(void *ctx, const char *config, const ssrp_wmi_api *api);

#endif
