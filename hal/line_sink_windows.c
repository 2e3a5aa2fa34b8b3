/* hal/line_sink.h on Windows: standard error, a file opened for append
 * (FILE_APPEND_DATA: every write lands at the end, whole, whichever process
 * writes), or for "syslog" the Event Log: each line one Information event
 * in the Application log from source ident (RegisterEventSourceW), event ID
 * 1 with the line as its one string. ssrp.msi registers the source with
 * EventCreate.exe as its message file, whose IDs 1-1000 show the string
 * itself; an unregistered source still logs the string (Event Viewer then
 * adds that it found no description). */
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
	HANDLE h;     /* INVALID_HANDLE_VALUE: standard error or the Event Log */
	HANDLE event; /* the Event Log source, or NULL */
	char *path;
};

#define SSRP_EVENT_ID 1 /* EventCreate.exe's message for IDs 1-1000 is "%1" */

static int open_event_log(ssrp_line_sink *s, const char *what, const char *ident)
{
	wchar_t *w = ssrp_win32_widen(ident);
	s->event = w ? RegisterEventSourceW(NULL, w) : NULL;
	ssrp_free(w);
	if (!s->event) {
		char msg[256];
		return ssrp_error_set(SSRP_E_IO, "cannot open the Event Log for the %s (source %s): %s",
				      what, ident, ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
	}
	return SSRP_OK;
}

int ssrp_line_sink_open(ssrp_line_sink **out, const char *spec, const char *what,
			const char *ident)
{
	*out = NULL;
	ssrp_line_sink *s = ssrp_calloc(1, sizeof *s);
	if (!s)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	s->h = INVALID_HANDLE_VALUE;
	if (!strcmp(spec, "syslog")) {
		int rc = open_event_log(s, what, ident);
		if (rc) {
			ssrp_free(s);
			return rc;
		}
	} else if (strcmp(spec, "-")) {
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

static int write_event(ssrp_line_sink *s, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	int n = len ? MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, line, (int)len, NULL, 0)
		    : 0;
	if (len > 30000 || (len && n <= 0))
		return ssrp_error_set(SSRP_E_INVALID,
				      "a line for the Event Log is not UTF-8 or longer than 30000 bytes");
	wchar_t *w = ssrp_malloc(((size_t)n + 1) * sizeof *w);
	if (!w)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (n)
		MultiByteToWideChar(CP_UTF8, 0, line, (int)len, w, n);
	w[n] = L'\0';
	const wchar_t *strings[1] = {w};
	BOOL ok = ReportEventW(s->event, EVENTLOG_INFORMATION_TYPE, 0, SSRP_EVENT_ID, NULL, 1, 0,
			       strings, NULL);
	DWORD err = GetLastError();
	ssrp_free(w);
	if (!ok) {
		char msg[256];
		return ssrp_error_set(SSRP_E_IO, "cannot write a line to the Event Log: %s",
				      ssrp_win32_strerror(err, msg, sizeof msg));
	}
	return SSRP_OK;
}

int ssrp_line_sink_write(ssrp_line_sink *s, const char *line, size_t len)
{
	if (s->event)
		return write_event(s, line, len);
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
	return s->path ? s->path : s->event ? "the Event Log" : "stderr";
}

void ssrp_line_sink_close(ssrp_line_sink *s)
{
	if (!s)
		return;
	if (s->h != INVALID_HANDLE_VALUE)
		CloseHandle(s->h);
	if (s->event)
		DeregisterEventSource(s->event);
	ssrp_free(s->path);
	ssrp_free(s);
}
