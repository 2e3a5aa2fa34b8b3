/* `ssrp volume decrypt` and the read-only spec (see cmd_volume_data.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hal/mem.h"
#include "ssrp/sys/error.h"
#include "tools/cmd_volume_data.h"

const char *cli_volume_spec_read_only(char *out, size_t cap, const char *spec)
{
	if (strncmp(spec, "sim:", 4))
		return spec;
	int n = snprintf(out, cap, "%s%cro", spec, strchr(spec, '?') ? '&' : '?');
	return n > 0 && (size_t)n < cap ? out : spec;
}

static int write_all(int fd, const uint8_t *p, size_t len, const char *path)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ssrp_error_set(SSRP_E_IO, "writing %s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return SSRP_OK;
}

/* The first reserved region starting at or after offset (regions sorted
 * by the caller's scan), or NULL. */
static const ssrp_volume_region *next_region(const ssrp_volume_region *r, size_t n, uint64_t offset)
{
	const ssrp_volume_region *best = NULL;
	for (size_t i = 0; i < n; i++)
		if (r[i].length && r[i].offset + r[i].length > offset &&
		    (!best || r[i].offset < best->offset))
			best = &r[i];
	return best;
}

int cli_volume_stream_decrypted(ssrp_volume *vol, const char *path)
{
	enum { CHUNK = 4 << 20 };
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	ssrp_volume_region regions[16];
	size_t n_regions = 0;
	int rc = ssrp_volume_get_status(vol, &st);
	if (!rc)
		rc = ssrp_volume_reserved_regions(vol, regions, 16, &n_regions);
	if (!rc && n_regions > 16)
		rc = ssrp_error_set(SSRP_E_BUFSIZE, "the volume has %zu reserved regions", n_regions);
	if (rc)
		return rc;
	int to_stdout = !strcmp(path, "-");
	int fd = to_stdout ? STDOUT_FILENO
			   : open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ssrp_error_set(SSRP_E_IO, "cannot create %s: %s%s", path, strerror(errno),
				      errno == EEXIST ? " (decrypt never overwrites a file)" : "");
	uint8_t *buf = ssrp_malloc(CHUNK);
	if (!buf)
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	for (uint64_t offset = 0; !rc && offset < st.size;) {
		size_t len = st.size - offset < CHUNK ? (size_t)(st.size - offset) : CHUNK;
		const ssrp_volume_region *r = next_region(regions, n_regions, offset);
		if (r && r->offset <= offset) {
			/* inside a hole: zeros up to its end */
			uint64_t left = r->offset + r->length - offset;
			if (left < len)
				len = (size_t)left;
			memset(buf, 0, len);
		} else {
			if (r && r->offset - offset < len)
				len = (size_t)(r->offset - offset);
			rc = ssrp_volume_read(vol, offset, buf, len);
		}
		if (!rc)
			rc = write_all(fd, buf, len, to_stdout ? "standard output" : path);
		offset += len;
	}
	ssrp_free_secret(buf, buf ? CHUNK : 0);
	if (!rc && !to_stdout && fsync(fd))
		rc = ssrp_error_set(SSRP_E_IO, "flushing %s: %s", path, strerror(errno));
	if (!to_stdout) {
		close(fd);
		if (rc)
			unlink(path); /* it is ours: never leave half a volume behind */
	}
	return rc;
}
