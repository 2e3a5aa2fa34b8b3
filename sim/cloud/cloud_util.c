/* Text helpers for the simulated cloud (see cloud_util.h). */
#include <string.h>

#include "hal/guid.h"
#include "hal/hex.h"
#include "hal/mem.h"
#include "sim/cloud/cloud_util.h"
#include "ssrp/sys/error.h"

int cloud_id_normalize(char out[CLOUD_ID_LEN + 1], const char *text)
{
	if (!ssrp_guid_is_bare(text)) {
		out[0] = '\0';
		return ssrp_error_set(SSRP_E_INVALID, "'%.60s' is not a GUID (8-4-4-4-12 hex digits)",
				      text ? text : "(null)");
	}
	return ssrp_guid_lower(out, text);
}

/* ---- time ----------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
 * Hinnant's algorithms): timegm/gmtime_r are not in C11 and differ on
 * Windows, and the simulator must not depend on the TZ environment. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void cloud_time_split(uint64_t t, int *year, int *month, int *day, int *hour, int *min, int *sec)
{
	int64_t z = (int64_t)(t / 86400) + 719468;
	uint64_t rem = t % 86400;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)((int64_t)yoe + era * 400 + (m <= 2));
	*month = (int)m;
	*day = (int)d;
	*hour = (int)(rem / 3600);
	*min = (int)(rem / 60 % 60);
	*sec = (int)(rem % 60);
}

static void put_digits(char *out, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void cloud_time_format_iso(char out[CLOUD_TIME_ISO_LEN + 1], uint64_t t)
{
	int y, mo, d, h, mi, s;
	/* 9999-12-31T23:59:59Z is the last time the format can hold. */
	if (t > 253402300799ull)
		t = 253402300799ull;
	cloud_time_split(t, &y, &mo, &d, &h, &mi, &s);
	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, (unsigned)mo, 2);
	out[7] = '-';
	put_digits(out + 8, (unsigned)d, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)h, 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)mi, 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)s, 2);
	out[19] = 'Z';
	out[20] = '\0';
}

static int digits(const char *p, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*out = v;
	return 0;
}

int cloud_time_parse_iso(uint64_t *out, const char *text)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, s;
	*out = 0;
	if (!text || strlen(text) < 20 || digits(text, 4, &y) || text[4] != '-' ||
	    digits(text + 5, 2, &mo) || text[7] != '-' || digits(text + 8, 2, &d) ||
	    text[10] != 'T' || digits(text + 11, 2, &h) || text[13] != ':' ||
	    digits(text + 14, 2, &mi) || text[16] != ':' || digits(text + 17, 2, &s))
		return ssrp_error_set(SSRP_E_FORMAT, "'%.40s' is not a time like 2024-05-01T12:00:00Z",
				      text ? text : "(null)");
	const char *p = text + 19;
	if (*p == '.') {
		size_t n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			n++;
		if (n == 0 || n > 7)
			return ssrp_error_set(SSRP_E_FORMAT,
					      "'%.40s': a fraction of a second needs 1 to 7 digits", text);
	}
	if (p[0] != 'Z' || p[1] != '\0')
		return ssrp_error_set(SSRP_E_FORMAT, "'%.40s' must end in Z (UTC)", text);
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || s > 59)
		return ssrp_error_set(SSRP_E_FORMAT, "'%.40s' is not a valid date and time (1970 on)",
				      text);
	*out = (uint64_t)days_from_civil((int64_t)y, mo, d) * 86400u + h * 3600u + mi * 60u + s;
	return SSRP_OK;
}

/* ---- percent-decoding and forms ------------------------------------------- */

int cloud_percent_decode(char *out, size_t cap, const char *in, size_t len, int plus_is_space)
{
	size_t o = 0;
	if (!cap)
		return ssrp_error_set(SSRP_E_BUFSIZE, "no room to decode into");
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i];
		if (c == '%') {
			/* Both hex digits must lie inside in[0..len). */
			int hi = i + 2 < len ? ssrp_hex_value((unsigned char)in[i + 1]) : -1;
			int lo = hi >= 0 ? ssrp_hex_value((unsigned char)in[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				out[0] = '\0';
				return ssrp_error_set(SSRP_E_FORMAT,
						      "bad percent escape at byte %zu (want %%XX with hex digits)",
						      i);
			}
			c = hi << 4 | lo;
			if (c == 0) {
				out[0] = '\0';
				return ssrp_error_set(SSRP_E_FORMAT, "an encoded NUL (%%00) at byte %zu", i);
			}
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		} else if (c == 0) {
			out[0] = '\0';
			return ssrp_error_set(SSRP_E_FORMAT, "a NUL byte at byte %zu", i);
		}
		if (o + 1 >= cap) {
			out[0] = '\0';
			return ssrp_error_set(SSRP_E_BUFSIZE, "the decoded text is longer than %zu bytes",
					      cap - 1);
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

int cloud_form_parse(cloud_form *f, const char *text, size_t len)
{
	memset(f, 0, sizeof *f);
	if (len && !text)
		return ssrp_error_set(SSRP_E_INVALID, "form body: NULL text");
	/* Decoding never lengthens, so len bytes plus one NUL per pair and per
	 * name always fit. */
	size_t cap = 2 * len + 2;
	f->buf = ssrp_malloc(cap);
	if (!f->buf)
		return ssrp_error_set(SSRP_E_NOMEM, "form body: out of memory");
	f->buf_len = cap;
	size_t used = 0;
	size_t i = 0;
	while (i <= len) {
		size_t end = i;
		while (end < len && text[end] != '&')
			end++;
		if (end > i) {
			const char *eq = memchr(text + i, '=', end - i);
			if (!eq) {
				cloud_form_free(f);
				return ssrp_error_set(SSRP_E_FORMAT,
						      "form body: the pair at byte %zu has no '='", i);
			}
			if (eq == text + i) {
				cloud_form_free(f);
				return ssrp_error_set(SSRP_E_FORMAT,
						      "form body: the pair at byte %zu has an empty name", i);
			}
			if (f->n == CLOUD_FORM_MAX) {
				cloud_form_free(f);
				return ssrp_error_set(SSRP_E_FORMAT, "form body: more than %d parameters",
						      CLOUD_FORM_MAX);
			}
			size_t nlen = (size_t)(eq - (text + i));
			char *name = f->buf + used;
			int rc = cloud_percent_decode(name, cap - used, text + i, nlen, 1);
			if (rc < 0) {
				cloud_form_free(f);
				return ssrp_error_prefix(SSRP_E_FORMAT, "form body: parameter name at byte %zu", i);
			}
			used += (size_t)rc + 1;
			char *value = f->buf + used;
			rc = cloud_percent_decode(value, cap - used, eq + 1, (size_t)(text + end - eq - 1), 1);
			if (rc < 0) {
				/* Never quote the value: it may be a secret. */
				ssrp_error_prefix(SSRP_E_FORMAT, "form body: value of '%.64s'", name);
				cloud_form_free(f);
				return SSRP_E_FORMAT;
			}
			used += (size_t)rc + 1;
			if (cloud_form_get(f, name)) {
				ssrp_error_set(SSRP_E_FORMAT, "form body: the parameter '%.64s' is duplicated",
					       name);
				cloud_form_free(f);
				return SSRP_E_FORMAT;
			}
			f->name[f->n] = name;
			f->value[f->n] = value;
			f->n++;
		}
		i = end + 1;
	}
	return SSRP_OK;
}

const char *cloud_form_get(const cloud_form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->name[i], name))
			return f->value[i];
	return NULL;
}

void cloud_form_free(cloud_form *f)
{
	ssrp_free_secret(f->buf, f->buf_len);
	memset(f, 0, sizeof *f);
}
