/* Crash safety of metadata updates on the sim backend. For each operation
 * that changes the metadata, a child process opens the volume with
 * "sim:PATH?kill_at_write=N" and performs it; the backend kills the child
 * with SIGKILL halfway through its Nth 64 KiB metadata-region write. The
 * parent then checks that the volume opens, that its protectors are the set
 * from before the operation or the set from after it (never neither, never
 * a mix), that every protector from before still opens it (the deleted or
 * removed one aside), that the data is intact, and that after the next
 * metadata write all three copies are valid and in step.
 *
 * N = 1..3 hits the three copies of one update. N = 4 is used on a volume
 * whose copies are out of step (copy 3 holds an older, different
 * protector set): opening writes all three copies back in step first, so
 * the 4th write is the operation's first. Torn copies (new first sectors,
 * old rest), which the kill cannot make because an encoded block is far
 * smaller than the half region it writes, are built by hand.
 *
 * Every recovery-password unlock stretches the key (0.1 s; over 10 s under
 * valgrind). With SSRP_TEST_QUICK=1 in the environment (the valgrind
 * variant) each operation is killed in write 2 and in write 4 of an
 * out-of-step volume only, and the later metadata write is a protection
 * change instead of a recovery-password unlock. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ssrp/sim.h"
#include "bitlocker/fve_metadata.h"
#include "ssrp/volume.h"
#include "tests/integration/swtpm_fixture.h"

#define VOLUME_SIZE (2u * 1024 * 1024)
#define MAX_SET 16

static const char pw1[] = "111683-110022-683298-209352-468105-648483-571252-334455";
static const char pw2[] = "135795-597531-012221-660000-010989-344707-046662-720885";

typedef enum op_kind {
	OP_NONE, /* only open the volume */
	OP_ADD_RECOVERY,
	OP_ADD_TPM,
	OP_DELETE_TPM,
	OP_PROTECTION_ON,
	OP_PROTECTION_OFF,
	OP_UNLOCK_RECOVERY,
} op_kind;

static const char *const op_names[] = {
	"open",		 "add recovery password", "add TPM protector", "delete TPM protector",
	"protection on", "protection off",	  "unlock with recovery password",
};

/* The volumes every case starts from, each a later state of the one
 * before (same keys, higher metadata sequence):
 *   fresh   clear key, data written
 *   ck_rp   + recovery password pw1
 *   all     + TPM protector
 *   on      protection on (the clear key removed) */
typedef struct suite {
	ssrp_sim_swtpm tpm;
	char fresh[1200], ck_rp[1200], all[1200], on[1200];
	char work[1200];
} suite;

static suite S;
static int quick;

typedef struct pset {
	size_t n;
	ssrp_protector p[MAX_SET];
} pset;

#define OK(call)                                                                          \
	do {                                                                              \
		int rc_ = (call);                                                         \
		if (rc_ != SSRP_OK)                                                       \
			fail_msg("%s: %d (%s)", #call, rc_, ssrp_error_last());           \
	} while (0)

/* ---- files -------------------------------------------------------------- */

static void read_at(const char *path, void *buf, size_t len, uint64_t offset)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, buf, len, (off_t)offset) != (ssize_t)len)
		fail_msg("reading %s: %s", path, strerror(errno));
	close(fd);
}

static void write_at(const char *path, const void *buf, size_t len, uint64_t offset)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0 || pwrite(fd, buf, len, (off_t)offset) != (ssize_t)len)
		fail_msg("writing %s: %s", path, strerror(errno));
	close(fd);
}

static void copy_file(const char *dst, const char *src)
{
	uint8_t *buf = malloc(VOLUME_SIZE);
	assert_non_null(buf);
	read_at(src, buf, VOLUME_SIZE, 0);
	int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, VOLUME_SIZE) != (ssize_t)VOLUME_SIZE)
		fail_msg("writing %s: %s", dst, strerror(errno));
	close(fd);
	free(buf);
}

static void metadata_offsets(const char *path, uint64_t copies[3])
{
	uint8_t header[SSRP_FVE_SECTOR];
	uint64_t size = 0;
	read_at(path, header, sizeof header, 0);
	OK(ssrp_fve_volume_header_parse(copies, &size, header));
	assert_int_equal(size, VOLUME_SIZE);
}

/* Each copy's sequence number, or 0 when the copy does not parse. */
static void copy_sequences(const char *path, uint64_t seq[3])
{
	uint64_t copies[3];
	uint8_t *region = malloc(SSRP_FVE_REGION);
	ssrp_fve_metadata *md = malloc(sizeof *md);
	assert_non_null(region);
	assert_non_null(md);
	metadata_offsets(path, copies);
	for (int i = 0; i < 3; i++) {
		read_at(path, region, SSRP_FVE_REGION, copies[i]);
		seq[i] = ssrp_fve_metadata_parse(md, region, SSRP_FVE_REGION) ? 0 : md->sequence;
	}
	free(region);
	free(md);
}

static int in_step(const char *path)
{
	uint64_t seq[3];
	copy_sequences(path, seq);
	return seq[0] && seq[0] == seq[1] && seq[1] == seq[2];
}

/* All three copies parse, carry the same sequence and the same bytes. */
static void assert_copies_in_step(const char *path, const char *context)
{
	uint64_t seq[3], copies[3];
	copy_sequences(path, seq);
	if (!seq[0] || seq[0] != seq[1] || seq[1] != seq[2])
		fail_msg("%s: metadata copies not in step (sequences %llu/%llu/%llu; 0 = damaged)",
			 context, (unsigned long long)seq[0], (unsigned long long)seq[1],
			 (unsigned long long)seq[2]);
	metadata_offsets(path, copies);
	uint8_t *a = malloc(SSRP_FVE_REGION), *b = malloc(SSRP_FVE_REGION);
	assert_non_null(a);
	assert_non_null(b);
	read_at(path, a, SSRP_FVE_REGION, copies[0]);
	for (int i = 1; i < 3; i++) {
		read_at(path, b, SSRP_FVE_REGION, copies[i]);
		if (memcmp(a, b, SSRP_FVE_REGION))
			fail_msg("%s: metadata copy %d differs from copy 1", context, i + 1);
	}
	free(a);
	free(b);
}

/* Copy n bytes of metadata copy `which` (0..2) from src over dst's. */
static void graft_copy(const char *dst, const char *src, int which, size_t n)
{
	uint64_t copies[3];
	uint8_t *region = malloc(SSRP_FVE_REGION);
	assert_non_null(region);
	metadata_offsets(src, copies);
	read_at(src, region, n, copies[which]);
	write_at(dst, region, n, copies[which]);
	free(region);
}

/* ---- volumes ------------------------------------------------------------ */

static const struct {
	uint64_t offset;
	size_t len;
} data_at[] = {{0, 8192 + 300}, {700001, 5000}, {VOLUME_SIZE - 300, 300}};

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(((i * 2654435761u) >> 13) ^ (seed * 37u) ^ 0xA5u);
}

static void check_data(ssrp_volume *v, const char *context)
{
	uint8_t want[9000], got[9000];
	for (unsigned i = 0; i < sizeof data_at / sizeof data_at[0]; i++) {
		fill(want, data_at[i].len, i + 1);
		OK(ssrp_volume_read(v, data_at[i].offset, got, data_at[i].len));
		if (memcmp(got, want, data_at[i].len))
			fail_msg("%s: the data at %llu changed", context,
				 (unsigned long long)data_at[i].offset);
	}
}

static ssrp_volume *open_volume(const char *path)
{
	char spec[1300];
	ssrp_volume *v = NULL;
	snprintf(spec, sizeof spec, "sim:%s", path);
	OK(ssrp_volume_open(&v, spec));
	return v;
}

static ssrp_tpm *open_tpm(void)
{
	ssrp_tpm *tpm = NULL;
	OK(ssrp_tpm_open(&tpm, S.tpm.spec));
	return tpm;
}

static void list_set(ssrp_volume *v, pset *s)
{
	memset(s, 0, sizeof *s);
	OK(ssrp_volume_list_protectors(v, s->p, MAX_SET, &s->n));
}

static void set_of(const char *path, pset *s)
{
	ssrp_volume *v = open_volume(path);
	list_set(v, s);
	ssrp_volume_close(v);
}

static const ssrp_protector *find(const pset *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->p[i].id, id))
			return &s->p[i];
	return NULL;
}

static const char *first_of(const pset *s, ssrp_protector_type type)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].type == type)
			return s->p[i].id;
	return NULL;
}

/* got equals want minus the protectors `drop` says to drop. */
static int equals_minus(const pset *got, const pset *want, const char *drop_id,
			int drop_clear_keys)
{
	size_t kept = 0;
	for (size_t i = 0; i < want->n; i++) {
		const ssrp_protector *p = &want->p[i];
		int dropped = (drop_id && !strcmp(p->id, drop_id)) ||
			      (drop_clear_keys && p->type == SSRP_PROTECTOR_CLEAR_KEY);
		if (dropped)
			continue;
		const ssrp_protector *q = find(got, p->id);
		if (!q || q->type != p->type)
			return 0;
		kept++;
	}
	return kept == got->n;
}

/* Every protector of small is in big, with the same type. */
static int contains_all(const pset *big, const pset *small)
{
	for (size_t i = 0; i < small->n; i++) {
		const ssrp_protector *q = find(big, small->p[i].id);
		if (!q || q->type != small->p[i].type)
			return 0;
	}
	return 1;
}

/* got is before plus exactly one new protector of type added. */
static int equals_plus(const pset *got, const pset *before, ssrp_protector_type added)
{
	if (got->n != before->n + 1 || !contains_all(got, before))
		return 0;
	for (size_t i = 0; i < got->n; i++)
		if (!find(before, got->p[i].id))
			return got->p[i].type == added;
	return 0;
}

static int is_after(op_kind op, const pset *got, const pset *before, const char *target)
{
	switch (op) {
	case OP_ADD_RECOVERY: return equals_plus(got, before, SSRP_PROTECTOR_RECOVERY_PASSWORD);
	case OP_ADD_TPM: return equals_plus(got, before, SSRP_PROTECTOR_TPM);
	case OP_PROTECTION_OFF: return equals_plus(got, before, SSRP_PROTECTOR_CLEAR_KEY);
	case OP_DELETE_TPM: return equals_minus(got, before, target, 0);
	case OP_PROTECTION_ON: return equals_minus(got, before, NULL, 1);
	default: return equals_minus(got, before, NULL, 0);
	}
}

/* ---- the child ---------------------------------------------------------- */

static int child_main(const char *path, unsigned kill_at, op_kind op, const char *target)
{
	char spec[1300], id[SSRP_PROTECTOR_ID_LEN + 1];
	ssrp_volume *v = NULL;
	ssrp_tpm *tpm = NULL;
	if (kill_at)
		snprintf(spec, sizeof spec, "sim:%s?kill_at_write=%u", path, kill_at);
	else
		snprintf(spec, sizeof spec, "sim:%s", path);
	int rc = ssrp_volume_open(&v, spec);
	if (!rc && (op == OP_ADD_TPM || op == OP_PROTECTION_OFF))
		rc = ssrp_tpm_open(&tpm, S.tpm.spec);
	if (!rc) {
		switch (op) {
		case OP_NONE: break;
		case OP_ADD_RECOVERY: rc = ssrp_volume_add_recovery_password(v, pw2, id); break;
		case OP_ADD_TPM: rc = ssrp_volume_add_tpm_protector(v, tpm, 0, id); break;
		case OP_DELETE_TPM: rc = ssrp_volume_delete_protector(v, target); break;
		case OP_PROTECTION_ON: rc = ssrp_volume_protection_on(v); break;
		case OP_PROTECTION_OFF:
			rc = ssrp_volume_unlock_tpm(v, tpm);
			if (!rc)
				rc = ssrp_volume_protection_off(v);
			break;
		case OP_UNLOCK_RECOVERY: rc = ssrp_volume_unlock_recovery_password(v, pw1); break;
		}
	}
	if (rc)
		fprintf(stderr, "child (%s): %s\n", op_names[op], ssrp_error_last());
	ssrp_tpm_close(tpm);
	ssrp_volume_close(v);
	return rc ? 1 : 0;
}

/* Run op in a child; its wait status. The parent holds neither the volume
 * (its lock) nor the TPM (swtpm serves one client) meanwhile. */
static int run_child(const char *path, unsigned kill_at, op_kind op, const char *target)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child_main(path, kill_at, op, target));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
	return status;
}

static void expect_killed(int status, const char *context)
{
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("%s: the child was not killed by SIGKILL (wait status 0x%x)", context,
			 (unsigned)status);
}

/* ---- the checks after a crash ------------------------------------------ */

/* after: 1 the after-set is required, 0 the before-set, -1 either. stale
 * (may be NULL) is the set of an older copy that must not come back. */
static void verify(const char *path, op_kind op, const pset *before, const pset *stale,
		   const char *target, int after, const char *context)
{
	pset got;
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	ssrp_volume *v = open_volume(path);
	list_set(v, &got);
	OK(ssrp_volume_get_status(v, &st));
	/* Closed before any check can fail, so the next case finds it free. */
	ssrp_volume_close(v);
	for (size_t i = 0; stale && i < got.n; i++)
		if (find(stale, got.p[i].id) && !find(before, got.p[i].id))
			fail_msg("%s: protector %s came back from the stale copy", context,
				 got.p[i].id);
	int is_before = equals_minus(&got, before, NULL, 0);
	int is_after_set = is_after(op, &got, before, target);
	if (!is_before && !is_after_set)
		fail_msg("%s: the protectors are neither the set before (%zu) nor after (now %zu)",
			 context, before->n, got.n);
	if (after == 1 && !is_after_set)
		fail_msg("%s: the operation's change is missing", context);
	if (after == 0 && !is_before)
		fail_msg("%s: the protectors changed", context);
	/* A clear key opens the volume as it opens; without one it is locked. */
	assert_int_equal(st.locked, first_of(&got, SSRP_PROTECTOR_CLEAR_KEY) == NULL);
	if (op != OP_UNLOCK_RECOVERY)
		assert_false(st.last_unlock_recovery);

	/* Every TPM protector opens it: the one from before, or the new one. */
	if (first_of(&got, SSRP_PROTECTOR_TPM)) {
		v = open_volume(path);
		ssrp_tpm *tpm = open_tpm();
		OK(ssrp_volume_unlock_tpm(v, tpm));
		ssrp_tpm_close(tpm);
		check_data(v, context);
		ssrp_volume_close(v);
	}
	/* The recovery password from before opens it; this unlock records
	 * the flag, a metadata write after the crash. */
	assert_non_null(first_of(before, SSRP_PROTECTOR_RECOVERY_PASSWORD));
	v = open_volume(path);
	if (!quick) {
		OK(ssrp_volume_unlock_recovery_password(v, pw1));
		OK(ssrp_volume_get_status(v, &st));
		assert_true(st.last_unlock_recovery);
	} else {
		/* Quick: a TPM or the clear key opens it (every state here has
		 * one), and a protection change is the metadata write. */
		if (st.locked) {
			ssrp_tpm *tpm = open_tpm();
			OK(ssrp_volume_unlock_tpm(v, tpm));
			ssrp_tpm_close(tpm);
		}
		OK(st.locked ? ssrp_volume_protection_off(v) : ssrp_volume_protection_on(v));
	}
	check_data(v, context);
	ssrp_volume_close(v);
	assert_copies_in_step(path, context);
}

/* ---- the cases ---------------------------------------------------------- */

static const char *base_of(op_kind op)
{
	switch (op) {
	case OP_ADD_TPM: return S.ck_rp;
	case OP_PROTECTION_OFF:
	case OP_UNLOCK_RECOVERY: return S.on;
	default: return S.all;
	}
}

/* A state of the same volume with a lower sequence and other protectors. */
static const char *older_of(op_kind op)
{
	switch (op) {
	case OP_ADD_TPM: return S.fresh;
	case OP_PROTECTION_OFF:
	case OP_UNLOCK_RECOVERY: return S.all;
	default: return S.ck_rp;
	}
}

static void crash_during(op_kind op)
{
	const char *base = base_of(op);
	char context[160];
	pset before;
	set_of(base, &before);
	assert_true(in_step(base));
	const char *target = op == OP_DELETE_TPM ? first_of(&before, SSRP_PROTECTOR_TPM) : NULL;
	if (op == OP_DELETE_TPM)
		assert_non_null(target);

	for (unsigned n = quick ? 2 : 1; n <= (quick ? 2u : 3u); n++) {
		snprintf(context, sizeof context, "%s, killed in write %u", op_names[op], n);
		copy_file(S.work, base);
		expect_killed(run_child(S.work, n, op, target), context);
		verify(S.work, op, &before, NULL, target, -1, context);
	}

	/* Copies out of step: copy 3 holds an older state with other
	 * protectors. Opening puts them back in step (writes 1..3), so the
	 * kill hits the operation's first write. */
	snprintf(context, sizeof context, "%s, copies out of step, killed in write 4",
		 op_names[op]);
	pset stale;
	set_of(older_of(op), &stale);
	copy_file(S.work, base);
	graft_copy(S.work, older_of(op), 2, SSRP_FVE_REGION);
	assert_false(in_step(S.work));
	expect_killed(run_child(S.work, 4, op, target), context);
	verify(S.work, op, &before, &stale, target, -1, context);

	/* Without a kill the operation completes. */
	snprintf(context, sizeof context, "%s, not killed", op_names[op]);
	copy_file(S.work, base);
	int status = run_child(S.work, 0, op, target);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: the child failed (wait status 0x%x)", context, (unsigned)status);
	verify(S.work, op, &before, NULL, target, op == OP_UNLOCK_RECOVERY ? 0 : 1, context);
	unlink(S.work);
}

static void crash_adding_a_recovery_password(void **state)
{
	(void)state;
	crash_during(OP_ADD_RECOVERY);
	if (quick)
		return;
	/* The new password works too once the operation got through: write 3
	 * is the last copy, so the first two hold the new set. */
	copy_file(S.work, S.all);
	expect_killed(run_child(S.work, 3, OP_ADD_RECOVERY, NULL), "add recovery password, write 3");
	ssrp_volume *v = open_volume(S.work);
	OK(ssrp_volume_unlock_recovery_password(v, pw2));
	check_data(v, "unlocked with the new password");
	ssrp_volume_close(v);
	unlink(S.work);
}

static void crash_adding_a_tpm_protector(void **state)
{
	(void)state;
	crash_during(OP_ADD_TPM);
}

static void crash_deleting_a_protector(void **state)
{
	(void)state;
	crash_during(OP_DELETE_TPM);
}

static void crash_turning_protection_on(void **state)
{
	(void)state;
	crash_during(OP_PROTECTION_ON);
}

static void crash_turning_protection_off(void **state)
{
	(void)state;
	crash_during(OP_PROTECTION_OFF);
}

static void crash_recording_a_recovery_unlock(void **state)
{
	(void)state;
	crash_during(OP_UNLOCK_RECOVERY);
}

/* Killed while opening puts out-of-step copies back in step: the newest
 * state survives, never the stale copy. The repair rewrites only the
 * copies that are out of step (one write each), byte for byte. */
static void crash_while_repairing(void **state)
{
	(void)state;
	pset want, stale;
	set_of(S.all, &want);
	set_of(S.ck_rp, &stale);
	for (unsigned n_stale = 1; n_stale <= 2; n_stale++) {
		for (unsigned n = quick ? n_stale : 1; n <= n_stale; n++) {
			char context[80];
			snprintf(context, sizeof context, "%u stale, repair killed in write %u", n_stale,
				 n);
			copy_file(S.work, S.all);
			for (unsigned c = 3 - n_stale; c < 3; c++)
				graft_copy(S.work, S.ck_rp, (int)c, SSRP_FVE_REGION);
			expect_killed(run_child(S.work, n, OP_NONE, NULL), context);
			verify(S.work, OP_NONE, &want, &stale, NULL, 0, context);
		}
	}
	unlink(S.work);
}

/* A copy torn at a sector boundary (its first sector new, the rest old)
 * fails its CRC and is passed over; the copies around it decide. */
static void torn_copies(void **state)
{
	(void)state;
	pset before, after;
	/* S.on is S.all after protection on: the next metadata write. */
	set_of(S.all, &before);
	set_of(S.on, &after);
	assert_int_equal(after.n + 1, before.n);

	static const struct {
		int torn;     /* the copy written halfway */
		int expect;   /* 1: the after-set wins */
		const char *what;
	} cases[] = {
		{0, 0, "copy 1 torn, copies 2 and 3 old"},
		{1, 1, "copy 1 new, copy 2 torn, copy 3 old"},
		{2, 1, "copies 1 and 2 new, copy 3 torn"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		copy_file(S.work, S.all);
		for (int c = 0; c < cases[i].torn; c++)
			graft_copy(S.work, S.on, c, SSRP_FVE_REGION);
		graft_copy(S.work, S.on, cases[i].torn, SSRP_FVE_SECTOR);
		assert_false(in_step(S.work));
		verify(S.work, OP_PROTECTION_ON, &before, NULL, NULL, cases[i].expect,
		       cases[i].what);
	}
	unlink(S.work);
}

/* ---- setup -------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	swtpm_fixture_start(&S.tpm);
	ssrp_tpm *tpm = open_tpm();
	OK(ssrp_tpm_pcr_extend(tpm, 7, "secure boot policy", 18));
	OK(ssrp_tpm_pcr_extend(tpm, 11, "boot manager", 12));
	snprintf(S.fresh, sizeof S.fresh, "%s/fresh.img", S.tpm.dir);
	snprintf(S.ck_rp, sizeof S.ck_rp, "%s/ck_rp.img", S.tpm.dir);
	snprintf(S.all, sizeof S.all, "%s/all.img", S.tpm.dir);
	snprintf(S.on, sizeof S.on, "%s/on.img", S.tpm.dir);
	snprintf(S.work, sizeof S.work, "%s/work.img", S.tpm.dir);

	OK(ssrp_sim_volume_create(S.fresh, VOLUME_SIZE));
	ssrp_volume *v = open_volume(S.fresh);
	uint8_t buf[9000];
	for (unsigned i = 0; i < sizeof data_at / sizeof data_at[0]; i++) {
		fill(buf, data_at[i].len, i + 1);
		OK(ssrp_volume_write(v, data_at[i].offset, buf, data_at[i].len));
	}
	ssrp_volume_close(v);

	copy_file(S.ck_rp, S.fresh);
	v = open_volume(S.ck_rp);
	OK(ssrp_volume_add_recovery_password(v, pw1, NULL));
	ssrp_volume_close(v);

	copy_file(S.all, S.ck_rp);
	v = open_volume(S.all);
	OK(ssrp_volume_add_tpm_protector(v, tpm, 0, NULL));
	ssrp_volume_close(v);
	ssrp_tpm_close(tpm);

	copy_file(S.on, S.all);
	v = open_volume(S.on);
	OK(ssrp_volume_protection_on(v));
	ssrp_volume_close(v);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	const char *files[] = {S.fresh, S.ck_rp, S.all, S.on, S.work};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	swtpm_fixture_stop(&S.tpm);
	return 0;
}

int main(void)
{
	if (ssrp_sim_register_backends())
		return 1;
	setenv("TSS2_LOG", "all+NONE", 0);
	const char *q = getenv("SSRP_TEST_QUICK");
	quick = q && *q && strcmp(q, "0");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crash_adding_a_recovery_password),
		cmocka_unit_test(crash_adding_a_tpm_protector),
		cmocka_unit_test(crash_deleting_a_protector),
		cmocka_unit_test(crash_turning_protection_on),
		cmocka_unit_test(crash_turning_protection_off),
		cmocka_unit_test(crash_recording_a_recovery_unlock),
		cmocka_unit_test(crash_while_repairing),
		cmocka_unit_test(torn_copies),
	};
	return cmocka_run_group_tests_name("volume metadata crash safety", tests, group_setup,
					   group_teardown);
}
