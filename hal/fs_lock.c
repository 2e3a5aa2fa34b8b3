/* ssrp_fs_lock for POSIX: flock(2) on a lock file. flock, not fcntl: an
 * fcntl lock belongs to the process, so two runs in one process (two
 * threads of an integrator's agent) would not exclude each other, and any
 * close of the file by that process would drop it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/clock.h"
#include "hal/fs.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

struct ssrp_fs_lock {
	int fd;
};


int ssrp_fs_lock_acquire(ssrp_fs_lock **out, const char *path, unsigned wait_ms)
{
	*out = NULL;
	/* O_NOFOLLOW: a symbolic link planted at the lock's path must not make
	 * us create or truncate a file elsewhere (nothing is truncated anyway). */
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return ssrp_error_set(SSRP_E_IO, "cannot open lock file %s: %s", path,
				      strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ssrp_error_set(SSRP_E_INVALID, "lock file %s is not a regular file", path);
	}
	uint64_t deadline = ssrp_monotonic_ms() + wait_ms;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EINTR)
			continue;
		if (e != EWOULDBLOCK) {
			close(fd);
			return ssrp_error_set(SSRP_E_IO, "cannot lock %s: %s", path, strerror(e));
		}
		int rc = ssrp_fs_lock_wait_turn(deadline, path, wait_ms);
		if (rc) {
			close(fd);
			return rc;
		}
	}
	ssrp_fs_lock *l = ssrp_malloc(sizeof *l);
	if (!l) {
		close(fd);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	l->fd = fd;
	*out = l;
	return SSRP_OK;
}

void ssrp_fs_lock_release(ssrp_fs_lock *lock)
{
	if (!lock)
		return;
	flock(lock->fd, LOCK_UN);
	close(lock->fd);
	ssrp_free(lock);
}
