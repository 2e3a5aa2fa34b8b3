/* The simulated volume's file (see volume_store.h). POSIX. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/mem.h"
#include "sim/volume_store.h"
#include "ssrp/sys/error.h"

int ssrp_sim_store_pread(ssrp_sim_store *s, void *buf, size_t len, uint64_t offset)
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

static int write_all(ssrp_sim_store *s, const uint8_t *p, size_t len, uint64_t offset)
{
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

int ssrp_sim_store_pwrite(ssrp_sim_store *s, const void *buf, size_t len, uint64_t offset)
{
	return write_all(s, buf, len, offset);
}

int ssrp_sim_store_sync(ssrp_sim_store *s)
{
	if (fsync(s->fd))
		return ssrp_error_set(SSRP_E_IO, "flushing %s to disk: %s", s->path, strerror(errno));
	return SSRP_OK;
}

int ssrp_sim_store_open(ssrp_sim_store *s, const char *path)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->map = NULL;
	if (strlen(path) >= sizeof s->path)
		return ssrp_error_set(SSRP_E_INVALID, "volume path is too long");
	strcpy(s->path, path);
	s->fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return ssrp_error_set(errno == ENOENT ? SSRP_E_NOTFOUND : SSRP_E_IO,
				      "cannot open volume %s: %s", path, strerror(errno));
	if (flock(s->fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		ssrp_sim_store_close(s);
		return ssrp_error_set(SSRP_E_IO, "volume %s is in use by another process (%s)", path,
				      strerror(e));
	}
	struct stat st;
	uint8_t header[SSRP_FVE_SECTOR];
	uint64_t size = 0;
	int rc = fstat(s->fd, &st) ? ssrp_error_set(SSRP_E_IO, "cannot stat %s", path) : SSRP_OK;
	if (!rc && (uint64_t)st.st_size < SSRP_SIM_VOLUME_MIN)
		rc = ssrp_error_set(SSRP_E_FORMAT, "%s is %lld bytes: too small to be a volume", path,
				    (long long)st.st_size);
	if (!rc)
		rc = ssrp_sim_store_pread(s, header, sizeof header, 0);
	if (!rc)
		rc = ssrp_fve_volume_header_parse(s->layout.copies, &size, header);
	if (!rc) {
		s->layout.size = size;
		s->layout.relocated_at = s->layout.copies[0] + SSRP_FVE_REGION;
		if (size > (uint64_t)st.st_size)
			rc = ssrp_error_set(SSRP_E_FORMAT,
					    "volume header: %llu bytes announced, the file has %lld",
					    (unsigned long long)size, (long long)st.st_size);
	}
	if (!rc)
		rc = ssrp_sim_layout_check(&s->layout);
	if (!rc) {
		s->map_len = (size_t)s->layout.size;
		void *m = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
		if (m == MAP_FAILED)
			rc = ssrp_error_set(SSRP_E_IO, "cannot map %s: %s", path, strerror(errno));
		else
			s->map = m;
	}
	if (rc) {
		ssrp_error_prefix(rc, "%s", path);
		ssrp_sim_store_close(s);
	}
	return rc;
}

int ssrp_sim_store_sync_data(ssrp_sim_store *s)
{
	if (!s->data_dirty)
		return SSRP_OK;
	if (msync(s->map, s->map_len, MS_SYNC))
		return ssrp_error_set(SSRP_E_IO, "flushing %s to disk: %s", s->path, strerror(errno));
	s->data_dirty = 0;
	return SSRP_OK;
}

void ssrp_sim_store_close(ssrp_sim_store *s)
{
	if (s->map) {
		ssrp_sim_store_sync_data(s);
		munmap(s->map, s->map_len);
		s->map = NULL;
	}
	if (s->fd >= 0)
		close(s->fd); /* releases the lock */
	s->fd = -1;
}

int ssrp_sim_store_read_metadata(ssrp_sim_store *s, ssrp_fve_metadata *out)
{
	uint8_t *region = ssrp_malloc(SSRP_FVE_REGION);
	ssrp_fve_metadata *copy = ssrp_malloc(sizeof *copy);
	if (!region || !copy) {
		ssrp_free(region);
		ssrp_free(copy);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading metadata");
	}
	int best = -1, valid = 0, rc = SSRP_OK;
	char why[3][256] = {"", "", ""};
	uint64_t seqs[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		rc = ssrp_sim_store_pread(s, region, SSRP_FVE_REGION, s->layout.copies[i]);
		if (rc == SSRP_OK)
			rc = ssrp_fve_metadata_parse(copy, region, SSRP_FVE_REGION);
		if (rc == SSRP_OK && (copy->volume_size != s->layout.size ||
				      memcmp(copy->copies, s->layout.copies, sizeof copy->copies) ||
				      copy->relocated_at != s->layout.relocated_at))
			rc = ssrp_error_set(SSRP_E_FORMAT,
					    "metadata: its offsets disagree with the volume header");
		if (rc) {
			snprintf(why[i], sizeof why[i], "%s", ssrp_error_last());
			continue;
		}
		valid++;
		seqs[i] = copy->sequence;
		if (best < 0 || copy->sequence > out->sequence) {
			best = i;
			memcpy(out, copy, sizeof *copy);
		}
	}
	ssrp_free(region);
	ssrp_free_secret(copy, sizeof *copy);
	if (best < 0)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "%s: no readable metadata copy (1: %s; 2: %s; 3: %s)", s->path,
				      why[0], why[1], why[2]);
	s->copies_in_step = valid == 3 && seqs[0] == seqs[1] && seqs[1] == seqs[2];
	ssrp_error_clear();
	return SSRP_OK;
}

/* One copy's write (the encoded block, rounded up to whole sectors: the
 * rest of the region is never read), or the crash a test asked for in the
 * middle of it: half the block written, then SIGKILL. */
static int write_region(ssrp_sim_store *s, const uint8_t *buf, size_t len, uint64_t offset)
{
	if (s->kill_at_write && ++s->writes == s->kill_at_write) {
		write_all(s, buf, len / 2, offset);
		fsync(s->fd);
		raise(SIGKILL);
	}
	int rc = write_all(s, buf, len, offset);
	return rc ? rc : ssrp_sim_store_sync(s);
}

int ssrp_sim_store_write_metadata(ssrp_sim_store *s, ssrp_fve_metadata *md)
{
	uint8_t *region = ssrp_calloc(1, SSRP_FVE_REGION);
	if (!region)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory writing metadata");
	md->sequence++;
	size_t used = 0;
	int rc = ssrp_fve_metadata_encode(region, SSRP_FVE_REGION - 8, &used, md);
	size_t len = (used + SSRP_FVE_SECTOR - 1) / SSRP_FVE_SECTOR * SSRP_FVE_SECTOR;
	for (int i = 0; rc == SSRP_OK && i < 3; i++)
		rc = write_region(s, region, len, s->layout.copies[i]);
	ssrp_free_secret(region, SSRP_FVE_REGION);
	if (rc == SSRP_OK)
		s->copies_in_step = 1;
	return rc;
}
