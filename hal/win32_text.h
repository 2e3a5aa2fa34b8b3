/* UTF-8 paths to the UTF-16 the Windows API takes, and Windows error codes
 * as text, for the hal/ files of a Windows build. */
#ifndef SSRP_HAL_WIN32_TEXT_H
#define SSRP_HAL_WIN32_TEXT_H

#include <stddef.h>
#include <wchar.h>

/* path as UTF-16, freed with ssrp_free; NULL when it is not UTF-8 or out of
 * memory. */
wchar_t *ssrp_win32_widen(const char *path);

/* The system's message for a GetLastError() code, into buf (cap bytes, one
 * line, no trailing period); buf is returned. */
const char *ssrp_win32_strerror(unsigned long code, char *buf, size_t cap);

#endif
