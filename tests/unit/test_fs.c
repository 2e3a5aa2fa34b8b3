/* hal/fs: outputs never replace devices, FIFOs or symbolic links; inputs
 * never wait on a FIFO; trust checks on who could have written a file; the
 * run lock; files moved aside. */
#include <fcntl.h>
#include <setjmp.h>
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

#include "hal/clock.h"
#include "hal/fs.h"
#include "hal/mem.h"
#include "ssrp/error.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ssrp-fs-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void atomic_write_refuses_special_files(void **state)
{
	(void)state;
	char fifo[256], link[256], target[256];
	snprintf(fifo, sizeof fifo, "%s", in_dir("fifo"));
	snprintf(link, sizeof link, "%s", in_dir("link"));
	snprintf(target, sizeof target, "%s", in_dir("target"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	write_text(target, "keep");
	assert_int_equal(symlink(target, link), 0);
	const char *paths[] = {fifo, link, dir, "/dev/null"};
	for (size_t i = 0; i < 4; i++) {
		struct stat before, after;
		assert_int_equal(lstat(paths[i], &before), 0);
		assert_int_equal(ssrp_fs_write_atomic(paths[i], "x", 1, 0600), SSRP_E_INVALID);
		assert_non_null(strstr(ssrp_error_last(), "not a regular file"));
		assert_int_equal(lstat(paths[i], &after), 0);
		assert_int_equal(before.st_mode, after.st_mode);
		assert_int_equal(before.st_ino, after.st_ino);
	}
	/* A regular file is still replaced. */
	assert_int_equal(ssrp_fs_write_atomic(target, "new", 3, 0600), SSRP_OK);
	unsigned char *got;
	size_t len;
	assert_int_equal(ssrp_fs_read_input(target, 100, &got, &len), SSRP_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(got, "new", 3);
	ssrp_free_secret(got, len + 1);
	unlink(fifo);
	unlink(link);
	unlink(target);
}

static void output_devices_written_in_place(void **state)
{
	(void)state;
	struct stat before, after;
	assert_int_equal(stat("/dev/null", &before), 0);
	assert_int_equal(ssrp_fs_write_output("/dev/null", "abc", 3, 0600, 0), SSRP_OK);
	assert_int_equal(stat("/dev/null", &after), 0);
	assert_true(S_ISCHR(after.st_mode));
	assert_int_equal(before.st_rdev, after.st_rdev);

	/* A FIFO with a reader gets the bytes; the FIFO stays. */
	const char *fifo = in_dir("out.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	int rd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(ssrp_fs_write_output(fifo, "hello", 5, 0600, 0), SSRP_OK);
	char buf[8] = {0};
	assert_int_equal(read(rd, buf, sizeof buf), 5);
	assert_memory_equal(buf, "hello", 5);
	close(rd);
	/* Without a reader: refused at once, not waited on. */
	uint64_t t0 = ssrp_monotonic_ms();
	assert_int_equal(ssrp_fs_write_output(fifo, "x", 1, 0600, 0), SSRP_E_IO);
	assert_non_null(strstr(ssrp_error_last(), "no reader"));
	assert_true(ssrp_monotonic_ms() - t0 < 2000);
	struct stat st;
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	unlink(fifo);

	/* A directory is refused. */
	assert_int_equal(ssrp_fs_write_output(dir, "x", 1, 0600, 0), SSRP_E_REFUSED);
	assert_non_null(strstr(ssrp_error_last(), "a directory"));
}

static void output_symlink_only_when_asked(void **state)
{
	(void)state;
	char link[256], target[256];
	snprintf(link, sizeof link, "%s", in_dir("o.link"));
	snprintf(target, sizeof target, "%s", in_dir("o.target"));
	write_text(target, "old");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(ssrp_fs_write_output(link, "new", 3, 0600, 0), SSRP_E_REFUSED);
	assert_non_null(strstr(ssrp_error_last(), "symbolic link"));
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unsigned char *got;
	size_t len;
	assert_int_equal(ssrp_fs_read_input(target, 100, &got, &len), SSRP_OK);
	assert_string_equal((char *)got, "old");
	ssrp_free_secret(got, len + 1);
	/* Asked for: the target is replaced, the link stays a link. */
	assert_int_equal(ssrp_fs_write_output(link, "new", 3, 0600, SSRP_FS_FOLLOW_SYMLINK),
			 SSRP_OK);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(ssrp_fs_read_input(target, 100, &got, &len), SSRP_OK);
	assert_string_equal((char *)got, "new");
	ssrp_free_secret(got, len + 1);
	unlink(link);
	unlink(target);
}

static void input_never_waits(void **state)
{
	(void)state;
	const char *fifo = in_dir("in.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	uint64_t t0 = ssrp_monotonic_ms();
	unsigned char *got = NULL;
	size_t len = 0;
	assert_int_equal(ssrp_fs_read_input(fifo, 100, &got, &len), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "a FIFO"));
	assert_true(ssrp_monotonic_ms() - t0 < 2000);
	assert_null(got);
	/* Secret files too: refused, not waited on. */
	char *secret = NULL;
	assert_int_equal(chmod(fifo, 0600), 0);
	t0 = ssrp_monotonic_ms();
	assert_int_equal(ssrp_secret_file_read(fifo, &secret, &len), SSRP_E_IO);
	assert_non_null(strstr(ssrp_error_last(), "not a regular file"));
	assert_true(ssrp_monotonic_ms() - t0 < 2000);
	assert_null(secret);
	unlink(fifo);
	assert_int_equal(ssrp_fs_read_input(dir, 100, &got, &len), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "a directory"));
	assert_int_equal(ssrp_fs_read_input("/dev/zero", 100, &got, &len), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "a character device"));
	assert_int_equal(ssrp_fs_read_input(in_dir("missing"), 100, &got, &len), SSRP_E_NOTFOUND);
	/* The size cap, exactly. */
	const char *big = in_dir("big");
	write_text(big, "0123456789");
	assert_int_equal(ssrp_fs_read_input(big, 9, &got, &len), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "larger than 9 bytes"));
	assert_int_equal(ssrp_fs_read_input(big, 10, &got, &len), SSRP_OK);
	assert_int_equal(len, 10);
	assert_int_equal(got[10], '\0');
	ssrp_free_secret(got, len + 1);
	unlink(big);
}

static void trust_checks(void **state)
{
	(void)state;
	char sub[128], file[256];
	snprintf(sub, sizeof sub, "%s/etc", dir);
	snprintf(file, sizeof file, "%s/config.json", sub);
	assert_int_equal(mkdir(sub, 0755), 0);
	/* Missing file in a good directory: fine (the journal of a first run). */
	assert_int_equal(ssrp_fs_check_trusted(file, "journal", SSRP_FS_TRUST_OWN_DIR), SSRP_OK);
	write_text(file, "{}");
	chmod(file, 0644);
	assert_int_equal(ssrp_fs_check_trusted(file, "configuration", 0), SSRP_OK);
	chmod(file, 0664);
	assert_int_equal(ssrp_fs_check_trusted(file, "configuration", 0), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "configuration file"));
	assert_non_null(strstr(ssrp_error_last(), "chmod go-w"));
	chmod(file, 0644);
	/* A directory others may write, without the sticky bit. */
	chmod(sub, 0777);
	assert_int_equal(ssrp_fs_check_trusted(file, "configuration", 0), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "directory"));
	/* With the sticky bit: others cannot replace our file ... */
	chmod(sub, 01777);
	assert_int_equal(ssrp_fs_check_trusted(file, "configuration", 0), SSRP_OK);
	/* ... but the journal's own directory must be ours alone. */
	assert_int_equal(ssrp_fs_check_trusted(file, "journal", SSRP_FS_TRUST_OWN_DIR),
			 SSRP_E_PERMISSION);
	chmod(sub, 0700);
	assert_int_equal(ssrp_fs_check_trusted(file, "journal", SSRP_FS_TRUST_OWN_DIR), SSRP_OK);
	/* A symbolic link: judged by its target too; never for the journal. */
	char link[256];
	snprintf(link, sizeof link, "%s/link.json", sub);
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(ssrp_fs_check_trusted(link, "configuration", 0), SSRP_OK);
	chmod(file, 0666);
	assert_int_equal(ssrp_fs_check_trusted(link, "configuration", 0), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "mode 0666"));
	chmod(file, 0644);
	assert_int_equal(ssrp_fs_check_trusted(link, "journal", SSRP_FS_TRUST_OWN_DIR),
			 SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "symbolic link"));
	unlink(link);
	/* Owned by someone else (only root can arrange that here). */
	if (geteuid() == 0) {
		assert_int_equal(chown(file, 65534, 65534), 0);
		assert_int_equal(ssrp_fs_check_trusted(file, "journal", 0), SSRP_E_PERMISSION);
		assert_non_null(strstr(ssrp_error_last(), "belongs to uid 65534"));
		assert_int_equal(chown(file, 0, 0), 0);
		assert_int_equal(chown(sub, 65534, 65534), 0);
		assert_int_equal(ssrp_fs_check_trusted(file, "journal", 0), SSRP_E_PERMISSION);
		assert_non_null(strstr(ssrp_error_last(), "directory"));
		assert_int_equal(chown(sub, 0, 0), 0);
	}
	unlink(file);
	rmdir(sub);
}

static void lock_excludes_and_waits(void **state)
{
	(void)state;
	const char *path = in_dir("run.lock");
	ssrp_fs_lock *a = NULL, *b = NULL;
	assert_int_equal(ssrp_fs_lock_acquire(&a, path, 0), SSRP_OK);
	/* A second holder in the same process is excluded too. */
	uint64_t t0 = ssrp_monotonic_ms();
	assert_int_equal(ssrp_fs_lock_acquire(&b, path, 200), SSRP_E_BUSY);
	uint64_t waited = ssrp_monotonic_ms() - t0;
	assert_true(waited >= 190);
	assert_non_null(strstr(ssrp_error_last(), "another run is in progress"));
	assert_null(b);
	/* Another process waits until the lock is released. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ssrp_fs_lock *c = NULL;
		_exit(ssrp_fs_lock_acquire(&c, path, 5000) == SSRP_OK ? 0 : 1);
	}
	ssrp_sleep_ms(150);
	ssrp_fs_lock_release(a);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(ssrp_fs_lock_acquire(&b, path, 0), SSRP_OK);
	ssrp_fs_lock_release(b);
	/* A symbolic link at the lock's path is not followed. */
	char link[256];
	snprintf(link, sizeof link, "%s", in_dir("evil.lock"));
	assert_int_equal(symlink("/tmp/ssrp-fs-not-here", link), 0);
	assert_int_equal(ssrp_fs_lock_acquire(&b, link, 0), SSRP_E_IO);
	assert_int_equal(access("/tmp/ssrp-fs-not-here", F_OK), -1);
	unlink(link);
	unlink(path);
}

static void move_aside_keeps_every_copy(void **state)
{
	(void)state;
	char path[256], m1[300], m2[300];
	snprintf(path, sizeof path, "%s", in_dir("journal.json"));
	write_text(path, "first");
	assert_int_equal(ssrp_fs_move_aside(path, m1, sizeof m1), SSRP_OK);
	assert_int_equal(access(path, F_OK), -1);
	assert_non_null(strstr(m1, "journal.json.corrupt-"));
	write_text(path, "second");
	assert_int_equal(ssrp_fs_move_aside(path, m2, sizeof m2), SSRP_OK);
	assert_string_not_equal(m1, m2);
	unsigned char *got;
	size_t len;
	assert_int_equal(ssrp_fs_read_input(m1, 100, &got, &len), SSRP_OK);
	assert_string_equal((char *)got, "first");
	ssrp_free_secret(got, len + 1);
	assert_int_equal(ssrp_fs_read_input(m2, 100, &got, &len), SSRP_OK);
	assert_string_equal((char *)got, "second");
	ssrp_free_secret(got, len + 1);
	unlink(m1);
	unlink(m2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(atomic_write_refuses_special_files),
		cmocka_unit_test(output_devices_written_in_place),
		cmocka_unit_test(output_symlink_only_when_asked),
		cmocka_unit_test(input_never_waits),
		cmocka_unit_test(trust_checks),
		cmocka_unit_test(lock_excludes_and_waits),
		cmocka_unit_test(move_aside_keeps_every_copy),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
