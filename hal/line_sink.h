/* Where an audit trail's lines go: standard error, the system log, or a
 * file appended to. POSIX: line_sink_posix.c (O_APPEND, syslog); Windows:
 * line_sink_windows.c (FILE_APPEND_DATA; "syslog" is the Event Log's
 * Application log, source ident). */
#ifndef SSRP_HAL_LINE_SINK_H
#define SSRP_HAL_LINE_SINK_H

#include <stddef.h>

typedef struct ssrp_line_sink ssrp_line_sink;

/* spec "-": standard error; "syslog": the system log under ident (facility
 * auth); anything else a file path: only a regular file no other user could
 * have written (ssrp_fs_check_trusted, what names it in errors), never
 * through a symbolic link, never a FIFO waited on; created 0600. */
int ssrp_line_sink_open(ssrp_line_sink **out, const char *spec, const char *what,
			const char *ident);
/* Write line[0..len), which ends with '\n', in one write: appends from
 * several processes never interleave. The system log gets it without the
 * newline. Not thread-safe: the caller serialises. */
int ssrp_line_sink_write(ssrp_line_sink *s, const char *line, size_t len);
/* "stderr", "syslog" or the file's path, for messages. */
const char *ssrp_line_sink_name(const ssrp_line_sink *s);
void ssrp_line_sink_close(ssrp_line_sink *s);

#endif
