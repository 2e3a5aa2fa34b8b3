/* GUIDs for every layer: 16 bytes in Microsoft's mixed-endian layout
 * (Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4[8]), as BitLocker stores
 * them; in text "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (upper case) as
 * BitLocker shows a protector id, or 8-4-4-4-12 lower case without braces
 * as Entra ID spells a device or tenant id. */
#ifndef SSRP_HAL_GUID_H
#define SSRP_HAL_GUID_H

#include <stddef.h>
#include <stdint.h>

#define SSRP_GUID_LEN 16
#define SSRP_GUID_TEXT_LEN 38 /* with braces, without the NUL */
#define SSRP_GUID_BARE_LEN 36 /* without braces or the NUL */

void ssrp_guid_format(char out[SSRP_GUID_TEXT_LEN + 1], const uint8_t guid[SSRP_GUID_LEN]);
/* Accepts braces or not, either case; SSRP_E_INVALID naming the problem. */
int ssrp_guid_parse(uint8_t guid[SSRP_GUID_LEN], const char *text);
/* A random (version 4) GUID from hal/random.h. */
int ssrp_guid_generate(uint8_t guid[SSRP_GUID_LEN]);
/* A GUID's text in any case, braces optional, as BitLocker spells a
 * protector id: "{XXXXXXXX-...}" upper case. SSRP_E_INVALID (with
 * ssrp_guid_parse's message) when text is not a GUID. */
int ssrp_guid_canonical(char out[SSRP_GUID_TEXT_LEN + 1], const char *text);
/* The same GUID as an Entra id: lower case, no braces. SSRP_E_INVALID (with
 * ssrp_guid_parse's message, out empty) when text is not a GUID. */
int ssrp_guid_lower(char out[SSRP_GUID_BARE_LEN + 1], const char *text);
/* 1 when text is exactly 8-4-4-4-12 hex digits (either case, no braces),
 * else 0; sets no error. */
int ssrp_guid_is_bare(const char *text);

#endif
