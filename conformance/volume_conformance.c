/* The volume backend conformance suite (see ssrp/conformance.h). Every
 * test starts from a volume fresh() gave: protection off, unlocked, no TPM
 * or recovery-password protector. Recovery-password operations stretch the
 * key (about 0.1 s each), so the suite uses few of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/volume.h"
#include "ssrp/conformance.h"
#include "ssrp/error.h"

/* hal/struct_version.c, compiled into this library (libssrp keeps it to
 * itself; this file includes only the public headers). */
int ssrp_struct_version_check(const char *what, unsigned int version, unsigned int current,
			      const char *init);

/* Known-answer password (bitlocker-crypto.md) and a second valid one. */
static const char pw1[] = "111683-110022-683298-209352-468105-648483-571252-334455";
static const char pw1_typed[] = " 111683 110022 683298 209352 468105 648483 571252 334455\n";
static const char pw2[] = "135795-597531-012221-660000-010989-344707-046662-720885";
/* Group 3 is not 11 x q. */
static const char pw_bad_group[] = "111683-110022-683299-209352-468105-648483-571252-334455";
static const char unknown_id[] = "{0BADC0DE-1234-4321-8765-56789ABCDEF0}";

#define MAX_PROTECTORS 32

static const ssrp_conformance_volume_target *target;

typedef struct vc_state {
	char spec[1200];
} vc_state;

/* ---- helpers ------------------------------------------------------------ */

/* rc must be want; when words is given the message must contain it. */
static void check_rc(int rc, int want, const char *words, const char *call, int line)
{
	if (rc != want)
		fail_msg("line %d: %s returned %d (%s: %s), expected %d (%s)", line, call, rc,
			 ssrp_error_name(rc), ssrp_error_last(), want, ssrp_error_name(want));
	if (words && !strstr(ssrp_error_last(), words))
		fail_msg("line %d: %s: message '%s' does not mention '%s'", line, call,
			 ssrp_error_last(), words);
}

#define OK(call) check_rc((call), SSRP_OK, NULL, #call, __LINE__)
#define REFUSES(call, want, words) check_rc((call), (want), (words), #call, __LINE__)

static ssrp_volume *open_vol(const vc_state *s)
{
	ssrp_volume *v = NULL;
	int rc = ssrp_volume_open(&v, s->spec);
	if (rc)
		fail_msg("opening '%s': %s", s->spec, ssrp_error_last());
	return v;
}

static ssrp_volume *reopen(ssrp_volume *v, const vc_state *s)
{
	ssrp_volume_close(v);
	return open_vol(s);
}

static int lacks(ssrp_volume *v, uint32_t caps)
{
	return (ssrp_volume_capabilities(v) & caps) != caps;
}

static ssrp_tpm *open_tpm(void)
{
	ssrp_tpm *tpm = NULL;
	if (!target->tpm_spec)
		return NULL;
	if (ssrp_tpm_open(&tpm, target->tpm_spec))
		fail_msg("opening the TPM '%s': %s", target->tpm_spec, ssrp_error_last());
	return tpm;
}

static ssrp_volume_status status(ssrp_volume *v)
{
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	OK(ssrp_volume_get_status(v, &st));
	return st;
}

static size_t list(ssrp_volume *v, ssrp_protector out[MAX_PROTECTORS])
{
	size_t n = 0;
	OK(ssrp_volume_list_protectors(v, out, MAX_PROTECTORS, &n));
	assert_true(n <= MAX_PROTECTORS);
	return n;
}

static size_t count_type(ssrp_volume *v, ssrp_protector_type type)
{
	ssrp_protector ps[MAX_PROTECTORS];
	size_t n = list(v, ps), found = 0;
	for (size_t i = 0; i < n; i++)
		found += ps[i].type == type;
	return found;
}

static int has_id(ssrp_volume *v, const char *id)
{
	ssrp_protector ps[MAX_PROTECTORS];
	size_t n = list(v, ps);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ps[i].id, id))
			return 1;
	return 0;
}

/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" */
static void assert_id_shape(const char *id)
{
	assert_int_equal(strlen(id), SSRP_PROTECTOR_ID_LEN);
	assert_int_equal(id[0], '{');
	assert_int_equal(id[SSRP_PROTECTOR_ID_LEN - 1], '}');
	for (int i = 1; i < SSRP_PROTECTOR_ID_LEN - 1; i++)
		if (i == 9 || i == 14 || i == 19 || i == 24)
			assert_int_equal(id[i], '-');
		else if (!strchr("0123456789ABCDEFabcdef", id[i]) || !id[i])
			fail_msg("protector id '%s' has '%c' at %d", id, id[i], i);
}

/* Unlock with the TPM when there is one, else with pw. */
static void unlock_somehow(ssrp_volume *v, const char *pw)
{
	ssrp_tpm *tpm = open_tpm();
	if (tpm)
		OK(ssrp_volume_unlock_tpm(v, tpm));
	else
		OK(ssrp_volume_unlock_recovery_password(v, pw));
	ssrp_tpm_close(tpm);
}

/* A second protector that can unlock: the TPM when there is one, else a
 * second recovery password. */
static void add_second(ssrp_volume *v, char id[SSRP_PROTECTOR_ID_LEN + 1])
{
	ssrp_tpm *tpm = open_tpm();
	if (tpm)
		OK(ssrp_volume_add_tpm_protector(v, tpm, 0, id));
	else
		OK(ssrp_volume_add_recovery_password(v, pw2, id));
	ssrp_tpm_close(tpm);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	vc_state *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	if (target->fresh(target->ctx, s->spec, sizeof s->spec)) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	vc_state *s = *state;
	if (target->discard)
		target->discard(target->ctx, s->spec);
	free(s);
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void names_itself(void **state)
{
	ssrp_volume *v = open_vol(*state);
	assert_true(strlen(ssrp_volume_backend_name(v)) > 0);
	assert_true(ssrp_volume_capabilities(v) != 0);
	ssrp_volume_close(v);
	ssrp_volume *none = (ssrp_volume *)1;
	REFUSES(ssrp_volume_open(&none, "nosuchbackend:x"), SSRP_E_SPEC, "nosuchbackend");
	assert_null(none);
}

static void fresh_volume_status(void **state)
{
	ssrp_volume *v = open_vol(*state);
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	if (lacks(v, SSRP_VOLUME_CAP_STATUS)) {
		REFUSES(ssrp_volume_get_status(v, &st), SSRP_E_NOTSUPPORTED, NULL);
		ssrp_volume_close(v);
		return;
	}
	st = status(v);
	assert_int_equal(st.protection, SSRP_PROTECTION_OFF);
	assert_false(st.locked);
	assert_false(st.last_unlock_recovery);
	assert_true(st.encryption_method == 0x8004 || st.encryption_method == 0x8005);
	assert_string_not_equal(ssrp_volume_method_name(st.encryption_method), "unknown");
	assert_true(st.percent_encrypted == -1 ||
		    (st.percent_encrypted >= 0 && st.percent_encrypted <= 100));
	if (!lacks(v, SSRP_VOLUME_CAP_DATA))
		assert_true(st.size > 0);
	if (!lacks(v, SSRP_VOLUME_CAP_PROTECTORS)) {
		assert_int_equal(count_type(v, SSRP_PROTECTOR_TPM), 0);
		assert_int_equal(count_type(v, SSRP_PROTECTOR_RECOVERY_PASSWORD), 0);
		ssrp_protector one[1];
		size_t n = 0;
		/* A count-only call, and a short array. */
		OK(ssrp_volume_list_protectors(v, NULL, 0, &n));
		if (n > 1)
			REFUSES(ssrp_volume_list_protectors(v, one, 1, &n), SSRP_E_BUFSIZE, NULL);
	}
	ssrp_volume_close(v);
}

static void ensure_recovery_password_is_idempotent(void **state)
{
	ssrp_volume *v = open_vol(*state);
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "", again[SSRP_PROTECTOR_ID_LEN + 1] = "";
	int added = -1;
	if (lacks(v, SSRP_VOLUME_CAP_PROTECTORS)) {
		REFUSES(ssrp_volume_ensure_recovery_password(v, id, &added), SSRP_E_NOTSUPPORTED,
			NULL);
		ssrp_volume_close(v);
		return;
	}
	OK(ssrp_volume_ensure_recovery_password(v, id, &added));
	assert_int_equal(added, 1);
	assert_id_shape(id);
	assert_true(has_id(v, id));
	OK(ssrp_volume_ensure_recovery_password(v, again, &added));
	assert_int_equal(added, 0);
	assert_string_equal(again, id);
	/* Not after a reopen either: never a second one by accident. */
	v = reopen(v, *state);
	memset(again, 0, sizeof again);
	added = -1;
	OK(ssrp_volume_ensure_recovery_password(v, again, &added));
	assert_int_equal(added, 0);
	assert_string_equal(again, id);
	OK(ssrp_volume_ensure_recovery_password(v, NULL, NULL));
	assert_int_equal(count_type(v, SSRP_PROTECTOR_RECOVERY_PASSWORD), 1);
	ssrp_volume_close(v);
}

static void ensure_tpm_protector_is_idempotent(void **state)
{
	ssrp_volume *v = open_vol(*state);
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "", again[SSRP_PROTECTOR_ID_LEN + 1] = "";
	int added = -1;
	ssrp_tpm *tpm = open_tpm();
	if (!tpm) {
		print_message("note: no TPM given; the TPM protector checks are left out\n");
		ssrp_volume_close(v);
		return;
	}
	if (lacks(v, SSRP_VOLUME_CAP_PROTECTORS)) {
		REFUSES(ssrp_volume_ensure_tpm_protector(v, tpm, 0, id, &added), SSRP_E_NOTSUPPORTED,
			NULL);
		ssrp_tpm_close(tpm);
		ssrp_volume_close(v);
		return;
	}
	OK(ssrp_volume_ensure_tpm_protector(v, tpm, 0, id, &added));
	assert_int_equal(added, 1);
	assert_id_shape(id);
	OK(ssrp_volume_ensure_tpm_protector(v, tpm, 0, again, &added));
	assert_int_equal(added, 0);
	assert_string_equal(again, id);
	v = reopen(v, *state);
	added = -1;
	OK(ssrp_volume_ensure_tpm_protector(v, tpm, 0, again, &added));
	assert_int_equal(added, 0);
	assert_string_equal(again, id);
	assert_int_equal(count_type(v, SSRP_PROTECTOR_TPM), 1);
	ssrp_tpm_close(tpm);
	ssrp_volume_close(v);
}

static void last_protector_is_kept(void **state)
{
	ssrp_volume *v = open_vol(*state);
	char rp[SSRP_PROTECTOR_ID_LEN + 1], other[SSRP_PROTECTOR_ID_LEN + 1];
	if (lacks(v, SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_PROTECTION)) {
		if (lacks(v, SSRP_VOLUME_CAP_PROTECTION))
			REFUSES(ssrp_volume_protection_on(v), SSRP_E_NOTSUPPORTED, NULL);
		else
			REFUSES(ssrp_volume_delete_protector(v, unknown_id), SSRP_E_NOTSUPPORTED,
				NULL);
		ssrp_volume_close(v);
		return;
	}
	OK(ssrp_volume_ensure_recovery_password(v, rp, NULL));
	OK(ssrp_volume_protection_on(v));
	/* Only the recovery password can open the volume now. */
	ssrp_protector ps[MAX_PROTECTORS];
	size_t n = list(v, ps), can = 0;
	for (size_t i = 0; i < n; i++)
		can += ps[i].type != SSRP_PROTECTOR_OTHER;
	assert_int_equal(can, 1);
	REFUSES(ssrp_volume_delete_protector(v, rp), SSRP_E_REFUSED, "last");
	assert_true(has_id(v, rp));
	/* With another way in, it may go (the volume is still unlocked). */
	add_second(v, other);
	OK(ssrp_volume_delete_protector(v, rp));
	assert_false(has_id(v, rp));
	assert_true(has_id(v, other));
	REFUSES(ssrp_volume_delete_protector(v, other), SSRP_E_REFUSED, NULL);
	ssrp_volume_close(v);
}

static void unknown_and_malformed_ids(void **state)
{
	ssrp_volume *v = open_vol(*state);
	ssrp_buf pw = SSRP_BUF_INIT;
	if (lacks(v, SSRP_VOLUME_CAP_PROTECTORS)) {
		REFUSES(ssrp_volume_delete_protector(v, unknown_id), SSRP_E_NOTSUPPORTED, NULL);
		ssrp_volume_close(v);
		return;
	}
	REFUSES(ssrp_volume_delete_protector(v, unknown_id), SSRP_E_NOTFOUND, NULL);
	/* Lower case without braces is a well-formed id, just an unknown one. */
	REFUSES(ssrp_volume_delete_protector(v, "0badc0de-1234-4321-8765-56789abcdef0"),
		SSRP_E_NOTFOUND, NULL);
	static const char *const malformed[] = {
		"",
		"not-a-guid",
		"{0BADC0DE-1234-4321-8765-56789ABCDEF0",
		"{0BADC0DE-1234-4321-8765-56789ABCDEFG}",
		"{0BADC0DE+1234-4321-8765-56789ABCDEF0}",
		"{0BADC0DE-1234-4321-8765-56789ABCDEF01}",
	};
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
		REFUSES(ssrp_volume_delete_protector(v, malformed[i]), SSRP_E_INVALID, NULL);
	REFUSES(ssrp_volume_delete_protector(v, NULL), SSRP_E_INVALID, NULL);
	if (lacks(v, SSRP_VOLUME_CAP_READ_PASSWORD)) {
		REFUSES(ssrp_volume_get_recovery_password(v, unknown_id, &pw), SSRP_E_NOTSUPPORTED,
			NULL);
	} else {
		REFUSES(ssrp_volume_get_recovery_password(v, unknown_id, &pw), SSRP_E_NOTFOUND,
			NULL);
		REFUSES(ssrp_volume_get_recovery_password(v, "xyz", &pw), SSRP_E_INVALID, NULL);
		assert_null(pw.data);
	}
	ssrp_volume_close(v);
}

static void status_follows_protection(void **state)
{
	ssrp_volume *v = open_vol(*state);
	if (lacks(v, SSRP_VOLUME_CAP_STATUS | SSRP_VOLUME_CAP_PROTECTION |
			     SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_UNLOCK)) {
		if (lacks(v, SSRP_VOLUME_CAP_PROTECTION))
			REFUSES(ssrp_volume_protection_on(v), SSRP_E_NOTSUPPORTED, NULL);
		ssrp_volume_close(v);
		return;
	}
	ssrp_volume_status st = status(v);
	assert_int_equal(st.protection, SSRP_PROTECTION_OFF);
	assert_false(st.locked);
	/* Nothing but a clear key could open it: refused, nothing changed. */
	REFUSES(ssrp_volume_protection_on(v), SSRP_E_REFUSED, "protector");
	assert_int_equal(status(v).protection, SSRP_PROTECTION_OFF);

	/* One real protector: the TPM, or a recovery password without one. */
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	ssrp_tpm *tpm = open_tpm();
	if (tpm)
		OK(ssrp_volume_add_tpm_protector(v, tpm, 0, id));
	else
		OK(ssrp_volume_add_recovery_password(v, pw1, id));
	ssrp_tpm_close(tpm);
	OK(ssrp_volume_protection_on(v));
	st = status(v);
	assert_int_equal(st.protection, SSRP_PROTECTION_ON);
	assert_int_equal(count_type(v, SSRP_PROTECTOR_CLEAR_KEY), 0);
	OK(ssrp_volume_protection_on(v)); /* again: nothing to do */

	v = reopen(v, *state);
	st = status(v);
	assert_int_equal(st.protection, SSRP_PROTECTION_ON);
	assert_true(st.locked);
	unlock_somehow(v, pw1);
	st = status(v);
	assert_false(st.locked);
	assert_int_equal(st.last_unlock_recovery, target->tpm_spec ? 0 : 1);

	OK(ssrp_volume_protection_off(v));
	st = status(v);
	assert_int_equal(st.protection, SSRP_PROTECTION_OFF);
	assert_int_equal(count_type(v, SSRP_PROTECTOR_CLEAR_KEY), 1);
	OK(ssrp_volume_protection_off(v)); /* again: still one clear key */
	assert_int_equal(count_type(v, SSRP_PROTECTOR_CLEAR_KEY), 1);
	/* The clear key opens it. */
	v = reopen(v, *state);
	st = status(v);
	assert_int_equal(st.protection, SSRP_PROTECTION_OFF);
	assert_false(st.locked);
	assert_true(has_id(v, id));
	ssrp_volume_close(v);
}

static void unlock_paths(void **state)
{
	ssrp_volume *v = open_vol(*state);
	if (lacks(v, SSRP_VOLUME_CAP_UNLOCK | SSRP_VOLUME_CAP_PROTECTORS |
			     SSRP_VOLUME_CAP_PROTECTION | SSRP_VOLUME_CAP_STATUS)) {
		if (lacks(v, SSRP_VOLUME_CAP_UNLOCK))
			REFUSES(ssrp_volume_unlock_recovery_password(v, pw1), SSRP_E_NOTSUPPORTED,
				NULL);
		ssrp_volume_close(v);
		return;
	}
	char rp[SSRP_PROTECTOR_ID_LEN + 1], tpm_id[SSRP_PROTECTOR_ID_LEN + 1];
	OK(ssrp_volume_add_recovery_password(v, pw1, rp));
	ssrp_tpm *tpm = open_tpm();
	int have_tpm = tpm != NULL;
	if (tpm)
		OK(ssrp_volume_add_tpm_protector(v, tpm, 0, tpm_id));
	ssrp_tpm_close(tpm);
	OK(ssrp_volume_protection_on(v));
	uint8_t byte;
	if (have_tpm) {
		v = reopen(v, *state);
		assert_true(status(v).locked);
		tpm = open_tpm();
		OK(ssrp_volume_unlock_tpm(v, tpm));
		ssrp_tpm_close(tpm);
		assert_false(status(v).locked);
		assert_false(status(v).last_unlock_recovery);
	}

	v = reopen(v, *state);
	assert_true(status(v).locked);
	if (!lacks(v, SSRP_VOLUME_CAP_DATA))
		REFUSES(ssrp_volume_read(v, status(v).size - 1, &byte, 1), SSRP_E_LOCKED, NULL);
	REFUSES(ssrp_volume_unlock_recovery_password(v, pw2), SSRP_E_BAD_KEY, NULL);
	assert_true(status(v).locked);
	REFUSES(ssrp_volume_unlock_recovery_password(v, pw_bad_group), SSRP_E_INVALID, "group 3");
	REFUSES(ssrp_volume_unlock_recovery_password(v, "123"), SSRP_E_INVALID, NULL);
	REFUSES(ssrp_volume_unlock_recovery_password(v, NULL), SSRP_E_INVALID, NULL);
	assert_true(status(v).locked);
	assert_false(status(v).last_unlock_recovery);
	/* As a user types it: spaces, a newline. */
	OK(ssrp_volume_unlock_recovery_password(v, pw1_typed));
	ssrp_volume_status st = status(v);
	assert_false(st.locked);
	assert_true(st.last_unlock_recovery);
	if (!lacks(v, SSRP_VOLUME_CAP_DATA))
		OK(ssrp_volume_read(v, st.size - 1, &byte, 1));
	/* Recorded on the volume, so the next session knows to rotate it. */
	v = reopen(v, *state);
	assert_true(status(v).last_unlock_recovery);
	ssrp_volume_close(v);
}

static void password_reads_back(void **state)
{
	ssrp_volume *v = open_vol(*state);
	ssrp_buf got = SSRP_BUF_INIT;
	char id[SSRP_PROTECTOR_ID_LEN + 1], gen[SSRP_PROTECTOR_ID_LEN + 1],
		ensured[SSRP_PROTECTOR_ID_LEN + 1];
	if (lacks(v, SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_READ_PASSWORD)) {
		if (lacks(v, SSRP_VOLUME_CAP_READ_PASSWORD))
			REFUSES(ssrp_volume_get_recovery_password(v, unknown_id, &got),
				SSRP_E_NOTSUPPORTED, NULL);
		ssrp_volume_close(v);
		return;
	}
	/* Typed with spaces; read back in the canonical form. */
	OK(ssrp_volume_add_recovery_password(v, pw1_typed, id));
	OK(ssrp_volume_get_recovery_password(v, id, &got));
	assert_int_equal(got.len, strlen(pw1));
	assert_string_equal((const char *)got.data, pw1);
	ssrp_buf_free(&got);
	/* Any spelling of the id. */
	char lower[SSRP_PROTECTOR_ID_LEN + 1];
	for (size_t i = 0; i < SSRP_PROTECTOR_ID_LEN - 2; i++)
		lower[i] = (char)(id[i + 1] >= 'A' && id[i + 1] <= 'F' ? id[i + 1] + 32 : id[i + 1]);
	lower[SSRP_PROTECTOR_ID_LEN - 2] = '\0';
	OK(ssrp_volume_get_recovery_password(v, lower, &got));
	assert_string_equal((const char *)got.data, pw1);
	ssrp_buf_free(&got);
	/* ensure finds the one there is. */
	int added = -1;
	OK(ssrp_volume_ensure_recovery_password(v, ensured, &added));
	assert_int_equal(added, 0);
	assert_string_equal(ensured, id);
	/* A generated one reads back as a valid password, and another one. */
	OK(ssrp_volume_add_recovery_password(v, NULL, gen));
	assert_string_not_equal(gen, id);
	OK(ssrp_volume_get_recovery_password(v, gen, &got));
	assert_int_equal(got.len, SSRP_RECOVERY_PASSWORD_LEN);
	const char *t = (const char *)got.data;
	for (int g = 0; g < 8; g++) {
		unsigned long value = strtoul(t + 7 * g, NULL, 10);
		assert_true(g == 7 || t[7 * g + 6] == '-');
		assert_int_equal(value % 11, 0);
		assert_true(value / 11 <= 65535);
	}
	assert_string_not_equal(t, pw1);
	ssrp_buf_free(&got);
	assert_int_equal(count_type(v, SSRP_PROTECTOR_RECOVERY_PASSWORD), 2);
	ssrp_volume_close(v);
}

static void deleting_the_used_password_clears_the_flag(void **state)
{
	ssrp_volume *v = open_vol(*state);
	if (lacks(v, SSRP_VOLUME_CAP_PROTECTORS | SSRP_VOLUME_CAP_UNLOCK |
			     SSRP_VOLUME_CAP_PROTECTION | SSRP_VOLUME_CAP_STATUS)) {
		if (lacks(v, SSRP_VOLUME_CAP_PROTECTORS))
			REFUSES(ssrp_volume_add_recovery_password(v, pw1, NULL), SSRP_E_NOTSUPPORTED,
				NULL);
		ssrp_volume_close(v);
		return;
	}
	char used[SSRP_PROTECTOR_ID_LEN + 1], other[SSRP_PROTECTOR_ID_LEN + 1];
	OK(ssrp_volume_add_recovery_password(v, pw1, used));
	add_second(v, other);
	OK(ssrp_volume_protection_on(v));
	v = reopen(v, *state);
	OK(ssrp_volume_unlock_recovery_password(v, pw1));
	assert_true(status(v).last_unlock_recovery);
	/* Rotation: the used password goes, and the flag with it. */
	OK(ssrp_volume_delete_protector(v, used));
	assert_false(status(v).last_unlock_recovery);
	v = reopen(v, *state);
	assert_false(status(v).last_unlock_recovery);
	assert_false(has_id(v, used));
	ssrp_volume_close(v);
}

static int names_a_region(const ssrp_volume_region *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(ssrp_error_last(), r[i].what))
			return 1;
	print_message("'%s' names no reserved region\n", ssrp_error_last());
	return 0;
}

static void reserved_regions_are_refused(void **state)
{
	ssrp_volume *v = open_vol(*state);
	ssrp_volume_region r[16];
	size_t n = 0;
	uint8_t buf[64] = {0};
	if (lacks(v, SSRP_VOLUME_CAP_DATA)) {
		REFUSES(ssrp_volume_write(v, 0, buf, 1), SSRP_E_NOTSUPPORTED, NULL);
		ssrp_volume_close(v);
		return;
	}
	OK(ssrp_volume_reserved_regions(v, r, 16, &n));
	assert_true(n <= 16);
	uint64_t size = status(v).size;
	for (size_t i = 0; i < n; i++) {
		assert_true(r[i].length > 0);
		assert_true(r[i].offset + r[i].length <= size);
		assert_true(strlen(r[i].what) > 0);
		uint64_t last = r[i].offset + r[i].length - 1;
		REFUSES(ssrp_volume_write(v, r[i].offset, buf, 1), SSRP_E_RESERVED, r[i].what);
		REFUSES(ssrp_volume_write(v, last, buf, 1), SSRP_E_RESERVED, r[i].what);
		REFUSES(ssrp_volume_read(v, r[i].offset + r[i].length / 2, buf, 1), SSRP_E_RESERVED,
			r[i].what);
		/* A range that only straddles an edge is refused too, naming a
		 * region it touches (regions may be adjacent). */
		if (r[i].offset >= 32) {
			REFUSES(ssrp_volume_write(v, r[i].offset - 32, buf, 33), SSRP_E_RESERVED, NULL);
			assert_true(names_a_region(r, n));
		}
		if (last + 32 < size) {
			REFUSES(ssrp_volume_read(v, last, buf, 32), SSRP_E_RESERVED, NULL);
			assert_true(names_a_region(r, n));
		}
	}
	ssrp_volume_close(v);
}

/* ---- data --------------------------------------------------------------- */

/* Bytes that depend on where they are and on a seed, never all zero. */
static void pattern(uint8_t *p, size_t len, uint64_t offset, unsigned seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t x = (offset + i) * 0x9E3779B97F4A7C15ull + seed;
		p[i] = (uint8_t)((x >> 29) ^ (x >> 47) ^ 0x5A);
	}
}

/* The first offset >= want where [offset - margin, offset + len + margin)
 * (clipped to the volume) touches no reserved region. */
static uint64_t free_offset(const ssrp_volume_region *r, size_t n, uint64_t size, uint64_t want,
			    uint64_t len, uint64_t margin)
{
	uint64_t off = want;
	for (int moved = 1; moved;) {
		moved = 0;
		uint64_t lo = off > margin ? off - margin : 0;
		uint64_t hi = off + len + margin < size ? off + len + margin : size;
		for (size_t i = 0; i < n; i++)
			if (lo < r[i].offset + r[i].length && r[i].offset < hi) {
				off = r[i].offset + r[i].length + margin;
				moved = 1;
			}
	}
	if (off + len > size)
		fail_msg("no free %llu bytes in the volume from %llu", (unsigned long long)len,
			 (unsigned long long)want);
	return off;
}

typedef struct range {
	uint64_t offset;
	size_t len;
	uint8_t *before; /* what was around it: [offset - lead, offset + len + tail) */
	size_t lead, tail;
} range;

static void data_round_trips(void **state)
{
	ssrp_volume *v = open_vol(*state);
	uint8_t byte = 0;
	if (lacks(v, SSRP_VOLUME_CAP_DATA | SSRP_VOLUME_CAP_STATUS)) {
		if (lacks(v, SSRP_VOLUME_CAP_DATA))
			REFUSES(ssrp_volume_read(v, 0, &byte, 1), SSRP_E_NOTSUPPORTED, NULL);
		ssrp_volume_close(v);
		return;
	}
	const uint64_t size = status(v).size;
	ssrp_volume_region r[16];
	size_t nr = 0;
	OK(ssrp_volume_reserved_regions(v, r, 16, &nr));
	assert_true(size >= 1024 * 1024);
	const uint64_t mib = 1024 * 1024;
	range rs[] = {
		/* Sectors 0..15 (relocated by BitLocker) and on past them. */
		{0, 16 * 512 + 1000, NULL, 0, 0},
		/* Unaligned at both ends, over several sectors. */
		{free_offset(r, nr, size, 40 * 512 + 7, 1531, 512), 1531, NULL, 0, 0},
		/* Three bytes inside one sector. */
		{free_offset(r, nr, size, 60 * 512 + 100, 3, 512), 3, NULL, 0, 0},
		/* Over the 1 MiB mark and longer than 1 MiB: more than one I/O chunk. */
		{free_offset(r, nr, size, mib - 300 * 1024 + 77, mib + 1555, 512), (size_t)mib + 1555,
		 NULL, 0, 0},
		/* The last sector's tail and the volume's last byte. */
		{size - 700, 700, NULL, 0, 0},
	};
	const size_t n = sizeof rs / sizeof rs[0];
	/* Keep what surrounds each range, to see a write stays inside it. */
	for (size_t i = 0; i < n; i++) {
		range *g = &rs[i];
		g->lead = g->offset >= 512 ? 512 : (size_t)g->offset;
		g->tail = size - (g->offset + g->len) >= 512 ? 512 : (size_t)(size - g->offset - g->len);
		g->before = malloc(g->lead + g->len + g->tail);
		assert_non_null(g->before);
		OK(ssrp_volume_read(v, g->offset - g->lead, g->before, g->lead + g->len + g->tail));
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = malloc(rs[i].len);
		assert_non_null(p);
		pattern(p, rs[i].len, rs[i].offset, (unsigned)i + 1);
		OK(ssrp_volume_write(v, rs[i].offset, p, rs[i].len));
		free(p);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			range *g = &rs[i];
			size_t all = g->lead + g->len + g->tail;
			uint8_t *got = malloc(all), *want = malloc(all);
			assert_non_null(got);
			assert_non_null(want);
			memcpy(want, g->before, all);
			pattern(want + g->lead, g->len, g->offset, (unsigned)i + 1);
			OK(ssrp_volume_read(v, g->offset - g->lead, got, all));
			if (memcmp(got, want, all))
				fail_msg("pass %d: range %zu (%zu bytes at %llu) reads back wrong", pass, i,
					 g->len, (unsigned long long)g->offset);
			/* And the range alone, unaligned reads included. */
			OK(ssrp_volume_read(v, g->offset, got, g->len));
			assert_memory_equal(got, want + g->lead, g->len);
			free(got);
			free(want);
		}
		/* Still there after closing and opening again. */
		v = reopen(v, *state);
		if (status(v).locked)
			unlock_somehow(v, pw1);
	}
	OK(ssrp_volume_read(v, size - 1, &byte, 1));
	uint8_t last;
	pattern(&last, 1, size - 1, (unsigned)n);
	assert_int_equal(byte, last);
	for (size_t i = 0; i < n; i++)
		free(rs[i].before);

	/* Out of the volume. */
	uint8_t two[2] = {1, 2};
	REFUSES(ssrp_volume_read(v, size, &byte, 1), SSRP_E_INVALID, NULL);
	REFUSES(ssrp_volume_write(v, size - 1, two, 2), SSRP_E_INVALID, NULL);
	REFUSES(ssrp_volume_write(v, UINT64_MAX, two, 1), SSRP_E_INVALID, NULL);
	REFUSES(ssrp_volume_read(v, UINT64_MAX - 1, two, 2), SSRP_E_INVALID, NULL);
	REFUSES(ssrp_volume_read(v, 0, NULL, 1), SSRP_E_INVALID, NULL);
	ssrp_volume_close(v);
}

int ssrp_conformance_volume_reset(const char *spec, const char *tpm_spec)
{
	ssrp_volume *v = NULL;
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	int rc = ssrp_volume_open(&v, spec);
	if (!rc)
		rc = ssrp_volume_get_status(v, &st);
	if (!rc && st.locked) {
		ssrp_tpm *tpm = NULL;
		rc = tpm_spec ? ssrp_tpm_open(&tpm, tpm_spec) : SSRP_E_LOCKED;
		if (!rc)
			rc = ssrp_volume_unlock_tpm(v, tpm);
		ssrp_tpm_close(tpm);
		/* The tests leave a TPM or one of their passwords on the volume. */
		if (rc)
			rc = ssrp_volume_unlock_recovery_password(v, pw1);
		if (rc)
			rc = ssrp_volume_unlock_recovery_password(v, pw2);
		if (rc)
			fprintf(stderr, "the volume is locked and neither the TPM nor the suite's "
					"passwords open it; unlock it before running the suite\n");
	}
	if (!rc)
		rc = ssrp_volume_protection_off(v);
	ssrp_protector ps[MAX_PROTECTORS];
	size_t n = 0;
	if (!rc)
		rc = ssrp_volume_list_protectors(v, ps, MAX_PROTECTORS, &n);
	for (size_t i = 0; !rc && i < n; i++)
		if (ps[i].type == SSRP_PROTECTOR_TPM || ps[i].type == SSRP_PROTECTOR_RECOVERY_PASSWORD)
			rc = ssrp_volume_delete_protector(v, ps[i].id);
	if (rc)
		fprintf(stderr, "resetting %s: %s\n", spec, ssrp_error_last());
	ssrp_volume_close(v);
	return rc ? -1 : 0;
}

int ssrp_conformance_volume_run(const ssrp_conformance_volume_target *t)
{
	if (!t) {
		fprintf(stderr, "ssrp_conformance_volume_run: no target\n");
		return -1;
	}
	if (ssrp_struct_version_check("ssrp_conformance_volume_target", t->version,
				      SSRP_CONFORMANCE_VOLUME_TARGET_VERSION,
				      "SSRP_CONFORMANCE_VOLUME_TARGET_INIT")) {
		fprintf(stderr, "%s\n", ssrp_error_last());
		return -1;
	}
	target = t;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(names_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(fresh_volume_status, setup, teardown),
		cmocka_unit_test_setup_teardown(ensure_recovery_password_is_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(ensure_tpm_protector_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(last_protector_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_and_malformed_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(status_follows_protection, setup, teardown),
		cmocka_unit_test_setup_teardown(unlock_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(password_reads_back, setup, teardown),
		cmocka_unit_test_setup_teardown(deleting_the_used_password_clears_the_flag, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reserved_regions_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(data_round_trips, setup, teardown),
	};
	return _cmocka_run_group_tests(t->name, tests, sizeof tests / sizeof tests[0], NULL, NULL);
}
