/* escrow/config.h: strict loading of the client configuration. */
#include "escrow/config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/config_private.h"
#include "hal/cert_store_path.h"
#include "hal/fs.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

#define MAX_CONFIG_BYTES (1024 * 1024)
#define MAX_CONNECT_TO 64

/* One string member: its name and where it goes. */
typedef struct field {
	const char *name;
	size_t offset;
} field;

#define F(n, m) {n, offsetof(ssrp_cloud_config, m)}
static const field top_fields[] = {
	F("tenant_id", tenant_id),       F("tenant_domain", tenant_domain),
	F("ca_file", ca_file),           F("app_id", app_id),
	F("app_secret_file", app_secret_file), F("app_cert_file", app_cert_file),
	F("app_key_file", app_key_file), F("public_client_id", public_client_id),
	F("refresh_token_file", refresh_token_file), F("webhook_url_file", webhook_url_file),
};
static const field host_fields[] = {
	F("login", login_host), F("graph", graph_host), F("drs", drs_host),
};
static const field device_fields[] = {
	F("device_id", device_id),      F("cert_file", device_cert_file),
	F("key_file", device_key_file), F("join_type", device_join_type),
	F("display_name", device_display_name),
};
#define N_DEVICE_FIELDS (sizeof device_fields / sizeof *device_fields)
#define MAX_PRIMARY_USERS 32
#undef F

static char **slot(ssrp_cloud_config *c, const field *f)
{
	return (char **)((char *)c + f->offset);
}

/* Copy one string member listed in fields; refuse any other. */
static int take_string(ssrp_cloud_config *c, const cJSON *it, const field *fields, size_t n,
		       const char *where, const char *origin)
{
	const field *f = NULL;
	for (size_t i = 0; i < n && !f; i++)
		if (!strcmp(it->string, fields[i].name))
			f = &fields[i];
	if (!f)
		return ssrp_error_set(SSRP_E_INVALID, "%s: unknown member \"%s%s\"", origin, where,
				      it->string);
	if (!cJSON_IsString(it) || !it->valuestring[0])
		return ssrp_error_set(SSRP_E_INVALID, "%s: \"%s%s\" must be a non-empty string",
				      origin, where, it->string);
	char **dst = slot(c, f);
	ssrp_free(*dst);
	if (!(*dst = ssrp_strdup(it->valuestring)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	return SSRP_OK;
}

static int take_strings(ssrp_cloud_config *c, const cJSON *obj, const field *fields, size_t n,
			const char *where, const char *origin)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		int rc = take_string(c, it, fields, n, where, origin);
		if (rc)
			return rc;
	}
	return SSRP_OK;
}

int ssrp_config_string_list(char ***out, const cJSON *arr, size_t max_items, size_t max_len,
			    const char *where, const char *origin)
{
	if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) > max_items)
		return ssrp_error_set(SSRP_E_INVALID, "%s: \"%s\" must be an array of at most %zu strings",
				      origin, where, max_items);
	char **list = ssrp_calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *list);
	if (!list)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsString(e) || !e->valuestring[0] || strlen(e->valuestring) > max_len) {
			ssrp_config_free_list(list);
			return ssrp_error_set(SSRP_E_INVALID,
					      "%s: %s[%zu] must be a non-empty string of at most %zu "
					      "bytes",
					      origin, where, i, max_len);
		}
		if (!(list[i++] = ssrp_strdup(e->valuestring))) {
			ssrp_config_free_list(list);
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		}
	}
	ssrp_config_free_list(*out);
	*out = list;
	return SSRP_OK;
}

void ssrp_config_free_list(char **list)
{
	for (char **p = list; p && *p; p++)
		ssrp_free(*p);
	ssrp_free(list);
}

/* "device": strings, and the primary users' list. */
static int parse_device(ssrp_cloud_config *c, const cJSON *obj, const char *origin)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		int rc = !strcmp(it->string, "primary_users")
				 ? ssrp_config_string_list(&c->device_primary_users, it, MAX_PRIMARY_USERS,
							   256, "device.primary_users", origin)
				 : take_string(c, it, device_fields, N_DEVICE_FIELDS, "device.", origin);
		if (rc)
			return rc;
	}
	const char *jt = c->device_join_type;
	if (jt && strcmp(jt, "azuread") && strcmp(jt, "hybrid") && strcmp(jt, "registered"))
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"device.join_type\" must be \"azuread\", \"hybrid\" or "
				      "\"registered\", not \"%.40s\"",
				      origin, jt);
	return SSRP_OK;
}

/* ---- "assoc": the association service ---------------------------------- */

#define MAX_ASSOC_LIST 64

static int oom(void)
{
	return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
}

static int assoc_string(char **dst, const cJSON *it, const char *origin)
{
	if (!cJSON_IsString(it) || !it->valuestring[0])
		return ssrp_error_set(SSRP_E_INVALID, "%s: \"assoc.%s\" must be a non-empty string",
				      origin, it->string);
	ssrp_free(*dst);
	return (*dst = ssrp_strdup(it->valuestring)) ? SSRP_OK : oom();
}

static void free_list(char **list)
{
	for (char **p = list; p && *p; p++)
		ssrp_free(*p);
	ssrp_free(list);
}

/* A non-empty array of non-empty strings into a NULL-terminated list. */
static int assoc_list(char ***dst, const cJSON *it, const char *origin)
{
	int n = cJSON_IsArray(it) ? cJSON_GetArraySize(it) : -1;
	if (n < 1 || n > MAX_ASSOC_LIST)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"assoc.%s\" must be an array of 1 to %d strings", origin,
				      it->string, MAX_ASSOC_LIST);
	char **list = ssrp_calloc((size_t)n + 1, sizeof *list);
	if (!list)
		return oom();
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, it) {
		if (!cJSON_IsString(e) || !e->valuestring[0]) {
			free_list(list);
			return ssrp_error_set(SSRP_E_INVALID,
					      "%s: assoc.%s[%d] must be a non-empty string", origin,
					      it->string, i);
		}
		if (!(list[i++] = ssrp_strdup(e->valuestring))) {
			free_list(list);
			return oom();
		}
	}
	free_list(*dst);
	*dst = list;
	return SSRP_OK;
}

static int netbios_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 15)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s == '\\' || *s == '/' || *s == '@' || *s == '"' || *s == 0x7f)
			return 0;
	return 1;
}

static int suffix_ok(const char *s)
{
	if (!*s || strlen(s) > 253 || *s == '.' || *s == '@')
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s == '\\' || *s == '@' || *s == '/' || *s == 0x7f)
			return 0;
	return 1;
}

static void free_domains(ssrp_assoc_domain **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		ssrp_free((*v)[i].netbios);
		ssrp_free((*v)[i].name);
	}
	ssrp_free(*v);
	*v = NULL;
	*n = 0;
}

/* An object {"NETBIOS":"name"} into a list (assoc.domains: UPN suffixes,
 * assoc.netbios_dns: DNS names). */
static int assoc_domain_map(ssrp_assoc_domain **v, size_t *nv, const cJSON *it, int dns,
			    const char *origin)
{
	const char *what = dns ? "a DNS domain name such as \"corp.contoso.example\""
			       : "a UPN suffix such as \"contoso.example\"";
	int n = cJSON_IsObject(it) ? cJSON_GetArraySize(it) : -1;
	if (n < 0 || n > MAX_ASSOC_LIST)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"assoc.%s\" must be an object of at most %d "
				      "\"NETBIOS\":\"%s\" members",
				      origin, it->string, MAX_ASSOC_LIST,
				      dns ? "dns.name" : "upn.suffix");
	free_domains(v, nv);
	if (n == 0)
		return SSRP_OK;
	if (!(*v = ssrp_calloc((size_t)n, sizeof **v)))
		return oom();
	const cJSON *e;
	cJSON_ArrayForEach(e, it) {
		if (!netbios_ok(e->string))
			return ssrp_error_set(SSRP_E_INVALID,
					      "%s: assoc.%s: \"%.40s\" is not a NetBIOS domain name "
					      "(1 to 15 characters, no spaces, \\, / or @)",
					      origin, it->string, e->string);
		if (!cJSON_IsString(e) || !suffix_ok(e->valuestring) ||
		    (dns && !strchr(e->valuestring, '.')))
			return ssrp_error_set(SSRP_E_INVALID, "%s: assoc.%s.%s must be %s", origin,
					      it->string, e->string, what);
		for (size_t k = 0; k < *nv; k++) {
			const char *x = (*v)[k].netbios, *y = e->string;
			while (*x && *y && (*x | 0x20) == (*y | 0x20))
				x++, y++;
			if (!*x && !*y)
				return ssrp_error_set(SSRP_E_INVALID,
						      "%s: assoc.%s: \"%s\" appears twice", origin,
						      it->string, e->string);
		}
		ssrp_assoc_domain *d = &(*v)[(*nv)++];
		if (!(d->netbios = ssrp_strdup(e->string)) ||
		    !(d->name = ssrp_strdup(e->valuestring)))
			return oom();
	}
	return SSRP_OK;
}

static int assoc_register(ssrp_assoc_config *a, const cJSON *it, const char *origin)
{
	int n = cJSON_IsArray(it) ? cJSON_GetArraySize(it) : -1;
	if (n < 1 || n > 2)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"assoc.register\" must be an array of \"owner\" and/or "
				      "\"user\"",
				      origin);
	a->as_owner = a->as_user = 0;
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, it) {
		if (cJSON_IsString(e) && !strcmp(e->valuestring, "owner"))
			a->as_owner = 1;
		else if (cJSON_IsString(e) && !strcmp(e->valuestring, "user"))
			a->as_user = 1;
		else
			return ssrp_error_set(SSRP_E_INVALID,
					      "%s: assoc.register[%d]: '%.40s' is not one of owner, user",
					      origin, i, cJSON_IsString(e) ? e->valuestring : "(not a string)");
		i++;
	}
	return SSRP_OK;
}

static int assoc_defaults(ssrp_assoc_config *a)
{
	static const char *const plans[] = {"AAD_PREMIUM", "INTUNE_A"};
	if (!a->licence_plans) {
		if (!(a->licence_plans = ssrp_calloc(3, sizeof *a->licence_plans)))
			return oom();
		for (int i = 0; i < 2; i++)
			if (!(a->licence_plans[i] = ssrp_strdup(plans[i])))
				return oom();
	}
	if (!a->audit && !(a->audit = ssrp_strdup("-")))
		return oom();
	if (!a->listen && !(a->listen = ssrp_strdup("127.0.0.1:8443")))
		return oom();
	return SSRP_OK;
}

static int parse_assoc(ssrp_assoc_config *a, const cJSON *obj, const char *origin)
{
	if (!cJSON_IsObject(obj))
		return ssrp_error_set(SSRP_E_INVALID, "%s: \"assoc\" must be an object", origin);
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		const char *k = it->string;
		int rc = SSRP_OK;
		if (!strcmp(k, "domains")) {
			rc = assoc_domain_map(&a->domains, &a->n_domains, it, 0, origin);
		} else if (!strcmp(k, "netbios_dns")) {
			rc = assoc_domain_map(&a->netbios_dns, &a->n_netbios_dns, it, 1, origin);
		} else if (!strcmp(k, "sam_lookup")) {
			if (!cJSON_IsBool(it))
				return ssrp_error_set(SSRP_E_INVALID,
						      "%s: \"assoc.sam_lookup\" must be true or false",
						      origin);
			a->sam_lookup = cJSON_IsTrue(it);
		} else if (!strcmp(k, "register")) {
			rc = assoc_register(a, it, origin);
		} else if (!strcmp(k, "licence")) {
			const char *v = cJSON_IsString(it) ? it->valuestring : "";
			if (!strcmp(v, "off"))
				a->licence = SSRP_ASSOC_LICENCE_OFF;
			else if (!strcmp(v, "check"))
				a->licence = SSRP_ASSOC_LICENCE_CHECK;
			else if (!strcmp(v, "assign"))
				a->licence = SSRP_ASSOC_LICENCE_ASSIGN;
			else
				return ssrp_error_set(SSRP_E_INVALID,
						      "%s: assoc.licence: '%.40s' is not one of off, "
						      "check, assign",
						      origin, cJSON_IsString(it) ? v : "(not a string)");
		} else if (!strcmp(k, "licence_plans")) {
			rc = assoc_list(&a->licence_plans, it, origin);
		} else if (!strcmp(k, "max_owners")) {
			if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 1000 ||
			    it->valuedouble != (double)(int)it->valuedouble)
				return ssrp_error_set(SSRP_E_INVALID,
						      "%s: \"assoc.max_owners\" must be a whole number "
						      "from 1 to 1000",
						      origin);
			a->max_owners = (unsigned)it->valueint;
		} else if (!strcmp(k, "licence_sku")) {
			rc = assoc_string(&a->licence_sku, it, origin);
		} else if (!strcmp(k, "audit")) {
			rc = assoc_string(&a->audit, it, origin);
		} else if (!strcmp(k, "listen")) {
			rc = assoc_string(&a->listen, it, origin);
		} else if (!strcmp(k, "tls_cert_file")) {
			rc = assoc_string(&a->tls_cert_file, it, origin);
		} else if (!strcmp(k, "tls_key_file")) {
			rc = assoc_string(&a->tls_key_file, it, origin);
		} else if (!strcmp(k, "device_ca_file")) {
			rc = assoc_string(&a->device_ca_file, it, origin);
		} else if (!strcmp(k, "url")) {
			rc = assoc_string(&a->url, it, origin);
		} else if (!strcmp(k, "serve")) {
			rc = ssrp_config_parse_serve(&a->serve, it, origin);
		} else {
			return ssrp_error_set(SSRP_E_INVALID, "%s: unknown member \"assoc.%s\"", origin,
					      k);
		}
		if (rc)
			return rc;
	}
	if ((a->tls_cert_file == NULL) != (a->tls_key_file == NULL))
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"assoc.tls_cert_file\" and \"assoc.tls_key_file\" go "
				      "together",
				      origin);
	return SSRP_OK;
}

static void free_assoc(ssrp_assoc_config *a)
{
	free_domains(&a->domains, &a->n_domains);
	free_domains(&a->netbios_dns, &a->n_netbios_dns);
	free_list(a->licence_plans);
	ssrp_free(a->licence_sku);
	ssrp_free(a->audit);
	ssrp_free(a->listen);
	ssrp_free(a->tls_cert_file);
	ssrp_free(a->tls_key_file);
	ssrp_free(a->device_ca_file);
	ssrp_free(a->url);
	memset(a, 0, sizeof *a);
}

static int parse_into(ssrp_cloud_config *c, const cJSON *root, const char *origin)
{
	if (!cJSON_IsObject(root))
		return ssrp_error_set(SSRP_E_INVALID, "%s: the configuration must be a JSON object",
				      origin);
	/* the assoc defaults, kept unless "assoc" says otherwise */
	c->assoc.sam_lookup = 1;
	c->assoc.as_owner = 1;
	c->assoc.licence = SSRP_ASSOC_LICENCE_CHECK;
	c->assoc.max_owners = 10;
	ssrp_config_serve_defaults(&c->assoc.serve);
	ssrp_config_agent_defaults(&c->agent);
	const cJSON *it;
	cJSON_ArrayForEach(it, root) {
		int rc;
		if (!strcmp(it->string, "assoc")) {
			rc = parse_assoc(&c->assoc, it, origin);
		} else if (!strcmp(it->string, "agent")) {
			rc = ssrp_config_parse_agent(&c->agent, it, origin);
		} else if (!strcmp(it->string, "hosts") || !strcmp(it->string, "device")) {
			int hosts = it->string[0] == 'h';
			if (!cJSON_IsObject(it))
				return ssrp_error_set(SSRP_E_INVALID, "%s: \"%s\" must be an object",
						      origin, it->string);
			rc = hosts ? take_strings(c, it, host_fields, 3, "hosts.", origin)
				   : parse_device(c, it, origin);
		} else if (!strcmp(it->string, "connect_to")) {
			int n = cJSON_GetArraySize(it);
			if (!cJSON_IsArray(it) || n > MAX_CONNECT_TO)
				return ssrp_error_set(SSRP_E_INVALID,
						      "%s: \"connect_to\" must be an array of at most "
						      "%d strings",
						      origin, MAX_CONNECT_TO);
			char **list = ssrp_calloc((size_t)n + 1, sizeof *list);
			if (!list)
				return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			for (char **p = c->connect_to; p && *p; p++)
				ssrp_free(*p);
			ssrp_free(c->connect_to);
			c->connect_to = list;
			int i = 0;
			const cJSON *e;
			cJSON_ArrayForEach(e, it) {
				/* HOST:PORT:CONNECT-HOST:CONNECT-PORT, as CURLOPT_CONNECT_TO */
				if (!cJSON_IsString(e) || !strchr(e->valuestring, ':'))
					return ssrp_error_set(SSRP_E_INVALID,
							      "%s: connect_to[%d] is not a "
							      "\"HOST:PORT:TO-HOST:TO-PORT\" string",
							      origin, i);
				if (!(list[i++] = ssrp_strdup(e->valuestring)))
					return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			}
			continue;
		} else {
			rc = take_string(c, it, top_fields, sizeof top_fields / sizeof *top_fields, "",
					 origin);
		}
		if (rc)
			return rc;
	}
	if (!c->tenant_id)
		return ssrp_error_set(SSRP_E_INVALID, "%s: \"tenant_id\" is required", origin);
	if ((c->app_cert_file == NULL) != (c->app_key_file == NULL))
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"app_cert_file\" and \"app_key_file\" go together", origin);
	/* A certificate in a Windows store ("LocalMachine\\MY\\<thumbprint>")
	 * comes alone: its key stays in the store. */
	if ((c->device_cert_file == NULL) != (c->device_key_file == NULL) &&
	    !ssrp_cert_store_path_is(c->device_cert_file))
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"device.cert_file\" and \"device.key_file\" go together "
				      "(a certificate in a Windows store, LocalMachine\\MY\\<thumbprint>, "
				      "comes alone)",
				      origin);
	const char *defaults[3] = {SSRP_HOST_LOGIN, SSRP_HOST_GRAPH, SSRP_HOST_DRS};
	for (int i = 0; i < 3; i++) {
		char **dst = slot(c, &host_fields[i]);
		if (!*dst && !(*dst = ssrp_strdup(defaults[i])))
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	if (!c->connect_to && !(c->connect_to = ssrp_calloc(1, sizeof *c->connect_to)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	return assoc_defaults(&c->assoc);
}

int ssrp_cloud_config_parse(ssrp_cloud_config **out, const char *json, const char *origin)
{
	if (!out || !json)
		return ssrp_error_set(SSRP_E_INVALID, "config: no text or output");
	*out = NULL;
	if (!origin)
		origin = "configuration";
	cJSON *root = cJSON_Parse(json);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		return ssrp_error_set(SSRP_E_INVALID, "%s: not valid JSON near \"%.20s\"", origin,
				      at ? at : "");
	}
	ssrp_cloud_config *c = ssrp_calloc(1, sizeof *c);
	if (!c) {
		cJSON_Delete(root);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	int rc = parse_into(c, root, origin);
	cJSON_Delete(root);
	if (rc) {
		ssrp_cloud_config_free(c);
		return rc;
	}
	*out = c;
	return SSRP_OK;
}

int ssrp_cloud_config_load(ssrp_cloud_config **out, const char *path)
{
	if (!out || !path)
		return ssrp_error_set(SSRP_E_INVALID, "config: no path or output");
	*out = NULL;
	/* The configuration decides where secrets go (CA file, connect-to
	 * mappings, URLs), so only its owner may have written it. */
	int rc = ssrp_fs_check_trusted(path, "configuration", 0);
	if (rc)
		return rc;
	unsigned char *text = NULL;
	size_t n = 0;
	if ((rc = ssrp_fs_read_input(path, MAX_CONFIG_BYTES, &text, &n)) != SSRP_OK)
		return ssrp_error_prefix(rc, "the configuration");
	rc = ssrp_cloud_config_parse(out, (const char *)text, path);
	ssrp_free_secret(text, n + 1);
	return rc;
}

void ssrp_cloud_config_free(ssrp_cloud_config *c)
{
	if (!c)
		return;
	const field *lists[3] = {top_fields, host_fields, device_fields};
	size_t counts[3] = {sizeof top_fields / sizeof *top_fields, 3, N_DEVICE_FIELDS};
	for (int l = 0; l < 3; l++)
		for (size_t i = 0; i < counts[l]; i++)
			ssrp_free(*slot(c, &lists[l][i]));
	for (char **p = c->connect_to; p && *p; p++)
		ssrp_free(*p);
	ssrp_free(c->connect_to);
	free_assoc(&c->assoc);
	ssrp_config_free_agent(&c->agent);
	ssrp_config_free_list(c->device_primary_users);
	ssrp_free(c);
}

int ssrp_cloud_config_secret(const char *path, char **out, size_t *len)
{
	if (!path)
		return ssrp_error_set(SSRP_E_INVALID, "the configuration names no secret file");
	return ssrp_secret_file_read(path, out, len);
}
