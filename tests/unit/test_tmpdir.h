/* A new directory of a test's own for its files, named ssrp-TAG-XXXXXX:
 * under /tmp (mkdtemp) on POSIX, under the user's temporary directory
 * (GetTempPath) on Windows, where there is no mkdtemp. Its path goes to
 * dir, with forward slashes on Windows too (the file API takes them, and
 * a test may write the path into JSON as it is); NULL when it cannot be
 * made. */
#ifndef SSRP_TEST_TMPDIR_H
#define SSRP_TEST_TMPDIR_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <direct.h>
#include <windows.h>
#endif

static inline char *test_tmpdir(char *dir, size_t cap, const char *tag)
{
#ifdef _WIN32
	char base[MAX_PATH + 1];
	DWORD n = GetTempPathA(sizeof base, base);
	if (n == 0 || n >= sizeof base)
		return NULL;
	/* _mktemp_s names at most 26 candidates per template and process. */
	for (int i = 0; i < 26; i++) {
		if (snprintf(dir, cap, "%sssrp-%s-XXXXXX", base, tag) >= (int)cap ||
		    _mktemp_s(dir, strlen(dir) + 1) != 0)
			return NULL;
		if (_mkdir(dir) == 0) {
			for (char *c = dir; *c; c++)
				if (*c == '\\')
					*c = '/';
			return dir;
		}
		if (errno != EEXIST)
			return NULL;
	}
	return NULL;
#else
	if (snprintf(dir, cap, "/tmp/ssrp-%s-XXXXXX", tag) >= (int)cap)
		return NULL;
	return mkdtemp(dir);
#endif
}

#endif
