/* The agent's journal (see journal.h): a strict parser naming the member at
 * fault, a writer through ssrp_fs_write_atomic, and the small record
 * keeping the agent does on it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/journal.h"

#include "hal/crypto.h"
#include "hal/fs.h"
#include "hal/guid.h"
#include "hal/hex.h"
#include "hal/mem.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

#define JOURNAL_VERSION 1
/* Whole seconds a double holds exactly. */
#define MAX_EXACT_SECONDS 9007199254740991.0

/* ---- ids -------------------------------------------------------------------- */

/* A GUID in any case, braces optional, into "{GUID}" upper case; -1 if it
 * is not one. */
static int normalise_id(const char *in, char out[SSRP_PROTECTOR_ID_LEN + 1])
{
	return in && ssrp_guid_canonical(out, in) == SSRP_OK ? 0 : -1;
}

/* ---- parsing ----------------------------------------------------------------- */

#define BAD(...) ssrp_error_set(SSRP_E_FORMAT, "the journal is damaged: " __VA_ARGS__)

/* Members of o other than those in names (NULL-terminated), or one named
 * twice: refused by name. */
static int check_members(const cJSON *o, const char *where, const char *const *names)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, o) {
		size_t k = 0;
		while (names[k] && strcmp(names[k], m->string))
			k++;
		if (!names[k])
			return BAD("\"%s%s%.64s\" is not a journal member", where, *where ? "." : "",
				   m->string);
		for (const cJSON *p = o->child; p != m; p = p->next)
			if (!strcmp(p->string, m->string))
				return BAD("\"%s%s%s\" appears twice", where, *where ? "." : "",
					   m->string);
	}
	return SSRP_OK;
}

/* A whole, non-negative number of seconds. */
static int take_time(const cJSON *v, const char *what, int64_t *out)
{
	if (!cJSON_IsNumber(v))
		return BAD("\"%s\" is not a number", what);
	double d = v->valuedouble;
	if (!(d >= 0 && d <= MAX_EXACT_SECONDS) || (double)(int64_t)d != d)
		return BAD("\"%s\" is not a whole, non-negative number of seconds", what);
	*out = (int64_t)d;
	return SSRP_OK;
}

/* A protector id; "" allowed when empty_ok. */
static int take_id(const cJSON *v, const char *what, int empty_ok,
		   char out[SSRP_PROTECTOR_ID_LEN + 1])
{
	if (!cJSON_IsString(v))
		return BAD("\"%s\" is not a string", what);
	if (empty_ok && !*v->valuestring) {
		out[0] = '\0';
		return SSRP_OK;
	}
	if (normalise_id(v->valuestring, out))
		return BAD("\"%s\" is not a key protector id ({GUID})", what);
	return SSRP_OK;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int parse_escrowed(ssrp_journal *out, const cJSON *arr)
{
	if (!cJSON_IsArray(arr))
		return BAD("\"escrowed\" is not an array");
	int n = cJSON_GetArraySize(arr);
	if (n > SSRP_JOURNAL_MAX_ESCROWED)
		return BAD("\"escrowed\" has %d entries, more than %d", n, SSRP_JOURNAL_MAX_ESCROWED);
	static const char *const names[] = {"id", "at", "verified", "by", NULL};
	const cJSON *e;
	int i = 0;
	cJSON_ArrayForEach(e, arr) {
		char where[32], what[48];
		snprintf(where, sizeof where, "escrowed[%d]", i);
		if (!cJSON_IsObject(e))
			return BAD("\"%s\" is not an object", where);
		int rc = check_members(e, where, names);
		if (rc)
			return rc;
		ssrp_journal_escrow *r = &out->escrowed[i];
		snprintf(what, sizeof what, "%s.id", where);
		if ((rc = take_id(cJSON_GetObjectItemCaseSensitive(e, "id"), what, 0, r->id)))
			return rc;
		snprintf(what, sizeof what, "%s.at", where);
		if ((rc = take_time(cJSON_GetObjectItemCaseSensitive(e, "at"), what, &r->at)))
			return rc;
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(e, "verified");
		const cJSON *by = cJSON_GetObjectItemCaseSensitive(e, "by");
		snprintf(what, sizeof what, "%s.verified", where);
		if (ver && (rc = take_time(ver, what, &r->verified)))
			return rc;
		if (by && (!cJSON_IsString(by) || (strcmp(by->valuestring, "upload") &&
						   strcmp(by->valuestring, "drs"))))
			return BAD("\"%s.by\" is neither \"upload\" nor \"drs\"", where);
		if (!ver != !by)
			return BAD("\"%s\" has one of \"verified\" and \"by\" without the other",
				   where);
		if (by)
			snprintf(r->by, sizeof r->by, "%s", by->valuestring);
		for (int k = 0; k < i; k++)
			if (!strcmp(out->escrowed[k].id, r->id))
				return BAD("\"%s.id\" %s repeats \"escrowed[%d].id\"", where, r->id,
					   k);
		out->n_escrowed = (size_t)++i;
	}
	return SSRP_OK;
}

static int parse_association(ssrp_journal *out, const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return BAD("\"association\" is not an object");
	static const char *const names[] = {"users_sha256", "at", "mode", NULL};
	int rc = check_members(o, "association", names);
	if (rc)
		return rc;
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "users_sha256");
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
	if (!cJSON_IsString(h) || strlen(h->valuestring) != 64)
		return BAD("\"association.users_sha256\" is not 64 hex digits");
	for (const char *p = h->valuestring; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return BAD("\"association.users_sha256\" is not 64 lower-case hex digits");
	if ((rc = take_time(cJSON_GetObjectItemCaseSensitive(o, "at"), "association.at",
			    &out->assoc_at)))
		return rc;
	if (mode && (!cJSON_IsString(mode) || strlen(mode->valuestring) >= sizeof out->assoc_mode ||
		     !printable(mode->valuestring)))
		return BAD("\"association.mode\" is not a short string");
	memcpy(out->assoc_users_sha256, h->valuestring, 65);
	snprintf(out->assoc_mode, sizeof out->assoc_mode, "%s", mode ? mode->valuestring : "");
	return SSRP_OK;
}

static int parse_rotation(ssrp_journal *out, const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return BAD("\"rotation\" is not an object");
	static const char *const names[] = {"used", "new", NULL};
	int rc = check_members(o, "rotation", names);
	if (rc)
		return rc;
	const cJSON *used = cJSON_GetObjectItemCaseSensitive(o, "used");
	const cJSON *nw = cJSON_GetObjectItemCaseSensitive(o, "new");
	if (used && (rc = take_id(used, "rotation.used", 1, out->rotation_used)))
		return rc;
	if (nw && (rc = take_id(nw, "rotation.new", 1, out->rotation_new)))
		return rc;
	return SSRP_OK;
}

static int parse_root(ssrp_journal *out, const cJSON *root)
{
	if (!cJSON_IsObject(root))
		return BAD("it is not a JSON object");
	/* The version first: a newer journal may have members this one does
	 * not know, and saying so is more use than naming one of them. */
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!v)
		return BAD("it has no \"version\"");
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= 1e6) ||
	    v->valuedouble != (double)(int)v->valuedouble)
		return BAD("\"version\" is not a whole number from 1 up");
	if (v->valueint > JOURNAL_VERSION)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the journal has version %d: a newer ssrp wrote this journal "
				      "(this one reads version %d)",
				      v->valueint, JOURNAL_VERSION);
	static const char *const names[] = {"version",	   "device_id", "escrowed", "verified_at", "verify_pending",
					    "association", "rotation",	NULL};
	int rc = check_members(root, "", names);
	if (rc)
		return rc;
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(root, "device_id");
	if (dev) {
		if (!cJSON_IsString(dev) || strlen(dev->valuestring) >= sizeof out->device_id ||
		    !printable(dev->valuestring))
			return BAD("\"device_id\" is not a device id string");
		snprintf(out->device_id, sizeof out->device_id, "%s", dev->valuestring);
	}
	const cJSON *m;
	if ((m = cJSON_GetObjectItemCaseSensitive(root, "verified_at")) &&
	    (rc = take_time(m, "verified_at", &out->verified_at)))
		return rc;
	if ((m = cJSON_GetObjectItemCaseSensitive(root, "verify_pending"))) {
		if (!cJSON_IsBool(m))
			return BAD("\"verify_pending\" is not true or false");
		out->verify_pending = cJSON_IsTrue(m);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(root, "escrowed")) && (rc = parse_escrowed(out, m)))
		return rc;
	if ((m = cJSON_GetObjectItemCaseSensitive(root, "association")) &&
	    !cJSON_IsNull(m) && (rc = parse_association(out, m)))
		return rc;
	if ((m = cJSON_GetObjectItemCaseSensitive(root, "rotation")) && !cJSON_IsNull(m) &&
	    (rc = parse_rotation(out, m)))
		return rc;
	return SSRP_OK;
}

int ssrp_journal_parse(ssrp_journal *out, const char *json, size_t len)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_journal_parse: no journal structure");
	memset(out, 0, sizeof *out);
	if (!json)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_journal_parse: no text");
	if (len > SSRP_JOURNAL_MAX_BYTES)
		return BAD("it is %zu bytes, more than the %u a journal may be", len,
			   SSRP_JOURNAL_MAX_BYTES);
	if (memchr(json, '\0', len))
		return BAD("it holds a NUL byte");
	/* cJSON wants the NUL to refuse trailing text. */
	char *text = ssrp_malloc(len + 1);
	if (!text)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	memcpy(text, json, len);
	text[len] = '\0';
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	int rc;
	if (!root)
		rc = BAD("it is not JSON (at byte %zu)",
			 end && end >= text ? (size_t)(end - text) : (size_t)0);
	else
		rc = parse_root(out, root);
	cJSON_Delete(root);
	ssrp_free(text);
	if (rc)
		memset(out, 0, sizeof *out);
	return rc;
}

int ssrp_journal_load(ssrp_journal *out, const char *path)
{
	if (!out || !path)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_journal_load: NULL argument");
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return SSRP_OK; /* never written: an empty journal */
		return ssrp_error_set(SSRP_E_IO, "cannot read the journal %s: %s", path,
				      strerror(errno));
	}
	/* One byte more than the cap tells a file that is too big. */
	char *buf = ssrp_malloc(SSRP_JOURNAL_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	size_t n = fread(buf, 1, SSRP_JOURNAL_MAX_BYTES + 1, f);
	int err = ferror(f);
	fclose(f);
	int rc;
	if (err)
		rc = ssrp_error_set(SSRP_E_IO, "cannot read the journal %s", path);
	else if (n > SSRP_JOURNAL_MAX_BYTES)
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the journal %s is bigger than the %u bytes a journal may be",
				    path, SSRP_JOURNAL_MAX_BYTES);
	else if ((rc = ssrp_journal_parse(out, buf, n)) != SSRP_OK)
		ssrp_error_prefix(rc, "%s", path);
	ssrp_free(buf);
	return rc;
}

/* ---- writing ------------------------------------------------------------------ */

static char *journal_text(const ssrp_journal *j)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddNumberToObject(o, "version", JOURNAL_VERSION);
	if (ok && j->device_id[0])
		ok = cJSON_AddStringToObject(o, "device_id", j->device_id) != NULL;
	cJSON *arr = ok ? cJSON_AddArrayToObject(o, "escrowed") : NULL;
	ok = ok && arr;
	for (size_t i = 0; ok && i < j->n_escrowed && i < SSRP_JOURNAL_MAX_ESCROWED; i++) {
		cJSON *e = cJSON_CreateObject();
		const ssrp_journal_escrow *r = &j->escrowed[i];
		ok = e && cJSON_AddStringToObject(e, "id", r->id) &&
		     cJSON_AddNumberToObject(e, "at", (double)r->at) &&
		     (!r->by[0] || (cJSON_AddNumberToObject(e, "verified", (double)r->verified) &&
				    cJSON_AddStringToObject(e, "by", r->by))) &&
		     cJSON_AddItemToArray(arr, e);
		if (!ok)
			cJSON_Delete(e);
	}
	if (ok && j->verified_at)
		ok = cJSON_AddNumberToObject(o, "verified_at", (double)j->verified_at) != NULL;
	if (ok && j->verify_pending)
		ok = cJSON_AddBoolToObject(o, "verify_pending", 1) != NULL;
	if (ok && j->assoc_users_sha256[0]) {
		cJSON *a = cJSON_AddObjectToObject(o, "association");
		ok = a && cJSON_AddStringToObject(a, "users_sha256", j->assoc_users_sha256) &&
		     cJSON_AddNumberToObject(a, "at", (double)j->assoc_at) &&
		     cJSON_AddStringToObject(a, "mode", j->assoc_mode);
	}
	if (ok && (j->rotation_used[0] || j->rotation_new[0])) {
		cJSON *r = cJSON_AddObjectToObject(o, "rotation");
		ok = r && cJSON_AddStringToObject(r, "used", j->rotation_used) &&
		     cJSON_AddStringToObject(r, "new", j->rotation_new);
	}
	char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return text;
}

/* Whatever a caller put in j, a saved journal must load again. */
static int check_before_save(const ssrp_journal *j)
{
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	if (j->n_escrowed > SSRP_JOURNAL_MAX_ESCROWED)
		return ssrp_error_set(SSRP_E_INVALID, "the journal has %zu escrow records, more than %d",
				      j->n_escrowed, SSRP_JOURNAL_MAX_ESCROWED);
	if (memchr(j->device_id, '\0', sizeof j->device_id) == NULL || !printable(j->device_id))
		return ssrp_error_set(SSRP_E_INVALID, "the journal's device id is not a string");
	for (size_t i = 0; i < j->n_escrowed; i++) {
		const ssrp_journal_escrow *r = &j->escrowed[i];
		if (normalise_id(r->id, id) || r->at < 0 || r->verified < 0 ||
		    (r->by[0] && strcmp(r->by, "upload") && strcmp(r->by, "drs")))
			return ssrp_error_set(SSRP_E_INVALID,
					      "the journal's escrow record %zu is not an id and a time",
					      i + 1);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(j->escrowed[k].id, j->escrowed[i].id))
				return ssrp_error_set(SSRP_E_INVALID,
						      "the journal records %s twice",
						      j->escrowed[i].id);
	}
	if (j->verified_at < 0)
		return ssrp_error_set(SSRP_E_INVALID, "the journal's verification time is negative");
	if ((j->rotation_used[0] && normalise_id(j->rotation_used, id)) ||
	    (j->rotation_new[0] && normalise_id(j->rotation_new, id)))
		return ssrp_error_set(SSRP_E_INVALID, "the journal's rotation names no protector id");
	if (j->assoc_users_sha256[0] &&
	    (strlen(j->assoc_users_sha256) != 64 || j->assoc_at < 0 ||
	     memchr(j->assoc_mode, '\0', sizeof j->assoc_mode) == NULL || !printable(j->assoc_mode)))
		return ssrp_error_set(SSRP_E_INVALID, "the journal's association record is not "
						      "a hash, a time and a mode");
	return SSRP_OK;
}

int ssrp_journal_save(const ssrp_journal *j, const char *path)
{
	if (!j || !path)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_journal_save: NULL argument");
	int rc = check_before_save(j);
	if (rc)
		return rc;
	char *text = journal_text(j);
	if (!text)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	size_t len = strlen(text);
	text[len++] = '\n'; /* replaces the NUL: written by length */
	if (len > SSRP_JOURNAL_MAX_BYTES)
		rc = ssrp_error_set(SSRP_E_INVALID, "the journal would be %zu bytes, more than %u",
				    len, SSRP_JOURNAL_MAX_BYTES);
	else if ((rc = ssrp_fs_write_atomic(path, text, len, 0600)) != SSRP_OK)
		ssrp_error_prefix(rc, "cannot write the journal");
	free(text);
	return rc;
}

/* ---- records ------------------------------------------------------------------ */

static ssrp_journal_escrow *find(const ssrp_journal *j, const char *id)
{
	char want[SSRP_PROTECTOR_ID_LEN + 1];
	if (!j || normalise_id(id, want))
		return NULL;
	for (size_t i = 0; i < j->n_escrowed && i < SSRP_JOURNAL_MAX_ESCROWED; i++)
		if (!strcmp(j->escrowed[i].id, want))
			return (ssrp_journal_escrow *)&j->escrowed[i];
	return NULL;
}

int64_t ssrp_journal_escrowed_at(const ssrp_journal *j, const char *id)
{
	const ssrp_journal_escrow *e = find(j, id);
	return e ? e->at : 0;
}

int ssrp_journal_mark_escrowed(ssrp_journal *j, const char *id, int64_t at)
{
	char norm[SSRP_PROTECTOR_ID_LEN + 1];
	if (!j)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_journal_mark_escrowed: no journal");
	if (normalise_id(id, norm))
		return ssrp_error_set(SSRP_E_INVALID, "'%.40s' is not a key protector id ({GUID})",
				      id ? id : "(null)");
	if (at < 0)
		return ssrp_error_set(SSRP_E_INVALID, "an escrow time cannot be before 1970");
	ssrp_journal_escrow *e = find(j, norm);
	if (!e) {
		if (j->n_escrowed >= SSRP_JOURNAL_MAX_ESCROWED)
			return ssrp_error_set(SSRP_E_BUFSIZE,
					      "the journal already records %d escrows, the most it "
					      "keeps",
					      SSRP_JOURNAL_MAX_ESCROWED);
		e = &j->escrowed[j->n_escrowed++];
		memcpy(e->id, norm, sizeof e->id);
	}
	e->at = at;
	return SSRP_OK;
}

const ssrp_journal_escrow *ssrp_journal_record(const ssrp_journal *j, const char *id)
{
	return find(j, id);
}

int ssrp_journal_mark_verified(ssrp_journal *j, const char *id, int64_t at, const char *by)
{
	ssrp_journal_escrow *e = find(j, id);
	if (!e)
		return ssrp_error_set(SSRP_E_NOTFOUND, "the journal has no escrow of %.40s",
				      id ? id : "(null)");
	if (at < 0 || !by || (strcmp(by, "upload") && strcmp(by, "drs")))
		return ssrp_error_set(SSRP_E_INVALID,
				      "a verification needs a time and \"upload\" or \"drs\"");
	e->verified = at;
	snprintf(e->by, sizeof e->by, "%s", by);
	return SSRP_OK;
}

void ssrp_journal_forget(ssrp_journal *j, const char *id)
{
	ssrp_journal_escrow *e = find(j, id);
	if (!e)
		return;
	size_t i = (size_t)(e - j->escrowed);
	memmove(&j->escrowed[i], &j->escrowed[i + 1],
		(j->n_escrowed - i - 1) * sizeof j->escrowed[0]);
	j->n_escrowed--;
	memset(&j->escrowed[j->n_escrowed], 0, sizeof j->escrowed[0]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ssrp_journal_users_hash(char out[65], const char *const *users, size_t n)
{
	out[0] = '\0';
	char **low = n ? ssrp_calloc(n, sizeof *low) : NULL;
	size_t total = 1;
	int ok = !n || low;
	for (size_t i = 0; ok && i < n; i++) {
		const char *u = users && users[i] ? users[i] : "";
		size_t len = strlen(u);
		if (!(low[i] = ssrp_malloc(len + 1))) {
			ok = 0;
			break;
		}
		for (size_t k = 0; k <= len; k++)
			low[i][k] = u[k] >= 'A' && u[k] <= 'Z' ? (char)(u[k] - 'A' + 'a') : u[k];
		total += len + 1;
	}
	char *joined = ok ? ssrp_malloc(total) : NULL;
	if (joined) {
		if (n)
			qsort(low, n, sizeof *low, cmp_str);
		size_t used = 0;
		for (size_t i = 0; i < n; i++) {
			if (i)
				joined[used++] = '\n';
			size_t len = strlen(low[i]);
			memcpy(joined + used, low[i], len);
			used += len;
		}
		uint8_t md[SSRP_SHA256_LEN];
		if (ssrp_sha256(md, joined, used) == 0) {
			ssrp_hex_encode(out, md, SSRP_SHA256_LEN);
		}
		ssrp_free(joined);
	}
	for (size_t i = 0; low && i < n; i++)
		ssrp_free(low[i]);
	ssrp_free(low);
}
