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
	refuse("displayName EQ 'a'", "unsupported operator 'EQ'");
	refuse("displayName Ne 'a'", "unsupported operator 'Ne'");
	refuse("displayName eq a", "single-quoted string literal");
	refuse("displayName eq 5", "single-quoted string literal");
	refuse("displayName eq NULL", "single-quoted string literal or null");
	refuse("deviceId eq guid'1ab40ab2-32a8-4b00-b6b5-ba724e407de9'", "single-quoted string literal");
	refuse("displayName eq nullx", "single-quoted string literal");
	refuse("displayName eq\"a\"", "expected a space after 'eq'");
	refuse("displayName eq'a'", "expected a space after 'eq'");
	refuse("displayName ne'a'", "expected a space after 'ne'");
	refuse("displayName", "expected ' eq ', ' ne ' or ' in ' after the property");
	refuse("displayName eq", "at the end of the filter");
	refuse("displayName eq 'a' and", "expected a clause after the operator");
	refuse("displayName eq 'a' OR", "expected a clause after the operator");
	refuse("displayName eq 'a' or ", "expected a property name at the end of the filter");
	refuse("displayName eq 'a'and id eq 'b'", "unexpected text after a complete clause");
	refuse("displayName eq 'a' id eq 'b'", "unexpected text after a complete clause");
	refuse("displayName eq 'a' && id eq 'b'", "unexpected text after a complete clause");
	refuse("(displayName eq 'a'", "expected ')'");
	refuse("displayName eq 'a')", "unbalanced ')'");
	refuse("()", "expected a property name");
	refuse("'a' eq displayName", "a literal must follow");
	refuse("deviceId/x eq 'a'", "property paths");
	refuse("and eq 'a'", "unknown or unfilterable property 'and'");
	/* Positions are given, so a long filter's problem can be found. */
	refuse("id eq 'a' and id eq 'b' and id xx 'c'", "position 31");

	/* Booleans and strings do not mix. */
	refuse("accountEnabled eq 'true'", "incompatible types: 'accountEnabled' is Edm.Boolean");
	refuse("displayName eq true", "incompatible types: 'displayName' is Edm.String");
	refuse("accountEnabled eq True", "true, false or null");
	refuse("accountEnabled eq 1", "true, false or null");
	refuse("startsWith(accountEnabled,'t')", "'accountEnabled' is Edm.Boolean");

	/* in: a parenthesised, non-empty list of literals. */
	refuse("id in 'a'", "expected '(' and a list of literals after 'in'");
	refuse("id in ()", "an empty list after 'in'");
	refuse("id in ('a' 'b')", "expected ',' or ')'");
	refuse("id in ('a',)", "single-quoted string literal");
	refuse("id in ('a'", "expected ',' or ')'");

	/* Functions: startsWith/endsWith(property, 'text') only. */
	refuse("startsWith('a', displayName)", "a literal must follow");
	refuse("startsWith(displayName)", "expected ',' and a string literal");
	refuse("startsWith(displayName, 5)", "single-quoted string literal as the second argument");
	refuse("startsWith(displayName, 'a'", "expected ')' after the function's arguments");
	refuse("startsWith(mail, 'a')", "unknown or unfilterable property 'mail'");

	/* not binds tighter than eq in OData: its operand is a group or a
	 * function, never a bare comparison. */
	refuse("not displayName eq 'a'", "the operand of 'not' must be in parentheses or a function");
	refuse("not", "unknown or unfilterable property 'not'");
	refuse("not (displayName eq 'a'", "expected ')'");
}

/* Valid OData that the directory does not offer: a different code, so the
 * service answers Request_UnsupportedQuery rather than a syntax error. */
static void refuse_unsupported(const char *text, const char *words)
{
	graph_filter *f = (graph_filter *)1;
	assert_int_equal(graph_filter_parse(&f, text, strlen(text)), SSRP_E_NOTSUPPORTED);
	assert_null(f);
	if (!strstr(ssrp_error_last(), words))
		fail_msg("'%s': message '%s' lacks '%s'", text, ssrp_error_last(), words);
}

static void unsupported_odata(void **state)
{
	(void)state;
	refuse_unsupported("displayName gt 'a'", "unsupported operator 'gt'");
	refuse_unsupported("displayName le 'a'", "unsupported operator 'le'");
	refuse_unsupported("contains(displayName,'a')", "unsupported function 'contains'");
	refuse_unsupported("tolower(displayName) eq 'a'", "unsupported function 'tolower'");
	refuse_unsupported("not contains(displayName,'a')", "unsupported function 'contains'");
}

static void operators(void **state)
{
	(void)state;
	obj u = {{[GRAPH_PROP_ID] = "a", [GRAPH_PROP_UPN] = "alice@contoso.example",
		  [GRAPH_PROP_DISPLAY_NAME] = "Alice Anders", [GRAPH_PROP_ACCOUNT_ENABLED] = "true"}};
	obj off = {{[GRAPH_PROP_ID] = "b", [GRAPH_PROP_DISPLAY_NAME] = "Bob",
		    [GRAPH_PROP_ACCOUNT_ENABLED] = "false"}};
	/* ne, the complement of eq; a missing value is "ne" anything but null. */
	assert_true(matches("displayName ne 'Bob'", &u));
	assert_false(matches("displayName ne 'alice anders'", &u));
	assert_true(matches("userPrincipalName ne 'x'", &off));
	/* Booleans. */
	assert_true(matches("accountEnabled eq true", &u));
	assert_false(matches("accountEnabled eq true", &off));
	assert_true(matches("accountEnabled eq false", &off));
	assert_true(matches("accountEnabled ne true", &off));
	/* null. */
	assert_true(matches("userPrincipalName eq null", &off));
	assert_false(matches("userPrincipalName eq null", &u));
	assert_true(matches("userPrincipalName ne null", &u));
	assert_false(matches("userPrincipalName ne null", &off));
	/* in. */
	assert_true(matches("id in ('x', 'A')", &u));
	assert_true(matches("id in('b')", &off));
	assert_false(matches("id in ('x','y')", &u));
	assert_true(matches("userPrincipalName in ('x', null)", &off));
	assert_true(matches("accountEnabled in (false)", &off));
	/* startsWith / endsWith, any case for the name and the text. */
	assert_true(matches("startsWith(displayName,'ali')", &u));
	assert_true(matches("startswith(displayName, 'ALICE A')", &u));
	assert_false(matches("startsWith(displayName,'Anders')", &u));
	assert_true(matches("startsWith(displayName,'')", &u));
	assert_true(matches("endsWith(userPrincipalName,'@CONTOSO.example')", &u));
	assert_true(matches("ENDSWITH( userPrincipalName , 'example' )", &u));
	assert_false(matches("endsWith(userPrincipalName,'alice')", &u));
	/* not, and, or in any case, as Graph's own examples write them. */
	assert_true(matches("not(displayName eq 'Bob')", &u));
	assert_true(matches("NOT startsWith(displayName,'Conf')", &u));
	assert_false(matches("not (id eq 'a')", &u));
	assert_true(matches("not not (id eq 'a')", &u));
	assert_true(matches("id eq 'x' OR id eq 'a'", &u));
	assert_false(matches("id eq 'a' AND id eq 'x'", &u));
	assert_true(matches("displayName ne null and NOT(displayName eq 'Microsoft')", &u));
}

/* OData's three values: a function of a missing value is null, not of
 * null is null, and a null result excludes the object. */
static void null_logic(void **state)
{
	(void)state;
	obj none = {{[GRAPH_PROP_ID] = "z"}};
	assert_false(matches("startsWith(displayName,'a')", &none));
	assert_false(matches("not startsWith(displayName,'a')", &none));
	assert_false(matches("not endsWith(userPrincipalName,'a')", &none));
	/* false and null is false, true or null is true. */
	assert_false(matches("id eq 'x' and startsWith(displayName,'a')", &none));
	assert_true(matches("not (id eq 'x' and startsWith(displayName,'a'))", &none));
	assert_true(matches("id eq 'z' or startsWith(displayName,'a')", &none));
	assert_false(matches("id eq 'z' and startsWith(displayName,'a')", &none));
	assert_false(matches("not (id eq 'z' and startsWith(displayName,'a'))", &none));
	assert_false(matches("id eq 'x' or startsWith(displayName,'a')", &none));
	assert_false(matches("not (id eq 'x' or startsWith(displayName,'a'))", &none));
}

static void uses_reported(void **state)
{
	(void)state;
	graph_filter *f = parse_ok("displayName ne 'a' and not(startsWith(userPrincipalName,'b') or "
				   "id in ('c')) and endsWith(userPrincipalName,'d') and displayName eq null");
	assert_int_equal(graph_filter_ops(f, GRAPH_PROP_DISPLAY_NAME), GRAPH_OP_NE | GRAPH_OP_NULL);
	assert_int_equal(graph_filter_ops(f, GRAPH_PROP_UPN),
			 GRAPH_OP_STARTS_WITH | GRAPH_OP_NOT | GRAPH_OP_ENDS_WITH);
	assert_int_equal(graph_filter_ops(f, GRAPH_PROP_ID), GRAPH_OP_IN | GRAPH_OP_NOT);
	assert_int_equal(graph_filter_ops(f, GRAPH_PROP_SAM), 0);
	assert_int_equal(graph_filter_props(f),
			 (1u << GRAPH_PROP_DISPLAY_NAME) | (1u << GRAPH_PROP_UPN) | (1u << GRAPH_PROP_ID));
	/* Nothing is pinned to one value by these. */
	assert_null(graph_filter_required_value(f, GRAPH_PROP_DISPLAY_NAME));
	graph_filter_free(f);
	f = parse_ok("accountEnabled eq true and displayName eq 'x'");
	assert_int_equal(graph_filter_ops(f, GRAPH_PROP_ACCOUNT_ENABLED), GRAPH_OP_EQ);
	assert_null(graph_filter_required_value(f, GRAPH_PROP_ACCOUNT_ENABLED));
	assert_string_equal(graph_filter_required_value(f, GRAPH_PROP_DISPLAY_NAME), "x");
	graph_filter_free(f);
	/* A negated eq pins nothing. */
	f = parse_ok("not(deviceId eq 'D1')");
	assert_null(graph_filter_required_value(f, GRAPH_PROP_DEVICE_ID));
	graph_filter_free(f);
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
	/* Each value of an in-list counts as a comparison. */
	n = (size_t)sprintf(buf, "id in ('0'");
	for (int i = 1; i < GRAPH_FILTER_MAX_CLAUSES; i++)
		n += (size_t)sprintf(buf + n, ",'%d'", i);
	sprintf(buf + n, ")");
	f = parse_ok(buf);
	assert_true(graph_filter_match(f, get, &o));
	graph_filter_free(f);
	sprintf(buf + n, ",'x')");
	refuse(buf, "more than 64 comparisons");
	/* And "not" cannot pile up without bound. */
	n = 0;
	for (int i = 0; i <= GRAPH_FILTER_MAX_DEPTH; i++)
		n += (size_t)sprintf(buf + n, "not ");
	sprintf(buf + n, "(id eq 'a')");
	refuse(buf, "too many 'not' operators");

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
		cmocka_unit_test(unsupported_odata),
		cmocka_unit_test(operators),
		cmocka_unit_test(null_logic),
		cmocka_unit_test(uses_reported),
		cmocka_unit_test(limits),
		cmocka_unit_test(properties_and_index_hint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
