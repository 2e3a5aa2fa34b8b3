/* GUIDs in Microsoft's mixed-endian layout (see guid.h). No allocation, no
 * OS calls. */
#include <string.h>

#include "hal/guid.h"
#include "hal/hex.h"
#include "hal/random.h"
#include "ssrp/sys/error.h"

/* Text position of each byte's two hex digits, without the braces: Data1,
 * Data2 and Data3 are shown most significant byte first but stored little
 * endian, so their bytes appear reversed. */
static const uint8_t text_pos[SSRP_GUID_LEN] = {
	6, 4, 2, 0,	/* Data1 */
	11, 9,		/* Data2 */
	16, 14,		/* Data3 */
	19, 21,		/* Data4[0..1] */
	24, 26, 28, 30, 32, 34, /* Data4[2..7] */
};

static int is_dash_pos(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

/* The 36 characters without braces, in the given digits' case. */
static void format_bare(char *t, const uint8_t guid[SSRP_GUID_LEN], const char *digits)
{
	for (size_t i = 0; i < SSRP_GUID_BARE_LEN; i++)
		if (is_dash_pos(i))
			t[i] = '-';
	for (size_t b = 0; b < SSRP_GUID_LEN; b++) {
		t[text_pos[b]] = digits[guid[b] >> 4];
		t[text_pos[b] + 1] = digits[guid[b] & 15];
	}
}

void ssrp_guid_format(char out[SSRP_GUID_TEXT_LEN + 1], const uint8_t guid[SSRP_GUID_LEN])
{
	out[0] = '{';
	format_bare(out + 1, guid, "0123456789ABCDEF");
	out[SSRP_GUID_TEXT_LEN - 1] = '}';
	out[SSRP_GUID_TEXT_LEN] = '\0';
}

int ssrp_guid_parse(uint8_t guid[SSRP_GUID_LEN], const char *text)
{
	if (!guid || !text)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_guid_parse: NULL argument");
	memset(guid, 0, SSRP_GUID_LEN);
	size_t len = strlen(text);
	const char *t = text;
	if (len && (text[0] == '{' || text[len - 1] == '}')) {
		if (len != SSRP_GUID_TEXT_LEN || text[0] != '{' || text[len - 1] != '}')
			return ssrp_error_set(SSRP_E_INVALID,
					      "GUID '%.40s': braces must enclose exactly "
					      "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX",
					      text);
		t++;
		len -= 2;
	}
	if (len != SSRP_GUID_BARE_LEN)
		return ssrp_error_set(SSRP_E_INVALID,
				      "GUID '%.40s': %zu characters; a GUID is "
				      "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX (36, or 38 with braces)",
				      text, len);
	for (size_t i = 0; i < SSRP_GUID_BARE_LEN; i++) {
		if (is_dash_pos(i) ? t[i] != '-' : ssrp_hex_value((unsigned char)t[i]) < 0)
			return ssrp_error_set(SSRP_E_INVALID,
					      "GUID '%.40s': character %zu ('%c') should be %s", text,
					      (size_t)(t - text) + i + 1,
					      t[i] > 0x20 && t[i] < 0x7f ? t[i] : '?',
					      is_dash_pos(i) ? "'-'" : "a hex digit");
	}
	for (size_t b = 0; b < SSRP_GUID_LEN; b++)
		guid[b] = (uint8_t)(ssrp_hex_value((unsigned char)t[text_pos[b]]) << 4 |
				    ssrp_hex_value((unsigned char)t[text_pos[b] + 1]));
	return SSRP_OK;
}

int ssrp_guid_generate(uint8_t guid[SSRP_GUID_LEN])
{
	if (!guid)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_guid_generate: NULL argument");
	int rc = ssrp_random_bytes(guid, SSRP_GUID_LEN);
	if (rc)
		return ssrp_error_prefix(rc, "generating a GUID");
	/* RFC 4122 version 4: the version is the top nibble of Data3, stored
	 * little endian, so it is in byte 7; the variant is in Data4[0]. */
	guid[7] = (uint8_t)((guid[7] & 0x0f) | 0x40);
	guid[8] = (uint8_t)((guid[8] & 0x3f) | 0x80);
	return SSRP_OK;
}

int ssrp_guid_canonical(char out[SSRP_GUID_TEXT_LEN + 1], const char *text)
{
	uint8_t g[SSRP_GUID_LEN];
	int rc = ssrp_guid_parse(g, text);
	if (rc == SSRP_OK)
		ssrp_guid_format(out, g);
	return rc;
}

int ssrp_guid_lower(char out[SSRP_GUID_BARE_LEN + 1], const char *text)
{
	uint8_t g[SSRP_GUID_LEN];
	int rc = ssrp_guid_parse(g, text);
	if (rc != SSRP_OK) {
		out[0] = '\0';
		return rc;
	}
	format_bare(out, g, "0123456789abcdef");
	out[SSRP_GUID_BARE_LEN] = '\0';
	return SSRP_OK;
}

int ssrp_guid_is_bare(const char *text)
{
	if (!text)
		return 0;
	for (size_t i = 0; i < SSRP_GUID_BARE_LEN; i++)
		if (is_dash_pos(i) ? text[i] != '-' : ssrp_hex_value((unsigned char)text[i]) < 0)
			return 0;
	return text[SSRP_GUID_BARE_LEN] == '\0';
}
