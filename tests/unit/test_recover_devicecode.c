/* The device-code sign-in of the Graph client (escrow/graph_client.c)
 * against a scripted local HTTPS server (libmicrohttpd): pending then a
 * token, slow_down (the next poll comes 5 interval-seconds later),
 * expired_token, access_denied, a code that runs out while pending, an
 * answer the client must not print; the refresh token a sign-in returned is
 * saved 0600 and later tokens come from it, for the device code and the
 * password grant alike. Polling runs on a shortened clock (poll_unit_ms). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <microhttpd.h>

#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "hal/clock.h"
#include "ssrp/error.h"
#include "tests/integration/sim_helpers.h"
#include "tests/unit/fake_https.h"

#define UNIT_MS 40 /* one "second" of interval and expiry */

static fake_https server;
static char dir[] = "/tmp/ssrp-devicecode.XXXXXX";
static char config_path[128], pw_path[128], rt_path[128];

/* The script: what the devicecode endpoint hands out and what each poll
 * of the token endpoint answers, in order; guarded by lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *dc_answer;
static const char *const *polls;
static int n_polls, refresh_grants, password_grants, devicecode_calls;
static uint64_t poll_at[8];
static char last_refresh[64], last_scope[256];

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
	return fake_https_reply(c, status, body, "fake-req-2", NULL);
}

/* The value of name=... in a form body, into out (not decoded). */
static void form_value(const char *body, const char *name, char *out, size_t cap)
{
	out[0] = '\0';
	size_t nl = strlen(name);
	for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (!strncmp(p, name, nl) && p[nl] == '=') {
			size_t n = strcspn(p + nl + 1, "&");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p + nl + 1, n);
			out[n] = '\0';
			return;
		}
	}
}

static enum MHD_Result token(struct MHD_Connection *c, const char *body)
{
	char grant[128], v[256];
	form_value(body, "grant_type", grant, sizeof grant);
	pthread_mutex_lock(&lock);
	if (!strcmp(grant, "password"))
		form_value(body, "scope", last_scope, sizeof last_scope);
	if (!strcmp(grant, "refresh_token")) {
		form_value(body, "refresh_token", last_refresh, sizeof last_refresh);
		int n = ++refresh_grants;
		pthread_mutex_unlock(&lock);
		snprintf(v, sizeof v,
			 "{\"access_token\":\"at-refreshed-%d\",\"expires_in\":3600,"
			 "\"refresh_token\":\"rt-rotated-%d\"}",
			 n, n);
		return reply(c, 200, v);
	}
	if (!strcmp(grant, "password")) {
		password_grants++;
		pthread_mutex_unlock(&lock);
		return reply(c, 200, "{\"access_token\":\"at-password\",\"expires_in\":3600,"
				     "\"refresh_token\":\"rt-from-password\"}");
	}
	form_value(body, "device_code", v, sizeof v);
	int k = n_polls++;
	if (k < 8)
		poll_at[k] = ssrp_monotonic_ms();
	const char *answer = polls && polls[k] ? polls[k] : NULL;
	pthread_mutex_unlock(&lock);
	if (!strstr(grant, "device_code") || strcmp(v, "dc-secret-1"))
		return reply(c, 400, "{\"error\":\"invalid_request\",\"error_description\":"
				     "\"AADSTS900144: bad form\"}");
	if (!answer)
		return reply(c, 400, "{\"error\":\"authorization_pending\"}");
	return reply(c, answer[0] == '{' && strstr(answer, "access_token") ? 200 : 400, answer);
}

static enum MHD_Result handler(void *ctx, struct MHD_Connection *c, const char *url,
			       const char *method, const char *body)
{
	(void)ctx;
	(void)method;
	if (!strcmp(url, "/t1/oauth2/v2.0/devicecode")) {
		pthread_mutex_lock(&lock);
		devicecode_calls++;
		form_value(body, "scope", last_scope, sizeof last_scope);
		const char *a = dc_answer;
		pthread_mutex_unlock(&lock);
		return reply(c, 200, a);
	}
	if (!strcmp(url, "/t1/oauth2/v2.0/token"))
		return token(c, body);
	if (!strcmp(url, "/v1.0/me")) {
		const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		/* the device-code token is "revoked": the client renews with its refresh token */
		if (auth && !strcmp(auth, "Bearer at-device"))
			return reply(c, 401, "{\"error\":{\"code\":\"InvalidAuthenticationToken\","
					     "\"message\":\"Access token has expired.\"}}");
		return reply(c, 200, "{\"userPrincipalName\":\"alice@contoso.example\"}");
	}
	return reply(c, 404, "{\"error\":{\"code\":\"NotFound\",\"message\":\"nothing here\"}}");
}

static int setup(void **st)
{
	(void)st;
	if (!mkdtemp(dir))
		return -1;
	if (fake_https_start(&server, dir, handler, NULL, 0))
		return -1;
	int port = server.port;
	snprintf(pw_path, sizeof pw_path, "%s/pw", dir);
	sim_write_text(pw_path, "alice-password\n", 0600);
	snprintf(rt_path, sizeof rt_path, "%s/rt", dir);
	char cfg[1024];
	snprintf(cfg, sizeof cfg,
		 "{\"tenant_id\":\"t1\",\"ca_file\":\"%s\",\"public_client_id\":\"p1\","
		 "\"connect_to\":[\"graph.microsoft.com:443:127.0.0.1:%d\","
		 "\"login.microsoftonline.com:443:127.0.0.1:%d\"]}",
		 server.ca_path, port, port);
	snprintf(config_path, sizeof config_path, "%s/c.json", dir);
	sim_write_text(config_path, cfg, 0600);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	fake_https_stop(&server);
	unlink(pw_path);
	unlink(rt_path);
	unlink(config_path);
	rmdir(dir);
	return 0;
}

typedef struct shown {
	int calls;
	char uri[256], code[64], message[512];
} shown;

static void prompt(const char *uri, const char *code, const char *message, void *ctx)
{
	shown *s = ctx;
	s->calls++;
	snprintf(s->uri, sizeof s->uri, "%s", uri);
	snprintf(s->code, sizeof s->code, "%s", code);
	snprintf(s->message, sizeof s->message, "%s", message);
}

#define DC_OK                                                                                  \
	"{\"device_code\":\"dc-secret-1\",\"user_code\":\"ABCD-EFGH\",\"verification_uri\":"   \
	"\"https://microsoft.com/devicelogin\",\"expires_in\":3000,\"interval\":1,"               \
	"\"message\":\"To sign in, use a web browser\\u001b[31m to open the page.\"}"

/* What the server saw, copied out under the lock: a failing assertion
 * must not leave the lock held. */
typedef struct seen {
	int polls, refresh_grants, devicecode_calls;
	uint64_t poll_at[8];
	char last_refresh[64], last_scope[256];
} seen;

static seen snapshot(void)
{
	seen v;
	pthread_mutex_lock(&lock);
	v.polls = n_polls;
	v.refresh_grants = refresh_grants;
	v.devicecode_calls = devicecode_calls;
	memcpy(v.poll_at, poll_at, sizeof v.poll_at);
	memcpy(v.last_refresh, last_refresh, sizeof v.last_refresh);
	memcpy(v.last_scope, last_scope, sizeof v.last_scope);
	pthread_mutex_unlock(&lock);
	return v;
}

static void script(const char *dc, const char *const *p)
{
	pthread_mutex_lock(&lock);
	dc_answer = dc;
	polls = p;
	n_polls = refresh_grants = password_grants = devicecode_calls = 0;
	memset(poll_at, 0, sizeof poll_at);
	pthread_mutex_unlock(&lock);
	unlink(rt_path);
}

static ssrp_graph *client(shown *s, const char *save)
{
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, config_path))
		fail_msg("%s", ssrp_error_last());
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_DEVICE_CODE, .prompt = prompt,
				.prompt_ctx = s, .poll_unit_ms = UNIT_MS, .save_refresh_file = save};
	ssrp_graph_options opt = {.jitter_seed = 3, .deadline_ms = 120000};
	ssrp_graph *g = NULL;
	if (ssrp_graph_new(&g, cfg, &auth, &opt))
		fail_msg("%s", ssrp_error_last());
	ssrp_cloud_config_free(cfg);
	return g;
}

static void test_pending_then_ok(void **st)
{
	(void)st;
	static const char *const p[] = {
		"{\"error\":\"authorization_pending\",\"error_description\":\"AADSTS70016: pending\"}",
		"{\"error\":\"authorization_pending\"}",
		"{\"access_token\":\"at-device\",\"expires_in\":3600,\"refresh_token\":\"rt-device\"}",
		NULL};
	script(DC_OK, p);
	shown s = {0};
	ssrp_graph *g = client(&s, rt_path);
	if (ssrp_graph_token(g))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.code, "ABCD-EFGH");
	assert_string_equal(s.uri, "https://microsoft.com/devicelogin");
	assert_null(strchr(s.message, '\x1b')); /* no terminal escapes reach the prompt */
	seen v = snapshot();
	assert_int_equal(v.polls, 3);
	assert_true(v.poll_at[1] - v.poll_at[0] >= UNIT_MS);
	/* the default scope asks for a refresh token */
	assert_non_null(strstr(v.last_scope, "offline_access"));
	/* the refresh token is saved, 0600 */
	struct stat sb;
	assert_int_equal(stat(rt_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	FILE *f = fopen(rt_path, "r");
	char buf[64] = "";
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "rt-device");
	/* Graph refuses the token: the client renews with the refresh token,
	 * with no second sign-in, and keeps the rotated one */
	cJSON *me = NULL;
	if (ssrp_graph_get(g, "/v1.0/me", &me))
		fail_msg("%s", ssrp_error_last());
	cJSON_Delete(me);
	assert_int_equal(s.calls, 1);
	v = snapshot();
	assert_int_equal(v.refresh_grants, 1);
	assert_int_equal(v.devicecode_calls, 1);
	assert_string_equal(v.last_refresh, "rt-device");
	f = fopen(rt_path, "r");
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "rt-rotated-1");
	ssrp_graph_free(g);
}

static void test_slow_down(void **st)
{
	(void)st;
	static const char *const p[] = {
		"{\"error\":\"slow_down\"}",
		"{\"access_token\":\"at-2\",\"expires_in\":3600}", NULL};
	script(DC_OK, p);
	shown s = {0};
	ssrp_graph *g = client(&s, NULL);
	if (ssrp_graph_token(g))
		fail_msg("%s", ssrp_error_last());
	seen v = snapshot();
	assert_int_equal(v.polls, 2);
	/* interval 1 + 5 after slow_down */
	assert_true(v.poll_at[1] - v.poll_at[0] >= 6 * UNIT_MS);
	ssrp_graph_free(g);
}

static void test_expired_and_denied(void **st)
{
	(void)st;
	static const char *const expired[] = {
		"{\"error\":\"authorization_pending\"}",
		"{\"error\":\"expired_token\",\"error_description\":\"AADSTS70019: Verification code "
		"expired.\"}",
		NULL};
	script(DC_OK, expired);
	shown s = {0};
	ssrp_graph *g = client(&s, NULL);
	assert_int_equal(ssrp_graph_token(g), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "the sign-in code ABCD-EFGH expired"));
	assert_non_null(strstr(ssrp_error_last(), "run the command again"));
	ssrp_graph_free(g);

	static const char *const denied[] = {
		"{\"error\":\"access_denied\",\"error_description\":\"AADSTS70000: The user "
		"declined.\"}",
		NULL};
	script(DC_OK, denied);
	g = client(&s, NULL);
	assert_int_equal(ssrp_graph_token(g), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "was declined at https://microsoft.com/devicelogin"));
	assert_non_null(strstr(ssrp_error_last(), "The user declined."));
	ssrp_graph_free(g);

	static const char *const other[] = {
		"{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS50126: bad\\r\\nTrace\"}",
		NULL};
	script(DC_OK, other);
	g = client(&s, NULL);
	assert_int_equal(ssrp_graph_token(g), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "invalid_grant: AADSTS50126: bad (request-id "
						  "fake-req-2)"));
	ssrp_graph_free(g);
}

static void test_runs_out_while_pending(void **st)
{
	(void)st;
	/* expires_in 4: polls at 1, 2, 3 at most (fewer when slow, as under
	 * valgrind), then the next would cross it */
	script("{\"device_code\":\"dc-secret-1\",\"user_code\":\"WXYZ\",\"verification_uri\":"
	       "\"https://microsoft.com/devicelogin\",\"expires_in\":4,\"interval\":1}",
	       NULL);
	shown s = {0};
	ssrp_graph *g = client(&s, NULL);
	assert_int_equal(ssrp_graph_token(g), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "nobody completed the sign-in with the code WXYZ"));
	seen v = snapshot();
	assert_true(v.polls <= 3);
	ssrp_graph_free(g);

	/* an answer whose code would put escapes on a terminal is refused */
	script("{\"device_code\":\"dc-secret-1\",\"user_code\":\"AB\\u001b[2J\","
	       "\"verification_uri\":\"https://microsoft.com/devicelogin\"}",
	       NULL);
	g = client(&s, NULL);
	s.calls = 0;
	assert_int_equal(ssrp_graph_token(g), SSRP_E_FORMAT);
	assert_int_equal(s.calls, 0);
	ssrp_graph_free(g);
}

static void test_password_saves_refresh_token(void **st)
{
	(void)st;
	script(DC_OK, NULL);
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, config_path), 0);
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_PASSWORD, .username = "svc@contoso.example",
				.password_file = pw_path, .save_refresh_file = rt_path};
	ssrp_graph *g = NULL;
	assert_int_equal(ssrp_graph_new(&g, cfg, &auth, NULL), 0);
	ssrp_cloud_config_free(cfg);
	if (ssrp_graph_token(g))
		fail_msg("%s", ssrp_error_last());
	FILE *f = fopen(rt_path, "r");
	char buf[64] = "";
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "rt-from-password");
	seen v = snapshot();
	assert_non_null(strstr(v.last_scope, "offline_access"));
	ssrp_graph_free(g);
}

static void test_parsers(void **st)
{
	(void)st;
	ssrp_graph_devicecode dc;
	assert_int_equal(ssrp_graph_devicecode_parse(DC_OK, strlen(DC_OK), &dc), 0);
	assert_string_equal(dc.device_code, "dc-secret-1");
	assert_int_equal(dc.interval, 1);
	assert_int_equal(dc.expires_in, 3000);
	ssrp_graph_devicecode_clear(&dc);
	const char *bad[] = {
		"", "[]", "{\"device_code\":\"x\"}",
		"{\"device_code\":\"x\",\"user_code\":\"A B\",\"verification_uri\":\"https://x\"}",
		"{\"device_code\":\"x\",\"user_code\":\"AB\",\"verification_uri\":\"http://x\"}",
		"{\"device_code\":\"\",\"user_code\":\"AB\",\"verification_uri\":\"https://x\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ssrp_graph_devicecode_parse(bad[i], strlen(bad[i]), &dc),
				 SSRP_E_FORMAT);
	const char *defaults = "{\"device_code\":\"x\",\"user_code\":\"AB\",\"verification_uri\":"
			       "\"https://x/y\",\"interval\":-3,\"expires_in\":\"nan\"}";
	assert_int_equal(ssrp_graph_devicecode_parse(defaults, strlen(defaults), &dc), 0);
	assert_int_equal(dc.interval, 1);
	assert_int_equal(dc.expires_in, 1);
	ssrp_graph_devicecode_clear(&dc);

	struct {
		long st;
		const char *body;
		ssrp_graph_poll want;
	} cases[] = {
		{400, "{\"error\":\"authorization_pending\"}", SSRP_GRAPH_POLL_PENDING},
		{400, "{\"error\":\"slow_down\"}", SSRP_GRAPH_POLL_SLOW_DOWN},
		{400, "{\"error\":\"expired_token\"}", SSRP_GRAPH_POLL_EXPIRED},
		{400, "{\"error\":\"code_expired\"}", SSRP_GRAPH_POLL_EXPIRED},
		{400, "{\"error\":\"access_denied\"}", SSRP_GRAPH_POLL_DENIED},
		{400, "{\"error\":\"authorization_declined\"}", SSRP_GRAPH_POLL_DENIED},
		{400, "{\"error\":\"invalid_grant\"}", SSRP_GRAPH_POLL_ERROR},
		{200, "{\"access_token\":\"a\"}", SSRP_GRAPH_POLL_DONE},
		{200, "{\"access_token\":\"\"}", SSRP_GRAPH_POLL_ERROR},
		{500, "{\"error\":\"authorization_pending\"}", SSRP_GRAPH_POLL_ERROR},
		{400, "{\"error\":7}", SSRP_GRAPH_POLL_ERROR},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *o = cJSON_Parse(cases[i].body);
		assert_int_equal(ssrp_graph_devicecode_poll_classify(cases[i].st, o), cases[i].want);
		cJSON_Delete(o);
	}
	assert_int_equal(ssrp_graph_devicecode_poll_classify(400, NULL), SSRP_GRAPH_POLL_ERROR);

	/* a device-code client needs somewhere to show the code */
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, config_path), 0);
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_DEVICE_CODE};
	ssrp_graph *g = NULL;
	assert_int_equal(ssrp_graph_new(&g, cfg, &auth, NULL), SSRP_E_INVALID);
	assert_null(g);
	ssrp_cloud_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_pending_then_ok),
		cmocka_unit_test(test_slow_down),
		cmocka_unit_test(test_expired_and_denied),
		cmocka_unit_test(test_runs_out_while_pending),
		cmocka_unit_test(test_password_saves_refresh_token),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
