/* A scripted WMI for the Windows unit tests: the COM calls of
 * hal/wmi_windows.h (CoInitializeEx, CoInitializeSecurity,
 * CoCreateInstance, CoSetProxyBlanket) and the interfaces behind them
 * (IWbemLocator, IWbemServices, IEnumWbemClassObject, IWbemClassObject) as
 * C structs of function pointers, the way COM defines them. Everything a
 * client does is recorded: the process security it asked for, the
 * namespace, the blankets, the queries, and each ExecMethod's method name
 * with its in-parameters object kept for inspection.
 *
 * Objects are property bags. A method's in-parameters come from the class
 * object's GetMethod signature and SpawnInstance, as WMI gives them: only
 * the declared parameters, each NULL until Put. How ExecMethod answers is
 * the test's: fake_wmi.on_method. */
#ifndef SSRP_TESTS_FAKE_WMI_H
#define SSRP_TESTS_FAKE_WMI_H

#include <windows.h>
#include <oleauto.h>
#include <wbemidl.h>

#include "hal/wmi_windows.h"

#define FAKE_MAX_PROPS 16
#define FAKE_MAX_CALLS 64
#define FAKE_MAX_ROWS 8

typedef struct fake_obj fake_obj;

typedef struct fake_call {
	char method[64];
	fake_obj *in; /* the in-parameters object (held), NULL when none was given */
} fake_call;

typedef struct fake_wmi {
	/* What the COM calls answer (0: S_OK). */
	HRESULT initialize_hr, security_hr, blanket_hr;
	/* Recorded. */
	unsigned initialize_calls, uninitialize_calls, security_calls, connect_calls;
	DWORD security_authn_level, security_imp_level;
	unsigned security_before_connect; /* process security was set before ConnectServer */
	WCHAR ns[128];                    /* ConnectServer's namespace */
	unsigned blankets;                /* CoSetProxyBlanket calls */
	unsigned blanket_services;        /* ...on the IWbemServices, at packet privacy */
	unsigned blanket_enum;            /* ...on an enumerator, at packet privacy */
	unsigned blanket_below_privacy;   /* any at a lower level */
	WCHAR query[256];                 /* the last ExecQuery */
	fake_call calls[FAKE_MAX_CALLS];
	unsigned n_calls;
	/* The class object GetObject hands out (methods and their [in]
	 * parameters), and the rows ExecQuery's enumerator yields. */
	fake_obj *klass;
	fake_obj *rows[FAKE_MAX_ROWS];
	unsigned n_rows;
	HRESULT query_hr; /* ExecQuery's answer (0: S_OK) */
	HRESULT connect_hr;
	/* ExecMethod: *out gets a new object (fake_obj_new) or stays NULL; the
	 * return value is ExecMethod's. NULL: ReturnValue 0 and nothing else. */
	HRESULT (*on_method)(struct fake_wmi *w, const char *method, fake_obj *in, fake_obj **out);
	void *user;
} fake_wmi;

/* The scripted WMI, reset (every recording cleared, objects released). */
extern fake_wmi fake;
void fake_wmi_reset(void);
/* The table to hand to the code under test. */
extern const ssrp_wmi_api fake_wmi_api;

/* Objects. */
fake_obj *fake_obj_new(void);
void fake_obj_release(fake_obj *o);
/* Declare (value NULL) or set a property. */
void fake_obj_declare(fake_obj *o, const WCHAR *name);
void fake_obj_set_u32(fake_obj *o, const WCHAR *name, UINT32 value);
void fake_obj_set_bool(fake_obj *o, const WCHAR *name, int value);
void fake_obj_set_str(fake_obj *o, const WCHAR *name, const WCHAR *value);
/* The property's value, NULL when the object has no such property. */
const VARIANT *fake_obj_get(const fake_obj *o, const WCHAR *name);
/* A method of a class object with its [in] parameter names (NULL-ended). */
void fake_class_method(fake_obj *klass, const WCHAR *method, const WCHAR *const *in_params);

/* The recorded ExecMethod calls of method, in order: the n-th (0-based) or NULL. */
const fake_call *fake_wmi_call(const char *method, unsigned n);
/* How many objects are alive (every one the client got must be released). */
unsigned fake_obj_alive(void);

#endif
