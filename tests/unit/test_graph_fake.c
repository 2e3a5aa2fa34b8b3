/* The Graph client against a scripted local HTTPS server (libmicrohttpd),
 * for what the simulated cloud does not do: an inner 429 inside a $batch
 * (only that request is sent again, and not before its Retry-After), a 401
 * that makes the client fetch a new token once, a 2xx whose body is not
 * JSON, and the response size cap. The server's certificate is
 * self-signed for graph.microsoft.com and login.microsoftonline.com and
 * the client reaches it through connect-to, as with the simulator. */
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
#include "hal/http.h"
#include "ssrp/error.h"
#include "tests/integration/sim_helpers.h"
#include "tests/unit/fake_https.h"

static fake_https server;
static char dir[] = "/tmp/ssrp-graph-fake.XXXXXX";
static char config_path[128], secret_path[128];

/* what the server saw, guarded by lock */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int token_requests, batch_calls, throttled_sent, throttle_tokens;
static uint64_t batch_at[4];
static int batch_sizes[4];
static char last_auth[128];

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
			     const char *retry_after)
{
	return fake_https_reply(c, status, body, "fake-req-1", retry_after);
}

static enum MHD_Result batch(struct MHD_Connection *c, const char *body)
{
	cJSON *in = cJSON_Parse(body);
	cJSON *out = cJSON_CreateObject();
	cJSON *rs = cJSON_AddArrayToObject(out, "responses");
	const cJSON *it;
	pthread_mutex_lock(&lock);
	int k = batch_calls < 4 ? batch_calls : 3;
	batch_at[k] = ssrp_monotonic_ms();
	batch_sizes[k] = cJSON_GetArraySize(cJSON_GetObjectItem(in, "requests"));
	batch_calls++;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(in, "requests")) {
		const char *id = cJSON_GetObjectItem(it, "id")->valuestring;
		const char *url = cJSON_GetObjectItem(it, "url")->valuestring;
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "id", id);
		/* answered in reverse order: a batch answer's order is not the request's */
		cJSON_InsertItemInArray(rs, 0, r);
		if (!strcmp(url, "/throttled") && !throttled_sent) {
			throttled_sent = 1;
			cJSON_AddNumberToObject(r, "status", 429);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "headers"), "Retry-After",
						"0.3");
			cJSON *e = cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "body"), "error");
			cJSON_AddStringToObject(e, "code", "TooManyRequests");
		} else {
			cJSON_AddNumberToObject(r, "status", 200);
			cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "body"), "url", url);
		}
	}
	pthread_mutex_unlock(&lock);
	char *text = cJSON_PrintUnformatted(out);
	cJSON_Delete(in);
	cJSON_Delete(out);
	enum MHD_Result ok = reply(c, 200, text, NULL);
	free(text);
	return ok;
}

static enum MHD_Result handler(void *ctx, struct MHD_Connection *c, const char *url,
			       const char *method, const char *body)
{
	(void)ctx;
	(void)method;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	pthread_mutex_lock(&lock);
	snprintf(last_auth, sizeof last_auth, "%s", auth ? auth : "");
	pthread_mutex_unlock(&lock);
	if (strstr(url, "/oauth2/v2.0/token")) {
		pthread_mutex_lock(&lock);
		int n = ++token_requests, throttle = throttle_tokens;
		pthread_mutex_unlock(&lock);
		if (throttle)
			return reply(c, 429,
				     "{\"error\":\"temporarily_unavailable\","
				     "\"error_description\":\"AADSTS50196: slow down\"}",
				     "30");
		char tok[128];
		snprintf(tok, sizeof tok, "{\"access_token\":\"fake-token-%d\",\"expires_in\":3600}",
			 n);
		return reply(c, 200, tok, NULL);
	}
	if (!strcmp(url, "/v1.0/$batch"))
		return batch(c, body);
	if (!strcmp(url, "/v1.0/stale")) {
		/* the first token is "revoked" */
		if (auth && !strcmp(auth, "Bearer fake-token-1"))
			return reply(c, 401,
				     "{\"error\":{\"code\":\"InvalidAuthenticationToken\","
				     "\"message\":\"Access token has expired.\"}}",
				     NULL);
		return reply(c, 200, "{\"ok\":true}", NULL);
	}
	if (!strcmp(url, "/v1.0/notjson"))
		return reply(c, 200, "<html>hello</html>", NULL);
	if (!strcmp(url, "/v1.0/big")) {
		static char big[300000];
		memset(big, 'a', sizeof big - 1);
		return reply(c, 200, big, NULL);
	}
	return reply(c, 404, "{\"error\":{\"code\":\"NotFound\",\"message\":\"nothing here\"}}",
		     NULL);
}

static int setup(void **st)
{
	(void)st;
	if (!mkdtemp(dir))
		return -1;
	if (fake_https_start(&server, dir, handler, NULL, 0))
		return -1;
	int port = server.port;
	snprintf(secret_path, sizeof secret_path, "%s/secret", dir);
	sim_write_text(secret_path, "fake-secret", 0600);
	char cfg[1024];
	snprintf(cfg, sizeof cfg,
		 "{\"tenant_id\":\"t1\",\"ca_file\":\"%s\",\"app_id\":\"a1\","
		 "\"app_secret_file\":\"%s\",\"connect_to\":["
		 "\"graph.microsoft.com:443:127.0.0.1:%d\","
		 "\"login.microsoftonline.com:443:127.0.0.1:%d\"]}",
		 server.ca_path, secret_path, port, port);
	snprintf(config_path, sizeof config_path, "%s/c.json", dir);
	sim_write_text(config_path, cfg, 0600);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	fake_https_stop(&server);
	unlink(secret_path);
	unlink(config_path);
	rmdir(dir);
	return 0;
}

static ssrp_graph *client(void)
{
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, config_path))
		fail_msg("%s", ssrp_error_last());
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_APP_SECRET};
	/* generous: under valgrind both ends of the TLS exchange run slowly */
	ssrp_graph_options opt = {.jitter_seed = 3, .deadline_ms = 120000};
	ssrp_graph *g = NULL;
	if (ssrp_graph_new(&g, cfg, &auth, &opt))
		fail_msg("%s", ssrp_error_last());
	ssrp_cloud_config_free(cfg);
	return g;
}

/* A Retry-After the token endpoint gave that outlived the call holds for
 * the next call and for every client sharing the credential: nothing is
 * sent before it (a throttled service counts that as an early retry). */
static void test_token_retry_after_outlives_the_call(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, config_path))
		fail_msg("%s", ssrp_error_last());
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_APP_SECRET};
	/* 10 s: room for memcheck's TLS handshakes, short of Retry-After's 30 */
	ssrp_graph_options opt = {.jitter_seed = 3, .deadline_ms = 10000};
	ssrp_graph_token_share *share = NULL;
	ssrp_graph *a = NULL, *b = NULL;
	assert_int_equal(ssrp_graph_token_share_new(&share), SSRP_OK);
	assert_int_equal(ssrp_graph_new(&a, cfg, &auth, &opt), SSRP_OK);
	assert_int_equal(ssrp_graph_new(&b, cfg, &auth, &opt), SSRP_OK);
	ssrp_cloud_config_free(cfg);
	ssrp_graph_use_token_share(a, share);
	ssrp_graph_use_token_share(b, share);
	pthread_mutex_lock(&lock);
	throttle_tokens = 1;
	int before = token_requests;
	pthread_mutex_unlock(&lock);
	/* 30 s does not fit in the deadline: one request, then give up */
	assert_int_not_equal(ssrp_graph_token(a), SSRP_OK);
	assert_int_not_equal(ssrp_graph_token(a), SSRP_OK);
	assert_non_null(strstr(ssrp_error_last(), "before the next request"));
	assert_int_not_equal(ssrp_graph_token(b), SSRP_OK);
	pthread_mutex_lock(&lock);
	assert_int_equal(token_requests - before, 1);
	throttle_tokens = 0;
	pthread_mutex_unlock(&lock);
	ssrp_graph_free(a);
	ssrp_graph_free(b);
	ssrp_graph_token_share_free(share);
}

static void test_batch_inner_429(void **st)
{
	(void)st;
	ssrp_graph *g = client();
	ssrp_graph_batch_req reqs[3] = {{"GET", "/a", NULL}, {"GET", "/throttled", NULL},
					{"GET", "/c", NULL}};
	ssrp_graph_batch_result res[3];
	if (ssrp_graph_batch(g, reqs, 3, res))
		fail_msg("%s", ssrp_error_last());
	for (int i = 0; i < 3; i++) {
		assert_int_equal(res[i].status, 200);
		assert_string_equal(cJSON_GetObjectItem(res[i].body, "url")->valuestring,
				    reqs[i].url);
	}
	ssrp_graph_batch_results_free(res, 3);
	pthread_mutex_lock(&lock);
	assert_int_equal(batch_calls, 2);
	assert_int_equal(batch_sizes[0], 3);
	assert_int_equal(batch_sizes[1], 1); /* only the throttled one again */
	assert_true(batch_at[1] - batch_at[0] >= 300);
	pthread_mutex_unlock(&lock);
	ssrp_graph_free(g);
}

static void test_401_refreshes_token_once(void **st)
{
	(void)st;
	pthread_mutex_lock(&lock);
	token_requests = 0;
	pthread_mutex_unlock(&lock);
	ssrp_graph *g = client();
	cJSON *o = NULL;
	if (ssrp_graph_get(g, "/v1.0/stale", &o))
		fail_msg("%s", ssrp_error_last());
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	cJSON_Delete(o);
	ssrp_graph_stats s;
	ssrp_graph_get_stats(g, &s);
	assert_int_equal(s.token_requests, 2);
	ssrp_graph_free(g);
}

static void test_bad_bodies(void **st)
{
	(void)st;
	ssrp_graph *g = client();
	cJSON *o = NULL;
	assert_int_equal(ssrp_graph_get(g, "/v1.0/notjson", &o), SSRP_E_FORMAT);
	assert_null(o);
	assert_non_null(strstr(ssrp_error_last(), "not JSON"));
	assert_non_null(strstr(ssrp_error_last(), "fake-req-1"));
	assert_int_equal(ssrp_graph_get(g, "/v1.0/nothing", &o), SSRP_E_NOTFOUND);
	assert_string_equal(ssrp_error_last(),
			    "Graph refused GET /v1.0/nothing: NotFound: nothing here "
			    "(request-id fake-req-1)");
	assert_string_equal(ssrp_graph_last_error(g)->code, "NotFound");
	ssrp_graph_free(g);

	/* the size cap, straight on the HTTP layer */
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, config_path), 0);
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to,
				.max_body = 100000};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	ssrp_http_req rq = {.method = "GET", .url = "https://graph.microsoft.com/v1.0/big"};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), SSRP_E_BUFSIZE);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	ssrp_cloud_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_retry_after_outlives_the_call),
		cmocka_unit_test(test_batch_inner_429),
		cmocka_unit_test(test_401_refreshes_token_once),
		cmocka_unit_test(test_bad_bodies),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
