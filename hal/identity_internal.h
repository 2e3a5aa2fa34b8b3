/* Between hal/identity_config.c (the configuration's "device" member, on
 * every platform) and the Windows backends (identity_windows.c, uda_wmi.c).
 * Not installed. */
#ifndef SSRP_HAL_IDENTITY_INTERNAL_H
#define SSRP_HAL_IDENTITY_INTERNAL_H

#include <stddef.h>

#include "hal/identity.h"

/* The issuer common name of every Entra ID device certificate. */
#define SSRP_IDENTITY_ISSUER_CN "MS-Organization-Access"

/* The identity the configuration names (cfg->device_id set), its
 * certificate and key checked by ssrp_identity_check_files(); source
 * "config". SSRP_E_NOTFOUND when cfg names no device. */
int ssrp_identity_from_config(const ssrp_identity_config *cfg, ssrp_device_identity *out);

/* The configuration's primary users (an empty list when it gives none). */
int ssrp_identity_users_from_config(const ssrp_identity_config *cfg, char ***users, size_t *n);

/* Check that the certificate file's subject CN is device_id, its issuer CN
 * MS-Organization-Access, and (where the platform can) that the key file
 * holds its private key; each failure a sentence naming the file. OpenSSL
 * in identity_config.c; crypt32 in identity_windows.c. */
int ssrp_identity_check_files(const char *device_id, const char *cert_file, const char *key_file);

/* Check the certificate a store path names ("LocalMachine\\MY\\<thumbprint>",
 * cert_store_path.h) the same way, and that the store holds its private
 * key; each failure a sentence naming the store and thumbprint. Windows
 * (identity_windows.c); elsewhere SSRP_E_NOTSUPPORTED, saying so. */
int ssrp_identity_check_store(const char *device_id, const char *cert_path);

/* Append a copy of user to the NULL-terminated list (*users may be NULL). */
int ssrp_identity_users_add(char ***users, size_t *n, const char *user);

#ifdef _WIN32
#include <wchar.h>
/* UTF-16 to UTF-8 into out (cap bytes); SSRP_E_INVALID naming what when it
 * does not convert or fit (identity_windows.c). */
int ssrp_identity_utf8(const wchar_t *w, char *out, size_t cap, const char *what);

/* SCCM's user-device affinity over WMI: hal/uda_wmi.h. */
#endif

#endif
