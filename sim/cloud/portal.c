/* https://myaccount.microsoft.com/ in the simulator: the self-service
 * "My devices" page where a signed-in user sees the devices they are a
 * registered owner of and reads a device's BitLocker recovery key.
 *
 *   GET  /              the sign-in form (signed in: 303 to /devices)
 *   POST /signin        username, password -> session cookie, 303 /devices;
 *                       a wrong pair shows the form again with
 *                       "Your account or password is incorrect."
 *   GET  /devices       "My devices": name, UPN, sign-out button, each owned
 *                       device with its recovery keys' ids and dates and a
 *                       "Show BitLocker key" form per key
 *   POST /devices/key   key_id, csrf -> the 48-digit key, only to an owner of
 *                       the key's device; one "Read BitLocker key" audit
 *                       record per read, as Graph writes; else 403
 *                       "This device is not yours."
 *   POST /signout       csrf -> the session ends, 303 /
 *
 * Server-side rendered HTML with an inline style sheet and no script; every
 * answer carries Cache-Control: no-store, a Content-Security-Policy that
 * allows nothing but inline style and same-origin forms, and
 * X-Frame-Options: DENY. Everything taken from the tenant is HTML-escaped.
 *
 * Sessions: 32 random bytes (base64url) in a __Host- cookie (HttpOnly,
 * Secure, SameSite=Strict, Path=/), one hour from sign-in, kept in a
 * mutex-protected table in struct cloud_portal and zeroed when they end.
 * Each session has its own CSRF token, required by every POST after sign-in;
 * POSTs whose Origin names another site are refused as well. The request
 * log sees only method, path and status (reqlog.h), so neither the password
 * nor the key nor the cookie reaches it.
 *
 * Locking: the state lock for the whole request (as Graph's handlers hold
 * it), the portal's own lock inside it for the session table; ctx->portal
 * is created under the state lock on first use. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "hal/mem.h"
#include "hal/random.h"
#include "hal/text.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/cloud_util.h"
#include "ssrp/error.h"

#define PORTAL_COOKIE "__Host-ssrp-portal"
#define PORTAL_ORIGIN "https://" CLOUD_HOST_PORTAL
#define PORTAL_TOKEN_LEN 43 /* 32 bytes in base64url, no padding */
#define PORTAL_SESSION_TTL 3600u
#define PORTAL_MAX_SESSIONS 1024
#define PORTAL_MAX_FORM (16u * 1024u)
#define PORTAL_BAD_SIGNIN "Your account or password is incorrect."
#define PORTAL_NOT_YOURS "This device is not yours."
#define PORTAL_CSP "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"

typedef struct portal_session {
	char id[PORTAL_TOKEN_LEN + 1];   /* the cookie value */
	char csrf[PORTAL_TOKEN_LEN + 1]; /* goes in every form of the session */
	char user_id[CLOUD_ID_LEN + 1];
	uint64_t expires; /* Unix seconds */
} portal_session;

struct cloud_portal {
	pthread_mutex_t lock;
	size_t n;
	portal_session sessions[PORTAL_MAX_SESSIONS];
};

/* ---- the session table ---------------------------------------------------- */

static struct cloud_portal *portal_new(void)
{
	struct cloud_portal *p = ssrp_calloc(1, sizeof *p);
	if (p && pthread_mutex_init(&p->lock, NULL) != 0) {
		ssrp_free(p);
		p = NULL;
	}
	return p;
}

void cloud_portal_free(struct cloud_portal *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	ssrp_free_secret(p, sizeof *p);
}

static void session_drop(struct cloud_portal *p, size_t i)
{
	p->n--;
	if (i != p->n)
		p->sessions[i] = p->sessions[p->n];
	ssrp_memzero(&p->sessions[p->n], sizeof p->sessions[p->n]);
}

/* Drop expired sessions; with the portal lock held. */
static void sessions_expire(struct cloud_portal *p, uint64_t now)
{
	for (size_t i = 0; i < p->n;) {
		if (p->sessions[i].expires <= now)
			session_drop(p, i);
		else
			i++;
	}
}

static void b64url_32(char out[PORTAL_TOKEN_LEN + 1], const uint8_t in[32])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < 32; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

static int random_token(char out[PORTAL_TOKEN_LEN + 1])
{
	uint8_t raw[32];
	int rc = ssrp_random_bytes(raw, sizeof raw);
	if (rc == SSRP_OK)
		b64url_32(out, raw);
	ssrp_memzero(raw, sizeof raw);
	return rc;
}

/* A new session for user_id, copied into *out; with the portal lock held.
 * When the table is full the session closest to expiry makes room. */
static int session_add(struct cloud_portal *p, const char *user_id, uint64_t now, portal_session *out)
{
	sessions_expire(p, now);
	if (p->n == PORTAL_MAX_SESSIONS) {
		size_t oldest = 0;
		for (size_t i = 1; i < p->n; i++)
			if (p->sessions[i].expires < p->sessions[oldest].expires)
				oldest = i;
		session_drop(p, oldest);
	}
	portal_session *s = &p->sessions[p->n];
	memset(s, 0, sizeof *s);
	if (random_token(s->id) != SSRP_OK || random_token(s->csrf) != SSRP_OK) {
		ssrp_memzero(s, sizeof *s);
		return -1;
	}
	snprintf(s->user_id, sizeof s->user_id, "%s", user_id);
	s->expires = now + PORTAL_SESSION_TTL;
	p->n++;
	*out = *s;
	return 0;
}

/* The live session whose id is token (compared in constant time), copied
 * into *out; with the portal lock held. */
static int session_find(struct cloud_portal *p, const char *token, size_t len, uint64_t now,
			portal_session *out)
{
	sessions_expire(p, now);
	if (len != PORTAL_TOKEN_LEN)
		return 0;
	int found = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (!found && CRYPTO_memcmp(p->sessions[i].id, token, PORTAL_TOKEN_LEN) == 0) {
			*out = p->sessions[i];
			found = 1;
		}
	}
	return found;
}

static void session_remove(struct cloud_portal *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++) {
		if (CRYPTO_memcmp(p->sessions[i].id, id, PORTAL_TOKEN_LEN) == 0) {
			session_drop(p, i);
			return;
		}
	}
}

/* ---- request parsing ------------------------------------------------------ */

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/* The signed-in session from the Cookie header, if any: each
 * "name=value" pair (RFC 6265 §5.4 "; " separated, white space tolerated)
 * named PORTAL_COOKIE whose value has the shape of a session id is looked
 * up; the first live one wins. Anything else in the header is ignored. */
static int request_session(struct cloud_portal *p, const cloud_request *rq, uint64_t now,
			   portal_session *out)
{
	const char *c = cloud_request_header(rq, "cookie");
	if (!c)
		return 0;
	static const char name[] = PORTAL_COOKIE;
	const size_t name_len = sizeof name - 1;
	int found = 0;
	pthread_mutex_lock(&p->lock);
	while (*c && !found) {
		while (*c == ' ' || *c == '\t' || *c == ';')
			c++;
		const char *start = c;
		while (*c && *c != ';')
			c++;
		const char *end = c;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		size_t n = (size_t)(end - start);
		if (n > name_len && !memcmp(start, name, name_len) && start[name_len] == '=') {
			const char *v = start + name_len + 1;
			size_t vlen = (size_t)(end - v);
			/* Quotes are allowed around a cookie value (RFC 6265 §4.1.1). */
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			size_t ok = 0;
			while (ok < vlen && is_b64url(v[ok]))
				ok++;
			if (ok == vlen)
				found = session_find(p, v, vlen, now, out);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return found;
}

/* 1 when the Content-Type is application/x-www-form-urlencoded (any
 * parameters, any case). */
static int is_form(const cloud_request *rq)
{
	static const char want[] = "application/x-www-form-urlencoded";
	const char *ct = cloud_request_header(rq, "content-type");
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	size_t n = strcspn(ct, "; \t");
	char media[sizeof want];
	if (n != sizeof want - 1)
		return 0;
	memcpy(media, ct, n);
	media[n] = '\0';
	return ssrp_ascii_ieq(media, want);
}

/* A POST from another site (a form posted to us from elsewhere) names that
 * site in Origin; browsers send it with every POST. No Origin (curl, old
 * clients) passes; the CSRF token still has to match. */
static int origin_ok(const cloud_request *rq)
{
	const char *o = cloud_request_header(rq, "origin");
	if (!o)
		return 1;
	size_t n = sizeof PORTAL_ORIGIN - 1;
	if (strncmp(o, PORTAL_ORIGIN, n) != 0)
		return 0;
	if (o[n] == '\0')
		return 1;
	if (o[n] != ':' || !o[n + 1])
		return 0;
	for (const char *d = o + n + 1; *d; d++)
		if (*d < '0' || *d > '9')
			return 0;
	return 1;
}

static int csrf_ok(const cloud_form *f, const portal_session *s)
{
	const char *t = cloud_form_get(f, "csrf");
	return t && strlen(t) == PORTAL_TOKEN_LEN && CRYPTO_memcmp(t, s->csrf, PORTAL_TOKEN_LEN) == 0;
}

/* ---- HTML ------------------------------------------------------------------- */

/* A growing page. Its memory is plain malloc (cloud_response_free frees the
 * body with free()); growing copies and zeroes the old block, so a page that
 * shows a recovery key leaves no copy of it behind. */
typedef struct page {
	char *p;
	size_t len, cap;
	int oom;
} page;

static void page_grow(page *pg, size_t more)
{
	if (pg->oom || pg->len + more + 1 <= pg->cap)
		return;
	size_t cap = pg->cap ? pg->cap : 4096;
	while (cap < pg->len + more + 1)
		cap *= 2;
	char *n = malloc(cap);
	if (!n) {
		pg->oom = 1;
		return;
	}
	if (pg->p) {
		memcpy(n, pg->p, pg->len);
		ssrp_memzero(pg->p, pg->cap);
		free(pg->p);
	}
	pg->p = n;
	pg->cap = cap;
}

static void page_add_n(page *pg, const char *s, size_t n)
{
	page_grow(pg, n);
	if (pg->oom)
		return;
	memcpy(pg->p + pg->len, s, n);
	pg->len += n;
	pg->p[pg->len] = '\0';
}

static void page_add(page *pg, const char *s)
{
	page_add_n(pg, s, strlen(s));
}

/* Text for an element's content or a double-quoted attribute value. */
static void page_esc(page *pg, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			page_add(pg, "&amp;");
			break;
		case '<':
			page_add(pg, "&lt;");
			break;
		case '>':
			page_add(pg, "&gt;");
			break;
		case '"':
			page_add(pg, "&quot;");
			break;
		case '\'':
			page_add(pg, "&#39;");
			break;
		default:
			page_add_n(pg, s, 1);
		}
	}
}

static void page_free(page *pg)
{
	if (pg->p) {
		ssrp_memzero(pg->p, pg->cap);
		free(pg->p);
	}
	memset(pg, 0, sizeof *pg);
}

static const char page_style[] =
	"body{margin:0;font-family:'Segoe UI',Helvetica,Arial,sans-serif;background:#f3f2f1;color:#201f1e}"
	"header{background:#0078d4;color:#fff;padding:12px 24px;display:flex;align-items:center;"
	"justify-content:space-between}"
	"header h1{font-size:18px;margin:0;font-weight:600}"
	"main{max-width:760px;margin:24px auto;padding:0 16px}"
	".card{background:#fff;border-radius:4px;box-shadow:0 1px 3px rgba(0,0,0,.2);padding:16px 20px;"
	"margin-bottom:16px}"
	".card h2{font-size:18px;margin:0 0 4px}"
	".muted{color:#605e5c;font-size:13px}"
	"table{border-collapse:collapse;width:100%;margin-top:8px;font-size:14px}"
	"th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #edebe9}"
	"button{background:#0078d4;color:#fff;border:0;border-radius:2px;padding:6px 14px;font-size:14px;"
	"cursor:pointer;white-space:nowrap}"
	"header button{background:#fff;color:#0078d4}"
	"label{display:block;margin:12px 0 4px}"
	"input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:6px;font-size:15px}"
	".error{color:#a4262c;margin:8px 0}"
	".key{font-family:Consolas,'Courier New',monospace;font-size:19px;letter-spacing:.5px;"
	"background:#f3f2f1;padding:12px;border-radius:4px;word-break:break-all}"
	"form.inline{display:inline;margin:0}";

static void page_begin(page *pg, const char *title, const cloud_user *u, const portal_session *s)
{
	page_add(pg, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		     "<title>");
	page_esc(pg, title);
	page_add(pg, " - Microsoft account (simulated)</title><style>");
	page_add(pg, page_style);
	page_add(pg, "</style></head><body><header><h1>My Account</h1>");
	if (u && s) {
		page_add(pg, "<div><span id=\"who\">");
		page_esc(pg, u->display_name ? u->display_name : u->upn);
		page_add(pg, "</span> &nbsp;<form class=\"inline\" method=\"post\" action=\"/signout\">"
			     "<input type=\"hidden\" name=\"csrf\" value=\"");
		page_esc(pg, s->csrf);
		page_add(pg, "\"><button type=\"submit\" id=\"signout\">Sign out</button></form></div>");
	}
	page_add(pg, "</header><main>");
}

static void page_end(page *pg)
{
	page_add(pg, "</main></body></html>\n");
}

static void set_common_headers(cloud_response *rs)
{
	cloud_response_header(rs, "Cache-Control", "no-store");
	cloud_response_header(rs, "Content-Security-Policy", PORTAL_CSP);
	cloud_response_header(rs, "X-Frame-Options", "DENY");
	cloud_response_header(rs, "X-Content-Type-Options", "nosniff");
	cloud_response_header(rs, "Referrer-Policy", "same-origin");
}

/* Hand the page to the response (or a plain 500 when it ran out of memory). */
static void send_page(cloud_response *rs, int status, page *pg)
{
	free(rs->body);
	rs->body = NULL;
	rs->body_len = 0;
	snprintf(rs->content_type, sizeof rs->content_type, "text/html; charset=utf-8");
	if (pg->oom || !pg->p) {
		page_free(pg);
		rs->status = 500;
		rs->body = strdup("The simulator ran out of memory.\n");
		rs->body_len = rs->body ? strlen(rs->body) : 0;
		snprintf(rs->content_type, sizeof rs->content_type, "text/plain; charset=utf-8");
		return;
	}
	rs->status = status;
	rs->body = pg->p;
	rs->body_len = pg->len;
	memset(pg, 0, sizeof *pg);
}

/* A page with a heading and one sentence: errors and refusals. */
static void send_message(cloud_response *rs, int status, const char *title, const char *text,
			 const cloud_user *u, const portal_session *s)
{
	page pg = {0};
	page_begin(&pg, title, u, s);
	page_add(&pg, "<div class=\"card\"><h2>");
	page_esc(&pg, title);
	page_add(&pg, "</h2><p id=\"message\">");
	page_esc(&pg, text);
	page_add(&pg, "</p><p><a href=\"");
	page_add(&pg, s ? "/devices\">Back to My devices" : "/\">Sign in");
	page_add(&pg, "</a></p></div>");
	page_end(&pg);
	send_page(rs, status, &pg);
}

static void send_redirect(cloud_response *rs, const char *where)
{
	free(rs->body);
	rs->body = NULL;
	rs->body_len = 0;
	rs->content_type[0] = '\0';
	rs->status = 303;
	cloud_response_header(rs, "Location", where);
}

static void send_signin(cloud_response *rs, int status, const char *username, const char *error)
{
	page pg = {0};
	page_begin(&pg, "Sign in", NULL, NULL);
	page_add(&pg, "<div class=\"card\"><h2>Sign in</h2>"
		      "<p class=\"muted\">Use your work or school account to see your devices and their "
		      "BitLocker recovery keys.</p>");
	if (error) {
		page_add(&pg, "<p class=\"error\" id=\"error\" role=\"alert\">");
		page_esc(&pg, error);
		page_add(&pg, "</p>");
	}
	page_add(&pg, "<form method=\"post\" action=\"/signin\">"
		      "<label for=\"username\">Email or username</label>"
		      "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" "
		      "required value=\"");
	page_esc(&pg, username ? username : "");
	page_add(&pg, "\"><label for=\"password\">Password</label>"
		      "<input type=\"password\" id=\"password\" name=\"password\" "
		      "autocomplete=\"current-password\" required>"
		      "<p><button type=\"submit\" id=\"signin\">Sign in</button></p></form></div>");
	page_end(&pg);
	send_page(rs, status, &pg);
}

static void date_text(char out[32], uint64_t t)
{
	int y, mo, d, h, mi, sec;
	cloud_time_split(t, &y, &mo, &d, &h, &mi, &sec);
	snprintf(out, 32, "%04d-%02d-%02d %02d:%02d UTC", y, mo, d, h, mi);
}

static const char *volume_text(int type)
{
	return type == 1 ? "Operating system drive" : type == 2 ? "Fixed data drive" : "Removable drive";
}

/* ---- the pages ---------------------------------------------------------------- */

typedef struct preq {
	cloud_ctx *ctx;
	const cloud_request *rq;
	cloud_response *rs;
	uint64_t now;
	int signed_in;
	portal_session s;
	const cloud_user *user; /* the signed-in user, while the state lock is held */
} preq;

/* The devices a user owns (malloc'd array, *n of them); NULL on OOM. */
static cloud_device **owned_devices(cloud_state *st, const char *user_id, size_t *n)
{
	size_t cap = 16;
	cloud_device **devs = NULL;
	for (;;) {
		cloud_device **p = ssrp_realloc(devs, cap * sizeof *devs);
		if (!p) {
			ssrp_free(devs);
			return NULL;
		}
		devs = p;
		*n = cloud_devices_owned_by(st, user_id, devs, cap);
		if (*n <= cap)
			return devs;
		cap = *n;
	}
}

static void show_devices(preq *r)
{
	cloud_state *st = r->ctx->state;
	size_t n = 0;
	cloud_device **devs = owned_devices(st, r->user->id, &n);
	cloud_recovery_key **keys = ssrp_malloc(CLOUD_MAX_KEYS_PER_DEVICE * sizeof *keys);
	page pg = {0};
	if (!devs || !keys) {
		pg.oom = 1;
		goto send;
	}
	page_begin(&pg, "My devices", r->user, &r->s);
	page_add(&pg, "<h2>My devices</h2><p class=\"muted\">Signed in as <span id=\"upn\">");
	page_esc(&pg, r->user->upn);
	page_add(&pg, "</span></p>");
	if (n == 0)
		page_add(&pg, "<div class=\"card\"><p id=\"no-devices\">You have no devices.</p></div>");
	for (size_t i = 0; i < n; i++) {
		const cloud_device *d = devs[i];
		page_add(&pg, "<section class=\"card device\" id=\"device-");
		page_esc(&pg, d->device_id);
		page_add(&pg, "\"><h2 class=\"device-name\">");
		page_esc(&pg, d->display_name ? d->display_name : "(unnamed device)");
		page_add(&pg, "</h2><p class=\"muted\">Device ID ");
		page_esc(&pg, d->device_id);
		if (d->operating_system && d->operating_system[0]) {
			page_add(&pg, " &middot; ");
			page_esc(&pg, d->operating_system);
		}
		page_add(&pg, "</p>");
		size_t nk = cloud_keys_list(st, d->device_id, keys, CLOUD_MAX_KEYS_PER_DEVICE);
		size_t shown = nk < CLOUD_MAX_KEYS_PER_DEVICE ? nk : CLOUD_MAX_KEYS_PER_DEVICE;
		if (shown == 0) {
			page_add(&pg, "<p class=\"no-keys\">No BitLocker recovery keys are stored for this "
				      "device.</p>");
		} else {
			page_add(&pg, "<table><thead><tr><th>BitLocker key ID</th><th>Drive</th><th>Created</th>"
				      "<th></th></tr></thead><tbody>");
		}
		for (size_t k = 0; k < shown; k++) {
			char when[32];
			date_text(when, keys[k]->created);
			page_add(&pg, "<tr class=\"key-row\"><td class=\"key-id\">");
			page_esc(&pg, keys[k]->id);
			page_add(&pg, "</td><td>");
			page_add(&pg, volume_text(keys[k]->volume_type));
			page_add(&pg, "</td><td class=\"key-created\">");
			page_esc(&pg, when);
			page_add(&pg, "</td><td><form class=\"inline\" method=\"post\" action=\"/devices/key\">"
				      "<input type=\"hidden\" name=\"csrf\" value=\"");
			page_esc(&pg, r->s.csrf);
			page_add(&pg, "\"><input type=\"hidden\" name=\"key_id\" value=\"");
			page_esc(&pg, keys[k]->id);
			page_add(&pg, "\"><button type=\"submit\" class=\"show-key\" id=\"show-");
			page_esc(&pg, keys[k]->id);
			page_add(&pg, "\">Show BitLocker key</button></form></td></tr>");
		}
		if (shown)
			page_add(&pg, "</tbody></table>");
		page_add(&pg, "</section>");
	}
	page_end(&pg);
send:
	ssrp_free(devs);
	ssrp_free(keys);
	send_page(r->rs, 200, &pg);
}

static void show_key(preq *r, const cloud_form *f)
{
	cloud_state *st = r->ctx->state;
	const char *kid = cloud_form_get(f, "key_id");
	char id[CLOUD_ID_LEN + 1];
	if (!kid || cloud_id_normalize(id, kid) != SSRP_OK) {
		send_message(r->rs, 400, "Bad request", "The form did not name a BitLocker key.", r->user,
			     &r->s);
		return;
	}
	const cloud_recovery_key *k = cloud_key_find(st, id);
	const cloud_device *d = k ? cloud_device_find_by_device_id(st, k->device_id) : NULL;
	/* An unknown key and another person's key look the same. */
	if (!d || !cloud_device_has_owner(d, r->user->id)) {
		send_message(r->rs, 403, "Access denied", PORTAL_NOT_YOURS, r->user, &r->s);
		return;
	}
	char when[32];
	date_text(when, k->created);
	page pg = {0};
	page_begin(&pg, "BitLocker recovery key", r->user, &r->s);
	page_add(&pg, "<div class=\"card\"><h2>BitLocker recovery key</h2><p class=\"muted\">Device <span "
		      "id=\"device-name\">");
	page_esc(&pg, d->display_name ? d->display_name : "(unnamed device)");
	page_add(&pg, "</span> &middot; key ID <span id=\"key-id\">");
	page_esc(&pg, k->id);
	page_add(&pg, "</span> &middot; ");
	page_add(&pg, volume_text(k->volume_type));
	page_add(&pg, " &middot; created ");
	page_esc(&pg, when);
	page_add(&pg, "</p><p>Type this recovery key on the BitLocker recovery screen of the device "
		      "whose key ID matches.</p><p class=\"key\" id=\"recovery-key\">");
	page_esc(&pg, k->key);
	page_add(&pg, "</p><p><a href=\"/devices\">Back to My devices</a></p></div>");
	page_end(&pg);
	if (!pg.oom) {
		char actor[160];
		snprintf(actor, sizeof actor, "user:%s", r->user->upn);
		cloud_audit_add(st, r->now, actor, "Read BitLocker key", k->id, k->device_id);
	}
	send_page(r->rs, 200, &pg);
}

static void set_session_cookie(cloud_response *rs, const char *value, int clear)
{
	char v[256];
	snprintf(v, sizeof v, "%s=%s; Path=/; Max-Age=%u; Secure; HttpOnly; SameSite=Strict", PORTAL_COOKIE,
		 clear ? "" : value, clear ? 0u : PORTAL_SESSION_TTL);
	cloud_response_header(rs, "Set-Cookie", v);
	ssrp_memzero(v, sizeof v);
}

static void do_signin(preq *r, const cloud_form *f)
{
	const char *username = cloud_form_get(f, "username");
	const char *password = cloud_form_get(f, "password");
	if (!username || !password) {
		send_signin(r->rs, 400, username, "Enter your username and password.");
		return;
	}
	cloud_state *st = r->ctx->state;
	const cloud_user *u = strchr(username, '@') ? cloud_user_find(st, username) : NULL;
	if (!u || !cloud_user_check_password(u, password)) {
		send_signin(r->rs, 200, username, PORTAL_BAD_SIGNIN);
		return;
	}
	struct cloud_portal *p = r->ctx->portal;
	portal_session s;
	pthread_mutex_lock(&p->lock);
	int rc = session_add(p, u->id, r->now, &s);
	pthread_mutex_unlock(&p->lock);
	if (rc) {
		send_message(r->rs, 500, "Something went wrong", "The simulator could not start a session.",
			     NULL, NULL);
		return;
	}
	/* A session that was open in this browser ends with the new one. */
	if (r->signed_in) {
		pthread_mutex_lock(&p->lock);
		session_remove(p, r->s.id);
		pthread_mutex_unlock(&p->lock);
	}
	set_session_cookie(r->rs, s.id, 0);
	snprintf(r->rs->identity, sizeof r->rs->identity, "user:%s", u->upn);
	ssrp_memzero(&s, sizeof s);
	send_redirect(r->rs, "/devices");
}

static void do_signout(preq *r)
{
	struct cloud_portal *p = r->ctx->portal;
	pthread_mutex_lock(&p->lock);
	session_remove(p, r->s.id);
	pthread_mutex_unlock(&p->lock);
	set_session_cookie(r->rs, NULL, 1);
	send_redirect(r->rs, "/");
}

static void bad_method(preq *r, const char *allow)
{
	cloud_response_header(r->rs, "Allow", allow);
	send_message(r->rs, 405, "Method not allowed", "This page does not answer that kind of request.",
		     r->signed_in ? r->user : NULL, r->signed_in ? &r->s : NULL);
}

/* A POST's form, after the checks every POST gets; 0 when f is ready to use
 * (free it with cloud_form_free), else the answer is already in rs. */
static int post_form(preq *r, cloud_form *f, int need_session)
{
	const cloud_user *u = r->signed_in ? r->user : NULL;
	const portal_session *s = r->signed_in ? &r->s : NULL;
	memset(f, 0, sizeof *f);
	if (!origin_ok(r->rq)) {
		send_message(r->rs, 403, "Access denied", "The form was sent from another site.", u, s);
		return -1;
	}
	if (!is_form(r->rq)) {
		send_message(r->rs, 415, "Unsupported form",
			     "The form must be sent as application/x-www-form-urlencoded.", u, s);
		return -1;
	}
	if (r->rq->body_len > PORTAL_MAX_FORM) {
		send_message(r->rs, 413, "Form too large", "The form is larger than this page accepts.", u, s);
		return -1;
	}
	if (cloud_form_parse(f, (const char *)r->rq->body, r->rq->body_len) != SSRP_OK) {
		send_message(r->rs, 400, "Bad request", "The form could not be read.", u, s);
		return -1;
	}
	if (need_session && !r->signed_in) {
		cloud_form_free(f);
		send_message(r->rs, 401, "Signed out", "Your session has ended. Sign in again.", NULL, NULL);
		return -1;
	}
	if (need_session && !csrf_ok(f, &r->s)) {
		cloud_form_free(f);
		send_message(r->rs, 403, "Access denied",
			     "The form has expired. Go back to My devices and try again.", u, s);
		return -1;
	}
	return 0;
}

static void route(preq *r)
{
	const char *m = r->rq->method ? r->rq->method : "";
	const char *path = r->rq->path ? r->rq->path : "";
	int get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
	int post = !strcmp(m, "POST");
	cloud_form f;
	if (!strcmp(path, "/")) {
		if (!get)
			bad_method(r, "GET, HEAD");
		else if (r->signed_in)
			send_redirect(r->rs, "/devices");
		else
			send_signin(r->rs, 200, NULL, NULL);
	} else if (!strcmp(path, "/signin")) {
		if (!post) {
			bad_method(r, "POST");
		} else if (post_form(r, &f, 0) == 0) {
			do_signin(r, &f);
			cloud_form_free(&f);
		}
	} else if (!strcmp(path, "/devices")) {
		if (!get)
			bad_method(r, "GET, HEAD");
		else if (!r->signed_in)
			send_redirect(r->rs, "/");
		else
			show_devices(r);
	} else if (!strcmp(path, "/devices/key")) {
		if (!post) {
			bad_method(r, "POST");
		} else if (post_form(r, &f, 1) == 0) {
			show_key(r, &f);
			cloud_form_free(&f);
		}
	} else if (!strcmp(path, "/signout")) {
		if (!post) {
			bad_method(r, "POST");
		} else if (post_form(r, &f, 1) == 0) {
			do_signout(r);
			cloud_form_free(&f);
		}
	} else {
		send_message(r->rs, 404, "Page not found", "There is no such page.",
			     r->signed_in ? r->user : NULL, r->signed_in ? &r->s : NULL);
	}
}

void cloud_portal_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	preq r;
	memset(&r, 0, sizeof r);
	r.ctx = ctx;
	r.rq = rq;
	r.rs = rs;
	r.now = ctx->now ? ctx->now() : (uint64_t)time(NULL);
	set_common_headers(rs);

	cloud_state_lock(ctx->state);
	if (!ctx->portal)
		ctx->portal = portal_new();
	if (!ctx->portal) {
		send_message(rs, 500, "Something went wrong", "The simulator ran out of memory.", NULL, NULL);
		goto out;
	}
	if (request_session(ctx->portal, rq, r.now, &r.s)) {
		r.user = cloud_user_find(ctx->state, r.s.user_id);
		/* A session whose user has left the tenant is no session. */
		r.signed_in = r.user != NULL;
		if (r.user)
			snprintf(rs->identity, sizeof rs->identity, "user:%s", r.user->upn);
	}
	route(&r);
out:
	cloud_state_unlock(ctx->state);
	ssrp_memzero(&r.s, sizeof r.s);
}
