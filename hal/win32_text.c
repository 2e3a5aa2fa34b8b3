/* hal/win32_text.h. */
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "hal/mem.h"
#include "hal/win32_text.h"

wchar_t *ssrp_win32_widen(const char *path)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
	if (n <= 0)
		return NULL;
	wchar_t *w = ssrp_malloc((size_t)n * sizeof *w);
	if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
		ssrp_free(w);
		return NULL;
	}
	return w;
}

const char *ssrp_win32_strerror(unsigned long code, char *buf, size_t cap)
{
	DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
				 (DWORD)code, 0, buf, (DWORD)cap, NULL);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '.'))
		buf[--n] = '\0';
	if (!n)
		snprintf(buf, cap, "Windows error %lu", code);
	return buf;
}
