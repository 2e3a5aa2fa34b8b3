/* BitLocker recovery passwords: 48 digits in 8 groups of 6, each group 11 ×
 * a 16-bit value; the 16-byte key is those 8 values as little-endian u16.
 * Portable: no allocation, no OS calls. */
#ifndef SSRP_BITLOCKER_RECOVERY_PASSWORD_H
#define SSRP_BITLOCKER_RECOVERY_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/common.h" /* SSRP_RECOVERY_PASSWORD_LEN, the text's length */

#define SSRP_RP_KEY_LEN 16

/* key16 → "111683-110022-..." into out (SSRP_RECOVERY_PASSWORD_LEN + 1 bytes). */
void ssrp_rp_format(char out[SSRP_RECOVERY_PASSWORD_LEN + 1], const uint8_t key[SSRP_RP_KEY_LEN]);

/* Parse a typed password strictly into key16. Accepted separators between
 * groups: one '-', or a run of spaces/tabs, or none at all (48 digits in a
 * row); leading and trailing white space is ignored. Each group must be 6
 * digits, divisible by 11, with a quotient <= 65535. SSRP_E_INVALID with a
 * message naming every bad group ("group 3 (683299) is not divisible by 11;
 * group 8 ...") or the length/separator problem; key is zeroed on failure.
 * len is the text's length (no NUL needed). */
int ssrp_rp_parse(uint8_t key[SSRP_RP_KEY_LEN], const char *text, size_t len);

/* A new password's key from 16 random bytes (hal/random.h). */
int ssrp_rp_generate(uint8_t key[SSRP_RP_KEY_LEN]);

#endif
