/* hal/hex.h: ASCII only, locale-free. */
#include "hal/hex.h"

#include <string.h>

int ssrp_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void ssrp_hex_encode(char *out, const uint8_t *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * n] = '\0';
}

int ssrp_hex_decode(uint8_t *out, size_t n, const char *text)
{
	if (!text || strlen(text) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = ssrp_hex_value((unsigned char)text[2 * i]);
		int lo = ssrp_hex_value((unsigned char)text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
