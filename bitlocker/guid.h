/* GUIDs as BitLocker stores and shows them: 16 bytes on disk in Microsoft's
 * mixed-endian layout (Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4[8]),
 * "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" (upper case) in text. */
#ifndef SSRP_BITLOCKER_GUID_H
#define SSRP_BITLOCKER_GUID_H

#include <stddef.h>
#include <stdint.h>

#define SSRP_GUID_LEN 16
#define SSRP_GUID_TEXT_LEN 38 /* with braces, without the NUL */

void ssrp_guid_format(char out[SSRP_GUID_TEXT_LEN + 1], const uint8_t guid[SSRP_GUID_LEN]);
/* Accepts braces or not, either case; SSRP_E_INVALID naming the problem. */
int ssrp_guid_parse(uint8_t guid[SSRP_GUID_LEN], const char *text);
/* A random (version 4) GUID from hal/random.h. */
int ssrp_guid_generate(uint8_t guid[SSRP_GUID_LEN]);
/* A GUID's text in any case, braces optional, as BitLocker spells a
 * protector id: "{XXXXXXXX-...}" upper case. SSRP_E_INVALID (with
 * ssrp_guid_parse's message) when text is not a GUID. */
int ssrp_guid_canonical(char out[SSRP_GUID_TEXT_LEN + 1], const char *text);

#endif
