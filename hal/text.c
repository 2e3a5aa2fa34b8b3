/* hal/text.h: ASCII-only, locale-free. */
#include "hal/text.h"

int ssrp_ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static unsigned char fold(char c)
{
	return (unsigned char)ssrp_ascii_lower((unsigned char)c);
}

int ssrp_ascii_icmp(const char *a, const char *b)
{
	for (; *a && fold(*a) == fold(*b); a++, b++)
		;
	return (int)fold(*a) - (int)fold(*b);
}

int ssrp_ascii_ieq(const char *a, const char *b)
{
	return ssrp_ascii_icmp(a, b) == 0;
}

int ssrp_ascii_ieq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!a[i] || fold(a[i]) != fold(b[i]))
			return 0;
	return 1;
}
