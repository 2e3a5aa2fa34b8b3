/* escrow/config.h: strict loading of the client configuration. */
#include "escrow/config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

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
	F("device_id", device_id), F("cert_file", device_cert_file), F("key_file", device_key_file),
};
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

static int parse_into(ssrp_cloud_config *c, const cJSON *root, const char *origin)
{
	if (!cJSON_IsObject(root))
		return ssrp_error_set(SSRP_E_INVALID, "%s: the configuration must be a JSON object",
				      origin);
	const cJSON *it;
	cJSON_ArrayForEach(it, root) {
		int rc;
		if (!strcmp(it->string, "hosts") || !strcmp(it->string, "device")) {
			int hosts = it->string[0] == 'h';
			if (!cJSON_IsObject(it))
				return ssrp_error_set(SSRP_E_INVALID, "%s: \"%s\" must be an object",
						      origin, it->string);
			rc = hosts ? take_strings(c, it, host_fields, 3, "hosts.", origin)
				   : take_strings(c, it, device_fields, 3, "device.", origin);
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
	if ((c->device_cert_file == NULL) != (c->device_key_file == NULL))
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s: \"device.cert_file\" and \"device.key_file\" go together",
				      origin);
	const char *defaults[3] = {SSRP_HOST_LOGIN, SSRP_HOST_GRAPH, SSRP_HOST_DRS};
	for (int i = 0; i < 3; i++) {
		char **dst = slot(c, &host_fields[i]);
		if (!*dst && !(*dst = ssrp_strdup(defaults[i])))
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	if (!c->connect_to && !(c->connect_to = ssrp_calloc(1, sizeof *c->connect_to)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	return SSRP_OK;
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
	FILE *f = fopen(path, "rb");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "cannot open the configuration %s", path);
	char *text = ssrp_malloc(MAX_CONFIG_BYTES + 1);
	if (!text) {
		fclose(f);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	size_t n = fread(text, 1, MAX_CONFIG_BYTES + 1, f);
	int err = ferror(f);
	fclose(f);
	int rc;
	if (err)
		rc = ssrp_error_set(SSRP_E_IO, "cannot read the configuration %s", path);
	else if (n > MAX_CONFIG_BYTES)
		rc = ssrp_error_set(SSRP_E_INVALID, "the configuration %s is larger than 1 MiB",
				    path);
	else {
		text[n] = '\0';
		rc = ssrp_cloud_config_parse(out, text, path);
	}
	ssrp_free(text);
	return rc;
}

void ssrp_cloud_config_free(ssrp_cloud_config *c)
{
	if (!c)
		return;
	const field *lists[3] = {top_fields, host_fields, device_fields};
	size_t counts[3] = {sizeof top_fields / sizeof *top_fields, 3, 3};
	for (int l = 0; l < 3; l++)
		for (size_t i = 0; i < counts[l]; i++)
			ssrp_free(*slot(c, &lists[l][i]));
	for (char **p = c->connect_to; p && *p; p++)
		ssrp_free(*p);
	ssrp_free(c->connect_to);
	ssrp_free(c);
}

int ssrp_cloud_config_secret(const char *path, char **out, size_t *len)
{
	if (!path)
		return ssrp_error_set(SSRP_E_INVALID, "the configuration names no secret file");
	return ssrp_secret_file_read(path, out, len);
}
