/* The tbs backend's command core against a real TPM 2.0: a private swtpm on
 * loopback, opened as "tbs-socket:127.0.0.1:P" through ssrp_tpm_open. The
 * group teardown stops swtpm and removes its directory, whether the tests
 * passed or not. A second group checks the socket transport's framing
 * against a scripted server that answers badly on purpose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "ssrp/sim.h"
#include "ssrp/tpm.h"
#include "tests/integration/swtpm_fixture.h"

static ssrp_sim_swtpm swtpm;

static int start_swtpm(void **state)
{
	(void)state;
	swtpm_fixture_start(&swtpm);
	return 0;
}

static int stop_swtpm(void **state)
{
	(void)state;
	swtpm_fixture_stop(&swtpm);
	return 0;
}

static ssrp_tpm *open_tbs(void)
{
	ssrp_tpm *tpm = NULL;
	if (ssrp_tpm_open(&tpm, swtpm.tbs_spec) != SSRP_OK)
		fail_msg("opening %s: %s", swtpm.tbs_spec, ssrp_error_last());
	return tpm;
}

static void test_info(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tbs();
	assert_string_equal(ssrp_tpm_backend_name(tpm), "tbs-socket");
	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	if (ssrp_tpm_get_info(tpm, &info) != SSRP_OK)
		fail_msg("get_info: %s", ssrp_error_last());
	assert_int_equal(info.present, 1);
	assert_string_equal(info.family, "2.0");
	assert_true(strlen(info.manufacturer) > 0);
	assert_true(info.spec_revision >= 100);
	assert_true(info.max_auth_fail > 0);
	assert_int_equal(info.in_lockout, 0);
	int sha256 = 0;
	for (unsigned i = 0; i < info.n_banks; i++)
		if (info.banks[i].alg == SSRP_TPM_ALG_SHA256 && info.banks[i].pcr_mask == 0xFFFFFF)
			sha256 = 1;
	assert_true(sha256);
	ssrp_tpm_close(tpm);
}

/* The same TPM seen through tpm2-tss: two independent marshallers agree. */
static void test_info_matches_tss2(void **state)
{
	(void)state;
	ssrp_tpm_info a = SSRP_TPM_INFO_INIT, b = SSRP_TPM_INFO_INIT;
	ssrp_tpm *tpm = open_tbs();
	assert_int_equal(ssrp_tpm_get_info(tpm, &a), SSRP_OK);
	ssrp_tpm_close(tpm); /* swtpm serves one client at a time */
	if (ssrp_tpm_open(&tpm, swtpm.spec) != SSRP_OK)
		fail_msg("opening %s: %s", swtpm.spec, ssrp_error_last());
	assert_int_equal(ssrp_tpm_get_info(tpm, &b), SSRP_OK);
	ssrp_tpm_close(tpm);
	assert_string_equal(a.family, b.family);
	assert_int_equal(a.manufacturer_id, b.manufacturer_id);
	assert_string_equal(a.vendor, b.vendor);
	assert_int_equal(a.firmware_1, b.firmware_1);
	assert_int_equal(a.firmware_2, b.firmware_2);
	assert_int_equal(a.spec_revision, b.spec_revision);
	assert_int_equal(a.max_auth_fail, b.max_auth_fail);
	assert_int_equal(a.lockout_interval, b.lockout_interval);
	assert_int_equal(a.n_banks, b.n_banks);
	for (unsigned i = 0; i < a.n_banks; i++) {
		assert_int_equal(a.banks[i].alg, b.banks[i].alg);
		assert_int_equal(a.banks[i].pcr_mask, b.banks[i].pcr_mask);
	}
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_random(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tbs();
	uint8_t a[64], b[64];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	if (ssrp_tpm_get_random(tpm, a, sizeof a) != SSRP_OK)
		fail_msg("get_random: %s", ssrp_error_last());
	assert_int_equal(ssrp_tpm_get_random(tpm, b, sizeof b), SSRP_OK);
	assert_false(all_zero(a, sizeof a));
	assert_false(all_zero(a + 32, 32)); /* the second chunk was filled too */
	assert_memory_not_equal(a, b, sizeof a);
	ssrp_tpm_stats stats = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &stats), SSRP_OK);
	assert_int_equal(stats.commands, 4); /* 32 bytes per GetRandom */
	ssrp_tpm_close(tpm);
}

/* A fresh swtpm: PCRs 0-16 and 23 are zero, 17-22 all ones (the locality
 * PCRs before a dynamic launch). swtpm answers at most 8 per PCR_Read. */
static void test_pcr_read_all(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tbs();
	ssrp_pcr_values v;
	if (ssrp_tpm_pcr_read(tpm, &v, 0xFFFFFF) != SSRP_OK)
		fail_msg("pcr_read: %s", ssrp_error_last());
	assert_int_equal(v.alg, SSRP_TPM_ALG_SHA256);
	assert_int_equal(v.mask, 0xFFFFFF);
	uint8_t ones[32];
	memset(ones, 0xFF, sizeof ones);
	for (unsigned pcr = 0; pcr < 24; pcr++) {
		if (pcr >= 17 && pcr <= 22)
			assert_memory_equal(v.digest[pcr], ones, 32);
		else if (!all_zero(v.digest[pcr], 32))
			fail_msg("PCR %u of a fresh swtpm is not zero", pcr);
	}
	ssrp_tpm_stats stats = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &stats), SSRP_OK);
	assert_int_equal(stats.commands, 3);
	ssrp_tpm_close(tpm);
}

static ssrp_tpm *open_tss2(void)
{
	ssrp_tpm *tpm = NULL;
	if (ssrp_tpm_open(&tpm, swtpm.spec) != SSRP_OK)
		fail_msg("opening %s: %s", swtpm.spec, ssrp_error_last());
	return tpm;
}

static void seal_with(ssrp_tpm *(*open)(void), ssrp_buf *blob, const uint8_t *secret,
		      size_t len, uint32_t pcrs)
{
	ssrp_tpm *tpm = open(); /* swtpm serves one client at a time */
	if (ssrp_tpm_seal(tpm, blob, secret, len, pcrs) != SSRP_OK)
		fail_msg("sealing: %s", ssrp_error_last());
	ssrp_tpm_close(tpm);
}

static int unseal_with(ssrp_tpm *(*open)(void), const ssrp_buf *blob, ssrp_buf *out)
{
	ssrp_tpm *tpm = open();
	int rc = ssrp_tpm_unseal(tpm, out, blob->data, blob->len);
	ssrp_tpm_close(tpm);
	return rc;
}

/* Sealing through the tbs core runs ESAPI over the same socket: a blob it
 * makes unseals through tss2 and the other way round (one format, one
 * SRK), the secret comes back whole, and a changed PCR refuses it. PCR 16
 * (debug, resettable) is the one the test moves. */
static void test_seal_unseal_across_backends(void **state)
{
	(void)state;
	const uint8_t secret[32] = {0x5e, 0xc2, 0xe7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
				    14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 0xff};
	const uint32_t pcrs = (1u << 7) | (1u << 16);
	ssrp_buf by_tbs = SSRP_BUF_INIT, by_tss2 = SSRP_BUF_INIT, out = SSRP_BUF_INIT;

	seal_with(open_tbs, &by_tbs, secret, sizeof secret, pcrs);
	seal_with(open_tss2, &by_tss2, secret, sizeof secret, pcrs);

	assert_int_equal(unseal_with(open_tss2, &by_tbs, &out), SSRP_OK);
	assert_memory_equal(out.data, secret, sizeof secret);
	assert_int_equal(out.len, sizeof secret);
	ssrp_buf_free(&out);
	assert_int_equal(unseal_with(open_tbs, &by_tss2, &out), SSRP_OK);
	assert_memory_equal(out.data, secret, sizeof secret);
	ssrp_buf_free(&out);
	assert_int_equal(unseal_with(open_tbs, &by_tbs, &out), SSRP_OK);
	assert_memory_equal(out.data, secret, sizeof secret);
	ssrp_buf_free(&out);

	/* The tbs backend extends no PCR; tss2 moves PCR 16. */
	ssrp_tpm *tpm = open_tbs();
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, 16, secret, sizeof secret), SSRP_E_NOTSUPPORTED);
	ssrp_tpm_close(tpm);
	tpm = open_tss2();
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, 16, "moved", 5), SSRP_OK);
	ssrp_tpm_close(tpm);
	assert_int_equal(unseal_with(open_tbs, &by_tbs, &out), SSRP_E_TPM_PCR_MISMATCH);
	assert_null(out.data);
	assert_int_equal(unseal_with(open_tbs, &by_tss2, &out), SSRP_E_TPM_PCR_MISMATCH);

	/* A persistent SRK provisioned through tbs serves both. */
	tpm = open_tbs();
	int created = -1;
	assert_int_equal(ssrp_tpm_srk_provision(tpm, &created), SSRP_OK);
	assert_int_equal(created, 1);
	ssrp_buf_free(&by_tbs);
	assert_int_equal(ssrp_tpm_seal(tpm, &by_tbs, secret, 16, 1u << 7), SSRP_OK);
	ssrp_tpm_stats stats = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &stats), SSRP_OK);
	assert_true(stats.commands > 3); /* ESAPI's commands are counted too */
	ssrp_tpm_close(tpm);
	assert_int_equal(unseal_with(open_tss2, &by_tbs, &out), SSRP_OK);
	assert_memory_equal(out.data, secret, 16);
	ssrp_buf_free(&out);
	ssrp_buf_free(&by_tbs);
	ssrp_buf_free(&by_tss2);
}

/* A loopback port nobody listens on: bind one, note it, close it. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_connection_refused(void **state)
{
	(void)state;
	int port = closed_port();
	char spec[64], expected[96];
	snprintf(spec, sizeof spec, "tbs-socket:127.0.0.1:%d", port);
	snprintf(expected, sizeof expected, "no TPM answered at 127.0.0.1:%d: Connection refused",
		 port);
	ssrp_tpm *tpm = NULL;
	assert_int_equal(ssrp_tpm_open(&tpm, spec), SSRP_E_TPM_ABSENT);
	assert_null(tpm);
	assert_string_equal(ssrp_error_last(), expected);
}

/* ---- framing, against a scripted server -------------------------------- */

/* What the server sends on one connection before closing it. */
typedef struct answer {
	uint8_t bytes[64];
	size_t len;
	size_t first; /* sent first, the rest 50 ms later; 0: all at once */
} answer;

static void read_exact(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = read(fd, p, n);
		if (k <= 0)
			_exit(3);
		p += k;
		n -= (size_t)k;
	}
}

static void serve(int listener, const answer *answers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = accept(listener, NULL, NULL);
		if (c < 0)
			_exit(2);
		uint8_t cmd[64];
		read_exact(c, cmd, 10);
		size_t size = ((size_t)cmd[2] << 24) | ((size_t)cmd[3] << 16) |
			      ((size_t)cmd[4] << 8) | cmd[5];
		if (size < 10 || size > sizeof cmd)
			_exit(4);
		read_exact(c, cmd + 10, size - 10);
		const answer *a = &answers[i];
		size_t first = a->first ? a->first : a->len;
		if (write(c, a->bytes, first) != (ssize_t)first)
			_exit(5);
		if (first < a->len) {
			struct timespec pause = {0, 50 * 1000 * 1000};
			nanosleep(&pause, NULL);
			if (write(c, a->bytes + first, a->len - first) != (ssize_t)(a->len - first))
				_exit(5);
		}
		close(c);
	}
	_exit(0);
}

/* Fork a server for n connections; *spec gets its tbs spec. */
static pid_t start_server(char *spec, size_t spec_size, const answer *answers, size_t n)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(spec, spec_size, "tbs-socket:127.0.0.1:%d", ntohs(a.sin_port));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		serve(fd, answers, n);
	close(fd);
	return pid;
}

static void wait_server(pid_t pid)
{
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A GetRandom answer of 16 bytes 0..15 announcing size. */
static void random_answer(answer *a, uint32_t size, size_t len, size_t first)
{
	static const uint8_t head[] = {0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x10};
	memset(a, 0, sizeof *a);
	memcpy(a->bytes, head, sizeof head);
	a->bytes[2] = (uint8_t)(size >> 24);
	a->bytes[3] = (uint8_t)(size >> 16);
	a->bytes[4] = (uint8_t)(size >> 8);
	a->bytes[5] = (uint8_t)size;
	for (int i = 0; i < 16; i++)
		a->bytes[12 + i] = (uint8_t)i;
	a->len = len;
	a->first = first;
}

/* Each answer on its own connection, then one GetRandom of 16 bytes. */
static int random_through(const answer *a, uint8_t out[16])
{
	char spec[64];
	pid_t pid = start_server(spec, sizeof spec, a, 1);
	ssrp_tpm *tpm = NULL;
	assert_int_equal(ssrp_tpm_open(&tpm, spec), SSRP_OK);
	int rc = ssrp_tpm_get_random(tpm, out, 16);
	ssrp_tpm_close(tpm);
	wait_server(pid);
	return rc;
}

static void assert_fails(int rc, int code, const char *needle)
{
	if (rc != code || !strstr(ssrp_error_last(), needle))
		fail_msg("got %d \"%s\"; expected %d with \"%s\"", rc, ssrp_error_last(), code,
			 needle);
}

static void test_response_in_pieces(void **state)
{
	(void)state;
	answer a;
	uint8_t out[16];
	random_answer(&a, 28, 28, 3); /* the header arrives in two reads */
	assert_int_equal(random_through(&a, out), SSRP_OK);
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], i);
	random_answer(&a, 28, 28, 17); /* the body arrives in two reads */
	assert_int_equal(random_through(&a, out), SSRP_OK);
	assert_int_equal(out[15], 15);
}

static void test_bad_framing(void **state)
{
	(void)state;
	answer a;
	uint8_t out[16];
	random_answer(&a, 28, 6, 0);
	assert_fails(random_through(&a, out), SSRP_E_IO,
		     "closed the connection after 6 of 10 response bytes");
	random_answer(&a, 28, 20, 0);
	assert_fails(random_through(&a, out), SSRP_E_IO,
		     "closed the connection after 20 of 28 response bytes");
	random_answer(&a, 5000, 28, 0);
	assert_fails(random_through(&a, out), SSRP_E_TPM,
		     "announced a 5000-byte response; at most 4096 fit");
	random_answer(&a, 4, 28, 0);
	assert_fails(random_through(&a, out), SSRP_E_TPM,
		     "announced a 4-byte response, shorter than the 10-byte header");
}

/* After a broken exchange the next command goes over a new connection. */
static void test_reconnects_after_failure(void **state)
{
	(void)state;
	answer a[2];
	random_answer(&a[0], 28, 4, 0);
	random_answer(&a[1], 28, 28, 0);
	char spec[64];
	pid_t pid = start_server(spec, sizeof spec, a, 2);
	ssrp_tpm *tpm = NULL;
	assert_int_equal(ssrp_tpm_open(&tpm, spec), SSRP_OK);
	uint8_t out[16];
	assert_fails(ssrp_tpm_get_random(tpm, out, 16), SSRP_E_IO, "closed the connection");
	assert_int_equal(ssrp_tpm_get_random(tpm, out, 16), SSRP_OK);
	assert_int_equal(out[9], 9);
	ssrp_tpm_close(tpm);
	wait_server(pid);
}

int main(void)
{
	if (ssrp_sim_register_backends())
		return 1;
	const struct CMUnitTest swtpm_tests[] = {
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_info_matches_tss2),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_pcr_read_all),
		cmocka_unit_test(test_seal_unseal_across_backends),
		cmocka_unit_test(test_connection_refused),
	};
	const struct CMUnitTest framing_tests[] = {
		cmocka_unit_test(test_response_in_pieces),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_reconnects_after_failure),
	};
	int failed = cmocka_run_group_tests_name("tbs on swtpm", swtpm_tests, start_swtpm,
						 stop_swtpm);
	failed += cmocka_run_group_tests_name("tbs socket framing", framing_tests, NULL, NULL);
	return failed ? 1 : 0;
}
