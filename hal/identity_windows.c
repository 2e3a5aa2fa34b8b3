/* hal/identity.h on Windows. A configured "device" member wins (the
 * portable code in identity_config.c, its files checked here with crypt32);
 * otherwise Windows is asked:
 *   - NetGetAadJoinInformation (lmjoin.h; Windows 10 / Server 2016 and
 *     later), loaded at run time from System32's netapi32.dll because
 *     mingw-w64 has neither the declaration nor the import (the structures
 *     are declared below as the SDK has them);
 *   - the device certificate in the machine store (LocalMachine\MY; for a
 *     registered device also CurrentUser\MY) with issuer
 *     CN=MS-Organization-Access and subject CN=<deviceId>, named for
 *     libcurl's Schannel as "LocalMachine\MY\<SHA-1 thumbprint>" with no key
 *     file (the key stays in its provider, often the TPM);
 *   - primary users: SCCM's user-device affinity over WMI (uda_wmi.c), then
 *     the configuration's list.
 * A configured device's certificate is a PEM or PFX file, or a certificate
 * in a store named "LocalMachine\MY\<thumbprint>" (cert_store_path.h),
 * looked up here by its SHA-1 hash as Schannel will.
 * Compiled only for Windows (the mingw-w64 test); link with -lcrypt32 and,
 * for uda_wmi.c, -lole32 -loleaut32 -lwbemuuid. Nothing links netapi32. */
#ifndef _WIN32
#error "hal/identity_windows.c is the Windows identity backend; build it for Windows only"
#endif

#include <windows.h>
#include <wincrypt.h>

#include <stdio.h>
#include <string.h>

#include "hal/cert_store_path.h"
#include "hal/guid.h"
#include "hal/identity.h"
#include "hal/identity_internal.h"
#include "hal/platform_backends.h"
#include "hal/uda_wmi.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"
#include "ssrp/sys/platform.h"

/* ---- lmjoin.h, as the Windows SDK declares it ---------------------------- */

typedef enum ssrp_dsreg_join_type {
	SSRP_DSREG_UNKNOWN_JOIN = 0,
	SSRP_DSREG_DEVICE_JOIN = 1,
	SSRP_DSREG_WORKPLACE_JOIN = 2,
} ssrp_dsreg_join_type;

typedef struct ssrp_dsreg_user_info {
	LPWSTR pszUserEmail;
	LPWSTR pszUserKeyId;
	LPWSTR pszUserKeyName;
} ssrp_dsreg_user_info;

typedef struct ssrp_dsreg_join_info {
	ssrp_dsreg_join_type joinType;
	PCCERT_CONTEXT pJoinCertificate;
	LPWSTR pszDeviceId;
	LPWSTR pszIdpDomain;
	LPWSTR pszTenantId;
	LPWSTR pszJoinUserEmail;
	LPWSTR pszTenantDisplayName;
	LPWSTR pszMdmEnrollmentUrl;
	LPWSTR pszMdmTermsOfUseUrl;
	LPWSTR pszMdmComplianceUrl;
	LPWSTR pszUserSettingSyncUrl;
	ssrp_dsreg_user_info *pUserInfo;
} ssrp_dsreg_join_info;

/* NET_API_FUNCTION is __stdcall (the only convention on x64). */
typedef HRESULT(WINAPI *get_aad_join_fn)(LPCWSTR tenant_id, ssrp_dsreg_join_info **info);
typedef VOID(WINAPI *free_aad_join_fn)(ssrp_dsreg_join_info *info);
/* NetGetJoinInformation (lmjoin.h): is the device also in an AD domain? */
typedef DWORD(WINAPI *get_join_fn)(LPCWSTR server, LPWSTR *name, DWORD *status);
typedef DWORD(WINAPI *buffer_free_fn)(LPVOID buffer);
#define SSRP_NETSETUP_DOMAIN_NAME 3 /* NETSETUP_JOIN_STATUS NetSetupDomainName */

/* ---- helpers ------------------------------------------------------------- */

int ssrp_identity_utf8(const wchar_t *w, char *out, size_t cap, const char *what)
{
	if (!w || cap == 0 || cap > INT_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "Windows gave no %s", what);
	int len = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, out, (int)cap, NULL,
				      NULL);
	if (len <= 0) {
		out[0] = '\0';
		return ssrp_error_set(SSRP_E_INVALID,
				      "the %s Windows gave is not valid UTF-16 or longer than %zu bytes",
				      what, cap - 1);
	}
	return SSRP_OK;
}

/* The common name of the certificate's subject (issuer when issuer) in UTF-8. */
static int cert_cn(PCCERT_CONTEXT cert, int issuer, char *out, size_t cap)
{
	WCHAR w[256];
	DWORD n = CertGetNameStringW(cert, CERT_NAME_ATTR_TYPE,
				     issuer ? CERT_NAME_ISSUER_FLAG : 0, (void *)szOID_COMMON_NAME,
				     w, sizeof w / sizeof w[0]);
	if (n <= 1)
		return -1;
	return ssrp_identity_utf8(w, out, cap, "certificate name") ? -1 : 0;
}

/* Subject CN=<device_id> (any case, braces allowed) and issuer
 * CN=MS-Organization-Access. */
static int is_device_cert(PCCERT_CONTEXT cert, const char *device_id)
{
	char cn[256], id[37];
	return cert_cn(cert, 0, cn, sizeof cn) == 0 && ssrp_guid_lower(id, cn) == 0 &&
	       strcmp(id, device_id) == 0 && cert_cn(cert, 1, cn, sizeof cn) == 0 &&
	       strcmp(cn, SSRP_IDENTITY_ISSUER_CN) == 0;
}

/* The certificate's subject CN is device_id and its issuer CN
 * MS-Organization-Access; each failure a sentence naming where (a file or
 * a store path). */
static int check_names(PCCERT_CONTEXT cert, const char *device_id, const char *where)
{
	char cn[256], id[37];
	if (cert_cn(cert, 0, cn, sizeof cn) || ssrp_guid_lower(id, cn) || strcmp(id, device_id))
		return ssrp_error_set(SSRP_E_INVALID,
				      "the device certificate in %s is not this device's: its subject "
				      "is not CN=%s (the configured device.device_id)",
				      where, device_id);
	if (cert_cn(cert, 1, cn, sizeof cn) || strcmp(cn, SSRP_IDENTITY_ISSUER_CN))
		return ssrp_error_set(SSRP_E_INVALID,
				      "the certificate in %s is no Entra ID device certificate: its "
				      "issuer is not CN=" SSRP_IDENTITY_ISSUER_CN,
				      where);
	return SSRP_OK;
}

/* The context carries a private key: in a provider or a handle. */
static int has_private_key(PCCERT_CONTEXT c)
{
	DWORD kl = 0;
	return CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &kl) ||
	       CertGetCertificateContextProperty(c, CERT_NCRYPT_KEY_HANDLE_PROP_ID, NULL, &kl) ||
	       CertGetCertificateContextProperty(c, CERT_KEY_CONTEXT_PROP_ID, NULL, &kl);
}

/* The certificate of a PFX (PKCS#12) file without a password: the one
 * with a private key. The key is not kept (PKCS12_NO_PERSIST_KEY): only the
 * names are read here; Schannel loads the file itself for TLS. */
static PCCERT_CONTEXT pfx_cert(BYTE *data, DWORD len)
{
	CRYPT_DATA_BLOB blob = {len, data};
	if (!PFXIsPFXBlob(&blob))
		return NULL;
	HCERTSTORE store = PFXImportCertStore(&blob, L"", PKCS12_NO_PERSIST_KEY);
	if (!store)
		store = PFXImportCertStore(&blob, NULL, PKCS12_NO_PERSIST_KEY);
	if (!store)
		return NULL;
	PCCERT_CONTEXT c = NULL, found = NULL;
	while (!found && (c = CertEnumCertificatesInStore(store, c))) {
		if (has_private_key(c))
			found = CertDuplicateCertificateContext(c);
	}
	if (c)
		CertFreeCertificateContext(c);
	CertCloseStore(store, 0);
	return found;
}

/* The portable path's check on Windows: the certificate's names with
 * crypt32. cert_file is PEM, or a PFX file holding the certificate and its
 * key (what Schannel takes as a file: then key_file names the same file).
 * Whether the key matches the certificate is left to the TLS handshake:
 * crypt32 reads no PEM private keys. */
int ssrp_identity_check_files(const char *device_id, const char *cert_file, const char *key_file)
{
	(void)key_file;
	FILE *f = fopen(cert_file, "rb");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "cannot open the device certificate file %s",
				      cert_file);
	char pem[16384];
	size_t len = fread(pem, 1, sizeof pem - 1, f);
	fclose(f);
	pem[len] = '\0';
	BYTE der[12288];
	DWORD der_len = sizeof der;
	PCCERT_CONTEXT cert = NULL;
	if (CryptStringToBinaryA(pem, (DWORD)len, CRYPT_STRING_BASE64HEADER, der, &der_len, NULL,
				 NULL))
		cert = CertCreateCertificateContext(X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, der,
						    der_len);
	else
		cert = pfx_cert((BYTE *)pem, (DWORD)len);
	if (!cert)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the device certificate file %s holds no PEM certificate, nor "
				      "a PFX with a certificate and its key and no password",
				      cert_file);
	int rc = check_names(cert, device_id, cert_file);
	CertFreeCertificateContext(cert);
	return rc;
}

/* Open location\store (a system store that exists) for reading. */
static HCERTSTORE open_store(DWORD location, const char *location_name, const char *store_name)
{
	wchar_t *wstore = ssrp_win32_widen(store_name);
	if (!wstore) {
		ssrp_error_set(SSRP_E_INVALID, "the certificate store name %s\\%s is not UTF-8",
			       location_name, store_name);
		return NULL;
	}
	HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
					 location | CERT_STORE_OPEN_EXISTING_FLAG |
						 CERT_STORE_READONLY_FLAG,
					 wstore);
	DWORD e = GetLastError();
	ssrp_free(wstore);
	if (store)
		return store;
	if (e == ERROR_FILE_NOT_FOUND)
		ssrp_error_set(SSRP_E_NOTFOUND, "there is no certificate store %s\\%s",
			       location_name, store_name);
	else
		ssrp_error_set(e == ERROR_ACCESS_DENIED ? SSRP_E_PERMISSION : SSRP_E_IO,
			       "cannot open the certificate store %s\\%s (error %lu)", location_name,
			       store_name, (unsigned long)e);
	return NULL;
}

/* Open the certificate's private key as Schannel will (CNG or CryptoAPI,
 * no prompt; the handle stays cached on the context): a key the provider
 * cannot open fails here, named, not later as a TLS handshake error. */
static int open_key(PCCERT_CONTEXT cert, const ssrp_cert_store_path *p)
{
	HCRYPTPROV_OR_NCRYPT_KEY_HANDLE key = 0;
	DWORD spec = 0;
	BOOL caller_frees = FALSE;
	if (CryptAcquireCertificatePrivateKey(cert,
					      CRYPT_ACQUIRE_CACHE_FLAG | CRYPT_ACQUIRE_SILENT_FLAG |
						      CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG,
					      NULL, &key, &spec, &caller_frees))
		return SSRP_OK; /* cached: released with the context */
	DWORD e = GetLastError();
	char why[160];
	return ssrp_error_set(SSRP_E_PERMISSION,
			      "the private key of the certificate %s in the store %s\\%s cannot "
			      "be opened by this account (error 0x%08lX: %s)",
			      p->thumbprint, p->location, p->store, (unsigned long)e,
			      ssrp_win32_strerror(e, why, sizeof why));
}

/* The configured certificate "LOCATION\STORE\THUMBPRINT": found in that
 * store by its SHA-1 hash (CertFindCertificateInStore, as libcurl's Schannel
 * backend finds it), with a private key, and this device's. */
int ssrp_identity_check_store(const char *device_id, const char *cert_path)
{
	ssrp_cert_store_path p;
	int rc = ssrp_cert_store_path_parse(cert_path, "device.cert_file", &p);
	if (rc)
		return rc;
	BYTE hash[20];
	DWORD hl = sizeof hash;
	if (!CryptStringToBinaryA(p.thumbprint, 40, CRYPT_STRING_HEX, hash, &hl, NULL, NULL) ||
	    hl != sizeof hash)
		return ssrp_error_set(SSRP_E_INVALID, "the thumbprint in %s is not 40 hex digits",
				      cert_path);
	DWORD location = (DWORD)p.location_id << CERT_SYSTEM_STORE_LOCATION_SHIFT;
	HCERTSTORE store = open_store(location, p.location, p.store);
	if (!store)
		return ssrp_error_last_code();
	CRYPT_HASH_BLOB blob = {sizeof hash, hash};
	PCCERT_CONTEXT cert = CertFindCertificateInStore(store,
							 X509_ASN_ENCODING | PKCS_7_ASN_ENCODING,
							 0, CERT_FIND_SHA1_HASH, &blob, NULL);
	if (!cert)
		rc = ssrp_error_set(SSRP_E_NOTFOUND,
				    "the certificate store %s\\%s holds no certificate with "
				    "thumbprint %s (device.cert_file)",
				    p.location, p.store, p.thumbprint);
	else if (!has_private_key(cert))
		rc = ssrp_error_set(SSRP_E_INVALID,
				    "the certificate %s in the store %s\\%s has no private key "
				    "there, so it cannot authenticate the device",
				    p.thumbprint, p.location, p.store);
	else if ((rc = check_names(cert, device_id, cert_path)) == SSRP_OK)
		rc = open_key(cert, &p);
	if (cert)
		CertFreeCertificateContext(cert);
	CertCloseStore(store, 0);
	return rc;
}

/* Find the device certificate in location\MY; write its Schannel path
 * ("LocalMachine\MY\<HEX>") to out. Prefers the certificate Windows named
 * in the join information (want_hash), then one with a private key and the
 * latest expiry. SSRP_E_NOTFOUND when there is none. */
static int find_cert(DWORD location, const char *location_name, const char *device_id,
		     const BYTE *want_hash, char *out, size_t cap)
{
	HCERTSTORE store = open_store(location, location_name, "MY");
	if (!store)
		return ssrp_error_last_code();
	BYTE best[20];
	int found = 0, best_score = -1;
	FILETIME best_end = {0, 0};
	PCCERT_CONTEXT c = NULL;
	while ((c = CertEnumCertificatesInStore(store, c))) {
		if (!is_device_cert(c, device_id))
			continue;
		BYTE hash[20];
		DWORD hl = sizeof hash;
		if (!CertGetCertificateContextProperty(c, CERT_HASH_PROP_ID, hash, &hl) || hl != 20)
			continue;
		DWORD kl = 0;
		int score = (want_hash && !memcmp(hash, want_hash, 20)) ? 2
			    : CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL,
								&kl)
				    ? 1
				    : 0;
		const FILETIME *end = &c->pCertInfo->NotAfter;
		if (score > best_score ||
		    (score == best_score && CompareFileTime(end, &best_end) > 0)) {
			memcpy(best, hash, 20);
			best_score = score;
			best_end = *end;
			found = 1;
		}
	}
	CertCloseStore(store, 0);
	if (!found)
		return ssrp_error_set(SSRP_E_NOTFOUND,
				      "%s\\MY holds no certificate CN=%s issued by "
				      "CN=" SSRP_IDENTITY_ISSUER_CN,
				      location_name, device_id);
	char hex[41];
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02X", best[i]);
	if ((size_t)snprintf(out, cap, "%s\\MY\\%s", location_name, hex) >= cap)
		return ssrp_error_set(SSRP_E_BUFSIZE, "certificate path too long");
	return SSRP_OK;
}

/* NETSETUP_JOIN_STATUS says the device is in an AD domain too. */
static int domain_joined(HMODULE netapi)
{
	get_join_fn get_join = (get_join_fn)(void (*)(void))GetProcAddress(netapi,
									  "NetGetJoinInformation");
	buffer_free_fn buf_free =
		(buffer_free_fn)(void (*)(void))GetProcAddress(netapi, "NetApiBufferFree");
	if (!get_join || !buf_free)
		return 0;
	LPWSTR name = NULL;
	DWORD status = 0;
	if (get_join(NULL, &name, &status) != 0)
		return 0;
	if (name)
		buf_free(name);
	return status == SSRP_NETSETUP_DOMAIN_NAME;
}

static int not_registered(const char *why)
{
	return ssrp_error_set(SSRP_E_NOTFOUND,
			      "this device is not registered in Entra ID: %s, and the configuration "
			      "names no device (a \"device\" member with device_id, cert_file and "
			      "key_file)",
			      why);
}

static int read_windows(const ssrp_identity_config *cfg, HMODULE netapi, ssrp_device_identity *out)
{
	get_aad_join_fn get_info =
		(get_aad_join_fn)(void (*)(void))GetProcAddress(netapi, "NetGetAadJoinInformation");
	free_aad_join_fn free_info = (free_aad_join_fn)(void (*)(void))GetProcAddress(
		netapi, "NetFreeAadJoinInformation");
	if (!get_info || !free_info)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "this Windows has no NetGetAadJoinInformation (Windows 10 or "
				      "Server 2016 and later have it): name the device in the "
				      "configuration's \"device\" member instead");
	ssrp_dsreg_join_info *info = NULL;
	HRESULT hr = get_info(NULL, &info);
	if (FAILED(hr))
		return ssrp_error_set(SSRP_E_GENERIC,
				      "Windows could not say whether this device is joined to Entra "
				      "ID (NetGetAadJoinInformation failed with HRESULT 0x%08lX)",
				      (unsigned long)hr);
	if (!info)
		return not_registered("Windows reports no Entra ID join or work account");
	int rc = SSRP_OK;
	char text[128];
	BYTE want_hash[20];
	const BYTE *want = NULL;
	if (info->joinType == SSRP_DSREG_DEVICE_JOIN) {
		out->join = domain_joined(netapi) ? SSRP_JOIN_HYBRID : SSRP_JOIN_AZUREAD;
	} else if (info->joinType == SSRP_DSREG_WORKPLACE_JOIN) {
		out->join = SSRP_JOIN_REGISTERED;
	} else {
		rc = not_registered("Windows reports an unknown join type");
		goto out;
	}
	if ((rc = ssrp_identity_utf8(info->pszDeviceId, text, sizeof text, "device id")))
		goto out;
	if (ssrp_guid_lower(out->device_id, text)) {
		rc = ssrp_error_set(SSRP_E_FORMAT, "Windows gave device id \"%.64s\", not a GUID",
				    text);
		goto out;
	}
	if ((rc = ssrp_identity_utf8(info->pszTenantId, text, sizeof text, "tenant id")))
		goto out;
	if (ssrp_guid_lower(out->tenant_id, text)) {
		rc = ssrp_error_set(SSRP_E_FORMAT, "Windows gave tenant id \"%.64s\", not a GUID",
				    text);
		goto out;
	}
	char want_tenant[37];
	if (cfg && cfg->tenant_id && !ssrp_guid_lower(want_tenant, cfg->tenant_id) &&
	    strcmp(want_tenant, out->tenant_id)) {
		rc = ssrp_error_set(SSRP_E_INVALID,
				    "this device is joined to tenant %s, not to the configured "
				    "tenant_id %s",
				    out->tenant_id, want_tenant);
		goto out;
	}
	if (info->pJoinCertificate) {
		DWORD hl = sizeof want_hash;
		if (CertGetCertificateContextProperty(info->pJoinCertificate, CERT_HASH_PROP_ID,
						      want_hash, &hl) &&
		    hl == sizeof want_hash)
			want = want_hash;
	}
	rc = find_cert(CERT_SYSTEM_STORE_LOCAL_MACHINE, "LocalMachine", out->device_id, want,
		       out->cert, sizeof out->cert);
	if (rc == SSRP_E_NOTFOUND && out->join == SSRP_JOIN_REGISTERED)
		rc = find_cert(CERT_SYSTEM_STORE_CURRENT_USER, "CurrentUser", out->device_id, want,
			       out->cert, sizeof out->cert);
	if (rc == SSRP_E_NOTFOUND) {
		/* joined, but the certificate cannot be used: an error, not "not
		 * registered" (that would hide a broken join) */
		rc = ssrp_error_set(SSRP_E_IO,
				    "this device is joined to Entra ID as %s but its device "
				    "certificate (CN=%s, issued by CN=" SSRP_IDENTITY_ISSUER_CN
				    ") is not in LocalMachine\\MY; run \"dsregcmd /status\"",
				    out->device_id, out->device_id);
	}
	if (rc)
		goto out;
	out->key[0] = '\0'; /* Schannel takes the key from the certificate's provider */
	if (cfg && cfg->display_name) {
		snprintf(out->display_name, sizeof out->display_name, "%s", cfg->display_name);
	} else {
		WCHAR name[MAX_COMPUTERNAME_LENGTH + 1];
		DWORD n = sizeof name / sizeof name[0];
		if (GetComputerNameW(name, &n) &&
		    ssrp_identity_utf8(name, out->display_name, sizeof out->display_name,
				       "computer name"))
			out->display_name[0] = '\0';
	}
	snprintf(out->source, sizeof out->source, "windows");
out:
	free_info(info);
	return rc;
}

/* The "windows" platform backend: the join from NetGetAadJoinInformation
 * and the machine store's certificate; primary users from SCCM, as its
 * config says (hal/uda_wmi.h). */
typedef struct win_ctx {
	const ssrp_wmi_api *api;
	ssrp_uda_config uda;
} win_ctx;

int ssrp_platform_windows_open_api(void *ctx, const char *config, const ssrp_wmi_api *api)
{
	win_ctx *c = ctx;
	c->api = api;
	return ssrp_uda_config_parse(&c->uda, config);
}

static int win_open(void *ctx, const char *config)
{
	return ssrp_platform_windows_open_api(ctx, config, &ssrp_wmi_ole32);
}

static void win_close(void *ctx)
{
	(void)ctx;
}

static int win_identity(void *ctx, const ssrp_identity_config *cfg, ssrp_device_identity *out)
{
	(void)ctx;
	/* System32 only: never a netapi32.dll planted next to the program. */
	HMODULE netapi = LoadLibraryExW(L"netapi32.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
	if (!netapi)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "cannot load netapi32.dll from System32 (error %lu) to ask "
				      "Windows about the Entra ID join",
				      (unsigned long)GetLastError());
	int rc = read_windows(cfg, netapi, out);
	FreeLibrary(netapi);
	return rc;
}

/* SCCM's user-device affinity; NOTFOUND without an SCCM client, none with
 * sccm_affinity=off, so the core takes the configuration's list. */
static int win_users(void *ctx, int (*add)(void *list, const char *user), void *list)
{
	const win_ctx *c = ctx;
	char **users = NULL;
	size_t n = 0;
	int rc = ssrp_uda_wmi_read(&c->uda, c->api, &users, &n);
	for (size_t i = 0; rc == SSRP_OK && i < n; i++)
		rc = add(list, users[i]);
	ssrp_primary_users_free(users);
	return rc;
}

const ssrp_platform_backend ssrp_platform_backend_windows = {
	.version = SSRP_PLATFORM_BACKEND_VERSION,
	.info = {
		.name = "windows",
		.description = "Entra ID join (NetGetAadJoinInformation), the device certificate "
			       "in the machine store, SCCM's primary users (WMI)",
		.config_help = "nothing, or sccm_namespace=NS,sccm_class=CLASS,"
			       "sccm_affinity=set|any|off (SCCM's primary users)",
	},
	.caps = SSRP_PLATFORM_CAP_IDENTITY | SSRP_PLATFORM_CAP_PRIMARY_USERS,
	.ctx_size = sizeof(win_ctx),
	.open = win_open,
	.close = win_close,
	.read_identity = win_identity,
	.read_primary_users = win_users,
};
