/* The steps every WMI client of ssrp takes (hal/wmi_windows.h). */
#include "hal/wmi_windows.h"

const ssrp_wmi_api ssrp_wmi_ole32 = {
	.initialize = CoInitializeEx,
	.uninitialize = CoUninitialize,
	.initialize_security = CoInitializeSecurity,
	.create_instance = CoCreateInstance,
	.set_proxy_blanket = CoSetProxyBlanket,
};

HRESULT ssrp_wmi_com_begin(ssrp_wmi_com *com, const ssrp_wmi_api *api, const char **step)
{
	com->api = api;
	com->owned = 0;
	com->thread = 0;
	/* S_FALSE: already initialized the same way; the call still counts and
	 * is balanced. RPC_E_CHANGED_MODE: the caller made this thread a
	 * single-threaded apartment; use it as it is and leave uninitializing
	 * to them. */
	HRESULT hr = api->initialize(NULL, COINIT_MULTITHREADED);
	if (hr == S_OK || hr == S_FALSE) {
		com->owned = 1;
		com->thread = GetCurrentThreadId();
	} else if (hr != RPC_E_CHANGED_MODE) {
		*step = "initializing COM";
		return hr;
	}
	/* -1 authentication services: COM chooses. */
	hr = api->initialize_security(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_PKT_PRIVACY,
				      RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE, NULL);
	if (hr == RPC_E_TOO_LATE)
		hr = S_OK; /* the process's security is set already; the blankets still apply */
	if (FAILED(hr)) {
		*step = "setting COM's process security";
		ssrp_wmi_com_end(com);
		return hr;
	}
	return S_OK;
}

void ssrp_wmi_com_end(ssrp_wmi_com *com)
{
	if (com->owned && com->thread == GetCurrentThreadId())
		com->api->uninitialize();
	com->owned = 0;
}

HRESULT ssrp_wmi_secure(const ssrp_wmi_api *api, IUnknown *proxy)
{
	HRESULT hr = api->set_proxy_blanket(proxy, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE,
					    COLE_DEFAULT_PRINCIPAL, RPC_C_AUTHN_LEVEL_PKT_PRIVACY,
					    RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE);
	return hr == E_NOINTERFACE ? S_OK : hr;
}

HRESULT ssrp_wmi_connect(const ssrp_wmi_api *api, const WCHAR *ns, IWbemServices **out,
			 const char **step)
{
	*out = NULL;
	IWbemLocator *locator = NULL;
	HRESULT hr = api->create_instance(&CLSID_WbemLocator, NULL, CLSCTX_INPROC_SERVER,
					  &IID_IWbemLocator, (void **)&locator);
	if (FAILED(hr) || !locator) {
		*step = "creating the WMI locator";
		return FAILED(hr) ? hr : E_POINTER;
	}
	/* ConnectServer takes BSTRs: a remote call marshals them by their
	 * length prefix. USE_MAX_WAIT: it gives up after two minutes instead
	 * of waiting forever for a stuck WMI service. */
	BSTR bns = SysAllocString(ns);
	IWbemServices *svc = NULL;
	hr = bns ? locator->lpVtbl->ConnectServer(locator, bns, NULL, NULL, NULL,
						  WBEM_FLAG_CONNECT_USE_MAX_WAIT, NULL, NULL, &svc)
		 : E_OUTOFMEMORY;
	SysFreeString(bns);
	locator->lpVtbl->Release(locator);
	if (SUCCEEDED(hr) && !svc)
		hr = E_POINTER;
	if (FAILED(hr)) {
		*step = "connecting to the WMI namespace";
		return hr;
	}
	/* Not ssrp_wmi_secure: an IWbemServices from ConnectServer is always
	 * a proxy, and a blanket refused here is an error. */
	hr = api->set_proxy_blanket((IUnknown *)svc, RPC_C_AUTHN_DEFAULT, RPC_C_AUTHZ_NONE,
				    COLE_DEFAULT_PRINCIPAL, RPC_C_AUTHN_LEVEL_PKT_PRIVACY,
				    RPC_C_IMP_LEVEL_IMPERSONATE, NULL, EOAC_NONE);
	if (FAILED(hr)) {
		*step = "setting packet privacy on the WMI connection";
		svc->lpVtbl->Release(svc);
		return hr;
	}
	*out = svc;
	return S_OK;
}
