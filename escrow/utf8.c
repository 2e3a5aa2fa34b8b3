/* escrow/utf8.h: strict UTF-8 (RFC 3629). */
#include "escrow/utf8.h"

#include <string.h>

#include "hal/mem.h"

#define REPLACEMENT "\xef\xbf\xbd"

/* Length of the valid sequence at p (at most n bytes), 0 if invalid. */
static size_t seq_len(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t len;
	unsigned min;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = p[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t ssrp_utf8_invalid_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t l = seq_len(p + i, n - i);
		if (!l)
			return i;
		i += l;
	}
	return n;
}

int ssrp_utf8_prefix(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		size_t l = seq_len(p + i, n - i);
		if (!l)
			l = 1; /* an invalid byte is cut like a character */
		if (i + l > max)
			break;
		i += l;
	}
	return (int)i;
}

char *ssrp_utf8_clean(const char *s)
{
	size_t n = strlen(s);
	char *out = ssrp_malloc(n * 3 + 1);
	if (!out)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	while (i < n) {
		size_t l = seq_len(p + i, n - i);
		if (l) {
			memcpy(out + o, p + i, l);
			o += l;
			i += l;
		} else {
			memcpy(out + o, REPLACEMENT, 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return out;
}
