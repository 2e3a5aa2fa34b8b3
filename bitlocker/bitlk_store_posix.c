/* A BitLocker volume's file or device on POSIX (see bitlk_store.h): flock,
 * pread/pwrite, a shared mapping. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bitlocker/bitlk_store.h"
#include "ssrp/sys/error.h"

int ssrp_bitlk_store_pread(ssrp_bitlk_store *s, void *buf, size_t len, uint64_t offset)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(s->fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ssrp_error_set(SSRP_E_IO, "reading %s at %llu: %s", s->path,
					      (unsigned long long)offset,
					      n ? strerror(errno) : "unexpected end of file");
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return SSRP_OK;
}

int ssrp_bitlk_store_pwrite(ssrp_bitlk_store *s, const void *buf, size_t len, uint64_t offset)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(s->fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ssrp_error_set(SSRP_E_IO, "writing %s at %llu: %s", s->path,
					      (unsigned long long)offset, strerror(errno));
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return SSRP_OK;
}

int ssrp_bitlk_store_sync(ssrp_bitlk_store *s)
{
	if (fsync(s->fd))
		return ssrp_error_set(SSRP_E_IO, "flushing %s to disk: %s", s->path, strerror(errno));
	return SSRP_OK;
}

int ssrp_bitlk_store_map(ssrp_bitlk_store *s)
{
	if (s->map)
		return SSRP_OK;
	s->map_len = (size_t)s->layout.size;
	void *m = mmap(NULL, s->map_len, PROT_READ | (s->writable ? PROT_WRITE : 0), MAP_SHARED,
		       s->fd, 0);
	if (m == MAP_FAILED)
		return ssrp_error_set(SSRP_E_IO, "cannot map %s: %s", s->path, strerror(errno));
	s->map = m;
	return SSRP_OK;
}

int ssrp_bitlk_store_open_file(ssrp_bitlk_store *s)
{
	s->fd = open(s->path, (s->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (s->fd < 0)
		return ssrp_error_set(errno == ENOENT ? SSRP_E_NOTFOUND : SSRP_E_IO,
				      "cannot open volume %s%s: %s", s->path,
				      s->writable ? " for writing" : "", strerror(errno));
	if (flock(s->fd, (s->writable ? LOCK_EX : LOCK_SH) | LOCK_NB)) {
		int e = errno;
		ssrp_bitlk_store_close_file(s);
		return ssrp_error_set(SSRP_E_IO, "volume %s is in use by another process (%s)", s->path,
				      strerror(e));
	}
	/* A block device's size is where its end is, not st_size. */
	off_t end = lseek(s->fd, 0, SEEK_END);
	if (end < 0) {
		int e = errno;
		ssrp_bitlk_store_close_file(s);
		return ssrp_error_set(SSRP_E_IO, "%s: cannot size %s: %s", s->path, s->path,
				      strerror(e));
	}
	s->dev_size = (uint64_t)end;
	return SSRP_OK;
}

int ssrp_bitlk_store_sync_data(ssrp_bitlk_store *s)
{
	if (!s->data_dirty)
		return SSRP_OK;
	if (msync(s->map, s->map_len, MS_SYNC))
		return ssrp_error_set(SSRP_E_IO, "flushing %s to disk: %s", s->path, strerror(errno));
	s->data_dirty = 0;
	return SSRP_OK;
}

void ssrp_bitlk_store_close_file(ssrp_bitlk_store *s)
{
	if (s->map) {
		ssrp_bitlk_store_sync_data(s);
		munmap(s->map, s->map_len);
		s->map = NULL;
	}
	if (s->fd >= 0)
		close(s->fd); /* releases the lock */
	s->fd = -1;
}
