/* hal/fs.h for POSIX systems. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/fs.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

int ssrp_fs_mkdirs(const char *dir, mode_t mode)
{
	char path[4096];
	size_t len = dir ? strlen(dir) : 0;
	if (len == 0 || len >= sizeof path)
		return ssrp_error_set(SSRP_E_INVALID, "bad directory '%s'", dir ? dir : "");
	memcpy(path, dir, len + 1);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(path, mode) == -1 && errno != EEXIST)
			return ssrp_error_set(SSRP_E_IO, "cannot create directory %s: %s", path,
					      strerror(errno));
		*p = saved;
		if (!saved)
			break;
	}
	return SSRP_OK;
}

int ssrp_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	/* Unique per call, not only per process: threads of one process may
	 * replace the same file at once (the last rename wins, whole). */
	static unsigned long calls;
	unsigned long n = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s exists and is not a regular file (%s); ssrp replaces only "
				      "regular files",
				      path,
				      S_ISLNK(st.st_mode)    ? "a symbolic link"
				      : S_ISCHR(st.st_mode)  ? "a character device"
				      : S_ISFIFO(st.st_mode) ? "a FIFO"
				      : S_ISDIR(st.st_mode)  ? "a directory"
							     : "a special file");
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(), n) >= sizeof tmp)
		return ssrp_error_set(SSRP_E_INVALID, "path '%s' is too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return ssrp_error_set(SSRP_E_IO, "cannot create %s: %s", tmp, strerror(errno));
	fchmod(fd, mode); /* whatever the umask */
	if (ssrp_fs_write_all(fd, tmp, data, len) != SSRP_OK) {
		close(fd);
		unlink(tmp);
		return ssrp_error_prefix(SSRP_E_IO, "cannot write %s", path);
	}
	int ok = fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", path, strerror(e));
	}
	/* The rename is durable only once the directory is on disk too. */
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return ssrp_error_set(SSRP_E_IO, "wrote %s but cannot sync its directory %s: %s", path,
				      dir, strerror(e));
	}
	close(dfd);
	return SSRP_OK;
}

int ssrp_secret_file_read(const char *path, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO must be refused, not waited on. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ssrp_error_set(SSRP_E_IO, "cannot open secret file %s: %s", path,
				      strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ssrp_error_set(SSRP_E_IO, "secret file %s is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return ssrp_error_set(SSRP_E_PERMISSION,
				      "secret file %s is accessible to group or others (mode %03o); "
				      "make it private: chmod 600 %s",
				      path, (unsigned)(st.st_mode & 0777), path);
	}
	if (st.st_size > 65536) {
		close(fd);
		return ssrp_error_set(SSRP_E_INVALID, "secret file %s is larger than 64 KiB", path);
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	size_t cap = (size_t)st.st_size + 1;
	char *buf = ssrp_malloc(cap);
	if (!buf) {
		close(fd);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	size_t got = 0;
	while (got < cap - 1) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	while (got && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		got--;
	buf[got] = '\0';
	if (!got) {
		ssrp_free_secret(buf, cap);
		return ssrp_error_set(SSRP_E_INVALID, "secret file %s is empty", path);
	}
	/* Shrinking is not needed; the caller frees with the length it sees, so
	 * zero the tail now. */
	memset(buf + got, 0, cap - got);
	*out = buf;
	*len = got;
	return SSRP_OK;
}

int ssrp_fs_exists(const char *path)
{
	struct stat st;
	return !(stat(path, &st) != 0 && errno == ENOENT);
}

int ssrp_fs_move_noreplace(const char *from, const char *to)
{
	if (link(from, to))
		return ssrp_error_set(errno == EEXIST ? SSRP_E_REFUSED : SSRP_E_IO,
				      "cannot put the file at %s: %s", to, strerror(errno));
	unlink(from);
	return SSRP_OK;
}

int ssrp_fs_dirname(const char *path, char *dir, size_t cap)
{
	snprintf(dir, cap, "%s", path);
	char *slash = strrchr(dir, '/');
#ifdef _WIN32
	char *bs = strrchr(dir, '\\');
	if (bs && (!slash || bs > slash))
		slash = bs;
#endif
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return 1;
}
