/* hal/line_sink.h on Windows: standard error or a file opened for append
 * (FILE_APPEND_DATA: every write lands at the end, whole, whichever process
 * writes). "syslog" is refused with a clear error: the Event Log needs a
 * registered source, which the installer does not create yet. */
#include <io.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "hal/fs.h"
#include "hal/line_sink.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"

struct ssrp_line_sink {
	HANDLE h; /* INVALID_HANDLE_VALUE: standard error */
	char *path;
};

int ssrp_line_sink_open(ssrp_line_sink **out, const char *spec, const char *what,
			const char *ident)
{
	(void)ident;
	*out = NULL;
	if (!strcmp(spec, "syslog"))
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "the %s cannot go to \"syslog\" on Windows (the Event Log is not "
				      "supported yet): give a file path, or - for standard error",
				      what);
	ssrp_line_sink *s = ssrp_calloc(1, sizeof *s);
	if (!s)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	s->h = INVALID_HANDLE_VALUE;
	if (strcmp(spec, "-")) {
		int rc = ssrp_fs_check_trusted(spec, what, 0);
		if (rc) {
			ssrp_free(s);
			return rc;
		}
		wchar_t *w = ssrp_win32_widen(spec);
		s->h = w ? CreateFileW(w, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
				       OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
				       NULL)
			 : INVALID_HANDLE_VALUE;
		ssrp_free(w);
		char msg[256];
		if (s->h == INVALID_HANDLE_VALUE) {
			ssrp_free(s);
			return ssrp_error_set(SSRP_E_IO, "cannot open the %s %s: %s", what, spec,
					      ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
		}
		if (GetFileType(s->h) != FILE_TYPE_DISK || !(s->path = ssrp_strdup(spec))) {
			int disk = GetFileType(s->h) == FILE_TYPE_DISK;
			CloseHandle(s->h);
			ssrp_free(s);
			return disk ? ssrp_error_set(SSRP_E_NOMEM, "out of memory")
				    : ssrp_error_set(SSRP_E_IO, "cannot open the %s %s: not a regular file",
						     what, spec);
		}
	}
	*out = s;
	return SSRP_OK;
}

int ssrp_line_sink_write(ssrp_line_sink *s, const char *line, size_t len)
{
	if (s->h == INVALID_HANDLE_VALUE) {
		fwrite(line, 1, len, stderr);
		return fflush(stderr) == 0 ? SSRP_OK
					   : ssrp_error_set(SSRP_E_IO, "cannot write a line to stderr");
	}
	DWORD done = 0;
	if (len > 0xffffffffu || !WriteFile(s->h, line, (DWORD)len, &done, NULL) || done != len) {
		char msg[256];
		return ssrp_error_set(SSRP_E_IO, "cannot write a line to %s: %s", s->path,
				      ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
	}
	return SSRP_OK;
}

const char *ssrp_line_sink_name(const ssrp_line_sink *s)
{
	return s->path ? s->path : "stderr";
}

void ssrp_line_sink_close(ssrp_line_sink *s)
{
	if (!s)
		return;
	if (s->h != INVALID_HANDLE_VALUE)
		CloseHandle(s->h);
	ssrp_free(s->path);
	ssrp_free(s);
}
