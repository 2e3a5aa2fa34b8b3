/* A certificate in a Windows certificate store, named as libcurl's Schannel
 * backend takes it for CURLOPT_SSLCERT (with no key file):
 * "<location>\<store>\<SHA-1 thumbprint>", e.g. "LocalMachine\MY\" and 40
 * hex digits: the Entra ID device certificate, whose key stays in its
 * provider (on a joined device the TPM). Parsed as libcurl 7.88 does
 * (lib/vtls/schannel.c, get_cert_location), the location names matched
 * exactly. The parsing is portable, so every platform's configuration check
 * can tell such a name from a file; only Windows opens the store. */
#ifndef SSRP_HAL_CERT_STORE_PATH_H
#define SSRP_HAL_CERT_STORE_PATH_H

typedef struct ssrp_cert_store_path {
	const char *location; /* the location's name, e.g. "LocalMachine" (static) */
	int location_id;      /* its CERT_SYSTEM_STORE_*_ID (wincrypt.h) */
	char store[64];       /* the store's name, e.g. "MY" */
	char thumbprint[41];  /* 40 hex digits, upper case */
} ssrp_cert_store_path;

/* 1 when text begins with a store location's name and a backslash (so it
 * names a store, well or not), else 0. */
int ssrp_cert_store_path_is(const char *text);

/* Parse text into out; SSRP_E_INVALID with a sentence naming what (e.g.
 * "device.cert_file") and the form expected when it is not one. */
int ssrp_cert_store_path_parse(const char *text, const char *what, ssrp_cert_store_path *out);

#endif
