/* libFuzzer target: the simulated Graph's $filter parser.
 *
 * Mode 0 (first byte even): the rest is a filter. The parser either
 * refuses it with SSRP_E_INVALID and a message, or accepts it; an accepted
 * filter names at least one property, evaluates without crashing, and
 * whatever value it says an object must have (the index hint) is the value
 * of every object it matches.
 *
 * Mode 1 (first byte odd): the rest is a display name. Escaped the OData
 * way ('' for '), it must make a filter that parses and matches exactly
 * that name: no name can turn into filter syntax. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cloud/graph_filter.h"
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
		if (f || (rc != SSRP_E_INVALID && rc != SSRP_E_NOMEM) || !ssrp_error_last()[0])
			abort();
		free(text);
		return;
	}
	if (!f || !graph_filter_props(f))
		abort();
	/* Objects built from the filter's own hints match more often. */
	obj hinted = {{0}};
	for (int p = 0; p < GRAPH_PROP_COUNT; p++)
		hinted.v[p] = graph_filter_required_value(f, (graph_filter_prop)p);
	obj plain = {{"a", "1ab40ab2-32a8-4b00-b6b5-ba724e407de9", "PC-01", "alice@contoso.example", "alice"}};
	obj empty = {{"", "", "", "", ""}};
	obj none = {{0}};
	check_hint(f, &hinted);
	check_hint(f, &plain);
	check_hint(f, &empty);
	check_hint(f, &none);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		name_mode(data + 1, size - 1);
	else
		filter_mode(data + 1, size - 1);
	return 0;
}
