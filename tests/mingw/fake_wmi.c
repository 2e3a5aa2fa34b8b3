/* The scripted WMI of tests/mingw/fake_wmi.h. */
#include "fake_wmi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 64
#define MAX_METHODS 24

fake_wmi fake;
static unsigned alive;

struct fake_obj {
	IWbemClassObject iface; /* first: a fake_obj * is its IWbemClassObject * */
	LONG refs;
	unsigned n;
	WCHAR names[FAKE_MAX_PROPS][NAME_LEN];
	VARIANT values[FAKE_MAX_PROPS];
	unsigned n_methods;
	WCHAR method_names[MAX_METHODS][NAME_LEN];
	fake_obj *signatures[MAX_METHODS]; /* NULL: the method takes no [in] parameters */
};

typedef struct fake_services {
	IWbemServices iface;
	LONG refs;
} fake_services;

typedef struct fake_locator {
	IWbemLocator iface;
	LONG refs;
} fake_locator;

typedef struct fake_enum {
	IEnumWbemClassObject iface;
	LONG refs;
	unsigned next;
} fake_enum;

static void *must(void *p)
{
	if (!p) {
		fprintf(stderr, "fake_wmi: out of memory\n");
		abort();
	}
	return p;
}

/* ---- IWbemClassObject ---------------------------------------------------- */

static int find(const fake_obj *o, const WCHAR *name)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!wcscmp(o->names[i], name))
			return (int)i;
	return -1;
}

static HRESULT STDMETHODCALLTYPE obj_qi(IWbemClassObject *This, REFIID iid, void **out)
{
	(void)This;
	(void)iid;
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE obj_addref(IWbemClassObject *This)
{
	return (ULONG)InterlockedIncrement(&((fake_obj *)This)->refs);
}

static ULONG STDMETHODCALLTYPE obj_release(IWbemClassObject *This)
{
	fake_obj *o = (fake_obj *)This;
	LONG left = InterlockedDecrement(&o->refs);
	if (left)
		return (ULONG)left;
	for (unsigned i = 0; i < o->n; i++)
		VariantClear(&o->values[i]);
	for (unsigned i = 0; i < o->n_methods; i++)
		if (o->signatures[i])
			fake_obj_release(o->signatures[i]);
	free(o);
	alive--;
	return 0;
}

static HRESULT STDMETHODCALLTYPE obj_get(IWbemClassObject *This, LPCWSTR name, LONG flags,
					 VARIANT *val, CIMTYPE *type, LONG *flavor)
{
	(void)flags;
	fake_obj *o = (fake_obj *)This;
	int i = find(o, name);
	if (i < 0)
		return WBEM_E_NOT_FOUND;
	if (type)
		*type = 0;
	if (flavor)
		*flavor = 0;
	if (val) {
		VariantInit(val);
		return VariantCopy(val, &o->values[i]);
	}
	return S_OK;
}

/* Put: only properties the object has (an in-parameters instance has its
 * method's parameters); WMI takes a copy. */
static HRESULT STDMETHODCALLTYPE obj_put(IWbemClassObject *This, LPCWSTR name, LONG flags,
					 VARIANT *val, CIMTYPE type)
{
	(void)flags;
	(void)type;
	fake_obj *o = (fake_obj *)This;
	int i = find(o, name);
	if (i < 0)
		return WBEM_E_NOT_FOUND;
	VariantClear(&o->values[i]);
	if (!val) {
		o->values[i].vt = VT_NULL;
		return S_OK;
	}
	return VariantCopy(&o->values[i], val);
}

static HRESULT STDMETHODCALLTYPE obj_spawn(IWbemClassObject *This, LONG flags,
					   IWbemClassObject **out)
{
	(void)flags;
	const fake_obj *sig = (const fake_obj *)This;
	fake_obj *inst = fake_obj_new();
	for (unsigned i = 0; i < sig->n; i++)
		fake_obj_declare(inst, sig->names[i]);
	*out = &inst->iface;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE obj_get_method(IWbemClassObject *This, LPCWSTR name,
						LONG flags, IWbemClassObject **in,
						IWbemClassObject **out)
{
	(void)flags;
	fake_obj *o = (fake_obj *)This;
	if (in)
		*in = NULL;
	if (out)
		*out = NULL;
	for (unsigned i = 0; i < o->n_methods; i++) {
		if (wcscmp(o->method_names[i], name))
			continue;
		if (in && o->signatures[i]) {
			obj_addref(&o->signatures[i]->iface);
			*in = &o->signatures[i]->iface;
		}
		return S_OK;
	}
	return WBEM_E_NOT_FOUND;
}

static IWbemClassObjectVtbl obj_vtbl = {
	.QueryInterface = obj_qi,
	.AddRef = obj_addref,
	.Release = obj_release,
	.Get = obj_get,
	.Put = obj_put,
	.SpawnInstance = obj_spawn,
	.GetMethod = obj_get_method,
};

fake_obj *fake_obj_new(void)
{
	fake_obj *o = must(calloc(1, sizeof *o));
	o->iface.lpVtbl = &obj_vtbl;
	o->refs = 1;
	alive++;
	return o;
}

void fake_obj_release(fake_obj *o)
{
	if (o)
		obj_release(&o->iface);
}

static VARIANT *slot(fake_obj *o, const WCHAR *name)
{
	int i = find(o, name);
	if (i >= 0) {
		VariantClear(&o->values[i]);
		return &o->values[i];
	}
	if (o->n >= FAKE_MAX_PROPS || wcslen(name) >= NAME_LEN) {
		fprintf(stderr, "fake_wmi: too many or too long properties\n");
		abort();
	}
	wcscpy(o->names[o->n], name);
	VariantInit(&o->values[o->n]);
	return &o->values[o->n++];
}

void fake_obj_declare(fake_obj *o, const WCHAR *name)
{
	slot(o, name)->vt = VT_NULL;
}

void fake_obj_set_u32(fake_obj *o, const WCHAR *name, UINT32 value)
{
	VARIANT *v = slot(o, name);
	v->vt = VT_I4; /* as WMI hands a uint32 over */
	v->lVal = (LONG)value;
}

void fake_obj_set_bool(fake_obj *o, const WCHAR *name, int value)
{
	VARIANT *v = slot(o, name);
	v->vt = VT_BOOL;
	v->boolVal = value ? VARIANT_TRUE : VARIANT_FALSE;
}

void fake_obj_set_str(fake_obj *o, const WCHAR *name, const WCHAR *value)
{
	VARIANT *v = slot(o, name);
	v->vt = VT_BSTR;
	v->bstrVal = must(SysAllocString(value));
}

const VARIANT *fake_obj_get(const fake_obj *o, const WCHAR *name)
{
	int i = o ? find(o, name) : -1;
	return i < 0 ? NULL : &o->values[i];
}

void fake_class_method(fake_obj *klass, const WCHAR *method, const WCHAR *const *in_params)
{
	if (klass->n_methods >= MAX_METHODS) {
		fprintf(stderr, "fake_wmi: too many methods\n");
		abort();
	}
	unsigned m = klass->n_methods++;
	wcscpy(klass->method_names[m], method);
	klass->signatures[m] = NULL;
	if (in_params && in_params[0]) {
		klass->signatures[m] = fake_obj_new();
		for (const WCHAR *const *p = in_params; *p; p++)
			fake_obj_declare(klass->signatures[m], *p);
	}
}

unsigned fake_obj_alive(void)
{
	return alive;
}

/* ---- IEnumWbemClassObject ------------------------------------------------ */

static HRESULT STDMETHODCALLTYPE enum_qi(IEnumWbemClassObject *This, REFIID iid, void **out)
{
	(void)This;
	(void)iid;
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE enum_addref(IEnumWbemClassObject *This)
{
	return (ULONG)InterlockedIncrement(&((fake_enum *)This)->refs);
}

static ULONG STDMETHODCALLTYPE enum_release(IEnumWbemClassObject *This)
{
	fake_enum *e = (fake_enum *)This;
	LONG left = InterlockedDecrement(&e->refs);
	if (!left) {
		free(e);
		alive--;
	}
	return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE enum_next(IEnumWbemClassObject *This, LONG timeout, ULONG count,
					   IWbemClassObject **objs, ULONG *returned)
{
	(void)timeout;
	fake_enum *e = (fake_enum *)This;
	*returned = 0;
	if (count < 1)
		return WBEM_E_INVALID_PARAMETER;
	if (e->next >= fake.n_rows)
		return WBEM_S_FALSE;
	fake_obj *row = fake.rows[e->next++];
	obj_addref(&row->iface);
	objs[0] = &row->iface;
	*returned = 1;
	return WBEM_S_NO_ERROR;
}

static IEnumWbemClassObjectVtbl enum_vtbl = {
	.QueryInterface = enum_qi,
	.AddRef = enum_addref,
	.Release = enum_release,
	.Next = enum_next,
};

/* ---- IWbemServices ------------------------------------------------------- */

static HRESULT STDMETHODCALLTYPE svc_qi(IWbemServices *This, REFIID iid, void **out)
{
	(void)This;
	(void)iid;
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE svc_addref(IWbemServices *This)
{
	return (ULONG)InterlockedIncrement(&((fake_services *)This)->refs);
}

static ULONG STDMETHODCALLTYPE svc_release(IWbemServices *This)
{
	fake_services *s = (fake_services *)This;
	LONG left = InterlockedDecrement(&s->refs);
	if (!left) {
		free(s);
		alive--;
	}
	return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE svc_get_object(IWbemServices *This, const BSTR path, LONG flags,
						IWbemContext *ctx, IWbemClassObject **out,
						IWbemCallResult **result)
{
	(void)This;
	(void)flags;
	(void)ctx;
	(void)result;
	*out = NULL;
	if (!fake.klass || !path || wcscmp(path, L"Win32_EncryptableVolume"))
		return WBEM_E_INVALID_CLASS;
	obj_addref(&fake.klass->iface);
	*out = &fake.klass->iface;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE svc_exec_query(IWbemServices *This, const BSTR lang,
						const BSTR query, LONG flags, IWbemContext *ctx,
						IEnumWbemClassObject **out)
{
	(void)This;
	(void)flags;
	(void)ctx;
	*out = NULL;
	if (!lang || wcscmp(lang, L"WQL") || !query)
		return WBEM_E_INVALID_QUERY_TYPE;
	wcsncpy(fake.query, query, sizeof fake.query / sizeof fake.query[0] - 1);
	if (FAILED(fake.query_hr))
		return fake.query_hr;
	fake_enum *e = must(calloc(1, sizeof *e));
	e->iface.lpVtbl = &enum_vtbl;
	e->refs = 1;
	alive++;
	*out = &e->iface;
	return S_OK;
}

static HRESULT STDMETHODCALLTYPE svc_exec_method(IWbemServices *This, const BSTR path,
						 const BSTR method, LONG flags, IWbemContext *ctx,
						 IWbemClassObject *in, IWbemClassObject **out,
						 IWbemCallResult **result)
{
	(void)This;
	(void)path;
	(void)flags;
	(void)ctx;
	(void)result;
	if (out)
		*out = NULL;
	if (!method || fake.n_calls >= FAKE_MAX_CALLS)
		return WBEM_E_INVALID_PARAMETER;
	fake_call *c = &fake.calls[fake.n_calls++];
	size_t i = 0;
	for (; method[i] && i + 1 < sizeof c->method; i++)
		c->method[i] = (char)method[i];
	c->method[i] = 0;
	c->in = NULL;
	if (in) {
		obj_addref(in);
		c->in = (fake_obj *)in;
	}
	fake_obj *res = NULL;
	HRESULT hr;
	if (fake.on_method) {
		hr = fake.on_method(&fake, c->method, c->in, &res);
	} else {
		res = fake_obj_new();
		fake_obj_set_u32(res, L"ReturnValue", 0);
		hr = S_OK;
	}
	if (out)
		*out = res ? &res->iface : NULL;
	else
		fake_obj_release(res);
	return hr;
}

static IWbemServicesVtbl svc_vtbl = {
	.QueryInterface = svc_qi,
	.AddRef = svc_addref,
	.Release = svc_release,
	.GetObject = svc_get_object,
	.ExecQuery = svc_exec_query,
	.ExecMethod = svc_exec_method,
};

/* ---- IWbemLocator -------------------------------------------------------- */

static HRESULT STDMETHODCALLTYPE loc_qi(IWbemLocator *This, REFIID iid, void **out)
{
	(void)This;
	(void)iid;
	*out = NULL;
	return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE loc_addref(IWbemLocator *This)
{
	return (ULONG)InterlockedIncrement(&((fake_locator *)This)->refs);
}

static ULONG STDMETHODCALLTYPE loc_release(IWbemLocator *This)
{
	fake_locator *l = (fake_locator *)This;
	LONG left = InterlockedDecrement(&l->refs);
	if (!left) {
		free(l);
		alive--;
	}
	return (ULONG)left;
}

static HRESULT STDMETHODCALLTYPE loc_connect(IWbemLocator *This, const BSTR ns, const BSTR user,
					     const BSTR password, const BSTR locale, LONG flags,
					     const BSTR authority, IWbemContext *ctx,
					     IWbemServices **out)
{
	(void)This;
	(void)user;
	(void)password;
	(void)locale;
	(void)flags;
	(void)authority;
	(void)ctx;
	*out = NULL;
	fake.connect_calls++;
	fake.security_before_connect = fake.security_calls > 0;
	if (ns)
		wcsncpy(fake.ns, ns, sizeof fake.ns / sizeof fake.ns[0] - 1);
	if (FAILED(fake.connect_hr))
		return fake.connect_hr;
	fake_services *s = must(calloc(1, sizeof *s));
	s->iface.lpVtbl = &svc_vtbl;
	s->refs = 1;
	alive++;
	*out = &s->iface;
	return S_OK;
}

static IWbemLocatorVtbl loc_vtbl = {
	.QueryInterface = loc_qi,
	.AddRef = loc_addref,
	.Release = loc_release,
	.ConnectServer = loc_connect,
};

/* ---- the COM calls ------------------------------------------------------- */

static HRESULT WINAPI fake_initialize(LPVOID reserved, DWORD coinit)
{
	(void)reserved;
	if (coinit != COINIT_MULTITHREADED)
		return E_INVALIDARG;
	fake.initialize_calls++;
	return fake.initialize_hr;
}

static void WINAPI fake_uninitialize(void)
{
	fake.uninitialize_calls++;
}

static HRESULT WINAPI fake_initialize_security(PSECURITY_DESCRIPTOR sd, LONG n_auth,
					       SOLE_AUTHENTICATION_SERVICE *auth, void *reserved1,
					       DWORD authn_level, DWORD imp_level, void *auth_list,
					       DWORD capabilities, void *reserved3)
{
	(void)sd;
	(void)n_auth;
	(void)auth;
	(void)reserved1;
	(void)auth_list;
	(void)capabilities;
	(void)reserved3;
	fake.security_calls++;
	fake.security_authn_level = authn_level;
	fake.security_imp_level = imp_level;
	return fake.security_hr;
}

static HRESULT WINAPI fake_create_instance(REFCLSID clsid, LPUNKNOWN outer, DWORD context,
					   REFIID iid, LPVOID *out)
{
	(void)outer;
	(void)context;
	*out = NULL;
	if (!IsEqualCLSID(clsid, &CLSID_WbemLocator) || !IsEqualIID(iid, &IID_IWbemLocator))
		return REGDB_E_CLASSNOTREG;
	fake_locator *l = must(calloc(1, sizeof *l));
	l->iface.lpVtbl = &loc_vtbl;
	l->refs = 1;
	alive++;
	*out = &l->iface;
	return S_OK;
}

static HRESULT WINAPI fake_set_proxy_blanket(IUnknown *proxy, DWORD authn, DWORD authz,
					     OLECHAR *principal, DWORD authn_level,
					     DWORD imp_level, RPC_AUTH_IDENTITY_HANDLE identity,
					     DWORD capabilities)
{
	(void)authn;
	(void)authz;
	(void)principal;
	(void)identity;
	(void)capabilities;
	fake.blankets++;
	if (authn_level < RPC_C_AUTHN_LEVEL_PKT_PRIVACY || imp_level != RPC_C_IMP_LEVEL_IMPERSONATE)
		fake.blanket_below_privacy++;
	else if (proxy && (const void *)((IWbemServices *)proxy)->lpVtbl == (const void *)&svc_vtbl)
		fake.blanket_services++;
	else if (proxy &&
		 (const void *)((IEnumWbemClassObject *)proxy)->lpVtbl == (const void *)&enum_vtbl)
		fake.blanket_enum++;
	return fake.blanket_hr;
}

const ssrp_wmi_api fake_wmi_api = {
	.initialize = fake_initialize,
	.uninitialize = fake_uninitialize,
	.initialize_security = fake_initialize_security,
	.create_instance = fake_create_instance,
	.set_proxy_blanket = fake_set_proxy_blanket,
};

void fake_wmi_reset(void)
{
	for (unsigned i = 0; i < fake.n_calls; i++)
		fake_obj_release(fake.calls[i].in);
	for (unsigned i = 0; i < fake.n_rows; i++)
		fake_obj_release(fake.rows[i]);
	fake_obj_release(fake.klass);
	memset(&fake, 0, sizeof fake);
}

const fake_call *fake_wmi_call(const char *method, unsigned n)
{
	for (unsigned i = 0; i < fake.n_calls; i++)
		if (!strcmp(fake.calls[i].method, method) && n-- == 0)
			return &fake.calls[i];
	return NULL;
}
