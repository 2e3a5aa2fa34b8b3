/* Small text helpers shared by the simulated cloud's handlers: GUIDs,
 * ISO 8601 times, hex, percent-decoding and form bodies. No locking, no
 * global state. */
#ifndef SSRP_SIM_CLOUD_UTIL_H
#define SSRP_SIM_CLOUD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/cloud/state.h"

/* Copy a valid GUID into out in lower case; SSRP_E_INVALID naming it otherwise. */
int cloud_id_normalize(char out[CLOUD_ID_LEN + 1], const char *text);

/* Unix seconds <-> "2024-05-01T12:00:00Z". Parsing accepts an optional
 * fraction of up to 7 digits (Graph writes ".0000000") and requires the Z;
 * SSRP_E_FORMAT otherwise. Years 1970..9999. */
#define CLOUD_TIME_ISO_LEN 20
void cloud_time_format_iso(char out[CLOUD_TIME_ISO_LEN + 1], uint64_t t);
int cloud_time_parse_iso(uint64_t *out, const char *text);
/* Civil time pieces of t, UTC (no time zone database involved). */
void cloud_time_split(uint64_t t, int *year, int *month, int *day, int *hour, int *min, int *sec);

/* Percent-decode in[0..len) into out (cap bytes with the NUL); '+' becomes a
 * space when plus_is_space. Returns the decoded length, SSRP_E_FORMAT for a
 * bad escape or an encoded NUL, SSRP_E_BUFSIZE when out is too small (out is
 * then ""). Sets the error message. */
int cloud_percent_decode(char *out, size_t cap, const char *in, size_t len, int plus_is_space);

/* An application/x-www-form-urlencoded body, decoded. Values may be
 * secrets (client_secret, password), so cloud_form_free zeroes them. */
#define CLOUD_FORM_MAX 24
typedef struct cloud_form {
	size_t n;
	const char *name[CLOUD_FORM_MAX];
	const char *value[CLOUD_FORM_MAX];
	char *buf; /* one allocation holding every decoded name and value */
	size_t buf_len;
} cloud_form;

/* Strict: '&'-separated name=value pairs, each name non-empty and given
 * once, escapes well formed, no encoded NUL, at most CLOUD_FORM_MAX pairs.
 * Empty segments ("a=1&&b=2", a trailing '&') are skipped, as every form
 * parser does. SSRP_E_FORMAT with a message naming the problem. */
int cloud_form_parse(cloud_form *f, const char *text, size_t len);
const char *cloud_form_get(const cloud_form *f, const char *name);
void cloud_form_free(cloud_form *f);

#endif
