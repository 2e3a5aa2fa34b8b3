/* libFuzzer target: whole requests to the simulator's "My devices" page
 * (sim/cloud/portal.c): paths, Cookie headers and form bodies.
 *
 * Input: one control byte, then "path\ncookie\nbody". The control byte
 * picks the method (bits 0-2), the session (bits 3-4: none, alice's, bob's,
 * or only the cookie line from the input; with a session its cookie comes
 * first and the input's cookie line follows), whether the session's CSRF
 * token is put in front of the body (bit 5; alice's when there is no
 * session), whether the form Content-Type is left out (bit 6) and whether
 * an Origin of another site is sent (bit 7). "@PW@" in the body becomes
 * alice's password, so sign-in succeeds too.
 *
 * The tenant: the demo, alice a registered owner of its device, which
 * holds one recovery key and is named "<script>...". Each input starts
 * with fresh sessions for alice and bob (signed in through the handler).
 *
 * Whatever comes in: the handler must not crash or leak; it answers with
 * one of the page's statuses and always with the security headers; a body
 * is HTML without a script element (the device's name is escaped); the key
 * appears only on a 200 from /devices/key to alice's session (or where the
 * input itself carried it); a session
 * cookie is set only by a sign-in; a redirect goes to / or /devices. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "bitlocker/recovery_password.h"
#include "sim/cloud/cloud.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COOKIE "__Host-ssrp-portal"
#define FORM "application/x-www-form-urlencoded"

static cloud_ctx ctx;
static cloud_demo_secrets sec;
static char the_key[56];

typedef struct session {
	char cookie[64];
	char csrf[64];
} session;

static uint64_t fixed_clock(void)
{
	return 1750000000ull;
}

static const char *header(const cloud_response *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_headers; i++)
		if (!strcasecmp(rs->headers[i].name, name))
			return rs->headers[i].value;
	return NULL;
}

static void call(const char *method, const char *path, const char *cookie_line, const char *content_type,
		 const char *origin, const uint8_t *body, size_t body_len, cloud_response *rs)
{
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.host = CLOUD_HOST_PORTAL;
	rq.path = path;
	rq.query = "";
	rq.request_id = "00000000-0000-4000-8000-00000000f0a1";
	rq.client_addr = "127.0.0.1:1";
	if (cookie_line)
		rq.headers[rq.n_headers++] = (cloud_header){"cookie", cookie_line};
	if (content_type)
		rq.headers[rq.n_headers++] = (cloud_header){"content-type", content_type};
	if (origin)
		rq.headers[rq.n_headers++] = (cloud_header){"origin", origin};
	rq.body = body;
	rq.body_len = body_len;
	cloud_response_init(rs);
	cloud_portal_handle(&ctx, &rq, rs);
}

/* Sign in through the handler and read the CSRF token off /devices. */
static void sign_in(const char *upn, const char *password, session *s)
{
	char body[256], line[128];
	snprintf(body, sizeof body, "username=%s&password=%s", upn, password);
	cloud_response rs;
	call("POST", "/signin", NULL, FORM, NULL, (const uint8_t *)body, strlen(body), &rs);
	const char *sc = header(&rs, "Set-Cookie");
	if (rs.status != 303 || !sc || strncmp(sc, COOKIE "=", sizeof COOKIE))
		abort();
	snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)strcspn(sc + sizeof COOKIE, ";"), sc + sizeof COOKIE);
	cloud_response_free(&rs);
	snprintf(line, sizeof line, COOKIE "=%s", s->cookie);
	call("GET", "/devices", line, NULL, NULL, NULL, 0, &rs);
	const char *p = rs.body ? strstr(rs.body, "name=\"csrf\" value=\"") : NULL;
	if (rs.status != 200 || !p)
		abort();
	p += strlen("name=\"csrf\" value=\"");
	snprintf(s->csrf, sizeof s->csrf, "%.*s", (int)strcspn(p, "\""), p);
	cloud_response_free(&rs);
}

/* The demo tenant with its device renamed (through a dump and a reload),
 * alice as its owner and one key on it. */
static void init(void)
{
	cloud_state *demo = NULL;
	if (cloud_state_new_demo(&demo, &sec) != SSRP_OK)
		abort();
	cloud_state_lock(demo);
	char *text = cloud_state_to_json(demo);
	cloud_state_unlock(demo);
	cloud_state_free(demo);
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!j)
		abort();
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j, "devices"))
	{
		cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)d, "displayName",
						       cJSON_CreateString("<script>alert(1)</script>"));
	}
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!text || cloud_state_from_json(&ctx.state, text, strlen(text)) != SSRP_OK)
		abort();
	free(text);
	ctx.now = fixed_clock;

	cloud_recovery_key k;
	uint8_t raw[SSRP_RP_KEY_LEN];
	memset(&k, 0, sizeof k);
	memset(raw, 0x5a, sizeof raw);
	snprintf(k.id, sizeof k.id, "6f1d2c3b-0a1b-4c2d-8e3f-1234567890ab");
	snprintf(k.device_id, sizeof k.device_id, "%s", sec.device_id);
	ssrp_rp_format(k.key, raw);
	memcpy(the_key, k.key, sizeof k.key);
	k.volume_type = 1;
	k.created = 1592228730;
	cloud_state_lock(ctx.state);
	const cloud_user *alice = cloud_user_find(ctx.state, sec.user_upn);
	cloud_device *dev = cloud_device_find_by_device_id(ctx.state, sec.device_id);
	if (!alice || !dev || cloud_device_add_owner(dev, alice->id) < 0 || cloud_key_put(ctx.state, &k) != SSRP_OK)
		abort();
	cloud_state_unlock(ctx.state);
}

static void check_status(int status)
{
	static const int ok[] = {200, 303, 400, 401, 403, 404, 405, 413, 415};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (status == ok[i])
			return;
	abort();
}

/* The next '\n'-terminated piece of [*p, end) as a new string. */
static char *take_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

/* body with every "@PW@" replaced by alice's password, and csrf=... in front. */
static uint8_t *make_body(const uint8_t *in, size_t len, const char *csrf, size_t *out_len)
{
	size_t pwlen = strlen(sec.user_password);
	size_t cap = len * (pwlen > 4 ? pwlen / 4 + 1 : 1) + 128;
	uint8_t *b = malloc(cap);
	if (!b)
		abort();
	size_t o = 0;
	if (csrf)
		o = (size_t)snprintf((char *)b, cap, "csrf=%s&", csrf);
	for (size_t i = 0; i < len;) {
		if (i + 4 <= len && !memcmp(in + i, "@PW@", 4)) {
			memcpy(b + o, sec.user_password, pwlen);
			o += pwlen;
			i += 4;
		} else {
			b[o++] = in[i++];
		}
	}
	*out_len = o;
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "POST", "POST", "GET", "HEAD", "DELETE", "PUT", "POST"};
	if (!ctx.state)
		init();
	if (size == 0)
		return 0;
	unsigned ctl = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	char *path = take_line(&p, end);
	char *cookie_in = take_line(&p, end);

	session alice, bob;
	sign_in(sec.user_upn, sec.user_password, &alice);
	sign_in(sec.user2_upn, sec.user2_password, &bob);
	unsigned who = (ctl >> 3) & 3;
	const session *s = who == 1 ? &alice : who == 2 ? &bob : NULL;
	char *cookie = malloc(strlen(cookie_in) + 128);
	if (!cookie)
		abort();
	if (s)
		sprintf(cookie, COOKIE "=%s; %s", s->cookie, cookie_in);
	else
		sprintf(cookie, "%s", cookie_in);

	size_t body_len = 0;
	uint8_t *body = make_body(p, (size_t)(end - p), (ctl & 0x20) ? (s ? s->csrf : alice.csrf) : NULL,
				  &body_len);
	/* Exactly body_len bytes, so ASan sees where the body ends. */
	uint8_t *exact = malloc(body_len ? body_len : 1);
	if (!exact)
		abort();
	memcpy(exact, body, body_len);

	const char *method = methods[ctl & 7];
	cloud_response rs;
	call(method, path[0] ? path : "/", cookie[0] ? cookie : NULL, (ctl & 0x40) ? NULL : FORM,
	     (ctl & 0x80) ? "https://evil.example" : NULL, body_len ? exact : NULL, body_len, &rs);

	check_status(rs.status);
	const char *v = header(&rs, "Cache-Control");
	if (!v || strcmp(v, "no-store"))
		abort();
	v = header(&rs, "Content-Security-Policy");
	if (!v || strcmp(v, "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"))
		abort();
	v = header(&rs, "X-Frame-Options");
	if (!v || strcmp(v, "DENY"))
		abort();
	if (rs.status == 303) {
		v = header(&rs, "Location");
		if (!v || (strcmp(v, "/") && strcmp(v, "/devices")) || rs.body)
			abort();
	} else {
		if (!rs.body || strlen(rs.body) != rs.body_len || strncmp(rs.body, "<!DOCTYPE html>", 15))
			abort();
		if (strstr(rs.body, "<script"))
			abort();
	}
	int key_ok = who == 1 && rs.status == 200 && !strcmp(method, "POST") && !strcmp(path, "/devices/key");
	/* (The sign-in form echoes the username, which may be the key's digits.) */
	if (rs.body && strstr(rs.body, the_key) && !key_ok && !memmem(data, size, the_key, strlen(the_key)))
		abort();
	v = header(&rs, "Set-Cookie");
	if (v && !(rs.status == 303 && (!strcmp(path, "/signin") || !strcmp(path, "/signout"))))
		abort();

	cloud_response_free(&rs);
	/* Next input, new sessions: the table would otherwise only grow. */
	cloud_portal_free(ctx.portal);
	ctx.portal = NULL;
	free(exact);
	free(body);
	free(cookie);
	free(cookie_in);
	free(path);
	return 0;
}
