/* `ssrp volume decrypt` and the read-only spec (see cmd_volume_data.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ssrp/buf.h>
#include <ssrp/file.h>
#include <ssrp/sys/error.h>
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

/* Where the view goes: standard output, an existing device (written in
 * place, only with force), or a new file created under a temporary name
 * beside path and put in place once complete. */
typedef struct out_file {
	int fd, to_stdout, in_place;
	char tmp[4200];
} out_file;

static int out_open(out_file *o, const char *path, int force)
{
	struct stat sb;
	memset(o, 0, sizeof *o);
	o->fd = -1;
	if (!strcmp(path, "-")) {
		o->to_stdout = 1;
		o->fd = STDOUT_FILENO;
		return SSRP_OK;
	}
	int exists = lstat(path, &sb) == 0;
	if (exists && !force)
		return ssrp_error_set(SSRP_E_REFUSED,
				      "%s exists: decrypt never overwrites a file unless --force is "
				      "given",
				      path);
	if (exists && (S_ISBLK(sb.st_mode) || S_ISCHR(sb.st_mode))) {
		o->in_place = 1;
		o->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (o->fd < 0)
			return ssrp_error_set(SSRP_E_IO, "cannot open %s: %s", path, strerror(errno));
		return SSRP_OK;
	}
	if ((size_t)snprintf(o->tmp, sizeof o->tmp, "%s.ssrp-XXXXXX", path) >= sizeof o->tmp)
		return ssrp_error_set(SSRP_E_INVALID, "the output path is too long");
	o->fd = mkstemp(o->tmp); /* mode 0600, beside path: the same file system */
	if (o->fd < 0)
		return ssrp_error_set(SSRP_E_IO, "cannot create a file beside %s: %s", path,
				      strerror(errno));
	return SSRP_OK;
}

/* Make the output durable and, for a new file, put it under path without
 * replacing a file that appeared meanwhile; force renames over it. */
static int out_finish(out_file *o, const char *path, int force, int rc)
{
	if (o->to_stdout)
		return rc;
	if (!rc && fsync(o->fd))
		rc = ssrp_error_set(SSRP_E_IO, "flushing %s: %s", path, strerror(errno));
	close(o->fd);
	if (o->in_place)
		return rc;
	if (!rc && force && rename(o->tmp, path))
		rc = ssrp_error_set(SSRP_E_IO, "cannot put the output at %s: %s", path,
				    strerror(errno));
	if (!rc && !force && (rc = ssrp_fs_move_noreplace(o->tmp, path)) == SSRP_E_REFUSED)
		ssrp_error_prefix(rc, "decrypt never overwrites a file unless --force is given");
	if (rc)
		unlink(o->tmp); /* ours: never leave half a volume behind */
	return rc;
}

int cli_volume_stream_decrypted(ssrp_volume *vol, const char *path, int force)
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
	out_file o;
	if ((rc = out_open(&o, path, force)))
		return rc;
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
			rc = write_all(o.fd, buf, len, o.to_stdout ? "standard output" : path);
		offset += len;
	}
	ssrp_free_secret(buf, buf ? CHUNK : 0);
	return out_finish(&o, path, force, rc);
}
