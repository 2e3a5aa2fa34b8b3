/* hal/line_sink.h on POSIX systems. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "hal/fs.h"
#include "hal/line_sink.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

typedef enum { SINK_FILE, SINK_SYSLOG, SINK_STDERR } sink_kind;

struct ssrp_line_sink {
	sink_kind kind;
	int fd;
	char *path;
};

int ssrp_line_sink_open(ssrp_line_sink **out, const char *spec, const char *what,
			const char *ident)
{
	*out = NULL;
	ssrp_line_sink *s = ssrp_calloc(1, sizeof *s);
	if (!s)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	s->fd = -1;
	if (!strcmp(spec, "-")) {
		s->kind = SINK_STDERR;
	} else if (!strcmp(spec, "syslog")) {
		s->kind = SINK_SYSLOG;
		openlog(ident, LOG_PID, LOG_AUTH);
	} else {
		s->kind = SINK_FILE;
		int rc = ssrp_fs_check_trusted(spec, what, 0);
		if (rc) {
			ssrp_free(s);
			return rc;
		}
		/* O_NOFOLLOW, O_NONBLOCK: a link is not followed and a FIFO is
		 * not waited on; fstat then refuses anything but a file. */
		s->fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
			     0600);
		struct stat st;
		if (s->fd < 0 || fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			int e = s->fd < 0 ? errno : 0;
			if (s->fd >= 0)
				close(s->fd);
			ssrp_free(s);
			return ssrp_error_set(SSRP_E_IO, "cannot open the %s %s: %s", what, spec,
					      e ? strerror(e) : "not a regular file");
		}
		if (!(s->path = ssrp_strdup(spec))) {
			close(s->fd);
			ssrp_free(s);
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		}
	}
	*out = s;
	return SSRP_OK;
}

int ssrp_line_sink_write(ssrp_line_sink *s, const char *line, size_t len)
{
	if (s->kind == SINK_SYSLOG) {
		syslog(LOG_INFO, "%.*s", (int)(len && line[len - 1] == '\n' ? len - 1 : len), line);
		return SSRP_OK;
	}
	int fd = s->kind == SINK_FILE ? s->fd : STDERR_FILENO;
	ssize_t w;
	do
		w = write(fd, line, len);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)len)
		return ssrp_error_set(SSRP_E_IO, "cannot write a line to %s: %s",
				      ssrp_line_sink_name(s), w < 0 ? strerror(errno) : "short write");
	return SSRP_OK;
}

const char *ssrp_line_sink_name(const ssrp_line_sink *s)
{
	return s->kind == SINK_FILE ? s->path : s->kind == SINK_SYSLOG ? "syslog" : "stderr";
}

void ssrp_line_sink_close(ssrp_line_sink *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	ssrp_free(s->path);
	ssrp_free(s);
}
