/* SCCM's user-device affinity on the client, over WMI in C (COM vtables, as
 * bitlocker/backend_wmi.c): namespace ROOT\ccm\Policy\Machine\ActualConfig,
 *   SELECT ConsoleUser, IsUserAffinitySet FROM CCM_UserAffinity
 * one instance per primary user; ConsoleUser ("CONTOSO\alice") is kept where
 * IsUserAffinitySet is true. A device without the SCCM client has no such
 * namespace (WBEM_E_INVALID_NAMESPACE) or class: SSRP_E_NOTFOUND, which the
 * caller (identity_windows.c) answers with the configuration's list.
 *
 * COM is initialized here (multithreaded) when the thread has not done it
 * and uninitialized before returning; a thread that is already a
 * single-threaded apartment is used as it is. CoInitializeSecurity is the
 * application's (process-wide); the proxy blanket below is set here.
 * Compiled only for Windows; link with -lole32 -loleaut32 -lwbemuuid. */
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
#include "ssrp/sys/error.h"

#define UDA_NAMESPACE L"ROOT\\ccm\\Policy\\Machine\\ActualConfig"
#define UDA_QUERY L"SELECT ConsoleUser, IsUserAffinitySet FROM CCM_UserAffinity"
#define QUERY_TIMEOUT_MS 60000
#define MAX_USERS 32

static int wmi_error(HRESULT hr, const char *step)
{
	return ssrp_error_set(hr == (HRESULT)WBEM_E_ACCESS_DENIED || hr == E_ACCESSDENIED
				      ? SSRP_E_PERMISSION
				      : SSRP_E_IO,
			      "reading SCCM's primary users over WMI: %s failed (HRESULT 0x%08lX)",
			      step, (unsigned long)hr);
}

static int no_sccm(void)
{
	return ssrp_error_set(SSRP_E_NOTFOUND,
			      "this device has no SCCM client (no WMI namespace "
			      "ROOT\\ccm\\Policy\\Machine\\ActualConfig or class "
			      "CCM_UserAffinity)");
}

static HRESULT set_blanket(IUnknown *proxy)
{
	return CoSetProxyBlanket(proxy, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE,
				 COLE_DEFAULT_PRINCIPAL, RPC_C_AUTHN_LEVEL_PKT_PRIVACY,
				 RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE);
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

/* Append row's ConsoleUser when affinity is set and it is new. */
static int take_row(IWbemClassObject *row, char ***users, size_t *n)
{
	if (!affinity_set(row))
		return SSRP_OK;
	VARIANT v;
	VariantInit(&v);
	HRESULT hr = row->lpVtbl->Get(row, L"ConsoleUser", 0, &v, NULL, NULL);
	if (FAILED(hr))
		return wmi_error(hr, "reading CCM_UserAffinity.ConsoleUser");
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

static int query(IWbemServices *svc, char ***users, size_t *n)
{
	BSTR lang = SysAllocString(L"WQL");
	BSTR q = SysAllocString(UDA_QUERY);
	IEnumWbemClassObject *rows = NULL;
	HRESULT hr = E_OUTOFMEMORY;
	if (lang && q)
		hr = svc->lpVtbl->ExecQuery(svc, lang, q,
					    WBEM_FLAG_FORWARD_ONLY | WBEM_FLAG_RETURN_IMMEDIATELY,
					    NULL, &rows);
	SysFreeString(lang);
	SysFreeString(q);
	if (hr == (HRESULT)WBEM_E_INVALID_CLASS || hr == (HRESULT)WBEM_E_INVALID_NAMESPACE)
		return no_sccm();
	if (SUCCEEDED(hr) && !rows)
		hr = E_POINTER;
	if (FAILED(hr))
		return wmi_error(hr, "querying CCM_UserAffinity");
	hr = set_blanket((IUnknown *)rows);
	if (hr == E_NOINTERFACE)
		hr = S_OK;
	int rc = FAILED(hr) ? wmi_error(hr, "securing the query") : SSRP_OK;
	while (rc == SSRP_OK) {
		IWbemClassObject *row = NULL;
		ULONG got = 0;
		hr = rows->lpVtbl->Next(rows, QUERY_TIMEOUT_MS, 1, &row, &got);
		if (hr == (HRESULT)WBEM_E_INVALID_CLASS) {
			rc = no_sccm();
			break;
		}
		if (FAILED(hr)) {
			rc = wmi_error(hr, "reading CCM_UserAffinity");
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
		rc = take_row(row, users, n);
		row->lpVtbl->Release(row);
	}
	rows->lpVtbl->Release(rows);
	return rc;
}

static int read_uda(char ***users, size_t *n)
{
	IWbemLocator *locator = NULL;
	HRESULT hr = CoCreateInstance(&CLSID_WbemLocator, NULL, CLSCTX_INPROC_SERVER,
				      &IID_IWbemLocator, (void **)&locator);
	if (FAILED(hr))
		return wmi_error(hr, "creating the WMI locator");
	BSTR ns = SysAllocString(UDA_NAMESPACE);
	IWbemServices *svc = NULL;
	hr = ns ? locator->lpVtbl->ConnectServer(locator, ns, NULL, NULL, NULL,
						 WBEM_FLAG_CONNECT_USE_MAX_WAIT, NULL, NULL, &svc)
		: E_OUTOFMEMORY;
	SysFreeString(ns);
	locator->lpVtbl->Release(locator);
	if (hr == (HRESULT)WBEM_E_INVALID_NAMESPACE)
		return no_sccm();
	if (FAILED(hr))
		return wmi_error(hr, "connecting to ROOT\\ccm\\Policy\\Machine\\ActualConfig");
	int rc = SSRP_OK;
	hr = set_blanket((IUnknown *)svc);
	if (FAILED(hr))
		rc = wmi_error(hr, "securing the WMI connection");
	else
		rc = query(svc, users, n);
	svc->lpVtbl->Release(svc);
	return rc;
}

int ssrp_uda_wmi_read(char ***users, size_t *n)
{
	*users = NULL;
	*n = 0;
	char **list = ssrp_calloc(1, sizeof *list);
	if (!list)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading the primary users");
	size_t count = 0;
	/* S_FALSE: already initialized the same way, still to be balanced.
	 * RPC_E_CHANGED_MODE: the caller's apartment; leave it to them. */
	HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
	int owned = hr == S_OK || hr == S_FALSE;
	int rc;
	if (!owned && hr != RPC_E_CHANGED_MODE)
		rc = wmi_error(hr, "initializing COM");
	else
		rc = read_uda(&list, &count);
	if (owned)
		CoUninitialize();
	if (rc) {
		ssrp_primary_users_free(list);
		return rc;
	}
	*users = list;
	*n = count;
	return SSRP_OK;
}
