/* The simulated Graph's $filter parser: what it accepts, how it matches,
 * and that every refusal names the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/cloud/graph_filter.h"
#include "ssrp/error.h"

typedef struct obj {
	const char *v[GRAPH_PROP_COUNT];
} obj;

static const char *get(const void *o, graph_filter_prop p)
{
	return ((const obj *)o)->v[p];
}

static graph_filter *parse_ok(const char *text)
{
	graph_filter *f = NULL;
	int rc = graph_filter_parse(&f, text, strlen(text));
	if (rc != SSRP_OK)
		fail_msg("'%s' refused: %s", text, ssrp_error_last());
	assert_non_null(f);
	return f;
}

static void refuse(const char *text, const char *words)
{
	graph_filter *f = (graph_filter *)1;
	assert_int_equal(graph_filter_parse(&f, text, strlen(text)), SSRP_E_INVALID);
	assert_null(f);
	if (!strstr(ssrp_error_last(), words))
		fail_msg("'%s': message '%s' lacks '%s'", text, ssrp_error_last(), words);
}

static int matches(const char *text, const obj *o)
{
	graph_filter *f = parse_ok(text);
	int m = graph_filter_match(f, get, o);
	graph_filter_free(f);
	return m;
}

static void simple_equality(void **state)
{
	(void)state;
	obj d = {{[GRAPH_PROP_DEVICE_ID] = "1ab40ab2-32a8-4b00-b6b5-ba724e407de9",
		  [GRAPH_PROP_DISPLAY_NAME] = "PC-01"}};
	assert_true(matches("deviceId eq '1ab40ab2-32a8-4b00-b6b5-ba724e407de9'", &d));
	/* The directory compares strings without regard to case. */
	assert_true(matches("deviceId eq '1AB40AB2-32A8-4B00-B6B5-BA724E407DE9'", &d));
	assert_true(matches("displayName eq 'pc-01'", &d));
	assert_false(matches("displayName eq 'PC-02'", &d));
	assert_false(matches("displayName eq 'PC-0'", &d));
	assert_false(matches("displayName eq 'PC-011'", &d));
	/* A property the object lacks matches nothing, not even ''. */
	assert_false(matches("userPrincipalName eq ''", &d));
	assert_true(matches("  displayName eq 'PC-01'  ", &d));
	assert_true(matches("displayName\teq\t'PC-01'", &d));
}

static void and_or_parentheses(void **state)
{
	(void)state;
	obj u = {{[GRAPH_PROP_ID] = "a", [GRAPH_PROP_UPN] = "alice@contoso.example",
		  [GRAPH_PROP_SAM] = "alice", [GRAPH_PROP_DISPLAY_NAME] = "Alice"}};
	assert_true(matches("id eq 'a' and onPremisesSamAccountName eq 'alice'", &u));
	assert_false(matches("id eq 'a' and onPremisesSamAccountName eq 'bob'", &u));
	assert_true(matches("id eq 'b' or userPrincipalName eq 'alice@contoso.example'", &u));
	assert_false(matches("id eq 'b' or userPrincipalName eq 'bob@contoso.example'", &u));
	/* and binds tighter than or. */
	assert_true(matches("id eq 'a' or id eq 'x' and displayName eq 'nobody'", &u));
	assert_false(matches("(id eq 'a' or id eq 'x') and displayName eq 'nobody'", &u));
	assert_true(matches("((id eq 'a'))", &u));
	assert_true(matches("( id eq 'a' )", &u));
	assert_true(matches("(id eq 'z' or id eq 'a') and (displayName eq 'Alice')", &u));
}

/* '' is a quote inside a literal, and nothing else can end one: a device
 * named after an injection attempt matches only a device of that name. */
static void quote_escaping(void **state)
{
	(void)state;
	obj evil = {{[GRAPH_PROP_DISPLAY_NAME] = "x' or displayName eq 'y"}};
	obj x = {{[GRAPH_PROP_DISPLAY_NAME] = "x"}};
	obj y = {{[GRAPH_PROP_DISPLAY_NAME] = "y"}};
	const char *filter = "displayName eq 'x'' or displayName eq ''y'";
	assert_true(matches(filter, &evil));
	assert_false(matches(filter, &x));
	assert_false(matches(filter, &y));
	/* The same name pasted unescaped is a different query: two clauses. */
	const char *naive = "displayName eq 'x' or displayName eq 'y'";
	assert_false(matches(naive, &evil));
	assert_true(matches(naive, &x));
	assert_true(matches(naive, &y));
	obj q = {{[GRAPH_PROP_DISPLAY_NAME] = "O'Brien's PC"}};
	assert_true(matches("displayName eq 'O''Brien''s PC'", &q));
	obj only = {{[GRAPH_PROP_DISPLAY_NAME] = "'"}};
	assert_true(matches("displayName eq ''''", &only));
	obj empty = {{[GRAPH_PROP_DISPLAY_NAME] = ""}};
	assert_true(matches("displayName eq ''", &empty));
	/* An odd number of quotes leaves the literal open. */
	refuse("displayName eq 'x''", "unterminated string literal");
	refuse("displayName eq 'x' or displayName eq 'y", "unterminated string literal");
}

static void refusals(void **state)
{
	(void)state;
	refuse("", "empty filter");
	refuse("   ", "empty filter");
	refuse("mail eq 'a'", "unknown or unfilterable property 'mail'");
	refuse("DisplayName eq 'a'", "unknown or unfilterable property 'DisplayName'");
	refuse("displayName ne 'a'", "unsupported operator 'ne'");
	refuse("displayName EQ 'a'", "unsupported operator 'EQ'");
	refuse("displayName gt 'a'", "unsupported operator 'gt'");
	refuse("displayName in ('a')", "unsupported operator 'in'");
	refuse("startswith(displayName,'a')", "unsupported function 'startswith'");
	refuse("not displayName eq 'a'", "unsupported operator 'not'");
	refuse("displayName eq a", "single-quoted string literal");
	refuse("displayName eq 5", "single-quoted string literal");
	refuse("displayName eq null", "single-quoted string literal");
	refuse("deviceId eq guid'1ab40ab2-32a8-4b00-b6b5-ba724e407de9'", "single-quoted string literal");
	refuse("displayName eq\"a\"", "expected a space after 'eq'");
	refuse("displayName eq'a'", "expected a space after 'eq'");
	refuse("displayName", "expected ' eq ' after the property");
	refuse("displayName eq", "at the end of the filter");
	refuse("displayName eq 'a' and", "expected a clause after the operator");
	refuse("displayName eq 'a' or ", "expected a property name at the end of the filter");
	refuse("displayName eq 'a' AND id eq 'b'", "unexpected text after a complete clause");
	refuse("displayName eq 'a'and id eq 'b'", "unexpected text after a complete clause");
	refuse("displayName eq 'a' id eq 'b'", "unexpected text after a complete clause");
	refuse("(displayName eq 'a'", "expected ')'");
	refuse("displayName eq 'a')", "unbalanced ')'");
	refuse("()", "expected a property name");
	refuse("'a' eq displayName", "a literal must follow");
	refuse("deviceId/x eq 'a'", "property paths are not supported");
	refuse("and eq 'a'", "unknown or unfilterable property 'and'");
	/* Positions are given, so a long filter's problem can be found. */
	refuse("id eq 'a' and id eq 'b' and id ne 'c'", "position 31");
}

static void limits(void **state)
{
	(void)state;
	char buf[GRAPH_FILTER_MAX_LEN + 64];
	/* Nesting. */
	size_t n = 0;
	for (int i = 0; i < GRAPH_FILTER_MAX_DEPTH; i++)
		buf[n++] = '(';
	n += (size_t)sprintf(buf + n, "id eq 'a'");
	for (int i = 0; i < GRAPH_FILTER_MAX_DEPTH; i++)
		buf[n++] = ')';
	buf[n] = '\0';
	graph_filter_free(parse_ok(buf));
	memmove(buf + 1, buf, n + 1);
	buf[0] = '(';
	strcat(buf, ")");
	refuse(buf, "nested too deeply");

	/* Clauses. */
	n = 0;
	for (int i = 0; i < GRAPH_FILTER_MAX_CLAUSES; i++)
		n += (size_t)sprintf(buf + n, "%sid eq '%d'", i ? " or " : "", i);
	graph_filter *f = parse_ok(buf);
	obj o = {{[GRAPH_PROP_ID] = "63"}};
	assert_true(graph_filter_match(f, get, &o));
	graph_filter_free(f);
	sprintf(buf + n, " or id eq 'x'");
	refuse(buf, "more than 64 comparisons");

	/* Length, and bytes that cannot be part of a filter. */
	memset(buf, ' ', GRAPH_FILTER_MAX_LEN + 1);
	buf[GRAPH_FILTER_MAX_LEN + 1] = '\0';
	refuse(buf, "longer than");
	graph_filter *g = (graph_filter *)1;
	assert_int_equal(graph_filter_parse(&g, "id eq 'a\0b'", 11), SSRP_E_INVALID);
	assert_null(g);
	assert_non_null(strstr(ssrp_error_last(), "NUL"));
	/* Only len bytes are read: the literal ends where len says. */
	assert_int_equal(graph_filter_parse(&g, "id eq 'abc' trailing", 9), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "unterminated"));
}

static void properties_and_index_hint(void **state)
{
	(void)state;
	graph_filter *f = parse_ok("deviceId eq 'D1' and displayName eq 'n'");
	assert_int_equal(graph_filter_props(f),
			 (1u << GRAPH_PROP_DEVICE_ID) | (1u << GRAPH_PROP_DISPLAY_NAME));
	assert_string_equal(graph_filter_required_value(f, GRAPH_PROP_DEVICE_ID), "D1");
	assert_string_equal(graph_filter_required_value(f, GRAPH_PROP_DISPLAY_NAME), "n");
	assert_null(graph_filter_required_value(f, GRAPH_PROP_ID));
	graph_filter_free(f);

	/* An "or" pins nothing: either side may match. */
	f = parse_ok("deviceId eq 'D1' or deviceId eq 'D2'");
	assert_null(graph_filter_required_value(f, GRAPH_PROP_DEVICE_ID));
	graph_filter_free(f);

	f = parse_ok("(deviceId eq 'D1' or id eq 'x') and userPrincipalName eq 'a''b'");
	assert_null(graph_filter_required_value(f, GRAPH_PROP_DEVICE_ID));
	assert_string_equal(graph_filter_required_value(f, GRAPH_PROP_UPN), "a'b");
	graph_filter_free(f);

	assert_string_equal(graph_filter_prop_name(GRAPH_PROP_SAM), "onPremisesSamAccountName");
	assert_int_equal(graph_filter_props(NULL), 0);
	/* No filter matches everything. */
	obj o = {{0}};
	assert_true(graph_filter_match(NULL, get, &o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_equality),
		cmocka_unit_test(and_or_parentheses),
		cmocka_unit_test(quote_escaping),
		cmocka_unit_test(refusals),
		cmocka_unit_test(limits),
		cmocka_unit_test(properties_and_index_hint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
