/* The device's identity in Entra ID and its primary users (steps 1 and 4 of
 * the flow), behind one interface:
 *   - everywhere: the client configuration's "device" member (escrow/config.h):
 *     device_id, certificate and key PEM files, join_type, display_name,
 *     primary_users (the simulator writes one configuration per device);
 *   - Windows (identity_windows.c, uda_wmi.c): NetGetAadJoinInformation
 *     (netapi32.dll, loaded at run time), the device certificate in the
 *     machine store (issuer CN=MS-Organization-Access, subject CN=<deviceId>)
 *     named for libcurl's Schannel as "LocalMachine\MY\<thumbprint>", and
 *     SCCM's user-device affinity over WMI (root\ccm\Policy\Machine\ActualConfig,
 *     CCM_UserAffinity.ConsoleUser where IsUserAffinitySet). A configured
 *     "device" member wins over what Windows says.
 * Nothing here talks to the network. */
#ifndef SSRP_HAL_IDENTITY_H
#define SSRP_HAL_IDENTITY_H

#include <stddef.h>

#include "ssrp/platform.h"

/* With the built-in platform backend's answers left out (ssrp_platform_*
 * with p NULL): on POSIX systems, what the configuration says. */
/* Read the identity. SSRP_OK with out->join != NONE when registered;
 * SSRP_E_NOTFOUND with a sentence ("this device is not registered in Entra
 * ID: the configuration names no device and ...") when not; other errors
 * when the platform could not be asked or the files are missing. */
int ssrp_identity_read(const ssrp_identity_config *cfg, ssrp_device_identity *out);

/* The device's primary users as SCCM gives them ("CONTOSO\alice") or as
 * configured (UPNs allowed). *users is NULL-terminated (possibly empty),
 * freed with ssrp_primary_users_free. */
int ssrp_primary_users_read(const ssrp_identity_config *cfg, char ***users, size_t *n);

#endif
