/* Hex digits in ASCII: one parser and one writer for every layer (GUIDs,
 * key ids, digests, percent escapes). */
#ifndef SSRP_HAL_HEX_H
#define SSRP_HAL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit c (either case), or -1 when c is none. */
int ssrp_hex_value(int c);
/* n bytes as 2n lower-case digits and a NUL (out holds 2n + 1). */
void ssrp_hex_encode(char *out, const uint8_t *data, size_t n);
/* Exactly 2n hex digits (either case) into n bytes; 0, or -1 when text is
 * not that (out is then unspecified). */
int ssrp_hex_decode(uint8_t *out, size_t n, const char *text);

#endif
