/* libFuzzer target: the simulated Graph's $filter and $search parsers.
 *
 * Mode 0 (first byte 0 mod 3): the rest is a filter. The parser either
 * refuses it with SSRP_E_INVALID or SSRP_E_NOTSUPPORTED and a message, or
 * accepts it; an accepted filter names at least one property, reports a
 * use for exactly the properties it names, evaluates without crashing,
 * whatever value it says an object must have (the index hint) is the value
 * of every object it matches, and "not (filter)" never matches an object
 * the filter matches (OData's null makes both false, never both true).
 *
 * Mode 1 (1 mod 3): the rest is a display name. Escaped the OData way (''
 * for '), it must make a filter that parses and matches exactly that name:
 * no name can turn into filter syntax.
 *
 * Mode 2 (2 mod 3): the rest is a $search. Refused with a message, or
 * accepted naming at least one property and evaluated without crashing;
 * a display name searched for by its own text always finds itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cloud/graph_filter.h"
#include "sim/cloud/graph_search.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct obj {
	const char *v[GRAPH_PROP_COUNT];
} obj;

static const char *get(const void *o, graph_filter_prop p)
{
	return ((const obj *)o)->v[p];
}

static int ascii_caseeq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

static void check_hint(const graph_filter *f, const obj *o)
{
	if (!graph_filter_match(f, get, o))
		return;
	for (int p = 0; p < GRAPH_PROP_COUNT; p++) {
		const char *want = graph_filter_required_value(f, (graph_filter_prop)p);
		if (want && (!o->v[p] || !ascii_caseeq(want, o->v[p])))
			abort();
	}
}

static void filter_mode(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches a read past the end. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return;
	memcpy(text, data, size);
	graph_filter *f = NULL;
	int rc = graph_filter_parse(&f, text, size);
	if (rc != SSRP_OK) {
		if (f || (rc != SSRP_E_INVALID && rc != SSRP_E_NOTSUPPORTED && rc != SSRP_E_NOMEM) ||
		    !ssrp_error_last()[0])
			abort();
		free(text);
		return;
	}
	if (!f || !graph_filter_props(f))
		abort();
	for (int p = 0; p < GRAPH_PROP_COUNT; p++)
		if (!graph_filter_ops(f, (graph_filter_prop)p) != !(graph_filter_props(f) & (1u << p)))
			abort();
	/* Objects built from the filter's own hints match more often. */
	obj hinted = {{0}};
	for (int p = 0; p < GRAPH_PROP_COUNT; p++)
		hinted.v[p] = graph_filter_required_value(f, (graph_filter_prop)p);
	obj plain = {{"a", "1ab40ab2-32a8-4b00-b6b5-ba724e407de9", "PC-01", "alice@contoso.example", "alice",
		      "true", "Windows", "AzureAd", "US"}};
	obj empty = {{"", "", "", "", "", "false", "", "", ""}};
	obj none = {{0}};
	check_hint(f, &hinted);
	check_hint(f, &plain);
	check_hint(f, &empty);
	check_hint(f, &none);
	/* The negation, where it still fits the limits. */
	char *neg = malloc(size + 8);
	graph_filter *nf = NULL;
	if (neg) {
		memcpy(neg, "not (", 5);
		memcpy(neg + 5, text, size);
		neg[size + 5] = ')';
		if (graph_filter_parse(&nf, neg, size + 6) == SSRP_OK) {
			const obj *objs[] = {&hinted, &plain, &empty, &none};
			for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
				if (graph_filter_match(f, get, objs[i]) && graph_filter_match(nf, get, objs[i]))
					abort();
			graph_filter_free(nf);
		}
		free(neg);
	}
	graph_filter_free(f);
	free(text);
}

static void name_mode(const uint8_t *data, size_t size)
{
	if (size > GRAPH_FILTER_MAX_LEN / 2 - 32 || memchr(data, 0, size))
		return;
	char *name = malloc(size + 1);
	char *filter = malloc(2 * size + 32);
	if (!name || !filter)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	size_t n = 0;
	memcpy(filter, "displayName eq '", 16);
	n = 16;
	for (size_t i = 0; i < size; i++) {
		filter[n++] = name[i];
		if (name[i] == '\'')
			filter[n++] = '\'';
	}
	filter[n++] = '\'';
	graph_filter *f = NULL;
	if (graph_filter_parse(&f, filter, n) != SSRP_OK)
		abort();
	obj exact = {{[GRAPH_PROP_DISPLAY_NAME] = name}};
	obj other = {{[GRAPH_PROP_DISPLAY_NAME] = "\x01not-it"}};
	if (!graph_filter_match(f, get, &exact) ||
	    (!ascii_caseeq(name, other.v[GRAPH_PROP_DISPLAY_NAME]) && graph_filter_match(f, get, &other)))
		abort();
	if (graph_filter_props(f) != (1u << GRAPH_PROP_DISPLAY_NAME))
		abort();
	const char *hint = graph_filter_required_value(f, GRAPH_PROP_DISPLAY_NAME);
	if (!hint || strcmp(hint, name) != 0)
		abort();
	graph_filter_free(f);
	free(name);
	free(filter);
}

static void search_mode(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (!text)
		return;
	memcpy(text, data, size);
	graph_search *s = NULL;
	int rc = graph_search_parse(&s, text, size);
	if (rc != SSRP_OK) {
		if (s || (rc != SSRP_E_INVALID && rc != SSRP_E_NOMEM) || !ssrp_error_last()[0])
			abort();
		free(text);
		return;
	}
	if (!s || !graph_search_props(s))
		abort();
	obj plain = {{"a", "1ab40ab2-32a8-4b00-b6b5-ba724e407de9", "PC-01 Hello.World", "alice@contoso.example",
		      "alice", "true", "Windows", "AzureAd", "US"}};
	obj none = {{0}};
	(void)graph_search_match(s, get, &plain);
	if (graph_search_match(s, get, &none))
		abort(); /* no clause matches a missing value */
	graph_search_free(s);
	/* A value found by its own text. */
	char *value = malloc(size + 1);
	if (value && !memchr(text, 0, size)) {
		memcpy(value, text, size);
		value[size] = '\0';
		int has_word = 0;
		for (size_t i = 0; i < size; i++) {
			unsigned char c = (unsigned char)value[i];
			has_word |= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				    c >= 0x80;
		}
		if (has_word && !graph_search_tokens_match(value, value))
			abort();
	}
	free(value);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		filter_mode(data + 1, size - 1);
		break;
	case 1:
		name_mode(data + 1, size - 1);
		break;
	default:
		search_mode(data + 1, size - 1);
		break;
	}
	return 0;
}
