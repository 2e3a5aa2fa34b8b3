/* The agent's journal (escrow/journal.c): a round trip through a file,
 * every refusal naming its member, a missing file as an empty journal, the
 * size cap, mode 0600, ids found in any case with or without braces, the
 * users hash. */
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

#include "escrow/journal.h"
#include "hal/crypto.h"
#include "ssrp/error.h"
#include "tests/unit/test_tmpdir.h"

#define ID_A "{6B3F1C2E-0A1B-4C2D-8E3F-00112233AABB}"
#define ID_B "{0F0E0D0C-1111-4222-8333-444444444444}"

static char dir[128];
static char path[300];

static int setup(void **st)
{
	(void)st;
	if (!test_tmpdir(dir, sizeof dir, "journal-test"))
		return -1;
	snprintf(path, sizeof path, "%s/agent.journal", dir);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_raw(const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void test_round_trip(void **st)
{
	(void)st;
	ssrp_journal j;
	memset(&j, 0, sizeof j);
	snprintf(j.device_id, sizeof j.device_id, "0c0c0c0c-1111-4222-8333-444444444444");
	assert_int_equal(ssrp_journal_mark_escrowed(&j, ID_A, 1764350000), 0);
	assert_int_equal(ssrp_journal_mark_escrowed(&j, "0f0e0d0c-1111-4222-8333-444444444444",
						    1764350100),
			 0);
	const char *users[] = {"CONTOSO\\Bob", "alice@contoso.example"};
	ssrp_journal_users_hash(j.assoc_users_sha256, users, 2);
	j.assoc_at = 1764350200;
	snprintf(j.assoc_mode, sizeof j.assoc_mode, "service");
	snprintf(j.rotation_used, sizeof j.rotation_used, "%s", ID_A);
	snprintf(j.rotation_new, sizeof j.rotation_new, "%s", ID_B);
	unlink(path);
	if (ssrp_journal_save(&j, path))
		fail_msg("%s", ssrp_error_last());
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
#ifndef _WIN32 /* no mode bits: the file's DACL is its directory's */
	assert_int_equal(sb.st_mode & 0777, 0600);
#endif

	ssrp_journal k;
	if (ssrp_journal_load(&k, path))
		fail_msg("%s", ssrp_error_last());
	assert_string_equal(k.device_id, j.device_id);
	assert_int_equal(k.n_escrowed, 2);
	assert_string_equal(k.escrowed[0].id, ID_A);
	assert_int_equal(k.escrowed[0].at, 1764350000);
	assert_string_equal(k.escrowed[1].id, ID_B); /* stored upper case with braces */
	assert_int_equal(k.escrowed[1].at, 1764350100);
	assert_string_equal(k.assoc_users_sha256, j.assoc_users_sha256);
	assert_int_equal(k.assoc_at, 1764350200);
	assert_string_equal(k.assoc_mode, "service");
	assert_string_equal(k.rotation_used, ID_A);
	assert_string_equal(k.rotation_new, ID_B);
	assert_memory_equal(&j, &k, sizeof j);

	/* A second save replaces the first, still 0600, and a journal with
	 * nothing in it round-trips too. */
	ssrp_journal_forget(&k, ID_A);
	ssrp_journal_forget(&k, ID_B);
	memset(k.rotation_used, 0, sizeof k.rotation_used);
	memset(k.rotation_new, 0, sizeof k.rotation_new);
	assert_int_equal(ssrp_journal_save(&k, path), 0);
	assert_int_equal(stat(path, &sb), 0);
#ifndef _WIN32 /* no mode bits: the file's DACL is its directory's */
	assert_int_equal(sb.st_mode & 0777, 0600);
#endif
	ssrp_journal e;
	assert_int_equal(ssrp_journal_load(&e, path), 0);
	assert_int_equal(e.n_escrowed, 0);
	assert_string_equal(e.rotation_used, "");
	assert_string_equal(e.assoc_mode, "service");
}

static void test_missing_file_is_empty(void **st)
{
	(void)st;
	unlink(path);
	ssrp_journal j;
	memset(&j, 0xa5, sizeof j);
	assert_int_equal(ssrp_journal_load(&j, path), 0);
	assert_int_equal(j.n_escrowed, 0);
	assert_string_equal(j.device_id, "");
	assert_string_equal(j.assoc_users_sha256, "");
	assert_int_equal(ssrp_journal_escrowed_at(&j, ID_A), 0);
	/* a journal in a directory not made yet: empty too; a path that is a
	 * directory: an error */
	char bad[200];
	snprintf(bad, sizeof bad, "%s/no-such-dir/agent.journal", dir);
	assert_int_equal(ssrp_journal_load(&j, bad), 0); /* ENOENT too */
	snprintf(bad, sizeof bad, "%s", dir);
	assert_int_not_equal(ssrp_journal_load(&j, bad), 0); /* a directory */
}

static void test_ids_any_spelling(void **st)
{
	(void)st;
	ssrp_journal j;
	memset(&j, 0, sizeof j);
	assert_int_equal(ssrp_journal_mark_escrowed(&j, "6b3f1c2e-0a1b-4c2d-8e3f-00112233aabb", 5),
			 0);
	assert_string_equal(j.escrowed[0].id, ID_A);
	assert_int_equal(ssrp_journal_escrowed_at(&j, ID_A), 5);
	assert_int_equal(ssrp_journal_escrowed_at(&j, "{6b3f1c2e-0a1b-4c2d-8e3f-00112233aabb}"), 5);
	assert_int_equal(ssrp_journal_escrowed_at(&j, "6B3F1C2E-0A1B-4C2D-8E3F-00112233AABB"), 5);
	assert_int_equal(ssrp_journal_escrowed_at(&j, ID_B), 0);
	assert_int_equal(ssrp_journal_escrowed_at(&j, "not a guid"), 0);
	/* marking again replaces, never a second record */
	assert_int_equal(ssrp_journal_mark_escrowed(&j, "{6b3f1c2e-0a1b-4c2d-8e3f-00112233AABB}", 9),
			 0);
	assert_int_equal(j.n_escrowed, 1);
	assert_int_equal(ssrp_journal_escrowed_at(&j, ID_A), 9);
	assert_int_equal(ssrp_journal_mark_escrowed(&j, "{6b3f1c2e-0a1b}", 9), SSRP_E_INVALID);
	assert_int_equal(ssrp_journal_mark_escrowed(&j, ID_B, -1), SSRP_E_INVALID);
	/* forget in another spelling */
	assert_int_equal(ssrp_journal_mark_escrowed(&j, ID_B, 10), 0);
	ssrp_journal_forget(&j, "6b3f1c2e-0a1b-4c2d-8e3f-00112233aabb");
	assert_int_equal(j.n_escrowed, 1);
	assert_string_equal(j.escrowed[0].id, ID_B);
	ssrp_journal_forget(&j, ID_A); /* not there: nothing happens */
	assert_int_equal(j.n_escrowed, 1);
	/* the parser normalises too */
	const char *text = "{\"version\":1,\"escrowed\":[{\"id\":\"6b3f1c2e-0a1b-4c2d-8e3f-"
			   "00112233aabb\",\"at\":7}]}";
	assert_int_equal(ssrp_journal_parse(&j, text, strlen(text)), 0);
	assert_string_equal(j.escrowed[0].id, ID_A);
	assert_int_equal(ssrp_journal_escrowed_at(&j, ID_A), 7);
}

static void test_full(void **st)
{
	(void)st;
	ssrp_journal j;
	memset(&j, 0, sizeof j);
	char id[40];
	for (int i = 0; i < SSRP_JOURNAL_MAX_ESCROWED; i++) {
		snprintf(id, sizeof id, "{00000000-0000-4000-8000-%012d}", i);
		assert_int_equal(ssrp_journal_mark_escrowed(&j, id, i + 1), 0);
	}
	snprintf(id, sizeof id, "{00000000-0000-4000-8000-%012d}", 999);
	assert_int_equal(ssrp_journal_mark_escrowed(&j, id, 1), SSRP_E_BUFSIZE);
	/* replacing one that is there still works when full */
	assert_int_equal(ssrp_journal_mark_escrowed(&j, "{00000000-0000-4000-8000-000000000003}", 77),
			 0);
	assert_int_equal(ssrp_journal_save(&j, path), 0);
	ssrp_journal k;
	assert_int_equal(ssrp_journal_load(&k, path), 0);
	assert_int_equal(k.n_escrowed, SSRP_JOURNAL_MAX_ESCROWED);
	assert_int_equal(ssrp_journal_escrowed_at(&k, "{00000000-0000-4000-8000-000000000003}"), 77);
}

/* Each damaged journal is refused with SSRP_E_FORMAT and a message naming
 * the member at fault. */
static void test_refusals(void **st)
{
	(void)st;
	static const struct {
		const char *text, *names;
	} cases[] = {
		{"", "not JSON"},
		{"[1]", "not a JSON object"},
		{"{\"version\":1} trailing", "not JSON"},
		{"{}", "\"version\""},
		{"{\"version\":\"1\"}", "\"version\""},
		{"{\"version\":0}", "\"version\""},
		{"{\"version\":1.5}", "\"version\""},
		{"{\"version\":1e300}", "\"version\""},
		{"{\"version\":2,\"what\":1}", "a newer ssrp wrote this journal"},
		{"{\"version\":1,\"colour\":\"red\"}", "\"colour\""},
		{"{\"version\":1,\"version\":1}", "\"version\" appears twice"},
		{"{\"version\":1,\"device_id\":7}", "\"device_id\""},
		{"{\"version\":1,\"device_id\":\"a\\nb\"}", "\"device_id\""},
		{"{\"version\":1,\"escrowed\":{}}", "\"escrowed\""},
		{"{\"version\":1,\"escrowed\":[7]}", "\"escrowed[0]\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\"}]}", "\"escrowed[0].at\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":-1}]}", "\"escrowed[0].at\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":1.5}]}",
		 "\"escrowed[0].at\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":\"1\"}]}",
		 "\"escrowed[0].at\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"{6B3F}\",\"at\":1}]}", "\"escrowed[0].id\""},
		{"{\"version\":1,\"escrowed\":[{\"at\":1}]}", "\"escrowed[0].id\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":1,\"x\":1}]}",
		 "\"escrowed[0].x\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":1},{\"id\":\"" ID_B
		 "\",\"at\":1},{\"id\":\"" ID_A "\",\"at\":2}]}",
		 "\"escrowed[2].id\""},
		{"{\"version\":1,\"association\":[]}", "\"association\""},
		{"{\"version\":1,\"association\":{\"users_sha256\":\"abc\",\"at\":1}}",
		 "\"association.users_sha256\""},
		{"{\"version\":1,\"association\":{\"users_sha256\":\"" 
		 "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\",\"at\":1}}",
		 "\"association.users_sha256\""},
		{"{\"version\":1,\"association\":{\"users_sha256\":\""
		 "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"}}",
		 "\"association.at\""},
		{"{\"version\":1,\"association\":{\"users_sha256\":\""
		 "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\",\"at\":1,"
		 "\"mode\":\"a-mode-name-much-too-long\"}}",
		 "\"association.mode\""},
		{"{\"version\":1,\"association\":{\"users\":1}}", "\"association.users\""},
		{"{\"version\":1,\"rotation\":\"x\"}", "\"rotation\""},
		{"{\"version\":1,\"rotation\":{\"used\":\"nope\"}}", "\"rotation.used\""},
		{"{\"version\":1,\"rotation\":{\"used\":\"" ID_A "\",\"new\":5}}", "\"rotation.new\""},
		{"{\"version\":1,\"rotation\":{\"old\":\"" ID_A "\"}}", "\"rotation.old\""},
		{"{\"version\":1,\"verified_at\":-5}", "\"verified_at\""},
		{"{\"version\":1,\"verified_at\":\"now\"}", "\"verified_at\""},
		{"{\"version\":1,\"verify_pending\":1}", "\"verify_pending\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":1,\"verified\":2}]}",
		 "\"escrowed[0]\" has one of \"verified\" and \"by\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":1,\"by\":\"drs\"}]}",
		 "\"escrowed[0]\" has one of \"verified\" and \"by\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A
		 "\",\"at\":1,\"verified\":2,\"by\":\"journal\"}]}",
		 "\"escrowed[0].by\""},
		{"{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A
		 "\",\"at\":1,\"verified\":-2,\"by\":\"drs\"}]}",
		 "\"escrowed[0].verified\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ssrp_journal j;
		int rc = ssrp_journal_parse(&j, cases[i].text, strlen(cases[i].text));
		if (rc != SSRP_E_FORMAT)
			fail_msg("case %zu (%s): %d, not SSRP_E_FORMAT", i, cases[i].text, rc);
		if (!strstr(ssrp_error_last(), cases[i].names))
			fail_msg("case %zu (%s): '%s' does not name %s", i, cases[i].text,
				 ssrp_error_last(), cases[i].names);
		assert_int_equal(j.n_escrowed, 0); /* nothing half-parsed is left */
	}
	/* through a file, the message names the file too */
	const char *text = "{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":\"x\"}]}";
	write_raw(text, strlen(text));
	ssrp_journal j;
	assert_int_equal(ssrp_journal_load(&j, path), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), path));
	assert_non_null(strstr(ssrp_error_last(), "\"escrowed[0].at\""));
	/* a NUL inside */
	assert_int_equal(ssrp_journal_parse(&j, "{\"version\":1}\0x", 15), SSRP_E_FORMAT);
	/* absent optional members and nulls are fine */
	text = "{\"version\":1,\"association\":null,\"rotation\":{\"used\":\"" ID_A "\"}}";
	assert_int_equal(ssrp_journal_parse(&j, text, strlen(text)), 0);
	assert_string_equal(j.rotation_used, ID_A);
	assert_string_equal(j.rotation_new, "");
}

/* Verification records: who vouched for each escrow and when, the last
 * complete verification, a verification owed; all through a file. */
static void test_verification(void **st)
{
	(void)st;
	ssrp_journal j;
	memset(&j, 0, sizeof j);
	assert_int_equal(ssrp_journal_mark_escrowed(&j, ID_A, 100), 0);
	assert_int_equal(ssrp_journal_mark_escrowed(&j, ID_B, 100), 0);
	assert_int_equal(ssrp_journal_mark_verified(&j, ID_A, 150, "upload"), 0);
	assert_int_equal(ssrp_journal_mark_verified(&j, "6b3f1c2e-0a1b-4c2d-8e3f-00112233aabb", 200,
						    "drs"),
			 0);
	assert_int_equal(ssrp_journal_mark_verified(&j, "{11111111-1111-4111-8111-111111111111}",
						    1, "drs"),
			 SSRP_E_NOTFOUND);
	assert_int_equal(ssrp_journal_mark_verified(&j, ID_B, 1, "hearsay"), SSRP_E_INVALID);
	j.verified_at = 200;
	j.verify_pending = 1;
	assert_int_equal(ssrp_journal_save(&j, path), 0);
	ssrp_journal k;
	assert_int_equal(ssrp_journal_load(&k, path), 0);
	assert_int_equal(k.verified_at, 200);
	assert_int_equal(k.verify_pending, 1);
	const ssrp_journal_escrow *a = ssrp_journal_record(&k, ID_A);
	const ssrp_journal_escrow *b = ssrp_journal_record(&k, ID_B);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->verified, 200);
	assert_string_equal(a->by, "drs");
	assert_int_equal(b->verified, 0); /* never vouched for: no member written */
	assert_string_equal(b->by, "");
	/* a journal of the version before verification loads as never verified */
	const char *old = "{\"version\":1,\"escrowed\":[{\"id\":\"" ID_A "\",\"at\":5}]}";
	assert_int_equal(ssrp_journal_parse(&k, old, strlen(old)), 0);
	assert_int_equal(k.verified_at, 0);
	assert_int_equal(k.verify_pending, 0);
	assert_string_equal(k.escrowed[0].by, "");
}

static void test_size_cap(void **st)
{
	(void)st;
	/* valid JSON padded with white space to one byte over the cap */
	size_t n = SSRP_JOURNAL_MAX_BYTES + 1;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"version\":1}", 13);
	ssrp_journal j;
	assert_int_equal(ssrp_journal_parse(&j, big, n), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "bytes"));
	write_raw(big, n);
	assert_int_equal(ssrp_journal_load(&j, path), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "bigger than"));
	/* exactly at the cap is fine */
	assert_int_equal(ssrp_journal_parse(&j, big, n - 1), 0);
	write_raw(big, n - 1);
	assert_int_equal(ssrp_journal_load(&j, path), 0);
	free(big);
}

static void test_save_refuses_nonsense(void **st)
{
	(void)st;
	ssrp_journal j;
	memset(&j, 0, sizeof j);
	j.n_escrowed = 1;
	snprintf(j.escrowed[0].id, sizeof j.escrowed[0].id, "not-an-id");
	assert_int_equal(ssrp_journal_save(&j, path), SSRP_E_INVALID);
	memset(&j, 0, sizeof j);
	snprintf(j.rotation_used, sizeof j.rotation_used, "x");
	assert_int_equal(ssrp_journal_save(&j, path), SSRP_E_INVALID);
	/* a directory that does not exist */
	memset(&j, 0, sizeof j);
	char bad[200];
	snprintf(bad, sizeof bad, "%s/no-such-dir/agent.journal", dir);
	assert_int_not_equal(ssrp_journal_save(&j, bad), 0);
}

static void test_users_hash(void **st)
{
	(void)st;
	char a[65], b[65], c[65], want[65];
	const char *u1[] = {"CONTOSO\\Alice", "bob@Contoso.example"};
	const char *u2[] = {"BOB@contoso.example", "contoso\\alice"};
	const char *u3[] = {"CONTOSO\\alice"};
	ssrp_journal_users_hash(a, u1, 2);
	ssrp_journal_users_hash(b, u2, 2);
	ssrp_journal_users_hash(c, u3, 1);
	assert_string_equal(a, b); /* order and case do not matter */
	assert_string_not_equal(a, c);
	/* the definition: SHA-256 of the lower-cased, sorted users joined by \n */
	const char *text = "bob@contoso.example\ncontoso\\alice";
	uint8_t md[SSRP_SHA256_LEN];
	assert_int_equal(ssrp_sha256(md, text, strlen(text)), 0);
	for (int i = 0; i < SSRP_SHA256_LEN; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(a, want);
	/* no users: the hash of nothing, not "" */
	ssrp_journal_users_hash(c, NULL, 0);
	assert_string_equal(c, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),	 cmocka_unit_test(test_missing_file_is_empty),
		cmocka_unit_test(test_ids_any_spelling), cmocka_unit_test(test_full),
		cmocka_unit_test(test_refusals),	 cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_save_refuses_nonsense), cmocka_unit_test(test_users_hash),
		cmocka_unit_test(test_verification),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
