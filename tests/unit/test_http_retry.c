/* ssrp_http_request_retrying (escrow/http_retry.c) against a scripted local
 * HTTPS server (libmicrohttpd): a 429 with Retry-After 1 is sent again no
 * sooner than a second later; a 503 without one after the backoff; a 400
 * is final; a Retry-After that does not fit the deadline stops at once; the
 * deadline bounds backoff and a slow exchange alike; a dropped connection
 * and a refused one are retried; a Retry-After above the cap is waited the
 * cap; the caller's cancel ends a wait. */
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

#include <cmocka.h>
#include <microhttpd.h>

#include "escrow/http_retry.h"
#include "hal/clock.h"
#include "hal/http.h"
#include "ssrp/error.h"
#include "tests/unit/fake_https.h"

static fake_https server;
static char dir[] = "/tmp/ssrp-http-retry.XXXXXX";

/* what the server saw, per script, guarded by lock */
#define MAX_SEEN 16
typedef struct seen {
	const char *path;
	int n;
	uint64_t at[MAX_SEEN];
} seen;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static seen scripts[] = {{"/ra429"}, {"/busy503"}, {"/bad400"}, {"/always503"},
			 {"/late503"}, {"/slow"},    {"/reset"},  {"/ok"}};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
			     const char *retry_after)
{
	return fake_https_reply(c, status, body, "fake-req-7", retry_after);
}

static enum MHD_Result handler(void *ctx, struct MHD_Connection *c, const char *url,
			       const char *method, const char *body)
{
	(void)ctx;
	(void)method;
	(void)body;
	int n = 0;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++) {
		if (!strcmp(url, scripts[i].path)) {
			if (scripts[i].n < MAX_SEEN)
				scripts[i].at[scripts[i].n] = ssrp_monotonic_ms();
			n = ++scripts[i].n;
		}
	}
	pthread_mutex_unlock(&lock);
	if (!strcmp(url, "/ra429"))
		return n == 1 ? reply(c, 429, "{\"error\":\"slow down\"}", "1")
			      : reply(c, 200, "{\"ok\":true}", NULL);
	if (!strcmp(url, "/busy503"))
		return n <= 2 ? reply(c, 503, "{\"error\":\"busy\"}", NULL)
			      : reply(c, 200, "{\"ok\":true}", NULL);
	if (!strcmp(url, "/bad400"))
		return reply(c, 400, "{\"error\":\"bad\"}", NULL);
	if (!strcmp(url, "/always503"))
		return reply(c, 503, "{\"error\":\"busy\"}", NULL);
	if (!strcmp(url, "/late503"))
		return reply(c, 503, "{\"error\":\"busy\"}", "30");
	if (!strcmp(url, "/slow")) {
		ssrp_sleep_ms(2500);
		return reply(c, 200, "{\"ok\":true}", NULL);
	}
	if (!strcmp(url, "/reset"))
		return n == 1 ? MHD_NO : reply(c, 200, "{\"ok\":true}", NULL);
	return reply(c, 200, "{\"ok\":true}", NULL);
}

static int setup(void **st)
{
	(void)st;
	if (!mkdtemp(dir))
		return -1;
	if (fake_https_start(&server, dir, handler, NULL, FAKE_HTTPS_THREAD_PER_CONNECTION))
		return -1;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	fake_https_stop(&server);
	rmdir(dir);
	return 0;
}

static seen *script(const char *path)
{
	for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++)
		if (!strcmp(scripts[i].path, path))
			return &scripts[i];
	fail_msg("no script %s", path);
	return NULL;
}

/* One retrying request to path; the HTTP status in *status. */
static int send_to(const char *path, const ssrp_retry_options *opt, long *status,
		   unsigned *attempts, uint64_t *elapsed)
{
	ssrp_http_options ho = {.ca_file = server.ca_path};
	ssrp_http *h = NULL;
	if (ssrp_http_new(&h, &ho))
		fail_msg("%s", ssrp_error_last());
	char url[128];
	snprintf(url, sizeof url, "https://localhost:%d%s", server.port, path);
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = headers, .body = "{}",
			    .body_len = 2, .timeout_ms = 12345};
	ssrp_http_resp resp;
	uint64_t t0 = ssrp_monotonic_ms();
	int rc = ssrp_http_request_retrying(h, &rq, &resp, opt, attempts);
	if (elapsed)
		*elapsed = ssrp_monotonic_ms() - t0;
	assert_int_equal(rq.timeout_ms, 12345); /* the caller's request is left as it was */
	*status = resp.status;
	assert_non_null(resp.body);
	ssrp_http_resp_free(&resp);
	ssrp_http_free(h);
	return rc;
}

static void test_429_waits_for_retry_after(void **st)
{
	(void)st;
	ssrp_retry_options opt = {.jitter_seed = 1, .backoff_base_ms = 10};
	long status;
	unsigned attempts;
	assert_int_equal(send_to("/ra429", &opt, &status, &attempts, NULL), SSRP_OK);
	assert_int_equal(status, 200);
	assert_int_equal(attempts, 2);
	seen *s = script("/ra429");
	pthread_mutex_lock(&lock);
	assert_int_equal(s->n, 2);
	uint64_t gap = s->at[1] - s->at[0];
	pthread_mutex_unlock(&lock);
	/* never before the Retry-After, although the backoff would be 10 ms */
	if (gap < 1000)
		fail_msg("the second attempt came %llu ms after the first, before Retry-After 1",
			 (unsigned long long)gap);
}

static void test_503_backs_off(void **st)
{
	(void)st;
	ssrp_retry_options opt = {.jitter_seed = 7, .backoff_base_ms = 200};
	long status;
	unsigned attempts;
	assert_int_equal(send_to("/busy503", &opt, &status, &attempts, NULL), SSRP_OK);
	assert_int_equal(status, 200);
	assert_int_equal(attempts, 3);
	seen *s = script("/busy503");
	pthread_mutex_lock(&lock);
	assert_int_equal(s->n, 3);
	uint64_t gap1 = s->at[1] - s->at[0], gap2 = s->at[2] - s->at[1];
	pthread_mutex_unlock(&lock);
	/* equal jitter: at least half of 200, then half of 400 */
	if (gap1 < 100 || gap2 < 200)
		fail_msg("backoff gaps %llu and %llu ms are shorter than 100 and 200",
			 (unsigned long long)gap1, (unsigned long long)gap2);
}

static void test_400_is_final(void **st)
{
	(void)st;
	long status;
	unsigned attempts;
	assert_int_equal(send_to("/bad400", NULL, &status, &attempts, NULL), SSRP_OK);
	assert_int_equal(status, 400);
	assert_int_equal(attempts, 1);
	pthread_mutex_lock(&lock);
	assert_int_equal(script("/bad400")->n, 1);
	pthread_mutex_unlock(&lock);
}

static void test_max_attempts(void **st)
{
	(void)st;
	ssrp_retry_options opt = {.jitter_seed = 3, .backoff_base_ms = 20, .max_attempts = 3};
	long status;
	unsigned attempts;
	assert_int_equal(send_to("/always503", &opt, &status, &attempts, NULL), SSRP_OK);
	assert_int_equal(status, 503); /* the last answer, for the caller to judge */
	assert_int_equal(attempts, 3);
	pthread_mutex_lock(&lock);
	assert_int_equal(script("/always503")->n, 3);
	pthread_mutex_unlock(&lock);
}

static void test_deadline(void **st)
{
	(void)st;
	long status;
	unsigned attempts;
	uint64_t elapsed;
	/* Retry-After 30 does not fit in 3 s: stop at once, never early */
	ssrp_retry_options opt = {.jitter_seed = 3, .deadline_ms = 3000};
	assert_int_equal(send_to("/late503", &opt, &status, &attempts, &elapsed), SSRP_OK);
	assert_int_equal(status, 503);
	assert_int_equal(attempts, 1);
	if (elapsed > 2500)
		fail_msg("gave up after %llu ms instead of at once", (unsigned long long)elapsed);

	/* backoff under a deadline: attempts until the next wait would cross it */
	pthread_mutex_lock(&lock);
	int before = script("/always503")->n;
	pthread_mutex_unlock(&lock);
	ssrp_retry_options o2 = {.jitter_seed = 5, .deadline_ms = 1500, .backoff_base_ms = 300,
				 .max_attempts = 50};
	assert_int_equal(send_to("/always503", &o2, &status, &attempts, &elapsed), SSRP_OK);
	assert_int_equal(status, 503);
	assert_true(attempts >= 2 && attempts < 50);
	pthread_mutex_lock(&lock);
	assert_int_equal(script("/always503")->n - before, (int)attempts);
	pthread_mutex_unlock(&lock);
	if (elapsed > 1500 + 1000)
		fail_msg("ran %llu ms past a 1.5 s deadline", (unsigned long long)elapsed);

	/* one slow exchange: its timeout shrinks to what is left of the
	 * deadline, so the call ends near the deadline, not after 2.5 s */
	ssrp_retry_options o3 = {.jitter_seed = 5, .deadline_ms = 1000, .timeout_ms = 60000};
	int rc = send_to("/slow", &o3, &status, &attempts, &elapsed);
	assert_int_equal(rc, SSRP_E_IO);
	assert_int_equal(status, 0);
	if (elapsed >= 2400)
		fail_msg("a 1 s deadline ran %llu ms", (unsigned long long)elapsed);
}

static void test_transport_failures_retried(void **st)
{
	(void)st;
	long status;
	unsigned attempts;
	/* the server drops the first connection without an answer */
	ssrp_retry_options opt = {.jitter_seed = 9, .backoff_base_ms = 50};
	assert_int_equal(send_to("/reset", &opt, &status, &attempts, NULL), SSRP_OK);
	assert_int_equal(status, 200);
	assert_int_equal(attempts, 2);
	pthread_mutex_lock(&lock);
	assert_int_equal(script("/reset")->n, 2);
	pthread_mutex_unlock(&lock);

	/* nobody listens: every attempt fails to connect, all are made */
	ssrp_http_options ho = {.ca_file = server.ca_path};
	ssrp_http *h = NULL;
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	ssrp_http_req rq = {.method = "GET", .url = "https://localhost:1/nobody"};
	ssrp_http_resp resp;
	ssrp_retry_options o2 = {.jitter_seed = 9, .backoff_base_ms = 20, .max_attempts = 3};
	assert_int_equal(ssrp_http_request_retrying(h, &rq, &resp, &o2, &attempts), SSRP_E_IO);
	assert_int_equal(attempts, 3);
	assert_int_equal(resp.status, 0);
	assert_non_null(strstr(ssrp_error_last(), "localhost"));
	ssrp_http_resp_free(&resp);
	ssrp_http_free(h);
}

static void test_arguments(void **st)
{
	(void)st;
	ssrp_http_resp resp;
	unsigned attempts = 9;
	ssrp_http_req rq = {.method = "GET", .url = "https://localhost/"};
	assert_int_equal(ssrp_http_request_retrying(NULL, &rq, &resp, NULL, &attempts),
			 SSRP_E_INVALID);
	assert_int_equal(attempts, 0);
	ssrp_http_resp_free(&resp);
	assert_int_equal(ssrp_http_request_retrying(NULL, &rq, NULL, NULL, NULL), SSRP_E_INVALID);
	/* a plain success, attempts may be NULL */
	ssrp_http_options ho = {.ca_file = server.ca_path};
	ssrp_http *h = NULL;
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char url[128];
	snprintf(url, sizeof url, "https://localhost:%d/ok", server.port);
	rq.url = url;
	assert_int_equal(ssrp_http_request_retrying(h, &rq, &resp, NULL, NULL), SSRP_OK);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.request_id, "fake-req-7");
	ssrp_http_resp_free(&resp);
	ssrp_http_free(h);
}

/* Asked before each send: the second one says stop. */
static int stop_after_one(void *ctx)
{
	int *asked = ctx;
	return ++*asked > 1;
}

static void test_cap_and_cancel(void **st)
{
	(void)st;
	long status;
	unsigned attempts;
	uint64_t elapsed;
	/* Retry-After 30 above a 200 ms cap: waited 200 ms, then sent again */
	pthread_mutex_lock(&lock);
	int before = script("/late503")->n;
	pthread_mutex_unlock(&lock);
	ssrp_retry_options opt = {.jitter_seed = 3, .deadline_ms = 5000, .max_attempts = 2,
				  .retry_after_cap_ms = 200};
	assert_int_equal(send_to("/late503", &opt, &status, &attempts, &elapsed), SSRP_OK);
	assert_int_equal(attempts, 2);
	pthread_mutex_lock(&lock);
	seen *s = script("/late503");
	assert_int_equal(s->n - before, 2);
	uint64_t gap = s->at[s->n - 1] - s->at[s->n - 2];
	pthread_mutex_unlock(&lock);
	if (gap < 200 || elapsed > 3000)
		fail_msg("a capped Retry-After gave a gap of %llu ms, %llu in all",
			 (unsigned long long)gap, (unsigned long long)elapsed);

	/* the caller's cancel ends the wait for Retry-After 1 at once */
	int asked = 0;
	ssrp_retry_options o2 = {.jitter_seed = 3, .cancel = stop_after_one, .cancel_ctx = &asked};
	ssrp_http_options ho = {.ca_file = server.ca_path};
	ssrp_http *h = NULL;
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char url[128];
	snprintf(url, sizeof url, "https://localhost:%d/late503", server.port);
	ssrp_http_req rq = {.method = "GET", .url = url};
	ssrp_http_resp resp;
	uint64_t t0 = ssrp_monotonic_ms();
	assert_int_equal(ssrp_http_request_retrying(h, &rq, &resp, &o2, &attempts),
			 SSRP_E_CANCELLED);
	assert_int_equal(attempts, 1);
	assert_int_equal(resp.status, 0);
	if (ssrp_monotonic_ms() - t0 > 2000)
		fail_msg("the cancel took %llu ms", (unsigned long long)(ssrp_monotonic_ms() - t0));
	ssrp_http_resp_free(&resp);
	ssrp_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_429_waits_for_retry_after),
		cmocka_unit_test(test_503_backs_off),
		cmocka_unit_test(test_400_is_final),
		cmocka_unit_test(test_max_attempts),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_transport_failures_retried),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_cap_and_cancel),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
