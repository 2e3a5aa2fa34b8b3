/* The simulator's "My devices" page (sim/cloud/portal.c), driven through
 * cloud_portal_handle on the demo tenant with a fake clock: sign-in (right,
 * wrong and unknown accounts), the session cookie's attributes, the device
 * list and its escaping, "Show BitLocker key" for the owner with its audit
 * record, refusals for another user, a missing or wrong CSRF token and a
 * cross-site Origin, sign-out, expiry, and the parsing of cookies and form
 * bodies (untrusted input). Every answer carries the security headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "bitlocker/recovery_password.h"
#include "sim/cloud/cloud.h"
#include "ssrp/error.h"

#define NOW 1750000000ull
#define COOKIE "__Host-ssrp-portal"
#define KEY1 "6f1d2c3b-0a1b-4c2d-8e3f-1234567890ab"
#define KEY2 "7a2e3d4c-1b2c-4d3e-9f40-234567890abc"
#define FORM "application/x-www-form-urlencoded"

static uint64_t fake_now = NOW;

static uint64_t test_clock(void)
{
	return fake_now;
}

typedef struct fx {
	cloud_ctx ctx;
	cloud_demo_secrets sec;
	char key1[SSRP_RECOVERY_PASSWORD_LEN + 1], key2[SSRP_RECOVERY_PASSWORD_LEN + 1]; /* the recovery passwords stored */
} fx;

typedef struct resp {
	cloud_response rs;
} resp;

/* ---- fixture ---------------------------------------------------------------- */

static void put_key(fx *f, const char *id, uint8_t fill, char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	cloud_recovery_key k;
	uint8_t raw[SSRP_RP_KEY_LEN];
	memset(&k, 0, sizeof k);
	memset(raw, fill, sizeof raw);
	snprintf(k.id, sizeof k.id, "%s", id);
	snprintf(k.device_id, sizeof k.device_id, "%s", f->sec.device_id);
	ssrp_rp_format(k.key, raw);
	memcpy(out, k.key, sizeof k.key);
	k.volume_type = 1;
	k.created = 1592228730; /* 2020-06-15 13:45:30 UTC */
	cloud_state_lock(f->ctx.state);
	assert_int_equal(cloud_key_put(f->ctx.state, &k), SSRP_OK);
	cloud_state_unlock(f->ctx.state);
}

static void make_owner(fx *f, const char *upn)
{
	cloud_state_lock(f->ctx.state);
	const cloud_user *u = cloud_user_find(f->ctx.state, upn);
	cloud_device *d = cloud_device_find_by_device_id(f->ctx.state, f->sec.device_id);
	assert_non_null(u);
	assert_non_null(d);
	assert_true(cloud_device_add_owner(d, u->id) >= 0);
	cloud_state_unlock(f->ctx.state);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	fake_now = NOW;
	if (cloud_state_new_demo(&f->ctx.state, &f->sec) != SSRP_OK) {
		free(f);
		return -1;
	}
	f->ctx.now = test_clock;
	put_key(f, KEY1, 0x11, f->key1);
	put_key(f, KEY2, 0x22, f->key2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	cloud_portal_free(f->ctx.portal);
	cloud_state_free(f->ctx.state);
	free(f);
	return 0;
}

/* ---- requests ----------------------------------------------------------------- */

static const char *header(const resp *r, const char *name)
{
	for (size_t i = 0; i < r->rs.n_headers; i++)
		if (!strcasecmp(r->rs.headers[i].name, name))
			return r->rs.headers[i].value;
	return NULL;
}

static void check_common(const resp *r)
{
	const char *v = header(r, "Cache-Control");
	assert_non_null(v);
	assert_string_equal(v, "no-store");
	v = header(r, "Content-Security-Policy");
	assert_non_null(v);
	assert_string_equal(v, "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
	v = header(r, "X-Frame-Options");
	assert_non_null(v);
	assert_string_equal(v, "DENY");
	if (r->rs.status != 303) {
		assert_non_null(r->rs.body);
		assert_int_equal(strlen(r->rs.body), r->rs.body_len);
		assert_string_equal(r->rs.content_type, "text/html; charset=utf-8");
		assert_non_null(strstr(r->rs.body, "<!DOCTYPE html>"));
		/* No script, no external resource, ever. */
		assert_null(strstr(r->rs.body, "<script"));
		assert_null(strstr(r->rs.body, "src="));
		assert_null(strstr(r->rs.body, "http://"));
	}
}

/* One request: headers given as "name: value" strings, NULL-terminated. */
static void call_h(fx *f, resp *r, const char *method, const char *path, const char *body,
		   const char *const *headers)
{
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	char names[CLOUD_MAX_REQUEST_HEADERS][64];
	rq.method = method;
	rq.host = CLOUD_HOST_PORTAL;
	rq.path = path;
	rq.query = "";
	rq.request_id = "00000000-0000-4000-8000-000000000001";
	rq.client_addr = "127.0.0.1:1";
	for (size_t i = 0; headers && headers[i]; i++) {
		const char *colon = strchr(headers[i], ':');
		assert_non_null(colon);
		size_t n = (size_t)(colon - headers[i]);
		assert_true(n < sizeof names[0]);
		memcpy(names[i], headers[i], n);
		names[i][n] = '\0';
		rq.headers[rq.n_headers++] = (cloud_header){names[i], colon + 2};
	}
	rq.body = (const uint8_t *)body;
	rq.body_len = body ? strlen(body) : 0;
	cloud_response_init(&r->rs);
	cloud_portal_handle(&f->ctx, &rq, &r->rs);
	check_common(r);
}

/* A request with the session cookie (if any) and, for a body, the form
 * content type. */
static void call(fx *f, resp *r, const char *method, const char *path, const char *cookie, const char *body)
{
	char c[256];
	const char *h[3] = {NULL, NULL, NULL};
	size_t n = 0;
	if (cookie) {
		snprintf(c, sizeof c, "cookie: %s=%s", COOKIE, cookie);
		h[n++] = c;
	}
	if (body)
		h[n++] = "content-type: " FORM;
	call_h(f, r, method, path, body, h);
}

static void done(resp *r)
{
	cloud_response_free(&r->rs);
}

static int contains(const resp *r, const char *text)
{
	return r->rs.body && strstr(r->rs.body, text) != NULL;
}

/* Sign in; the session cookie's value into cookie (44 bytes). */
static void sign_in(fx *f, const char *upn, const char *password, char cookie[64])
{
	char body[512];
	snprintf(body, sizeof body, "username=%s&password=%s", upn, password);
	resp r;
	call(f, &r, "POST", "/signin", NULL, body);
	assert_int_equal(r.rs.status, 303);
	assert_string_equal(header(&r, "Location"), "/devices");
	const char *sc = header(&r, "Set-Cookie");
	assert_non_null(sc);
	assert_int_equal(strncmp(sc, COOKIE "=", sizeof COOKIE), 0);
	const char *v = sc + sizeof COOKIE;
	size_t n = strcspn(v, ";");
	assert_int_equal(n, 43);
	memcpy(cookie, v, n);
	cookie[n] = '\0';
	assert_null(r.rs.body);
	done(&r);
}

/* The CSRF token of the session, from the /devices page. */
static void csrf_of(fx *f, const char *cookie, char out[64])
{
	resp r;
	call(f, &r, "GET", "/devices", cookie, NULL);
	assert_int_equal(r.rs.status, 200);
	const char *p = strstr(r.rs.body, "name=\"csrf\" value=\"");
	assert_non_null(p);
	p += strlen("name=\"csrf\" value=\"");
	size_t n = strcspn(p, "\"");
	assert_int_equal(n, 43);
	memcpy(out, p, n);
	out[n] = '\0';
	done(&r);
}

static size_t audit_reads(fx *f, const char *actor)
{
	cloud_state_lock(f->ctx.state);
	char *text = cloud_state_to_json(f->ctx.state);
	cloud_state_unlock(f->ctx.state);
	assert_non_null(text);
	cJSON *j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	size_t n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "audit"))
	{
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "action");
		const cJSON *who = cJSON_GetObjectItemCaseSensitive(e, "actor");
		if (cJSON_IsString(a) && !strcmp(a->valuestring, "Read BitLocker key") && cJSON_IsString(who) &&
		    !strcmp(who->valuestring, actor))
			n++;
	}
	cJSON_Delete(j);
	return n;
}

/* ---- tests -------------------------------------------------------------------- */

static void signin_form(void **state)
{
	fx *f = *state;
	resp r;
	call(f, &r, "GET", "/", NULL, NULL);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, "<form method=\"post\" action=\"/signin\">"));
	assert_true(contains(&r, "name=\"username\""));
	assert_true(contains(&r, "type=\"password\" id=\"password\" name=\"password\""));
	assert_false(contains(&r, "incorrect"));
	assert_null(header(&r, "Set-Cookie"));
	done(&r);
	/* Pages that need a session send the browser to the form. */
	call(f, &r, "GET", "/devices", NULL, NULL);
	assert_int_equal(r.rs.status, 303);
	assert_string_equal(header(&r, "Location"), "/");
	done(&r);
	call(f, &r, "GET", "/nothing-here", NULL, NULL);
	assert_int_equal(r.rs.status, 404);
	done(&r);
	call(f, &r, "DELETE", "/devices", NULL, NULL);
	assert_int_equal(r.rs.status, 405);
	assert_string_equal(header(&r, "Allow"), "GET, HEAD");
	done(&r);
	call(f, &r, "GET", "/signin", NULL, NULL);
	assert_int_equal(r.rs.status, 405);
	assert_string_equal(header(&r, "Allow"), "POST");
	done(&r);
}

static void signin_refusals(void **state)
{
	fx *f = *state;
	resp r;
	char body[512];
	snprintf(body, sizeof body, "username=%s&password=wrong-password", f->sec.user_upn);
	call(f, &r, "POST", "/signin", NULL, body);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, "Your account or password is incorrect."));
	assert_true(contains(&r, f->sec.user_upn)); /* the username stays filled in */
	assert_false(contains(&r, "wrong-password"));
	assert_null(header(&r, "Set-Cookie"));
	assert_string_equal(r.rs.identity, "");
	done(&r);
	/* An unknown account reads the same. */
	snprintf(body, sizeof body, "username=nobody%%40contoso.example&password=%s", f->sec.user_password);
	call(f, &r, "POST", "/signin", NULL, body);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, "Your account or password is incorrect."));
	assert_null(header(&r, "Set-Cookie"));
	done(&r);
	/* Missing fields. */
	call(f, &r, "POST", "/signin", NULL, "username=alice%40contoso.example");
	assert_int_equal(r.rs.status, 400);
	assert_null(header(&r, "Set-Cookie"));
	done(&r);
	/* An escaped username comes back escaped. */
	call(f, &r, "POST", "/signin", NULL, "username=%3Cscript%3E%22x&password=p");
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, "value=\"&lt;script&gt;&quot;x\""));
	done(&r);
}

static void signin_sets_cookie(void **state)
{
	fx *f = *state;
	char body[512];
	snprintf(body, sizeof body, "username=%s&password=%s", f->sec.user_upn, f->sec.user_password);
	resp r;
	call(f, &r, "POST", "/signin", NULL, body);
	assert_int_equal(r.rs.status, 303);
	assert_string_equal(r.rs.identity, "user:alice@contoso.example");
	const char *sc = header(&r, "Set-Cookie");
	assert_non_null(sc);
	assert_non_null(strstr(sc, "; HttpOnly"));
	assert_non_null(strstr(sc, "; Secure"));
	assert_non_null(strstr(sc, "; SameSite=Strict"));
	assert_non_null(strstr(sc, "; Path=/"));
	/* The password is never echoed. */
	assert_null(strstr(sc, f->sec.user_password));
	done(&r);

	char c1[64], c2[64];
	sign_in(f, f->sec.user_upn, f->sec.user_password, c1);
	sign_in(f, f->sec.user_upn, f->sec.user_password, c2);
	assert_string_not_equal(c1, c2); /* random each time */
	/* Signed in, / goes to the list. */
	call(f, &r, "GET", "/", c1, NULL);
	assert_int_equal(r.rs.status, 303);
	assert_string_equal(header(&r, "Location"), "/devices");
	done(&r);
}

static void no_devices(void **state)
{
	fx *f = *state;
	char c[64];
	sign_in(f, f->sec.user_upn, f->sec.user_password, c);
	resp r;
	call(f, &r, "GET", "/devices", c, NULL);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, "My devices"));
	assert_true(contains(&r, "You have no devices."));
	assert_true(contains(&r, "alice@contoso.example"));
	assert_true(contains(&r, "id=\"signout\""));
	assert_false(contains(&r, f->sec.device_name));
	assert_string_equal(r.rs.identity, "user:alice@contoso.example");
	done(&r);
}

static void devices_and_key(void **state)
{
	fx *f = *state;
	make_owner(f, f->sec.user_upn);
	char c[64], csrf[64];
	sign_in(f, f->sec.user_upn, f->sec.user_password, c);
	resp r;
	call(f, &r, "GET", "/devices", c, NULL);
	assert_int_equal(r.rs.status, 200);
	assert_false(contains(&r, "You have no devices."));
	assert_true(contains(&r, f->sec.device_name));
	assert_true(contains(&r, f->sec.device_id));
	assert_true(contains(&r, KEY1));
	assert_true(contains(&r, KEY2));
	assert_true(contains(&r, "2020-06-15 13:45 UTC"));
	assert_true(contains(&r, "Show BitLocker key"));
	assert_true(contains(&r, "action=\"/devices/key\""));
	/* The list shows ids and dates, never the keys. */
	assert_false(contains(&r, f->key1));
	assert_false(contains(&r, f->key2));
	done(&r);
	assert_int_equal(audit_reads(f, "user:alice@contoso.example"), 0);

	csrf_of(f, c, csrf);
	char body[256];
	snprintf(body, sizeof body, "csrf=%s&key_id=%s", csrf, KEY2);
	call(f, &r, "POST", "/devices/key", c, body);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, f->key2));
	assert_false(contains(&r, f->key1));
	assert_true(contains(&r, "id=\"recovery-key\""));
	assert_true(contains(&r, f->sec.device_name));
	done(&r);
	assert_int_equal(audit_reads(f, "user:alice@contoso.example"), 1);
	/* Upper-case ids name the same key; each read is one audit record. */
	snprintf(body, sizeof body, "key_id=7A2E3D4C-1B2C-4D3E-9F40-234567890ABC&csrf=%s", csrf);
	call(f, &r, "POST", "/devices/key", c, body);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, f->key2));
	done(&r);
	assert_int_equal(audit_reads(f, "user:alice@contoso.example"), 2);
}

static void key_refusals(void **state)
{
	fx *f = *state;
	make_owner(f, f->sec.user_upn);
	char alice[64], bob[64], alice_csrf[64], bob_csrf[64], body[256];
	sign_in(f, f->sec.user_upn, f->sec.user_password, alice);
	sign_in(f, f->sec.user2_upn, f->sec.user2_password, bob);
	csrf_of(f, alice, alice_csrf);
	csrf_of(f, bob, bob_csrf);
	resp r;
	/* bob does not see alice's device and cannot read its key. */
	call(f, &r, "GET", "/devices", bob, NULL);
	assert_true(contains(&r, "You have no devices."));
	assert_false(contains(&r, f->sec.device_name));
	assert_false(contains(&r, KEY1));
	done(&r);
	snprintf(body, sizeof body, "csrf=%s&key_id=%s", bob_csrf, KEY1);
	call(f, &r, "POST", "/devices/key", bob, body);
	assert_int_equal(r.rs.status, 403);
	assert_true(contains(&r, "This device is not yours."));
	assert_false(contains(&r, f->key1));
	done(&r);
	/* An unknown key reads the same as another person's. */
	snprintf(body, sizeof body, "csrf=%s&key_id=00000000-0000-4000-8000-000000000000", alice_csrf);
	call(f, &r, "POST", "/devices/key", alice, body);
	assert_int_equal(r.rs.status, 403);
	assert_true(contains(&r, "This device is not yours."));
	done(&r);
	/* A key id that is not a GUID. */
	snprintf(body, sizeof body, "csrf=%s&key_id=..%%2F..", alice_csrf);
	call(f, &r, "POST", "/devices/key", alice, body);
	assert_int_equal(r.rs.status, 400);
	done(&r);
	/* alice's session with bob's CSRF token, or none, or a short one. */
	snprintf(body, sizeof body, "csrf=%s&key_id=%s", bob_csrf, KEY1);
	call(f, &r, "POST", "/devices/key", alice, body);
	assert_int_equal(r.rs.status, 403);
	assert_false(contains(&r, f->key1));
	done(&r);
	snprintf(body, sizeof body, "key_id=%s", KEY1);
	call(f, &r, "POST", "/devices/key", alice, body);
	assert_int_equal(r.rs.status, 403);
	done(&r);
	snprintf(body, sizeof body, "csrf=%.20s&key_id=%s", alice_csrf, KEY1);
	call(f, &r, "POST", "/devices/key", alice, body);
	assert_int_equal(r.rs.status, 403);
	done(&r);
	/* No session at all. */
	snprintf(body, sizeof body, "csrf=%s&key_id=%s", alice_csrf, KEY1);
	call(f, &r, "POST", "/devices/key", NULL, body);
	assert_int_equal(r.rs.status, 401);
	assert_false(contains(&r, f->key1));
	done(&r);
	/* The right form from another site. */
	char origin[] = "origin: https://evil.example";
	const char *h[] = {"content-type: " FORM, origin, NULL};
	char cookie[128];
	snprintf(cookie, sizeof cookie, "cookie: " COOKIE "=%s", alice);
	const char *h2[] = {"content-type: " FORM, origin, cookie, NULL};
	call_h(f, &r, "POST", "/devices/key", body, h2);
	assert_int_equal(r.rs.status, 403);
	assert_false(contains(&r, f->key1));
	done(&r);
	call_h(f, &r, "POST", "/signin", "username=a%40b&password=c", h);
	assert_int_equal(r.rs.status, 403);
	done(&r);
	/* ... and from the portal itself (with or without a port). */
	const char *h3[] = {"content-type: " FORM, "origin: https://myaccount.microsoft.com:8443", cookie, NULL};
	call_h(f, &r, "POST", "/devices/key", body, h3);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, f->key1));
	done(&r);
	const char *odd_origins[] = {"origin: https://myaccount.microsoft.com.evil.example",
				     "origin: https://myaccount.microsoft.com:", "origin: https://myaccount.microsoft.com:1x",
				     "origin: http://myaccount.microsoft.com", "origin: null"};
	for (size_t i = 0; i < sizeof odd_origins / sizeof odd_origins[0]; i++) {
		const char *h4[] = {"content-type: " FORM, odd_origins[i], cookie, NULL};
		call_h(f, &r, "POST", "/devices/key", body, h4);
		if (r.rs.status != 403)
			fail_msg("%s: status %d", odd_origins[i], r.rs.status);
		assert_false(contains(&r, f->key1));
		done(&r);
	}
	assert_int_equal(audit_reads(f, "user:alice@contoso.example"), 1);
	assert_int_equal(audit_reads(f, "user:bob@contoso.example"), 0);
}

static void tenant_text_is_escaped(void **state)
{
	fx *f = *state;
	/* Rename the demo device through a dump and reload. */
	cloud_state_lock(f->ctx.state);
	char *text = cloud_state_to_json(f->ctx.state);
	cloud_state_unlock(f->ctx.state);
	cJSON *j = cJSON_Parse(text);
	free(text);
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j, "devices"))
	{
		cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)d, "displayName",
						       cJSON_CreateString("<script>alert('x')</script>&\""));
	}
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	cloud_state_free(f->ctx.state);
	assert_int_equal(cloud_state_from_json(&f->ctx.state, text, strlen(text)), SSRP_OK);
	free(text);
	make_owner(f, f->sec.user_upn);
	char c[64];
	sign_in(f, f->sec.user_upn, f->sec.user_password, c);
	resp r;
	call(f, &r, "GET", "/devices", c, NULL);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
	done(&r); /* check_common refused any "<script" */
}

static void signout_and_expiry(void **state)
{
	fx *f = *state;
	char c[64], c2[64], csrf[64], body[128];
	sign_in(f, f->sec.user_upn, f->sec.user_password, c);
	sign_in(f, f->sec.user_upn, f->sec.user_password, c2);
	csrf_of(f, c, csrf);
	resp r;
	/* Sign-out needs the session's token too. */
	call(f, &r, "POST", "/signout", c, "csrf=x");
	assert_int_equal(r.rs.status, 403);
	done(&r);
	snprintf(body, sizeof body, "csrf=%s", csrf);
	call(f, &r, "POST", "/signout", c, body);
	assert_int_equal(r.rs.status, 303);
	assert_string_equal(header(&r, "Location"), "/");
	const char *sc = header(&r, "Set-Cookie");
	assert_non_null(sc);
	assert_non_null(strstr(sc, COOKIE "=;"));
	assert_non_null(strstr(sc, "Max-Age=0"));
	done(&r);
	call(f, &r, "GET", "/devices", c, NULL);
	assert_int_equal(r.rs.status, 303);
	done(&r);
	/* The other session lives on, for an hour. */
	fake_now += 3599;
	call(f, &r, "GET", "/devices", c2, NULL);
	assert_int_equal(r.rs.status, 200);
	done(&r);
	fake_now += 1;
	call(f, &r, "GET", "/devices", c2, NULL);
	assert_int_equal(r.rs.status, 303);
	assert_string_equal(header(&r, "Location"), "/");
	done(&r);
}

static void cookie_parsing(void **state)
{
	fx *f = *state;
	char c[64];
	sign_in(f, f->sec.user_upn, f->sec.user_password, c);
	char h[512];
	const char *hs[] = {h, NULL};
	resp r;
	/* Among other cookies, quoted, with odd spacing: signed in. */
	const char *good[] = {"cookie: a=b; " COOKIE "=%s; c=d", "cookie: " COOKIE "=\"%s\"",
			      "cookie: ;;  " COOKIE "=%s  ;", "cookie: " COOKIE "=junk; " COOKIE "=%s"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(h, sizeof h, good[i], c);
		call_h(f, &r, "GET", "/devices", NULL, hs);
		if (r.rs.status != 200)
			fail_msg("not signed in with %s", h);
		done(&r);
	}
	/* Near misses: not signed in. */
	char trunc[64], longer[80], other[64];
	snprintf(trunc, sizeof trunc, "%.42s", c);
	snprintf(longer, sizeof longer, "%sA", c);
	snprintf(other, sizeof other, "%s", c);
	other[10] = other[10] == 'A' ? 'B' : 'A';
	const char *bad[] = {"cookie: " COOKIE "=%s", "cookie: " COOKIE "=%s", "cookie: " COOKIE "=%s",
			     "cookie: x" COOKIE "=%s", "cookie: " COOKIE " =%s", "cookie: %s",
			     "cookie: " COOKIE "=\"%s", "cookie: ssrp-portal=%s", "cookie: " COOKIE "=%s\x01"};
	const char *vals[] = {trunc, longer, other, c, c, c, c, c, c};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(h, sizeof h, bad[i], vals[i]);
		call_h(f, &r, "GET", "/devices", NULL, hs);
		if (r.rs.status != 303)
			fail_msg("signed in with %s", h);
		done(&r);
	}
	const char *odd[] = {"cookie: ", "cookie: ;", "cookie: =", "cookie: " COOKIE "=",
			     "cookie: " COOKIE "=\"\"", "cookie: " COOKIE "=\""};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		snprintf(h, sizeof h, "%s", odd[i]);
		call_h(f, &r, "GET", "/devices", NULL, hs);
		assert_int_equal(r.rs.status, 303);
		done(&r);
	}
}

static void form_parsing(void **state)
{
	fx *f = *state;
	resp r;
	char body[512];
	snprintf(body, sizeof body, "username=%s&password=%s", f->sec.user_upn, f->sec.user_password);
	/* Only the form content type, with parameters and in any case. */
	const char *json[] = {"content-type: application/json", NULL};
	call_h(f, &r, "POST", "/signin", body, json);
	assert_int_equal(r.rs.status, 415);
	done(&r);
	call_h(f, &r, "POST", "/signin", body, NULL);
	assert_int_equal(r.rs.status, 415);
	done(&r);
	const char *prefix[] = {"content-type: application/x-www-form-urlencodedX", NULL};
	call_h(f, &r, "POST", "/signin", body, prefix);
	assert_int_equal(r.rs.status, 415);
	done(&r);
	const char *cs[] = {"content-type: Application/X-WWW-Form-Urlencoded; charset=UTF-8", NULL};
	call_h(f, &r, "POST", "/signin", body, cs);
	assert_int_equal(r.rs.status, 303);
	done(&r);
	/* Escapes: '+' is a space, %40 is '@'. */
	char upn[128];
	snprintf(upn, sizeof upn, "%s", f->sec.user_upn);
	*strchr(upn, '@') = '\0';
	snprintf(body, sizeof body, "password=%s&username=%s%%40contoso.example&extra=1+2", f->sec.user_password,
		 upn);
	call(f, &r, "POST", "/signin", NULL, body);
	assert_int_equal(r.rs.status, 303);
	done(&r);
	/* Refused: a field twice, a bad escape, a pair without '=', an encoded NUL. */
	const char *bad[] = {"username=a&username=b&password=c", "username=%4&password=x", "username&password=x",
			     "username=a%00b&password=x", "=x&username=a&password=b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		call(f, &r, "POST", "/signin", NULL, bad[i]);
		if (r.rs.status != 400)
			fail_msg("%s: status %d", bad[i], r.rs.status);
		assert_null(header(&r, "Set-Cookie"));
		done(&r);
	}
	/* Too large. */
	size_t n = 20000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "username=", 9);
	big[n] = '\0';
	call(f, &r, "POST", "/signin", NULL, big);
	assert_int_equal(r.rs.status, 413);
	done(&r);
	free(big);
	/* Not NUL-terminated: the handler reads body_len bytes only. */
	char raw[] = {'u', 's', 'e', 'r', 'n', 'a', 'm', 'e', '=', 'a', '&', 'p', '=', 'b'};
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.host = CLOUD_HOST_PORTAL;
	rq.path = "/signin";
	rq.query = "";
	rq.headers[rq.n_headers++] = (cloud_header){"content-type", FORM};
	rq.body = (const uint8_t *)raw;
	rq.body_len = sizeof raw;
	cloud_response_init(&r.rs);
	cloud_portal_handle(&f->ctx, &rq, &r.rs);
	assert_int_equal(r.rs.status, 400); /* no password */
	done(&r);
}

static void many_sessions(void **state)
{
	fx *f = *state;
	char first[64], c[64];
	sign_in(f, f->sec.user_upn, f->sec.user_password, first);
	/* More sign-ins than the table holds: the oldest makes room. */
	for (int i = 0; i < 1100; i++) {
		if (i % 100 == 0)
			fake_now++;
		sign_in(f, f->sec.user2_upn, f->sec.user2_password, c);
	}
	resp r;
	call(f, &r, "GET", "/devices", c, NULL);
	assert_int_equal(r.rs.status, 200);
	assert_true(contains(&r, "bob@contoso.example"));
	done(&r);
	call(f, &r, "GET", "/devices", first, NULL);
	assert_int_equal(r.rs.status, 303);
	done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(signin_form, setup, teardown),
		cmocka_unit_test_setup_teardown(signin_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(signin_sets_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(no_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(devices_and_key, setup, teardown),
		cmocka_unit_test_setup_teardown(key_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(tenant_text_is_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(signout_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(cookie_parsing, setup, teardown),
		cmocka_unit_test_setup_teardown(form_parsing, setup, teardown),
		cmocka_unit_test_setup_teardown(many_sessions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
