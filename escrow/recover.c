/* escrow/recover.h: a person's own devices, their keys, and one key read. */
#include "escrow/recover.h"
#include "escrow/strutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/hex.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

#define OWNED_PATH "/v1.0/me/ownedDevices?$select=id,deviceId,displayName"
#define KEYS_PATH "/v1.0/informationProtection/bitlocker/recoveryKeys"
#define SHOW_MAX 10 /* candidates or devices named in one message */
#define MAX_DEVICES 100000
#define MAX_KEYS 1000 /* per device */

/* ---- small helpers ------------------------------------------------------- */

/* An id safe in a URL path: hex digits and dashes, shorter than cap. */
static int id_ok(const char *s, size_t cap)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (ssrp_hex_value((unsigned char)s[n]) < 0 && s[n] != '-')
			return 0;
	return n > 0 && n < cap;
}

static void zero_strings(cJSON *o)
{
	for (; o; o = o->next) {
		if (cJSON_IsString(o) && o->valuestring)
			ssrp_memzero(o->valuestring, strlen(o->valuestring));
		zero_strings(o->child);
	}
}

/* Zero every string of a parsed answer (it held a key), then free it. */
static void delete_secret_json(cJSON *o)
{
	if (o)
		zero_strings(o->child);
	cJSON_Delete(o);
}

/* "x" or "x, y, z and 3 more" (SHOW_MAX names) into out. */
static void append(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);
	if (n + 1 < cap)
		snprintf(out + n, cap - n, "%s", s);
}

/* ---- signing in ------------------------------------------------------------ */

int ssrp_recover_signin_init(ssrp_recover_signin *s, unsigned int version)
{
	int rc = ssrp_struct_version_check("ssrp_recover_signin", version,
					   SSRP_RECOVER_SIGNIN_VERSION, "SSRP_RECOVER_SIGNIN_INIT");
	if (rc)
		return rc;
	memset(s, 0, sizeof *s);
	s->version = version;
	return SSRP_OK;
}

int ssrp_recover_connect(ssrp_graph **out, const ssrp_cloud_config *cfg,
			 const ssrp_recover_signin *how)
{
	return ssrp_recover_connect_with(out, cfg, how, NULL);
}

int ssrp_recover_connect_with(ssrp_graph **out, const ssrp_cloud_config *cfg,
			      const ssrp_recover_signin *how, const ssrp_graph_options *opt)
{
	if (!out || !cfg || !how)
		return ssrp_error_set(SSRP_E_INVALID, "recover: no configuration or sign-in");
	*out = NULL;
	int vrc = ssrp_struct_version_check("ssrp_recover_signin", how->version,
					    SSRP_RECOVER_SIGNIN_VERSION, "SSRP_RECOVER_SIGNIN_INIT");
	if (vrc)
		return vrc;
	char scope[512];
	if (how->scope)
		snprintf(scope, sizeof scope, "%s", how->scope);
	else
		snprintf(scope, sizeof scope,
			 "https://%s/User.Read https://%s/Device.Read.All "
			 "https://%s/BitLockerKey.Read.All offline_access openid profile",
			 cfg->graph_host, cfg->graph_host, cfg->graph_host);
	ssrp_graph_auth auth = {.scope = scope, .save_refresh_file = how->save_refresh_file};
	if (how->username) {
		if (!how->password_file)
			return ssrp_error_set(SSRP_E_INVALID,
					      "signing in as %s with a password needs the file holding it",
					      how->username);
		auth.kind = SSRP_GRAPH_AUTH_PASSWORD;
		auth.username = how->username;
		auth.password_file = how->password_file;
	} else {
		auth.kind = SSRP_GRAPH_AUTH_DEVICE_CODE;
		auth.prompt = how->prompt;
		auth.prompt_ctx = how->prompt_ctx;
	}
	return ssrp_graph_new(out, cfg, &auth, opt);
}

int ssrp_recover_whoami(ssrp_graph *g, char *upn, size_t cap)
{
	if (!g || !upn || !cap)
		return ssrp_error_set(SSRP_E_INVALID, "recover: whoami needs a client and a buffer");
	upn[0] = '\0';
	cJSON *me = NULL;
	/* the sign-in first, so it does not eat the request's deadline */
	int rc = ssrp_graph_token(g);
	if (rc)
		return rc;
	const ssrp_oauth_user *who = ssrp_graph_signed_in(g);
	if (who && who->upn[0]) {
		ssrp_copy_printable(upn, cap, who->upn);
		return SSRP_OK;
	}
	rc = ssrp_graph_get(g, "/v1.0/me?$select=userPrincipalName", &me);
	if (rc)
		return rc;
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(me, "userPrincipalName");
	if (cJSON_IsString(u) && u->valuestring[0])
		ssrp_copy_printable(upn, cap, u->valuestring);
	else
		rc = ssrp_error_set(SSRP_E_FORMAT, "Graph answered /me without a userPrincipalName");
	cJSON_Delete(me);
	return rc;
}

/* ---- parsing Graph's answers -------------------------------------------------- */

static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int ssrp_recover_parse_device(ssrp_recover_list *l, const cJSON *item)
{
	if (!l || !cJSON_IsObject(item))
		return ssrp_error_set(SSRP_E_FORMAT, "Graph listed an owned object that is not a JSON object");
	const char *type = str_member(item, "@odata.type");
	if (type && strcmp(type, "#microsoft.graph.device") != 0)
		return SSRP_OK; /* another kind of directory object */
	const char *id = str_member(item, "id");
	const char *device_id = str_member(item, "deviceId");
	const char *name = str_member(item, "displayName");
	if (!id || !id_ok(id, sizeof l->devices[0].object_id))
		return ssrp_error_set(SSRP_E_FORMAT, "Graph listed an owned device without a valid \"id\"");
	if (device_id && device_id[0] && !id_ok(device_id, sizeof l->devices[0].device_id))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "Graph listed the owned device %s with an invalid \"deviceId\"", id);
	if (l->n >= MAX_DEVICES)
		return ssrp_error_set(SSRP_E_FORMAT, "Graph listed more than %d owned devices",
				      MAX_DEVICES);
	ssrp_recover_device *nd = ssrp_realloc(l->devices, (l->n + 1) * sizeof *nd);
	if (!nd)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	l->devices = nd;
	ssrp_recover_device *d = &nd[l->n++];
	memset(d, 0, sizeof *d);
	snprintf(d->object_id, sizeof d->object_id, "%s", id);
	snprintf(d->device_id, sizeof d->device_id, "%s", device_id ? device_id : "");
	ssrp_copy_printable(d->name, sizeof d->name, name ? name : "");
	return SSRP_OK;
}

int ssrp_recover_parse_key_item(ssrp_recover_device *dev, const cJSON *item)
{
	if (!dev || !cJSON_IsObject(item))
		return ssrp_error_set(SSRP_E_FORMAT, "Graph listed a recovery key that is not a JSON object");
	const char *id = str_member(item, "id");
	if (!id || !id_ok(id, sizeof dev->keys[0].id))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "Graph listed a recovery key of %s without a valid \"id\"",
				      dev->name);
	const char *created = str_member(item, "createdDateTime");
	const cJSON *vt = cJSON_GetObjectItemCaseSensitive(item, "volumeType");
	if (dev->n_keys >= MAX_KEYS)
		return ssrp_error_set(SSRP_E_FORMAT, "Graph listed more than %d recovery keys for %s",
				      MAX_KEYS, dev->name);
	ssrp_recover_key *nk = ssrp_realloc(dev->keys, (dev->n_keys + 1) * sizeof *nk);
	if (!nk)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	dev->keys = nk;
	ssrp_recover_key *k = &nk[dev->n_keys++];
	memset(k, 0, sizeof *k);
	snprintf(k->id, sizeof k->id, "%s", id);
	ssrp_copy_printable(k->created, sizeof k->created, created ? created : "");
	if (cJSON_IsString(vt))
		ssrp_copy_printable(k->volume_type, sizeof k->volume_type, vt->valuestring);
	else if (cJSON_IsNumber(vt))
		snprintf(k->volume_type, sizeof k->volume_type, "%d", vt->valueint);
	return SSRP_OK;
}

int ssrp_recover_parse_key(const cJSON *answer, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "recover: nowhere to put the key");
	out[0] = '\0';
	const cJSON *o = answer;
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(answer, "value");
	if (cJSON_IsObject(value))
		o = value;
	const char *key = cJSON_IsObject(o) ? str_member(o, "key") : NULL;
	if (!key)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "Graph answered the recovery key request without a \"key\"");
	uint8_t raw[SSRP_RP_KEY_LEN];
	int rc = ssrp_rp_parse(raw, key, strlen(key));
	if (rc)
		return ssrp_error_prefix(SSRP_E_FORMAT,
					 "the key Graph returned is not a BitLocker recovery password");
	ssrp_rp_format(out, raw);
	ssrp_memzero(raw, sizeof raw);
	return SSRP_OK;
}

/* ---- listing -------------------------------------------------------------------- */

static int on_device(const cJSON *item, void *ctx)
{
	return ssrp_recover_parse_device(ctx, item);
}

static int on_key(const cJSON *item, void *ctx)
{
	return ssrp_recover_parse_key_item(ctx, item);
}

static int newest_first(const void *a, const void *b)
{
	const ssrp_recover_key *x = a, *y = b;
	int c = strcmp(y->created, x->created); /* ISO 8601 UTC sorts as text */
	return c ? c : strcmp(x->id, y->id);
}

void ssrp_recover_list_free(ssrp_recover_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		ssrp_free(l->devices[i].keys);
	ssrp_free(l->devices);
	l->devices = NULL;
	l->n = 0;
}

int ssrp_recover_list_devices(ssrp_graph *g, ssrp_recover_list *out)
{
	if (!g || !out)
		return ssrp_error_set(SSRP_E_INVALID, "recover: list needs a client and a result");
	unsigned int version = out->version;
	int vrc = ssrp_struct_version_check("ssrp_recover_list", version, SSRP_RECOVER_LIST_VERSION,
					    "SSRP_RECOVER_LIST_INIT");
	if (vrc)
		return vrc;
	memset(out, 0, sizeof *out);
	out->version = version;
	int rc = ssrp_graph_token(g); /* the sign-in, outside any request's deadline */
	if (!rc)
		rc = ssrp_graph_list(g, OWNED_PATH, on_device, out);
	for (size_t i = 0; !rc && i < out->n; i++) {
		ssrp_recover_device *d = &out->devices[i];
		if (!d->device_id[0])
			continue; /* never registered from a machine: no key can name it */
		char *path = ssrp_graph_filter_eq(KEYS_PATH, "deviceId", d->device_id);
		if (!path) {
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			break;
		}
		rc = ssrp_graph_list(g, path, on_key, d);
		ssrp_free(path);
		if (rc)
			rc = ssrp_error_prefix(rc, "cannot list the recovery keys of %s", d->name);
		else if (d->n_keys > 1)
			qsort(d->keys, d->n_keys, sizeof *d->keys, newest_first);
	}
	if (rc)
		ssrp_recover_list_free(out);
	return rc;
}

/* ---- choosing --------------------------------------------------------------------- */

/* The prefix's hex digits, lower case, dashes and braces dropped; the
 * number of them, or 0 when anything else is in it. */
static size_t prefix_digits(const char *prefix, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = prefix; *p; p++) {
		if (*p == '-' || *p == '{' || *p == '}')
			continue;
		if (ssrp_hex_value((unsigned char)*p) < 0 || n + 1 >= cap)
			return 0;
		out[n++] = (char)ssrp_ascii_lower((unsigned char)*p);
	}
	out[n] = '\0';
	return n;
}

#define PREFIX_MIN 8 /* hex digits of a key id that choose a key */

static int id_starts_with(const char *id, const char *digits)
{
	for (; *digits; id++) {
		if (!*id)
			return 0;
		if (*id == '-' || *id == '{')
			continue;
		if (ssrp_ascii_lower((unsigned char)*id) != *digits++)
			return 0;
	}
	return 1;
}

size_t ssrp_recover_candidates(const ssrp_recover_list *l, const char *device_name,
			       const char *key_prefix, ssrp_recover_choice *out, size_t cap)
{
	char digits[64] = "";
	if (key_prefix && prefix_digits(key_prefix, digits, sizeof digits) < PREFIX_MIN)
		return 0;
	size_t n = 0;
	for (size_t i = 0; l && i < l->n; i++) {
		const ssrp_recover_device *d = &l->devices[i];
		if (device_name && !ssrp_ascii_ieq(d->name, device_name))
			continue;
		for (size_t k = 0; k < d->n_keys; k++) {
			if (key_prefix && !id_starts_with(d->keys[k].id, digits))
				continue;
			if (out && n < cap) {
				out[n].device = d;
				out[n].key = &d->keys[k];
			}
			n++;
		}
	}
	return n;
}

static void device_names(const ssrp_recover_list *l, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < l->n && i < SHOW_MAX; i++) {
		if (i)
			append(out, cap, ", ");
		append(out, cap, l->devices[i].name[0] ? l->devices[i].name : l->devices[i].object_id);
	}
	if (l->n > SHOW_MAX) {
		char more[32];
		snprintf(more, sizeof more, " and %zu more", l->n - SHOW_MAX);
		append(out, cap, more);
	}
}

/* The hex digits of a key id shared at the start of a and b; *same set
 * when the two ids are the same. */
static size_t shared_digits(const char *a, const char *b, int *same)
{
	size_t n = 0;
	for (;;) {
		while (*a == '-' || *a == '{' || *a == '}')
			a++;
		while (*b == '-' || *b == '{' || *b == '}')
			b++;
		if (!*a || !*b || ssrp_ascii_lower((unsigned char)*a) != ssrp_ascii_lower((unsigned char)*b))
			break;
		a++, b++, n++;
	}
	*same |= !*a && !*b;
	return n;
}

/* Several keys match: the error lists their full ids (SHOW_MAX of them) and
 * says how many leading digits tell them apart. c holds the first of n. */
static int ambiguous(const ssrp_recover_list *l, const char *device_name, const char *key_prefix,
		     const ssrp_recover_choice *c, size_t n)
{
	char list[2048] = "";
	for (size_t i = 0; i < n && i < SHOW_MAX; i++) {
		char one[400];
		snprintf(one, sizeof one, "%s%s (%s, created %s)", i ? "; " : "", c[i].key->id,
			 c[i].device->name,
			 c[i].key->created[0] ? c[i].key->created : "at an unknown time");
		append(list, sizeof list, one);
	}
	if (n > SHOW_MAX) {
		char more[32];
		snprintf(more, sizeof more, "; and %zu more", n - SHOW_MAX);
		append(list, sizeof list, more);
	}
	/* the longest start two of them share, over all n */
	ssrp_recover_choice *all = ssrp_calloc(n, sizeof *all);
	if (!all)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	ssrp_recover_candidates(l, device_name, key_prefix, all, n);
	size_t shared = 0;
	int same = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = i + 1; k < n; k++) {
			size_t s = shared_digits(all[i].key->id, all[k].key->id, &same);
			shared = s > shared ? s : shared;
		}
	}
	ssrp_free(all);
	if (same)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%zu recovery keys match: %s; the same key id is on several "
				      "devices: choose one by its device's name",
				      n, list);
	if (shared < PREFIX_MIN)
		return ssrp_error_set(SSRP_E_INVALID,
				      "%zu recovery keys match: %s; choose one by the first %d hex "
				      "digits of its key id",
				      n, list, PREFIX_MIN);
	return ssrp_error_set(SSRP_E_INVALID,
			      "%zu recovery keys match: %s; their key ids share the first %zu hex "
			      "digits: choose one by at least its first %zu",
			      n, list, shared, shared + 1);
}

int ssrp_recover_choose(const ssrp_recover_list *l, const char *device_name,
			const char *key_prefix, ssrp_recover_choice *out)
{
	if (!l || !out)
		return ssrp_error_set(SSRP_E_INVALID, "recover: choose needs a list and a result");
	memset(out, 0, sizeof *out);
	char digits[64];
	if (key_prefix && prefix_digits(key_prefix, digits, sizeof digits) < PREFIX_MIN)
		return ssrp_error_set(SSRP_E_INVALID,
				      "'%.60s' is not the start of a key id: a key id prefix needs at "
				      "least %d hex digits, as the BitLocker recovery screen shows them "
				      "(e.g. 1A2B3C4D)",
				      key_prefix, PREFIX_MIN);
	char names[1024];
	device_names(l, names, sizeof names);
	if (device_name) {
		int found = 0;
		for (size_t i = 0; i < l->n && !found; i++)
			found = ssrp_ascii_ieq(l->devices[i].name, device_name);
		if (!found)
			return ssrp_error_set(SSRP_E_REFUSED, "%.200s is not one of your devices (%s%s)",
					      device_name, l->n ? "you own: " : "you own none",
					      names);
	}
	ssrp_recover_choice c[SHOW_MAX];
	size_t n = ssrp_recover_candidates(l, device_name, key_prefix, c, SHOW_MAX);
	if (n == 0) {
		if (key_prefix)
			return ssrp_error_set(SSRP_E_REFUSED,
					      "no recovery key starting %.60s on %s", key_prefix,
					      device_name ? device_name : "a device you own");
		if (device_name)
			return ssrp_error_set(SSRP_E_NOTFOUND,
					      "no recovery key of %.200s is escrowed in Entra ID",
					      device_name);
		if (!l->n)
			return ssrp_error_set(SSRP_E_NOTFOUND, "you own no devices in Entra ID");
		return ssrp_error_set(SSRP_E_NOTFOUND,
				      "none of your devices (%s) has a recovery key escrowed in "
				      "Entra ID",
				      names);
	}
	if (n > 1)
		return ambiguous(l, device_name, key_prefix, c, n);
	*out = c[0];
	return SSRP_OK;
}

/* ---- reading the key ------------------------------------------------------------- */

int ssrp_recover_fetch_key(ssrp_graph *g, const char *key_id, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	if (!g || !key_id || !out)
		return ssrp_error_set(SSRP_E_INVALID, "recover: fetch needs a client, a key id and a buffer");
	out[0] = '\0';
	if (!id_ok(key_id, 64))
		return ssrp_error_set(SSRP_E_INVALID, "'%.60s' is not a recovery key id", key_id);
	char path[160];
	snprintf(path, sizeof path, KEYS_PATH "/%s?$select=key", key_id);
	cJSON *answer = NULL;
	int rc = ssrp_graph_token(g);
	if (rc)
		return rc;
	rc = ssrp_graph_get(g, path, &answer);
	if (rc) {
		const ssrp_graph_error *e = ssrp_graph_last_error(g);
		if (rc == SSRP_E_PERMISSION && e && e->status == 403) {
			char msg[1024];
			snprintf(msg, sizeof msg, "%s", ssrp_error_last());
			return ssrp_error_set(SSRP_E_REFUSED, "%s", msg);
		}
		return rc;
	}
	rc = ssrp_recover_parse_key(answer, out);
	delete_secret_json(answer);
	if (rc)
		return ssrp_error_prefix(rc, "recovery key %s", key_id);
	return SSRP_OK;
}
