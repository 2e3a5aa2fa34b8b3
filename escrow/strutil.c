/* escrow/strutil.h */
#include "escrow/strutil.h"

#include <stdarg.h>
#include <string.h>

#include "hal/mem.h"

char *ssrp_strjoin(const char *first, ...)
{
	va_list ap;
	size_t n = 0;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		n += strlen(s);
	va_end(ap);
	char *o = ssrp_malloc(n + 1), *w = o;
	if (!o)
		return NULL;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t l = strlen(s);
		memcpy(w, s, l);
		w += l;
	}
	va_end(ap);
	*w = '\0';
	return o;
}

void ssrp_copy_printable(char *dst, size_t cap, const char *s)
{
	if (!cap)
		return;
	size_t i = 0;
	for (; s && s[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	dst[i] = '\0';
}
