/* What ssrp's WMI clients (bitlocker/backend_wmi.c, hal/uda_wmi.c) share:
 * the COM calls they make, as a table (ole32's in production; a test hands
 * in its own with a scripted IWbemLocator and IWbemServices), and the steps
 * every WMI client takes ("Initializing COM for a WMI Application",
 * "Setting the Security on IWbemServices and Other Proxies"):
 *
 *   1. CoInitializeEx, multithreaded, unless the thread already is a
 *      single-threaded apartment (RPC_E_CHANGED_MODE: used as it is);
 *   2. CoInitializeSecurity for the process: packet privacy (which the
 *      BitLocker namespace ROOT\CIMV2\Security\MicrosoftVolumeEncryption
 *      demands) and impersonation. It can be called once per process, and
 *      a host program, or COM itself on the first marshalled call, may have
 *      done it already: RPC_E_TOO_LATE is taken as done, and the proxy
 *      blanket of step 4 is what makes each connection private whatever
 *      the process default is;
 *   3. IWbemLocator::ConnectServer to the local namespace;
 *   4. CoSetProxyBlanket on the IWbemServices proxy (and on each enumerator
 *      it hands out): packet privacy, impersonation.
 * Windows only; link with -lole32 -loleaut32 -lwbemuuid. */
#ifndef SSRP_HAL_WMI_WINDOWS_H
#define SSRP_HAL_WMI_WINDOWS_H

#include <windows.h>
#include <oleauto.h>
#include <wbemidl.h>

typedef struct ssrp_wmi_api {
	HRESULT(WINAPI *initialize)(LPVOID reserved, DWORD coinit); /* CoInitializeEx */
	void(WINAPI *uninitialize)(void);                          /* CoUninitialize */
	HRESULT(WINAPI *initialize_security)(PSECURITY_DESCRIPTOR sd, LONG n_auth,
					     SOLE_AUTHENTICATION_SERVICE *auth, void *reserved1,
					     DWORD authn_level, DWORD imp_level, void *auth_list,
					     DWORD capabilities, void *reserved3);
	HRESULT(WINAPI *create_instance)(REFCLSID clsid, LPUNKNOWN outer, DWORD context,
					 REFIID iid, LPVOID *out); /* CoCreateInstance */
	HRESULT(WINAPI *set_proxy_blanket)(IUnknown *proxy, DWORD authn, DWORD authz,
					   OLECHAR *principal, DWORD authn_level, DWORD imp_level,
					   RPC_AUTH_IDENTITY_HANDLE identity, DWORD capabilities);
} ssrp_wmi_api;

/* ole32's functions. */
extern const ssrp_wmi_api ssrp_wmi_ole32;

/* COM as a WMI client on this thread (steps 1 and 2). */
typedef struct ssrp_wmi_com {
	const ssrp_wmi_api *api;
	int owned;    /* CoInitializeEx succeeded: ssrp_wmi_com_end owes CoUninitialize */
	DWORD thread; /* ...on this thread */
} ssrp_wmi_com;

/* Steps 1 and 2. On failure nothing is left to undo and *step names what
 * failed ("initializing COM", "setting COM's process security"). */
HRESULT ssrp_wmi_com_begin(ssrp_wmi_com *com, const ssrp_wmi_api *api, const char **step);
/* Undo step 1 (on the thread that began; elsewhere nothing is done). */
void ssrp_wmi_com_end(ssrp_wmi_com *com);

/* Steps 3 and 4: *out is the secured IWbemServices of namespace ns
 * (Release it). On failure *out is NULL and *step names what failed. */
HRESULT ssrp_wmi_connect(const ssrp_wmi_api *api, const WCHAR *ns, IWbemServices **out,
			 const char **step);

/* Step 4 on another proxy (an IEnumWbemClassObject). E_NOINTERFACE, an
 * object that is no proxy, needs none and gives S_OK. */
HRESULT ssrp_wmi_secure(const ssrp_wmi_api *api, IUnknown *proxy);

#endif
