/* BitLocker recovery passwords (see recovery_password.h). No allocation, no
 * OS calls: the only outside help is snprintf for the refusal message and
 * hal/random.h for new keys. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bitlocker/recovery_password.h"
#include "hal/random.h"
#include "ssrp/buf.h"
#include "ssrp/sys/error.h"

#define GROUPS 8
#define GROUP_DIGITS 6
#define DIGITS (GROUPS * GROUP_DIGITS)
#define GROUP_MAX (11u * 65535u) /* 720885 */

/* Longest piece of the user's text quoted back in a message. */
#define QUOTE_MAX 12

void ssrp_rp_format(char out[SSRP_RECOVERY_PASSWORD_LEN + 1], const uint8_t key[SSRP_RP_KEY_LEN])
{
	char *w = out;
	for (unsigned g = 0; g < GROUPS; g++) {
		unsigned v = 11u * (unsigned)(key[2 * g] | (key[2 * g + 1] << 8));
		for (int d = GROUP_DIGITS - 1; d >= 0; d--) {
			w[d] = (char)('0' + v % 10);
			v /= 10;
		}
		w += GROUP_DIGITS;
		if (g + 1 < GROUPS)
			*w++ = '-';
	}
	*w = '\0';
}

int ssrp_rp_generate(uint8_t key[SSRP_RP_KEY_LEN])
{
	if (!key)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_rp_generate: NULL argument");
	/* Every 16-bit value is a valid group, so any 16 bytes are a key. */
	int rc = ssrp_random_bytes(key, SSRP_RP_KEY_LEN);
	if (rc) {
		ssrp_memzero(key, SSRP_RP_KEY_LEN);
		return ssrp_error_prefix(rc, "generating a recovery password");
	}
	return SSRP_OK;
}

/* ---- parsing -------------------------------------------------------- */

/* The refusal message, built in place: problems joined by "; ". */
typedef struct problems {
	char text[768];
	size_t len;
	unsigned count;
} problems;

static void add_problem(problems *p, const char *fmt, ...) SSRP_PRINTF(2, 3);

static void add_problem(problems *p, const char *fmt, ...)
{
	size_t room = sizeof p->text - p->len;
	if (room < 3)
		return;
	if (p->count++) {
		memcpy(p->text + p->len, "; ", 3);
		p->len += 2;
		room -= 2;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->text + p->len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* A printable, bounded copy of s[0..n) for quoting. */
static const char *quote(char out[QUOTE_MAX + 4], const char *s, size_t n)
{
	size_t k = n > QUOTE_MAX ? QUOTE_MAX : n;
	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (k < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_space(char c)
{
	return is_blank(c) || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_separator(char c)
{
	return c == '-' || is_blank(c);
}

/* Check one group of exactly six characters; store its quotient. */
static void check_group(problems *p, uint16_t *q, unsigned number, const char *s)
{
	char shown[QUOTE_MAX + 4];
	unsigned v = 0;
	for (unsigned i = 0; i < GROUP_DIGITS; i++) {
		if (!is_digit(s[i])) {
			add_problem(p, "group %u (%s) has a non-digit", number,
				    quote(shown, s, GROUP_DIGITS));
			return;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v % 11)
		add_problem(p, "group %u (%s) is not divisible by 11", number,
			    quote(shown, s, GROUP_DIGITS));
	else if (v > GROUP_MAX)
		add_problem(p, "group %u (%s) is over 720885 (11 x 65535)", number,
			    quote(shown, s, GROUP_DIGITS));
	else
		*q = (uint16_t)(v / 11);
}

/* A group in the text: where it starts and how long it is. */
typedef struct span {
	const char *s;
	size_t n;
} span;

/* Split at separators. A separator is one '-' or a run of blanks; anything
 * else between two groups ("--", " - ") is named as a problem. Returns the
 * number of groups found (it may exceed GROUPS; only GROUPS are kept). */
static unsigned split(problems *p, span groups[GROUPS], const char *s, size_t len)
{
	char shown[QUOTE_MAX + 4];
	unsigned count = 0;
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && !is_separator(s[i]))
			i++;
		if (i > start) {
			if (count < GROUPS)
				groups[count] = (span){s + start, i - start};
			count++;
		}
		if (i == len)
			break;
		size_t sep = i;
		while (i < len && is_separator(s[i]))
			i++;
		size_t dashes = 0;
		for (size_t k = sep; k < i; k++)
			dashes += s[k] == '-';
		size_t blanks = i - sep - dashes;
		if (sep == 0 || i == len)
			add_problem(p, "it %s with '%s'", sep == 0 ? "starts" : "ends",
				    quote(shown, s + sep, i - sep));
		else if (dashes > 1 || (dashes && blanks))
			add_problem(p,
				    "the separator '%s' after group %u is neither one '-' nor "
				    "spaces",
				    quote(shown, s + sep, i - sep), count);
	}
	return count;
}

int ssrp_rp_parse(uint8_t key[SSRP_RP_KEY_LEN], const char *text, size_t len)
{
	if (!key || (!text && len))
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_rp_parse: NULL argument");
	memset(key, 0, SSRP_RP_KEY_LEN);
	while (len && is_space(*text))
		text++, len--;
	while (len && is_space(text[len - 1]))
		len--;
	if (!len)
		return ssrp_error_set(SSRP_E_INVALID,
				      "recovery password: it is empty; a recovery password has 48 "
				      "digits in 8 groups of 6");

	problems p = {.len = 0, .count = 0};
	span groups[GROUPS];
	uint16_t q[GROUPS] = {0};
	unsigned digits = 0, others = 0;
	for (size_t i = 0; i < len; i++) {
		if (is_digit(text[i]))
			digits++;
		else if (!is_separator(text[i]))
			others++;
	}

	unsigned count = split(&p, groups, text, len);
	/* 48 characters in a row: the groups are fixed by position. */
	if (count == 1 && groups[0].n == DIGITS) {
		for (unsigned g = 0; g < GROUPS; g++)
			groups[g] = (span){groups[0].s + g * GROUP_DIGITS, GROUP_DIGITS};
		count = GROUPS;
	}

	int shaped = count == GROUPS;
	for (unsigned g = 0; shaped && g < GROUPS; g++)
		shaped = groups[g].n == GROUP_DIGITS;
	/* When the shape is right, the groups' contents say what is wrong. */
	if (!shaped && (digits != DIGITS || others)) {
		char msg[96];
		int n = snprintf(msg, sizeof msg, "it has %u digit%s", digits, digits == 1 ? "" : "s");
		if (others && n > 0 && (size_t)n < sizeof msg)
			snprintf(msg + n, sizeof msg - (size_t)n, " and %u other character%s", others,
				 others == 1 ? "" : "s");
		add_problem(&p, "%s; a recovery password has 48 in 8 groups of 6", msg);
	} else if (count != GROUPS) {
		add_problem(&p, "it has %u group%s; a recovery password has 48 digits in 8 groups "
				"of 6",
			    count, count == 1 ? "" : "s");
	}
	if (count == GROUPS) {
		for (unsigned g = 0; g < GROUPS; g++) {
			if (groups[g].n == GROUP_DIGITS) {
				check_group(&p, &q[g], g + 1, groups[g].s);
			} else {
				char shown[QUOTE_MAX + 4];
				add_problem(&p, "group %u (%s) has %zu characters, not 6", g + 1,
					    quote(shown, groups[g].s, groups[g].n), groups[g].n);
			}
		}
	}

	if (p.count) {
		ssrp_memzero(q, sizeof q);
		int rc = ssrp_error_set(SSRP_E_INVALID, "recovery password: %s", p.text);
		ssrp_memzero(&p, sizeof p);
		return rc;
	}
	for (unsigned g = 0; g < GROUPS; g++) {
		key[2 * g] = (uint8_t)q[g];
		key[2 * g + 1] = (uint8_t)(q[g] >> 8);
	}
	ssrp_memzero(q, sizeof q);
	return SSRP_OK;
}
