/* The wmi volume backend: BitLocker on Windows through WMI's
 * Win32_EncryptableVolume class (namespace
 * ROOT\CIMV2\Security\MicrosoftVolumeEncryption), in C over the COM vtables.
 * The config is a drive letter, "C:", optionally followed by "?pcrs" (see
 * wmi_add_tpm_protector). Compiled only for Windows, never on other systems
 * (hence the #error below rather than an empty file); link with -lole32
 * -loleaut32 -lwbemuuid.
 *
 * Every operation runs one method of the volume's instance with
 * IWbemServices::ExecMethod and reads its uint32 ReturnValue, an HRESULT
 * that fve_errors.c turns into an ssrp error. The provider answers only an
 * elevated Administrator.
 *
 * Threads: the COM objects belong to the apartment of the thread that opened
 * the volume. When open initialized COM itself that is the multithreaded
 * apartment, usable from any thread in it; when the caller's thread was
 * already a single-threaded apartment, use the volume from that thread only.
 * Close it on the thread that opened it, so COM's initialization is undone.
 *
 * COM security (hal/wmi_windows.h): open sets the process's level with
 * CoInitializeSecurity (packet privacy, impersonation). That call can be
 * made once per process; when the host program (or COM itself) made it
 * first, RPC_E_TOO_LATE is fine: the packet-privacy blanket set on the
 * IWbemServices proxy and on the query's enumerator is what this namespace
 * needs, whatever the process default.
 *
 * The COM calls go through a table (ssrp_wmi_api): ole32's here, a
 * scripted WMI in tests/mingw/unit_wmi_volume.c. */
#ifndef _WIN32
#error "bitlocker/backend_wmi.c is the Windows WMI backend; build it for Windows only"
#endif

#include <windows.h>
#include <oleauto.h>
#include <wbemidl.h>

#include <stdio.h>
#include <string.h>

#include "bitlocker/backend_wmi.h"
#include "bitlocker/fve_errors.h"
#include "bitlocker/volume_backends.h"
#include "hal/mem.h"
#include "hal/wmi_windows.h"

/* How long to wait for the volume query's answer (IEnumWbemClassObject::Next). */
#define QUERY_TIMEOUT_MS 120000
/* The longest method or property name used here, with its NUL. */
#define NAME_MAX_LEN 48

typedef struct wmi_ctx {
	ssrp_wmi_com com;        /* COM's initialization, undone by close */
	IWbemServices *services;
	IWbemClassObject *klass; /* Win32_EncryptableVolume: the methods' parameter signatures */
	BSTR path;               /* the volume instance's __PATH */
	int os_volume;           /* the drive Windows runs from */
	int send_pcrs;           /* "?pcrs": the caller's PCRs as PlatformValidationProfile */
	char drive[3];           /* "C:" */
} wmi_ctx;

/* "wmi backend: <Method> on drive C: <what happened> (<NAME>, 0x...)" */
static int method_error(const wmi_ctx *c, const char *method, uint32_t hr)
{
	return ssrp_fve_error_set(hr, "wmi backend: %s on drive %c", method, c->drive[0]);
}

static int nomem(const char *doing)
{
	return ssrp_error_set(SSRP_E_NOMEM, "wmi backend: out of memory %s", doing);
}

/* An ASCII name (methods, the WQL query) as UTF-16 in out[0..cap). */
static void ascii_to_wide(WCHAR *out, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++)
		out[i] = (WCHAR)(unsigned char)s[i];
	out[i] = 0;
}

/* UTF-8 text as a new BSTR in *out (SysFreeString it; a secret with
 * bstr_free_secret). */
static int bstr_from_utf8(BSTR *out, const char *s, const char *what)
{
	*out = NULL;
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	if (n <= 0)
		return ssrp_error_set(SSRP_E_INVALID, "wmi backend: the %s is not valid UTF-8",
				      what);
	/* SysAllocStringLen(NULL, len) gives len characters plus the NUL. */
	BSTR b = SysAllocStringLen(NULL, (UINT)(n - 1));
	if (!b)
		return nomem("converting text for WMI");
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, b, n) != n) {
		SecureZeroMemory(b, (size_t)n * sizeof(WCHAR));
		SysFreeString(b);
		return ssrp_error_set(SSRP_E_INVALID, "wmi backend: the %s is not valid UTF-8",
				      what);
	}
	*out = b;
	return SSRP_OK;
}

/* Zero a BSTR's characters before freeing it: it held a recovery password. */
static void bstr_free_secret(BSTR b)
{
	if (!b)
		return;
	SecureZeroMemory(b, SysStringByteLen(b));
	SysFreeString(b);
}

/* UTF-16 w as UTF-8 into out[0..cap). Too long: SSRP_E_FORMAT, or with
 * truncate, cut at a character boundary. */
static int utf8_from_wide(char *out, size_t cap, const WCHAR *w, int truncate, const char *what)
{
	out[0] = 0;
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	if (n <= 0)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "wmi backend: the %s from WMI is not valid UTF-16", what);
	if ((size_t)n <= cap) {
		WideCharToMultiByte(CP_UTF8, 0, w, -1, out, n, NULL, NULL);
		return SSRP_OK;
	}
	if (!truncate)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "wmi backend: the %s from WMI is %d bytes long, more than "
				      "%zu",
				      what, n - 1, cap - 1);
	char *tmp = ssrp_malloc((size_t)n);
	if (!tmp)
		return nomem("converting text from WMI");
	WideCharToMultiByte(CP_UTF8, 0, w, -1, tmp, n, NULL, NULL);
	size_t cut = cap - 1;
	while (cut > 0 && ((unsigned char)tmp[cut] & 0xC0) == 0x80)
		cut--; /* back to the first byte of the character that did not fit */
	memcpy(out, tmp, cut);
	out[cut] = 0;
	ssrp_free(tmp);
	return SSRP_OK;
}

/* Property name of obj as a uint32 (WMI hands uint32 over as VT_I4). */
static int get_u32(IWbemClassObject *obj, const WCHAR *name, uint32_t *out, const char *method)
{
	VARIANT v;
	VariantInit(&v);
	HRESULT hr = obj->lpVtbl->Get(obj, name, 0, &v, NULL, NULL);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr, "wmi backend: reading the result of %s",
					  method);
	int rc = SSRP_OK;
	if (v.vt == VT_I4)
		*out = (uint32_t)v.lVal;
	else if (v.vt == VT_UI4)
		*out = v.ulVal;
	else
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "wmi backend: %s answered a value of VARIANT type %u where a "
				    "uint32 was documented",
				    method, (unsigned)v.vt);
	VariantClear(&v);
	return rc;
}

/* Property name of obj as a string into v (VariantClear it). */
static int get_string(IWbemClassObject *obj, const WCHAR *name, VARIANT *v, const char *method)
{
	VariantInit(v);
	HRESULT hr = obj->lpVtbl->Get(obj, name, 0, v, NULL, NULL);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr, "wmi backend: reading the result of %s",
					  method);
	if (v->vt != VT_BSTR || !v->bstrVal) {
		unsigned vt = v->vt;
		VariantClear(v);
		return ssrp_error_set(SSRP_E_FORMAT,
				      "wmi backend: %s answered a value of VARIANT type %u where a "
				      "string was documented",
				      method, vt);
	}
	return SSRP_OK;
}

/* A fresh in-parameters object for method (GetMethod, then SpawnInstance,
 * as "Calling a Provider Method" describes). */
static int in_params(wmi_ctx *c, const char *method, IWbemClassObject **out)
{
	*out = NULL;
	WCHAR name[NAME_MAX_LEN];
	ascii_to_wide(name, NAME_MAX_LEN, method);
	IWbemClassObject *sig = NULL;
	HRESULT hr = c->klass->lpVtbl->GetMethod(c->klass, name, 0, &sig, NULL);
	if ((uint32_t)hr == SSRP_HR_WBEM_E_NOT_FOUND)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "wmi backend: this Windows version's Win32_EncryptableVolume "
				      "has no method %s",
				      method);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr, "wmi backend: looking up %s", method);
	if (!sig)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "wmi backend: Win32_EncryptableVolume.%s takes no parameters "
				      "on this Windows version",
				      method);
	hr = sig->lpVtbl->SpawnInstance(sig, 0, out);
	sig->lpVtbl->Release(sig);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: preparing the parameters of %s", method);
	return SSRP_OK;
}

/* Set string property name of in to value (Put copies it). */
static int put_string(IWbemClassObject *in, const WCHAR *name, BSTR value, const char *method)
{
	VARIANT v;
	VariantInit(&v);
	v.vt = VT_BSTR;
	v.bstrVal = value;
	HRESULT hr = in->lpVtbl->Put(in, name, 0, &v, 0);
	/* No VariantClear: value stays the caller's to free (or zero). */
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr, "wmi backend: setting a parameter of %s",
					  method);
	return SSRP_OK;
}

/* Set uint32 property name of in to value (WMI takes uint32 as VT_I4). */
static int put_u32(IWbemClassObject *in, const WCHAR *name, uint32_t value, const char *method)
{
	VARIANT v;
	VariantInit(&v);
	v.vt = VT_I4;
	v.lVal = (LONG)value;
	HRESULT hr = in->lpVtbl->Put(in, name, 0, &v, 0);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr, "wmi backend: setting a parameter of %s",
					  method);
	return SSRP_OK;
}

/* A fresh in-parameters object for method with its one uint32 parameter
 * name = value. */
static int in_params_u32(wmi_ctx *c, const char *method, const WCHAR *name, uint32_t value,
			 IWbemClassObject **out)
{
	int rc = in_params(c, method, out);
	if (rc == SSRP_OK && (rc = put_u32(*out, name, value, method)) != SSRP_OK) {
		(*out)->lpVtbl->Release(*out);
		*out = NULL;
	}
	return rc;
}

/* Run method on the volume with in-parameters in (NULL: none given). A local
 * failure is returned as an ssrp error. Otherwise SSRP_OK, with *status the
 * failing HRESULT of ExecMethod or of the method's ReturnValue (no error set
 * yet, so the caller may take some for answers), or 0 and the out-parameters
 * in *out (may be NULL; Release them). */
static int run_status(wmi_ctx *c, const char *method, IWbemClassObject *in,
		      IWbemClassObject **out, uint32_t *status)
{
	if (out)
		*out = NULL;
	*status = 0;
	WCHAR name[NAME_MAX_LEN];
	ascii_to_wide(name, NAME_MAX_LEN, method);
	BSTR bname = SysAllocString(name);
	if (!bname)
		return nomem("calling WMI");
	/* ExecMethod's path and name are BSTRs: a remote call marshals them by
	 * their length prefix, so plain wide strings will not do. */
	IWbemClassObject *outp = NULL;
	HRESULT hr = c->services->lpVtbl->ExecMethod(c->services, c->path, bname, 0, NULL, in,
						     &outp, NULL);
	SysFreeString(bname);
	if (FAILED(hr)) {
		if (outp)
			outp->lpVtbl->Release(outp);
		*status = (uint32_t)hr;
		return SSRP_OK;
	}
	if (!outp)
		return ssrp_error_set(SSRP_E_FORMAT, "wmi backend: %s returned no result", method);
	int rc = get_u32(outp, L"ReturnValue", status, method);
	/* ReturnValue is an HRESULT: without the severity bit (S_FALSE and the
	 * like) it reports success. */
	if (rc == SSRP_OK && !(*status & 0x80000000u))
		*status = 0;
	if (rc || *status || !out)
		outp->lpVtbl->Release(outp);
	else
		*out = outp;
	return rc;
}

/* run_status, with a failing status turned into its ssrp error. */
static int run(wmi_ctx *c, const char *method, IWbemClassObject *in, IWbemClassObject **out)
{
	uint32_t status;
	int rc = run_status(c, method, in, out, &status);
	if (rc)
		return rc;
	return status ? method_error(c, method, status) : SSRP_OK;
}

/* method, which takes no parameters, and its uint32 out-parameter prop. */
static int run_u32(wmi_ctx *c, const char *method, const WCHAR *prop, uint32_t *value,
		   uint32_t *status)
{
	IWbemClassObject *out = NULL;
	int rc = run_status(c, method, NULL, &out, status);
	if (rc || *status)
		return rc;
	rc = get_u32(out, prop, value, method);
	out->lpVtbl->Release(out);
	return rc;
}

/* method with the single string in-parameter VolumeKeyProtectorID = id. */
static int run_on_protector(wmi_ctx *c, const char *method, BSTR id, IWbemClassObject **out,
			    uint32_t *status)
{
	IWbemClassObject *in = NULL;
	int rc = in_params(c, method, &in);
	if (rc == SSRP_OK)
		rc = put_string(in, L"VolumeKeyProtectorID", id, method);
	if (rc == SSRP_OK)
		rc = run_status(c, method, in, out, status);
	if (in)
		in->lpVtbl->Release(in);
	return rc;
}

/* The new protector's id from a ProtectKeyWith* result into out_id (may be NULL). */
static int read_new_id(IWbemClassObject *out, char out_id[SSRP_PROTECTOR_ID_LEN + 1],
		       const char *method)
{
	VARIANT v;
	int rc = get_string(out, L"VolumeKeyProtectorID", &v, method);
	if (rc)
		return rc;
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "";
	rc = utf8_from_wide(id, sizeof id, v.bstrVal, 0, "new protector id");
	VariantClear(&v);
	if (rc == SSRP_OK && out_id)
		memcpy(out_id, id, sizeof id);
	return rc;
}

/* ---- open and close ---- */

#define BITLOCKER_NAMESPACE L"ROOT\\CIMV2\\Security\\MicrosoftVolumeEncryption"

static int connect_wmi(wmi_ctx *c)
{
	const char *step = "";
	HRESULT hr = ssrp_wmi_connect(c->com.api, BITLOCKER_NAMESPACE, &c->services, &step);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: %s (namespace "
					  "ROOT\\CIMV2\\Security\\MicrosoftVolumeEncryption)",
					  step);

	BSTR cls = SysAllocString(L"Win32_EncryptableVolume");
	if (!cls)
		return nomem("connecting to WMI");
	hr = c->services->lpVtbl->GetObject(c->services, cls, 0, NULL, &c->klass, NULL);
	SysFreeString(cls);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: reading class Win32_EncryptableVolume");
	return SSRP_OK;
}

/* The __PATH of the Win32_EncryptableVolume whose DriveLetter is c->drive. */
static int find_volume(wmi_ctx *c)
{
	char query[96];
	WCHAR wquery[96];
	snprintf(query, sizeof query,
		 "SELECT * FROM Win32_EncryptableVolume WHERE DriveLetter='%s'", c->drive);
	ascii_to_wide(wquery, sizeof wquery / sizeof wquery[0], query);
	BSTR lang = SysAllocString(L"WQL");
	BSTR bquery = SysAllocString(wquery);
	IEnumWbemClassObject *rows = NULL;
	HRESULT hr = E_OUTOFMEMORY;
	if (lang && bquery)
		hr = c->services->lpVtbl->ExecQuery(c->services, lang, bquery,
						    WBEM_FLAG_FORWARD_ONLY |
							    WBEM_FLAG_RETURN_IMMEDIATELY,
						    NULL, &rows);
	SysFreeString(lang);
	SysFreeString(bquery);
	if (SUCCEEDED(hr) && !rows)
		hr = E_POINTER;
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: looking for drive %c in "
					  "Win32_EncryptableVolume",
					  c->drive[0]);
	/* The enumerator is a proxy of its own and needs the blanket too
	 * ("Setting the Security on IWbemServices and Other Proxies"). */
	hr = ssrp_wmi_secure(c->com.api, (IUnknown *)rows);
	IWbemClassObject *row = NULL;
	ULONG got = 0;
	if (SUCCEEDED(hr))
		hr = rows->lpVtbl->Next(rows, QUERY_TIMEOUT_MS, 1, &row, &got);
	rows->lpVtbl->Release(rows);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: looking for drive %c in "
					  "Win32_EncryptableVolume",
					  c->drive[0]);
	if (hr == WBEM_S_TIMEDOUT)
		return ssrp_error_set(SSRP_E_IO,
				      "wmi backend: WMI did not answer within %d s while looking "
				      "for drive %c",
				      QUERY_TIMEOUT_MS / 1000, c->drive[0]);
	if (got == 0 || !row)
		return ssrp_error_set(SSRP_E_NOTFOUND,
				      "wmi backend: drive %c is not a volume BitLocker can encrypt "
				      "(Win32_EncryptableVolume has no DriveLetter '%s')",
				      c->drive[0], c->drive);
	VARIANT v;
	int rc = get_string(row, L"__PATH", &v, "the volume query");
	row->lpVtbl->Release(row);
	if (rc)
		return rc;
	c->path = v.bstrVal; /* kept, so no VariantClear */
	return SSRP_OK;
}

static void wmi_close(void *ctx)
{
	wmi_ctx *c = ctx;
	if (c->klass)
		c->klass->lpVtbl->Release(c->klass);
	if (c->services)
		c->services->lpVtbl->Release(c->services);
	SysFreeString(c->path);
	/* CoUninitialize balances CoInitializeEx only on the same thread;
	 * closed elsewhere, that thread keeps its COM initialization. */
	ssrp_wmi_com_end(&c->com);
	memset(c, 0, sizeof *c);
}

/* Whether drive ("C:") holds the running Windows. */
static int is_os_drive(const char drive[3])
{
	WCHAR dir[MAX_PATH];
	UINT n = GetSystemWindowsDirectoryW(dir, MAX_PATH);
	return n >= 2 && n < MAX_PATH && dir[1] == L':' &&
	       (char)(dir[0] & ~0x20) == drive[0];
}

int ssrp_wmi_volume_open_api(void *ctx, const char *config, const ssrp_wmi_api *api)
{
	wmi_ctx *c = ctx;
	if (!config || !((config[0] >= 'A' && config[0] <= 'Z') ||
			 (config[0] >= 'a' && config[0] <= 'z')) ||
	    config[1] != ':' || (config[2] && strcmp(config + 2, "?pcrs")))
		return ssrp_error_set(SSRP_E_SPEC,
				      "wmi backend: '%s' is not a drive letter with an optional "
				      "\"?pcrs\"; use \"wmi:C:\" or \"wmi:C:?pcrs\"",
				      config ? config : "");
	c->drive[0] = (char)(config[0] & ~0x20); /* upper case */
	c->drive[1] = ':';
	c->drive[2] = 0;
	c->send_pcrs = config[2] != 0;
	c->os_volume = is_os_drive(c->drive);

	const char *step = "";
	HRESULT hr = ssrp_wmi_com_begin(&c->com, api, &step);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr, "wmi backend: %s", step);

	int rc = connect_wmi(c);
	if (rc == SSRP_OK)
		rc = find_volume(c);
	if (rc)
		wmi_close(c); /* the core does not call close after a failed open */
	return rc;
}

static int wmi_open(void *ctx, const char *config)
{
	return ssrp_wmi_volume_open_api(ctx, config, &ssrp_wmi_ole32);
}

/* ---- status ---- */

static int wmi_get_status(void *ctx, ssrp_volume_status *out)
{
	wmi_ctx *c = ctx;
	memset(out, 0, sizeof *out);
	out->percent_encrypted = -1;
	uint32_t value = 0, status = 0;

	int rc = run_u32(c, "GetProtectionStatus", L"ProtectionStatus", &value, &status);
	if (rc)
		return rc;
	if (status)
		return method_error(c, "GetProtectionStatus", status);
	out->protection = ssrp_fve_protection(value);

	/* Some methods answer a locked volume with FVE_E_LOCKED_VOLUME instead
	 * of a value; that leaves their field unknown rather than failing. A
	 * volume without BitLocker is simply not locked. */
	rc = run_u32(c, "GetLockStatus", L"LockStatus", &value, &status);
	if (rc)
		return rc;
	if (status == SSRP_HR_FVE_E_LOCKED_VOLUME)
		out->locked = 1;
	else if (status == SSRP_HR_FVE_E_NOT_ENCRYPTED || status == SSRP_HR_FVE_E_NOT_ACTIVATED)
		out->locked = 0;
	else if (status)
		return method_error(c, "GetLockStatus", status);
	else
		out->locked = value == 1; /* 0 unlocked, 1 locked */

	/* PrecisionFactor, an [in] parameter, 0: the percentage as a whole
	 * number (n: in units of 10^-n percent). */
	IWbemClassObject *conv = NULL, *in = NULL;
	rc = in_params_u32(c, "GetConversionStatus", L"PrecisionFactor", 0, &in);
	if (rc == SSRP_OK)
		rc = run_status(c, "GetConversionStatus", in, &conv, &status);
	if (in)
		in->lpVtbl->Release(in);
	if (rc)
		return rc;
	if (status && status != SSRP_HR_FVE_E_LOCKED_VOLUME)
		return method_error(c, "GetConversionStatus", status);
	if (conv) {
		rc = get_u32(conv, L"EncryptionPercentage", &value, "GetConversionStatus");
		conv->lpVtbl->Release(conv);
		if (rc)
			return rc;
		out->percent_encrypted = value <= 100 ? (int)value : -1;
	}

	rc = run_u32(c, "GetEncryptionMethod", L"EncryptionMethod", &value, &status);
	if (rc)
		return rc;
	if (status == SSRP_HR_FVE_E_LOCKED_VOLUME)
		out->encryption_method = SSRP_FVE_METHOD_UNKNOWN;
	else if (status)
		return method_error(c, "GetEncryptionMethod", status);
	else
		out->encryption_method = ssrp_fve_method(value);

	/* WMI says neither how the volume was last unlocked nor its size here:
	 * last_unlock_recovery stays -1 (unknown), size 0 (unknown). */
	return SSRP_OK;
}

/* ---- protectors ---- */

/* Type and friendly name of protector id into p (its id already set). */
static int describe_protector(wmi_ctx *c, BSTR id, ssrp_protector *p)
{
	IWbemClassObject *out = NULL;
	uint32_t status = 0, type = 0;
	int rc = run_on_protector(c, "GetKeyProtectorType", id, &out, &status);
	if (rc)
		return rc;
	if (status)
		return method_error(c, "GetKeyProtectorType", status);
	rc = get_u32(out, L"KeyProtectorType", &type, "GetKeyProtectorType");
	out->lpVtbl->Release(out);
	if (rc)
		return rc;
	p->type = ssrp_fve_protector_type(type, &p->protection_code);

	rc = run_on_protector(c, "GetKeyProtectorFriendlyName", id, &out, &status);
	if (rc)
		return rc;
	if (status)
		return method_error(c, "GetKeyProtectorFriendlyName", status);
	VARIANT v;
	VariantInit(&v);
	HRESULT hr = out->lpVtbl->Get(out, L"FriendlyName", 0, &v, NULL, NULL);
	out->lpVtbl->Release(out);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: reading the result of "
					  "GetKeyProtectorFriendlyName");
	/* A blank name may come back as NULL rather than "". */
	if (v.vt == VT_BSTR && v.bstrVal)
		rc = utf8_from_wide(p->friendly_name, sizeof p->friendly_name, v.bstrVal, 1,
				    "friendly name");
	VariantClear(&v);
	return rc;
}

static int wmi_list_protectors(void *ctx, ssrp_protector *out, size_t cap, size_t *out_n)
{
	wmi_ctx *c = ctx;
	*out_n = 0;
	IWbemClassObject *res = NULL;
	uint32_t status = 0;
	/* KeyProtectorType left out: all types. */
	int rc = run_status(c, "GetKeyProtectors", NULL, &res, &status);
	if (rc)
		return rc;
	if (status == SSRP_HR_FVE_E_NOT_ACTIVATED)
		return SSRP_OK; /* BitLocker off: no protectors, which is an answer */
	if (status)
		return method_error(c, "GetKeyProtectors", status);

	VARIANT v;
	VariantInit(&v);
	HRESULT hr = res->lpVtbl->Get(res, L"VolumeKeyProtectorID", 0, &v, NULL, NULL);
	res->lpVtbl->Release(res);
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: reading the result of GetKeyProtectors");
	if (v.vt == VT_NULL || v.vt == VT_EMPTY)
		return SSRP_OK; /* no protectors: an empty array may come back as null */
	if (v.vt != (VT_ARRAY | VT_BSTR) || !v.parray || SafeArrayGetDim(v.parray) != 1) {
		unsigned vt = v.vt;
		VariantClear(&v);
		return ssrp_error_set(SSRP_E_FORMAT,
				      "wmi backend: GetKeyProtectors answered VARIANT type 0x%x "
				      "where an array of strings was documented",
				      vt);
	}
	LONG lo = 0, hi = -1;
	BSTR *ids = NULL;
	hr = SafeArrayGetLBound(v.parray, 1, &lo);
	if (SUCCEEDED(hr))
		hr = SafeArrayGetUBound(v.parray, 1, &hi);
	if (SUCCEEDED(hr))
		hr = SafeArrayAccessData(v.parray, (void **)&ids);
	if (FAILED(hr)) {
		VariantClear(&v);
		return ssrp_fve_error_set((uint32_t)hr,
					  "wmi backend: reading the result of GetKeyProtectors");
	}
	size_t n = hi >= lo ? (size_t)(hi - lo) + 1 : 0;
	for (size_t i = 0; rc == SSRP_OK && i < n && i < cap; i++) {
		/* created stays 0: WMI does not tell when a protector was made. */
		memset(&out[i], 0, sizeof out[i]);
		if (!ids[i]) {
			rc = ssrp_error_set(SSRP_E_FORMAT,
					    "wmi backend: GetKeyProtectors answered an empty id");
			break;
		}
		/* "{GUID}" as a rule; "BitLocker" for a self-encrypting drive's band. */
		rc = utf8_from_wide(out[i].id, sizeof out[i].id, ids[i], 0, "protector id");
		if (rc == SSRP_OK)
			rc = describe_protector(c, ids[i], &out[i]);
	}
	SafeArrayUnaccessData(v.parray);
	VariantClear(&v);
	if (rc == SSRP_OK)
		*out_n = n;
	return rc;
}

/* PlatformValidationProfile = the PCRs of pcr_mask, a uint8[]: a SAFEARRAY
 * of VT_UI1. */
static int put_profile(IWbemClassObject *in, uint32_t pcr_mask, const char *method)
{
	/* ProtectKeyWithTPM: PCR indices 0..23, and 11 must be among them. */
	if (pcr_mask >> 24)
		return ssrp_error_set(SSRP_E_INVALID,
				      "wmi backend: PCR mask 0x%08lx names PCRs above 23; "
				      "BitLocker's platform validation profile takes PCRs 0 to 23",
				      (unsigned long)pcr_mask);
	if (!(pcr_mask & (1u << 11)))
		return ssrp_error_set(SSRP_E_INVALID,
				      "wmi backend: PCR mask 0x%06lx leaves out PCR 11, which "
				      "BitLocker requires in a TPM protector's profile",
				      (unsigned long)pcr_mask);
	uint8_t pcrs[24];
	ULONG n = 0;
	for (uint8_t pcr = 0; pcr < 24; pcr++)
		if (pcr_mask & (1u << pcr))
			pcrs[n++] = pcr;
	SAFEARRAY *sa = SafeArrayCreateVector(VT_UI1, 0, n);
	void *data = NULL;
	if (!sa || FAILED(SafeArrayAccessData(sa, &data))) {
		if (sa)
			SafeArrayDestroy(sa);
		return nomem("building the PCR profile");
	}
	memcpy(data, pcrs, n);
	SafeArrayUnaccessData(sa);
	VARIANT v;
	VariantInit(&v);
	v.vt = VT_ARRAY | VT_UI1;
	v.parray = sa;
	HRESULT hr = in->lpVtbl->Put(in, L"PlatformValidationProfile", 0, &v, 0);
	VariantClear(&v); /* destroys sa; Put made its own copy */
	if (FAILED(hr))
		return ssrp_fve_error_set((uint32_t)hr, "wmi backend: setting a parameter of %s",
					  method);
	return SSRP_OK;
}

/* Without "?pcrs" the profile is left out: Windows then takes the one
 * Group Policy sets ("Configure TPM platform validation profile"), or its
 * own default, and refuses an explicit profile that differs from Group
 * Policy's (E_INVALIDARG). The default mask (7, 11) stands for "not
 * configured"; any other mask without "?pcrs" is refused rather than
 * dropped. */
static int wmi_add_tpm_protector(void *ctx, ssrp_tpm *tpm, uint32_t pcr_mask,
				 char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	wmi_ctx *c = ctx;
	static const char method[] = "ProtectKeyWithTPM";
	/* Windows seals BitLocker's key with its own TPM stack; ssrp's TPM
	 * handle has nothing to do here. */
	(void)tpm;
	if (!pcr_mask)
		pcr_mask = SSRP_TPM_PCRS_DEFAULT; /* the core passes it already; 0 stays safe */
	if (!c->send_pcrs && pcr_mask != SSRP_TPM_PCRS_DEFAULT)
		return ssrp_error_set(SSRP_E_INVALID,
				      "wmi backend: PCR mask 0x%06lx was asked for, but \"wmi:%s\" "
				      "leaves the TPM protector's platform validation profile to "
				      "Windows (Group Policy, else its default); use \"wmi:%s?pcrs\" "
				      "to send these PCRs",
				      (unsigned long)pcr_mask, c->drive, c->drive);

	IWbemClassObject *in = NULL, *out = NULL;
	int rc = in_params(c, method, &in);
	if (rc)
		return rc;
	if (c->send_pcrs)
		rc = put_profile(in, pcr_mask, method);
	if (rc == SSRP_OK)
		rc = run(c, method, in, &out);
	in->lpVtbl->Release(in);
	if (rc)
		return rc;
	rc = read_new_id(out, out_id, method);
	out->lpVtbl->Release(out);
	return rc;
}

static int wmi_add_recovery_password(void *ctx, const char *password, const uint8_t key[16],
				     char out_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	wmi_ctx *c = ctx;
	static const char method[] = "ProtectKeyWithNumericalPassword";
	(void)key; /* WMI takes the text form */
	BSTR secret = NULL;
	IWbemClassObject *in = NULL, *out = NULL;
	int rc = bstr_from_utf8(&secret, password, "recovery password");
	if (rc == SSRP_OK)
		rc = in_params(c, method, &in);
	if (rc == SSRP_OK)
		rc = put_string(in, L"NumericalPassword", secret, method);
	bstr_free_secret(secret);
	if (rc == SSRP_OK)
		rc = run(c, method, in, &out);
	/* The in-parameters object keeps its own copy of the password until
	 * this Release; WMI frees that memory without a way to zero it first. */
	if (in)
		in->lpVtbl->Release(in);
	if (rc)
		return rc;
	rc = read_new_id(out, out_id, method);
	out->lpVtbl->Release(out);
	return rc;
}

/* GetKeyProtectorNumericalPassword answers E_INVALIDARG both for an unknown
 * id and for a protector of another kind; GetKeyProtectorType tells which. */
static int not_a_recovery_password(wmi_ctx *c, BSTR bid, const char *id, const char *method)
{
	IWbemClassObject *out = NULL;
	uint32_t status = 0, type = 0;
	int rc = run_on_protector(c, "GetKeyProtectorType", bid, &out, &status);
	if (rc)
		return rc;
	if (status)
		return ssrp_error_set(SSRP_E_NOTFOUND,
				      "wmi backend: %s on drive %c: the volume has no key "
				      "protector %s",
				      method, c->drive[0], id);
	rc = get_u32(out, L"KeyProtectorType", &type, "GetKeyProtectorType");
	out->lpVtbl->Release(out);
	if (rc)
		return rc;
	if (ssrp_fve_protector_type(type, NULL) == SSRP_PROTECTOR_RECOVERY_PASSWORD)
		return method_error(c, method, SSRP_HR_E_INVALIDARG);
	return ssrp_error_set(SSRP_E_INVALID,
			      "wmi backend: %s on drive %c: protector %s is not a recovery "
			      "password (its KeyProtectorType is %lu)",
			      method, c->drive[0], id, (unsigned long)type);
}

static int wmi_get_recovery_password(void *ctx, const char *id,
				     char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	wmi_ctx *c = ctx;
	static const char method[] = "GetKeyProtectorNumericalPassword";
	memset(out, 0, SSRP_RECOVERY_PASSWORD_LEN + 1);
	BSTR bid = NULL;
	IWbemClassObject *res = NULL;
	uint32_t status = 0;
	int rc = bstr_from_utf8(&bid, id, "protector id");
	if (rc == SSRP_OK)
		rc = run_on_protector(c, method, bid, &res, &status);
	if (rc == SSRP_OK && status == SSRP_HR_E_INVALIDARG)
		rc = not_a_recovery_password(c, bid, id, method);
	else if (rc == SSRP_OK && status)
		rc = method_error(c, method, status);
	SysFreeString(bid);
	if (rc)
		return rc;

	VARIANT v;
	rc = get_string(res, L"NumericalPassword", &v, method);
	/* The result object's own copy goes with this Release, unzeroed: WMI
	 * owns that memory. */
	res->lpVtbl->Release(res);
	if (rc)
		return rc;
	rc = utf8_from_wide(out, SSRP_RECOVERY_PASSWORD_LEN + 1, v.bstrVal, 0,
			    "recovery password");
	if (rc == SSRP_OK && strlen(out) != SSRP_RECOVERY_PASSWORD_LEN)
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "wmi backend: %s answered %zu characters, not the %d of a "
				    "recovery password",
				    method, strlen(out), SSRP_RECOVERY_PASSWORD_LEN);
	SecureZeroMemory(v.bstrVal, SysStringByteLen(v.bstrVal));
	VariantClear(&v);
	if (rc)
		ssrp_memzero(out, SSRP_RECOVERY_PASSWORD_LEN + 1);
	return rc;
}

static int wmi_delete_protector(void *ctx, const char *id)
{
	wmi_ctx *c = ctx;
	static const char method[] = "DeleteKeyProtector";
	BSTR bid = NULL;
	uint32_t status = 0;
	int rc = bstr_from_utf8(&bid, id, "protector id");
	if (rc == SSRP_OK)
		rc = run_on_protector(c, method, bid, NULL, &status);
	SysFreeString(bid);
	if (rc)
		return rc;
	/* DeleteKeyProtector: E_INVALIDARG means the id names no protector. */
	if (status == SSRP_HR_E_INVALIDARG)
		return ssrp_error_set(SSRP_E_NOTFOUND,
				      "wmi backend: %s on drive %c: the volume has no key "
				      "protector %s",
				      method, c->drive[0], id);
	return status ? method_error(c, method, status) : SSRP_OK;
}

/* ---- unlock and protection ---- */

static int wmi_unlock_tpm(void *ctx, ssrp_tpm *tpm)
{
	const wmi_ctx *c = ctx;
	(void)tpm;
	return ssrp_error_set(SSRP_E_NOTSUPPORTED,
			      "wmi backend: Windows unlocks its OS volume with the TPM itself at "
			      "boot; there is no TPM unlock to ask for on drive %c (a locked data "
			      "volume opens with its recovery password)",
			      c->drive[0]);
}

static int wmi_unlock_recovery_password(void *ctx, const char *password, const uint8_t key[16])
{
	wmi_ctx *c = ctx;
	static const char method[] = "UnlockWithNumericalPassword";
	(void)key; /* WMI takes the text form */
	BSTR secret = NULL;
	IWbemClassObject *in = NULL;
	int rc = bstr_from_utf8(&secret, password, "recovery password");
	if (rc == SSRP_OK)
		rc = in_params(c, method, &in);
	if (rc == SSRP_OK)
		rc = put_string(in, L"NumericalPassword", secret, method);
	bstr_free_secret(secret);
	if (rc == SSRP_OK)
		rc = run(c, method, in, NULL);
	if (in)
		in->lpVtbl->Release(in); /* its copy of the password: see add_recovery_password */
	return rc;
}

static int wmi_protection_on(void *ctx)
{
	return run(ctx, "EnableKeyProtectors", NULL, NULL);
}

static int wmi_protection_off(void *ctx)
{
	wmi_ctx *c = ctx;
	static const char method[] = "DisableKeyProtectors";
	/* Suspended until protection_on. On the OS volume DisableKeyProtectors
	 * takes DisableCount, the restarts after which Windows resumes
	 * protection by itself; left out, the count is Windows' choice
	 * (Suspend-BitLocker's is one restart), so 0 is sent: until
	 * EnableKeyProtectors. The parameter exists on OS volumes only; a data
	 * volume stays suspended until EnableKeyProtectors anyway. */
	if (!c->os_volume)
		return run(c, method, NULL, NULL);
	IWbemClassObject *in = NULL;
	int rc = in_params_u32(c, method, L"DisableCount", 0, &in);
	if (rc == SSRP_OK)
		rc = run(c, method, in, NULL);
	if (in)
		in->lpVtbl->Release(in);
	return rc;
}

const ssrp_volume_backend ssrp_volume_backend_wmi = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {
		.name = "wmi",
		.description = "Windows BitLocker through WMI (Win32_EncryptableVolume); needs an "
			       "elevated Administrator",
		.config_help = "a drive letter with its colon, e.g. C:",
	},
	.caps = SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTORS |
		SSRP_VOLUME_CAP_READ_PASSWORD | SSRP_VOLUME_CAP_UNLOCK |
		SSRP_VOLUME_CAP_PROTECTION,
	.ctx_size = sizeof(wmi_ctx),
	.open = wmi_open,
	.close = wmi_close,
	.get_status = wmi_get_status,
	.list_protectors = wmi_list_protectors,
	.add_tpm_protector = wmi_add_tpm_protector,
	.add_recovery_password = wmi_add_recovery_password,
	.delete_protector = wmi_delete_protector,
	.get_recovery_password = wmi_get_recovery_password,
	.unlock_tpm = wmi_unlock_tpm,
	.unlock_recovery_password = wmi_unlock_recovery_password,
	.protection_on = wmi_protection_on,
	.protection_off = wmi_protection_off,
};
