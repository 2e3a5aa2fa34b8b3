/* Inputs and outputs a user names on the command line, for POSIX: what may
 * be read without waiting forever, and what may be replaced without
 * clobbering a device, a FIFO or the target of a symbolic link. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hal/fs.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISLNK(m)  ? "a symbolic link"
			     : "not a regular file";
}


int ssrp_fs_read_input(const char *path, size_t max, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!strcmp(path, "-"))
		return ssrp_fs_read_fd(STDIN_FILENO, "standard input", max, out, len);
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; the type
	 * check below then refuses it. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ssrp_error_set(errno == ENOENT ? SSRP_E_NOTFOUND : SSRP_E_IO,
				      "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		mode_t m = st.st_mode;
		close(fd);
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s is %s; give a regular file, or - for standard input", path,
				      kind_of(m));
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return ssrp_error_set(SSRP_E_INVALID, "%s is larger than %zu bytes", path, max);
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	int rc = ssrp_fs_read_fd(fd, path, max, out, len);
	close(fd);
	return rc;
}

int ssrp_fs_write_all(int fd, const char *name, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", name,
					      w < 0 ? strerror(errno) : "no progress");
		done += (size_t)w;
	}
	return SSRP_OK;
}

/* A character device or FIFO: written in place, never replaced. */
static int write_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ssrp_error_set(SSRP_E_IO, "cannot open %s for writing: %s", path,
				      errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return ssrp_error_set(SSRP_E_INVALID, "%s changed type while being opened", path);
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	int rc = ssrp_fs_write_all(fd, path, data, len);
	if (close(fd) != 0 && rc == SSRP_OK)
		rc = ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", path, strerror(errno));
	return rc;
}

int ssrp_fs_write_output(const char *path, const void *data, size_t len, mode_t mode,
			 unsigned flags)
{
	if (!strcmp(path, "-")) {
		int rc = ssrp_fs_write_all(STDOUT_FILENO, "standard output", data, len);
		return rc;
	}
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return ssrp_error_set(SSRP_E_IO, "cannot inspect %s: %s", path,
					      strerror(errno));
		return ssrp_fs_write_atomic(path, data, len, mode);
	}
	if (S_ISLNK(st.st_mode)) {
		if (!(flags & SSRP_FS_FOLLOW_SYMLINK))
			return ssrp_error_set(SSRP_E_REFUSED,
					      "%s is a symbolic link; ssrp does not write through "
					      "one unless asked (--follow-symlink)",
					      path);
		char target[4096];
		if (!realpath(path, target)) {
			if (errno != ENOENT)
				return ssrp_error_set(SSRP_E_IO, "cannot resolve %s: %s", path,
						      strerror(errno));
			return ssrp_error_set(SSRP_E_NOTFOUND,
					      "%s is a symbolic link to a missing file", path);
		}
		return ssrp_fs_write_output(target, data, len, mode, 0);
	}
	if (S_ISREG(st.st_mode))
		return ssrp_fs_write_atomic(path, data, len, mode);
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
		return write_in_place(path, data, len);
	return ssrp_error_set(SSRP_E_REFUSED, "%s is %s; ssrp writes only regular files, "
					      "character devices, FIFOs or - (standard output)",
			      path, kind_of(st.st_mode));
}

int ssrp_fs_move_aside(const char *path, char *moved, size_t moved_cap)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm))
		snprintf(stamp, sizeof stamp, "%lld", (long long)now);
	for (unsigned n = 0; n < 1000; n++) {
		int w = n ? snprintf(moved, moved_cap, "%s.corrupt-%s.%u", path, stamp, n)
			  : snprintf(moved, moved_cap, "%s.corrupt-%s", path, stamp);
		if (w < 0 || (size_t)w >= moved_cap)
			return ssrp_error_set(SSRP_E_INVALID, "path %s is too long", path);
		/* link + unlink rather than rename: never replace an earlier
		 * copy moved aside in the same second. */
		if (link(path, moved) == 0) {
			if (unlink(path) != 0)
				return ssrp_error_set(SSRP_E_IO, "copied %s to %s but cannot remove it: %s",
						      path, moved, strerror(errno));
			return SSRP_OK;
		}
		if (errno == EEXIST)
			continue;
		/* A file system without hard links: rename, after making sure
		 * the name is free. */
		struct stat st;
		if ((errno == EPERM || errno == ENOTSUP) && lstat(moved, &st) != 0 &&
		    errno == ENOENT) {
			if (rename(path, moved) == 0)
				return SSRP_OK;
		}
		return ssrp_error_set(SSRP_E_IO, "cannot move %s aside to %s: %s", path, moved,
				      strerror(errno));
	}
	return ssrp_error_set(SSRP_E_IO, "cannot move %s aside: too many copies already", path);
}
