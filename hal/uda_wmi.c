/* SCCM's user-device affinity on the client, over WMI in C (COM vtables, as
 * bitlocker/backend_wmi.c): by default namespace
 * ROOT\ccm\Policy\Machine\ActualConfig,
 *   SELECT ConsoleUser, IsUserAffinitySet FROM CCM_UserAffinity
 * one instance per primary user; ConsoleUser ("CONTOSO\alice") is kept where
 * IsUserAffinitySet is true. Namespace, class and rule are configurable
 * (hal/uda_wmi.h). A device without the SCCM client has no such namespace
 * (WBEM_E_INVALID_NAMESPACE) or class: SSRP_E_NOTFOUND, which the caller
 * (identity_windows.c) answers with the configuration's list.
 *
 * COM (hal/wmi_windows.h): initialized here (multithreaded) when the thread
 * has not done it and uninitialized before returning; a thread that is
 * already a single-threaded apartment is used as it is. The process's
 * security is set with CoInitializeSecurity (packet privacy); that can be
 * done once per process, so when the host program did it first
 * (RPC_E_TOO_LATE) its setting stands, and the packet-privacy blanket on
 * the IWbemServices proxy and on the query's enumerator is what secures
 * this connection. Compiled only for Windows; link with -lole32 -loleaut32
 * -lwbemuuid. */
#ifndef _WIN32
#error "hal/uda_wmi.c reads SCCM's user-device affinity over WMI; build it for Windows only"
#endif

#include <windows.h>
#include <oleauto.h>
#include <wbemidl.h>

#include <stdio.h>
#include <string.h>

#include "hal/identity.h"
#include "hal/identity_internal.h"
#include "hal/mem.h"
#include "hal/uda_wmi.h"
#include "ssrp/sys/error.h"

#define QUERY_TIMEOUT_MS 60000
#define MAX_USERS 32

/* ---- reading ---- */

static int wmi_error(HRESULT hr, const char *step)
{
	return ssrp_error_set(hr == (HRESULT)WBEM_E_ACCESS_DENIED || hr == E_ACCESSDENIED
				      ? SSRP_E_PERMISSION
				      : SSRP_E_IO,
			      "reading SCCM's primary users over WMI: %s failed (HRESULT 0x%08lX)",
			      step, (unsigned long)hr);
}

/* ASCII s (a parsed setting) as UTF-16 into out, as long as s plus its NUL. */
static void widen(WCHAR *out, const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		out[i] = (WCHAR)(unsigned char)s[i];
	out[i] = 0;
}

static int no_sccm(const ssrp_uda_config *cfg)
{
	return ssrp_error_set(SSRP_E_NOTFOUND,
			      "this device has no SCCM client (no WMI namespace %s or class %s)",
			      cfg->ns, cfg->cls);
}

/* ASCII case-insensitive equality: DOMAIN\user names repeat in any case. */
static int same_user(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = (char)(*a >= 'A' && *a <= 'Z' ? *a + 32 : *a);
		char y = (char)(*b >= 'A' && *b <= 'Z' ? *b + 32 : *b);
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* IsUserAffinitySet: a boolean, though some clients report the string "True". */
static int affinity_set(IWbemClassObject *row)
{
	VARIANT v;
	VariantInit(&v);
	if (FAILED(row->lpVtbl->Get(row, L"IsUserAffinitySet", 0, &v, NULL, NULL)))
		return 0;
	int set = (v.vt == VT_BOOL && v.boolVal == VARIANT_TRUE) ||
		  (v.vt == VT_BSTR && v.bstrVal && _wcsicmp(v.bstrVal, L"True") == 0);
	VariantClear(&v);
	return set;
}

/* Append row's ConsoleUser when the rule takes the row and it is new. */
static int take_row(const ssrp_uda_config *cfg, IWbemClassObject *row, char ***users, size_t *n)
{
	if (cfg->rule == SSRP_UDA_SET && !affinity_set(row))
		return SSRP_OK;
	VARIANT v;
	VariantInit(&v);
	HRESULT hr = row->lpVtbl->Get(row, L"ConsoleUser", 0, &v, NULL, NULL);
	if (FAILED(hr))
		return wmi_error(hr, "reading the instance's ConsoleUser");
	int rc = SSRP_OK;
	char name[257];
	if (v.vt == VT_BSTR && v.bstrVal && v.bstrVal[0] &&
	    (rc = ssrp_identity_utf8(v.bstrVal, name, sizeof name, "SCCM console user")) ==
		    SSRP_OK) {
		int dup = 0;
		for (size_t i = 0; i < *n && !dup; i++)
			dup = same_user((*users)[i], name);
		if (!dup && *n >= MAX_USERS)
			rc = ssrp_error_set(SSRP_E_INVALID,
					    "SCCM names more than %d primary users for this device",
					    MAX_USERS);
		else if (!dup)
			rc = ssrp_identity_users_add(users, n, name);
	}
	VariantClear(&v);
	return rc;
}

static int query(const ssrp_uda_config *cfg, const ssrp_wmi_api *api, IWbemServices *svc,
		 char ***users, size_t *n)
{
	/* The class name is letters, digits and _ (ssrp_uda_config_parse). */
	char ascii[128];
	WCHAR text[128];
	snprintf(ascii, sizeof ascii, "SELECT %s FROM %s",
		 cfg->rule == SSRP_UDA_SET ? "ConsoleUser, IsUserAffinitySet" : "ConsoleUser", cfg->cls);
	widen(text, ascii);
	BSTR lang = SysAllocString(L"WQL");
	BSTR q = SysAllocString(text);
	IEnumWbemClassObject *rows = NULL;
	HRESULT hr = E_OUTOFMEMORY;
	if (lang && q)
		hr = svc->lpVtbl->ExecQuery(svc, lang, q,
					    WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY,
					    NULL, &rows);
	SysFreeString(lang);
	SysFreeString(q);
	if (hr == (HRESULT)WBEM_E_INVALID_CLASS || hr == (HRESULT)WBEM_E_INVALID_NAMESPACE)
		return no_sccm(cfg);
	if (SUCCEEDED(hr) && !rows)
		hr = E_POINTER;
	if (FAILED(hr))
		return wmi_error(hr, "querying the affinity class");
	hr = ssrp_wmi_secure(api, (IUnknown *)rows);
	int rc = FAILED(hr) ? wmi_error(hr, "securing the query") : SSRP_OK;
	while (rc == SSRP_OK) {
		IWbemClassObject *row = NULL;
		ULONG got = 0;
		hr = rows->lpVtbl->Next(rows, QUERY_TIMEOUT_MS, 1, &row, &got);
		if (hr == (HRESULT)WBEM_E_INVALID_CLASS) {
			rc = no_sccm(cfg);
			break;
		}
		if (FAILED(hr)) {
			rc = wmi_error(hr, "reading the affinity class");
			break;
		}
		if (hr == WBEM_S_TIMEDOUT) {
			rc = ssrp_error_set(SSRP_E_IO,
					    "WMI did not answer within %d s while reading SCCM's "
					    "primary users",
					    QUERY_TIMEOUT_MS / 1000);
			break;
		}
		if (got == 0 || !row)
			break; /* WBEM_S_FALSE: no more rows */
		rc = take_row(cfg, row, users, n);
		row->lpVtbl->Release(row);
	}
	rows->lpVtbl->Release(rows);
	return rc;
}

static int read_uda(const ssrp_uda_config *cfg, const ssrp_wmi_api *api, char ***users,
		    size_t *n)
{
	const char *step = "";
	IWbemServices *svc = NULL;
	WCHAR ns[sizeof cfg->ns];
	widen(ns, cfg->ns);
	HRESULT hr = ssrp_wmi_connect(api, ns, &svc, &step);
	if (hr == (HRESULT)WBEM_E_INVALID_NAMESPACE)
		return no_sccm(cfg);
	if (FAILED(hr))
		return wmi_error(hr, step);
	int rc = query(cfg, api, svc, users, n);
	svc->lpVtbl->Release(svc);
	return rc;
}

int ssrp_uda_wmi_read(const ssrp_uda_config *cfg, const ssrp_wmi_api *api, char ***users,
		      size_t *n)
{
	*users = NULL;
	*n = 0;
	char **list = ssrp_calloc(1, sizeof *list);
	if (!list)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading the primary users");
	size_t count = 0;
	int rc = SSRP_OK;
	if (cfg->rule != SSRP_UDA_OFF) {
		ssrp_wmi_com com;
		const char *step = "";
		HRESULT hr = ssrp_wmi_com_begin(&com, api, &step);
		if (FAILED(hr)) {
			rc = wmi_error(hr, step);
		} else {
			rc = read_uda(cfg, api, &list, &count);
			ssrp_wmi_com_end(&com);
		}
	}
	if (rc) {
		ssrp_primary_users_free(list);
		return rc;
	}
	*users = list;
	*n = count;
	return SSRP_OK;
}
