/* A strict recursive-descent parser for the simulated Graph's $filter
 * subset (see graph_filter.h for the grammar). The point of strictness is
 * twofold: a client that builds a filter Graph would refuse must fail here
 * too, and a value that arrives inside a literal can never become syntax —
 * "''" is the only escape, so a device named "x' or displayName eq 'y"
 * is a single literal that matches a device with exactly that name. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hal/mem.h"
#include "hal/text.h"
#include "sim/cloud/graph_filter.h"
#include "ssrp/sys/error.h"

typedef enum {
	NODE_EQ,     /* prop eq literal */
	NODE_NE,     /* prop ne literal */
	NODE_IN,     /* prop in (literals) */
	NODE_STARTS, /* startsWith(prop, 'v') */
	NODE_ENDS,   /* endsWith(prop, 'v') */
	NODE_NOT,
	NODE_AND,
	NODE_OR
} node_kind;

typedef enum { LIT_STRING, LIT_TRUE, LIT_FALSE, LIT_NULL } lit_kind;

typedef struct literal {
	lit_kind kind;
	char *text; /* LIT_STRING: unescaped, NUL-terminated */
} literal;

typedef struct node {
	node_kind kind;
	graph_filter_prop prop;
	literal lit;     /* EQ, NE, STARTS, ENDS */
	literal *list;   /* IN */
	size_t n_list;
	const struct node *left, *right; /* NOT: left only */
} node;

/* Every comparison, function and in-list costs a clause; "and"/"or" join
 * two operands, and "not" is capped at one per clause, so the pool holds
 * any filter within the clause limit. */
#define MAX_NODES (3 * GRAPH_FILTER_MAX_CLAUSES)

struct graph_filter {
	size_t n_nodes;
	node nodes[MAX_NODES];
	const node *root;
};

static const char *const prop_names[GRAPH_PROP_COUNT] = {
	[GRAPH_PROP_ID] = "id",
	[GRAPH_PROP_DEVICE_ID] = "deviceId",
	[GRAPH_PROP_DISPLAY_NAME] = "displayName",
	[GRAPH_PROP_UPN] = "userPrincipalName",
	[GRAPH_PROP_SAM] = "onPremisesSamAccountName",
	[GRAPH_PROP_ACCOUNT_ENABLED] = "accountEnabled",
	[GRAPH_PROP_OPERATING_SYSTEM] = "operatingSystem",
	[GRAPH_PROP_TRUST_TYPE] = "trustType",
	[GRAPH_PROP_USAGE_LOCATION] = "usageLocation",
};

const char *graph_filter_prop_name(graph_filter_prop p)
{
	return (unsigned)p < GRAPH_PROP_COUNT ? prop_names[p] : "";
}

int graph_filter_prop_by_name(const char *name, size_t len)
{
	for (int i = 0; i < GRAPH_PROP_COUNT; i++)
		if (strlen(prop_names[i]) == len && memcmp(prop_names[i], name, len) == 0)
			return i;
	return -1;
}

int graph_filter_prop_is_bool(graph_filter_prop p)
{
	return p == GRAPH_PROP_ACCOUNT_ENABLED;
}

typedef struct parser {
	const char *s;
	size_t len, pos;
	unsigned clauses;
	unsigned nots;
	unsigned depth;
	graph_filter *f;
} parser;

/* A short, printable copy of a piece of the input for an error message. */
static void excerpt(char *out, size_t cap, const char *s, size_t len)
{
	size_t max = cap - 4, n = len < max ? len : max;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (len > max) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static int is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static size_t skip_ws(parser *p)
{
	size_t start = p->pos;
	while (p->pos < p->len && is_ws(p->s[p->pos]))
		p->pos++;
	return p->pos - start;
}

/* The identifier at the current position (may be empty). */
static size_t ident_len(const parser *p)
{
	size_t n = 0;
	while (p->pos + n < p->len && is_ident(p->s[p->pos + n]))
		n++;
	return n;
}

static int word_is(const parser *p, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(p->s + p->pos, w, n) == 0;
}

static int word_is_ci(const parser *p, size_t n, const char *w)
{
	return strlen(w) == n && ssrp_ascii_ieq_n(p->s + p->pos, w, n);
}

static char peek(const parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : '\0';
}

static int fail_code(const parser *p, int code, size_t pos, const char *what)
{
	char ex[40];
	if (pos >= p->len)
		return ssrp_error_set(code, "%s at the end of the filter", what);
	excerpt(ex, sizeof ex, p->s + pos, p->len - pos);
	return ssrp_error_set(code, "%s at position %zu ('%s')", what, pos, ex);
}

static int fail_at(const parser *p, size_t pos, const char *what)
{
	return fail_code(p, SSRP_E_INVALID, pos, what);
}

static node *new_node(parser *p)
{
	node *n = &p->f->nodes[p->f->n_nodes++];
	memset(n, 0, sizeof *n);
	return n;
}

static int count_clause(parser *p)
{
	if (++p->clauses > GRAPH_FILTER_MAX_CLAUSES)
		return ssrp_error_set(SSRP_E_INVALID, "more than %d comparisons", GRAPH_FILTER_MAX_CLAUSES);
	return SSRP_OK;
}

static int parse_or(parser *p, const node **out);

/* A single-quoted literal with '' for a quote; the position is at the
 * opening quote. */
static int parse_string(parser *p, char **out)
{
	size_t start = p->pos;
	size_t i = p->pos + 1, n = 0;
	/* First pass: find the end and the unescaped length. */
	for (;;) {
		if (i >= p->len)
			return fail_at(p, start, "unterminated string literal");
		if (p->s[i] == '\'') {
			if (i + 1 < p->len && p->s[i + 1] == '\'') {
				i += 2;
				n++;
				continue;
			}
			break;
		}
		i++;
		n++;
	}
	char *v = ssrp_malloc(n + 1);
	if (!v)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for a filter literal");
	size_t k = 0;
	for (size_t j = start + 1; j < i; j++) {
		v[k++] = p->s[j];
		if (p->s[j] == '\'')
			j++; /* the second quote of a doubled pair */
	}
	v[k] = '\0';
	p->pos = i + 1;
	*out = v;
	return SSRP_OK;
}

/* A literal of the property's type; op names the operator for messages. */
static int parse_literal(parser *p, graph_filter_prop prop, const char *op, literal *out)
{
	char msg[160];
	size_t at = p->pos;
	int is_bool = graph_filter_prop_is_bool(prop);
	if (peek(p) == '\'') {
		if (is_bool) {
			snprintf(msg, sizeof msg,
				 "a binary operator with incompatible types: '%s' is Edm.Boolean, the literal "
				 "Edm.String (write true or false, unquoted)",
				 prop_names[prop]);
			return fail_at(p, at, msg);
		}
		out->kind = LIT_STRING;
		return parse_string(p, &out->text);
	}
	size_t n = ident_len(p);
	if (word_is(p, n, "null")) {
		out->kind = LIT_NULL;
	} else if (word_is(p, n, "true") || word_is(p, n, "false")) {
		if (!is_bool) {
			snprintf(msg, sizeof msg,
				 "a binary operator with incompatible types: '%s' is Edm.String, the literal "
				 "Edm.Boolean",
				 prop_names[prop]);
			return fail_at(p, at, msg);
		}
		out->kind = p->s[p->pos] == 't' ? LIT_TRUE : LIT_FALSE;
	} else {
		snprintf(msg, sizeof msg, "expected %s after '%s'",
			 is_bool ? "true, false or null" : "a single-quoted string literal or null", op);
		return fail_at(p, at, msg);
	}
	p->pos += n;
	if (is_ident(peek(p)) || peek(p) == '\'')
		return fail_at(p, at, "a literal runs into the text after it");
	return SSRP_OK;
}

/* "in" OWS "(" literal ( "," literal )* ")"; the position is after "in". */
static int parse_in_list(parser *p, node *e)
{
	skip_ws(p);
	if (peek(p) != '(')
		return fail_at(p, p->pos, "expected '(' and a list of literals after 'in'");
	p->pos++;
	literal items[GRAPH_FILTER_MAX_CLAUSES];
	size_t n = 0;
	int rc = SSRP_OK;
	for (;;) {
		skip_ws(p);
		if (n == 0 && peek(p) == ')') {
			rc = fail_at(p, p->pos, "an empty list after 'in'");
			break;
		}
		if ((rc = count_clause(p)))
			break;
		memset(&items[n], 0, sizeof items[n]);
		if ((rc = parse_literal(p, e->prop, "in", &items[n])))
			break;
		n++;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == ')') {
			p->pos++;
			break;
		}
		rc = fail_at(p, p->pos, "expected ',' or ')' in the list after 'in'");
		break;
	}
	if (rc == SSRP_OK) {
		e->list = ssrp_calloc(n, sizeof *e->list);
		if (!e->list)
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory for a filter list");
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			ssrp_free(items[i].text);
		return rc;
	}
	memcpy(e->list, items, n * sizeof *items);
	e->n_list = n;
	return SSRP_OK;
}

/* The property name at the current position, consumed, into *prop. */
static int parse_property(parser *p, int *prop)
{
	size_t at = p->pos;
	size_t n = ident_len(p);
	char ex[40];
	if (n == 0) {
		if (peek(p) == '\'')
			return fail_at(p, at, "a literal must follow 'property eq', not lead a clause");
		return fail_at(p, at, "expected a property name");
	}
	*prop = graph_filter_prop_by_name(p->s + p->pos, n);
	if (*prop < 0) {
		excerpt(ex, sizeof ex, p->s + p->pos, n);
		return ssrp_error_set(SSRP_E_INVALID, "unknown or unfilterable property '%s' at position %zu",
				      ex, at);
	}
	p->pos += n;
	if (p->pos < p->len && (p->s[p->pos] == '/' || p->s[p->pos] == '.'))
		return fail_at(p, p->pos, "property paths (and lambda operators) are not supported");
	return SSRP_OK;
}

/* startsWith(prop, 'v') or endsWith(prop, 'v'); the position is at the
 * name, n its length. */
static int parse_function(parser *p, size_t n, const node **out)
{
	size_t at = p->pos;
	char ex[40];
	node_kind kind;
	if (word_is_ci(p, n, "startswith")) {
		kind = NODE_STARTS;
	} else if (word_is_ci(p, n, "endswith")) {
		kind = NODE_ENDS;
	} else {
		excerpt(ex, sizeof ex, p->s + p->pos, n);
		return ssrp_error_set(SSRP_E_NOTSUPPORTED, "unsupported function '%s' at position %zu", ex, at);
	}
	const char *name = kind == NODE_STARTS ? "startsWith" : "endsWith";
	p->pos += n + 1; /* the name and "(" */
	skip_ws(p);
	int rc = count_clause(p);
	if (rc)
		return rc;
	int prop;
	if ((rc = parse_property(p, &prop)))
		return rc;
	if (graph_filter_prop_is_bool((graph_filter_prop)prop)) {
		char msg[120];
		snprintf(msg, sizeof msg, "%s takes a string property, and '%s' is Edm.Boolean", name,
			 prop_names[prop]);
		return fail_at(p, at, msg);
	}
	skip_ws(p);
	if (peek(p) != ',')
		return fail_at(p, p->pos, "expected ',' and a string literal after the property");
	p->pos++;
	skip_ws(p);
	if (peek(p) != '\'')
		return fail_at(p, p->pos, "expected a single-quoted string literal as the second argument");
	node *e = new_node(p);
	e->kind = kind;
	e->prop = (graph_filter_prop)prop;
	e->lit.kind = LIT_STRING;
	if ((rc = parse_string(p, &e->lit.text)))
		return rc;
	skip_ws(p);
	if (peek(p) != ')')
		return fail_at(p, p->pos, "expected ')' after the function's arguments");
	p->pos++;
	*out = e;
	return SSRP_OK;
}

static int parse_comparison(parser *p, const node **out)
{
	size_t n = ident_len(p);
	if (n && p->pos + n < p->len && p->s[p->pos + n] == '(')
		return parse_function(p, n, out);
	int prop;
	int rc = parse_property(p, &prop);
	if (rc)
		return rc;
	if (skip_ws(p) == 0)
		return fail_at(p, p->pos, "expected ' eq ', ' ne ' or ' in ' after the property");
	size_t op_at = p->pos;
	size_t on = ident_len(p);
	node_kind kind;
	if (word_is(p, on, "eq")) {
		kind = NODE_EQ;
	} else if (word_is(p, on, "ne")) {
		kind = NODE_NE;
	} else if (word_is(p, on, "in")) {
		kind = NODE_IN;
	} else {
		static const char *const ops[] = {"gt", "ge", "lt", "le", "has", "any", "all",
						  "add", "sub", "mul", "div", "mod"};
		for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
			if (word_is(p, on, ops[i]))
				return ssrp_error_set(SSRP_E_NOTSUPPORTED,
						      "unsupported operator '%s' at position %zu (only eq, ne, "
						      "in, not, startsWith and endsWith)",
						      ops[i], op_at);
		if (on) {
			char ex[40];
			excerpt(ex, sizeof ex, p->s + op_at, on);
			return ssrp_error_set(SSRP_E_INVALID,
					      "unsupported operator '%s' at position %zu (operators are "
					      "lower case: eq, ne, in)",
					      ex, op_at);
		}
		return fail_at(p, op_at, "expected 'eq', 'ne' or 'in' after the property");
	}
	p->pos += on;
	node *e = new_node(p);
	e->kind = kind;
	e->prop = (graph_filter_prop)prop;
	if (kind == NODE_IN) {
		*out = e;
		return parse_in_list(p, e);
	}
	if (skip_ws(p) == 0) {
		char msg[48];
		snprintf(msg, sizeof msg, "expected a space after '%s'", kind == NODE_EQ ? "eq" : "ne");
		return fail_at(p, p->pos, msg);
	}
	if ((rc = count_clause(p)))
		return rc;
	if ((rc = parse_literal(p, (graph_filter_prop)prop, kind == NODE_EQ ? "eq" : "ne", &e->lit)))
		return rc;
	*out = e;
	return SSRP_OK;
}

static int parse_group(parser *p, const node **out)
{
	size_t open = p->pos;
	if (++p->depth > GRAPH_FILTER_MAX_DEPTH)
		return fail_at(p, open, "parentheses nested too deeply");
	p->pos++;
	skip_ws(p);
	int rc = parse_or(p, out);
	if (rc)
		return rc;
	skip_ws(p);
	if (peek(p) != ')')
		return fail_at(p, p->pos, "expected ')'");
	p->pos++;
	p->depth--;
	return SSRP_OK;
}

static int parse_unary(parser *p, const node **out)
{
	size_t n = ident_len(p);
	if (word_is_ci(p, n, "not") && p->pos + n < p->len &&
	    (is_ws(p->s[p->pos + n]) || p->s[p->pos + n] == '(')) {
		size_t at = p->pos;
		if (++p->nots > GRAPH_FILTER_MAX_CLAUSES || ++p->depth > GRAPH_FILTER_MAX_DEPTH)
			return fail_at(p, at, "too many 'not' operators");
		p->pos += n;
		skip_ws(p);
		/* In OData "not" binds tighter than eq: "not displayName eq 'a'"
		 * would negate a string. Its operand is a group, a function or
		 * another not. */
		size_t m = ident_len(p);
		int fn = m && p->pos + m < p->len && p->s[p->pos + m] == '(';
		int again = word_is_ci(p, m, "not");
		if (peek(p) != '(' && !fn && !again)
			return fail_at(p, p->pos,
				       "the operand of 'not' must be in parentheses or a function: write "
				       "not(property eq 'value')");
		const node *inner;
		int rc = parse_unary(p, &inner);
		if (rc)
			return rc;
		p->depth--;
		node *e = new_node(p);
		e->kind = NODE_NOT;
		e->left = inner;
		*out = e;
		return SSRP_OK;
	}
	if (peek(p) == '(')
		return parse_group(p, out);
	return parse_comparison(p, out);
}

/* After an operand: is the next token " <kw> " (any case)? Consumes it if
 * so. A clause that ends and is followed by something else is left for the
 * caller to report. */
static int take_keyword(parser *p, const char *kw)
{
	size_t save = p->pos;
	if (skip_ws(p) == 0) {
		p->pos = save;
		return 0;
	}
	size_t n = ident_len(p);
	if (!word_is_ci(p, n, kw) || p->pos + n >= p->len || !is_ws(p->s[p->pos + n])) {
		p->pos = save;
		return 0;
	}
	p->pos += n;
	skip_ws(p);
	return 1;
}

static int parse_and(parser *p, const node **out)
{
	const node *left;
	int rc = parse_unary(p, &left);
	if (rc)
		return rc;
	while (take_keyword(p, "and")) {
		const node *right;
		if ((rc = parse_unary(p, &right)))
			return rc;
		node *a = new_node(p);
		a->kind = NODE_AND;
		a->left = left;
		a->right = right;
		left = a;
	}
	*out = left;
	return SSRP_OK;
}

static int parse_or(parser *p, const node **out)
{
	const node *left;
	int rc = parse_and(p, &left);
	if (rc)
		return rc;
	while (take_keyword(p, "or")) {
		const node *right;
		if ((rc = parse_and(p, &right)))
			return rc;
		node *o = new_node(p);
		o->kind = NODE_OR;
		o->left = left;
		o->right = right;
		left = o;
	}
	*out = left;
	return SSRP_OK;
}

int graph_filter_parse(graph_filter **out, const char *text, size_t len)
{
	*out = NULL;
	if (!text)
		return ssrp_error_set(SSRP_E_INVALID, "no filter");
	if (len > GRAPH_FILTER_MAX_LEN)
		return ssrp_error_set(SSRP_E_INVALID, "filter longer than %d bytes", GRAPH_FILTER_MAX_LEN);
	if (memchr(text, '\0', len))
		return ssrp_error_set(SSRP_E_INVALID, "NUL byte in the filter");
	graph_filter *f = ssrp_calloc(1, sizeof *f);
	if (!f)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for a filter");
	parser p = {.s = text, .len = len, .f = f};
	skip_ws(&p);
	if (p.pos >= p.len) {
		graph_filter_free(f);
		return ssrp_error_set(SSRP_E_INVALID, "empty filter");
	}
	int rc = parse_or(&p, &f->root);
	if (rc == SSRP_OK) {
		size_t before = p.pos;
		skip_ws(&p);
		if (p.pos < p.len) {
			/* " and" or " or" with nothing after it: a clause is missing.
			 * Anything else is text the grammar has no place for. */
			size_t n = ident_len(&p), after = p.pos + n;
			while (after < p.len && is_ws(p.s[after]))
				after++;
			if (p.pos > before && after == p.len &&
			    (word_is_ci(&p, n, "and") || word_is_ci(&p, n, "or")))
				rc = fail_at(&p, p.pos, "expected a clause after the operator");
			else if (p.s[p.pos] == ')')
				rc = fail_at(&p, p.pos, "unbalanced ')'");
			else
				rc = fail_at(&p, p.pos, "unexpected text after a complete clause");
		}
	}
	if (rc) {
		graph_filter_free(f);
		return rc;
	}
	*out = f;
	return SSRP_OK;
}

void graph_filter_free(graph_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_nodes; i++) {
		ssrp_free(f->nodes[i].lit.text);
		for (size_t k = 0; k < f->nodes[i].n_list; k++)
			ssrp_free(f->nodes[i].list[k].text);
		ssrp_free(f->nodes[i].list);
	}
	ssrp_free(f);
}

static unsigned props_of(const node *n)
{
	switch (n->kind) {
	case NODE_NOT:
		return props_of(n->left);
	case NODE_AND:
	case NODE_OR:
		return props_of(n->left) | props_of(n->right);
	default:
		return 1u << n->prop;
	}
}

unsigned graph_filter_props(const graph_filter *f)
{
	return f && f->root ? props_of(f->root) : 0;
}

static unsigned ops_of(const node *n, graph_filter_prop prop, unsigned negated)
{
	switch (n->kind) {
	case NODE_NOT:
		return ops_of(n->left, prop, GRAPH_OP_NOT);
	case NODE_AND:
	case NODE_OR:
		return ops_of(n->left, prop, negated) | ops_of(n->right, prop, negated);
	default:
		break;
	}
	if (n->prop != prop)
		return 0;
	unsigned ops = negated;
	switch (n->kind) {
	case NODE_EQ:
		ops |= n->lit.kind == LIT_NULL ? GRAPH_OP_NULL : GRAPH_OP_EQ;
		break;
	case NODE_NE:
		ops |= GRAPH_OP_NE | (n->lit.kind == LIT_NULL ? GRAPH_OP_NULL : 0);
		break;
	case NODE_IN:
		ops |= GRAPH_OP_IN;
		for (size_t i = 0; i < n->n_list; i++)
			if (n->list[i].kind == LIT_NULL)
				ops |= GRAPH_OP_NULL;
		break;
	case NODE_STARTS:
		ops |= GRAPH_OP_STARTS_WITH;
		break;
	case NODE_ENDS:
		ops |= GRAPH_OP_ENDS_WITH;
		break;
	default:
		break;
	}
	return ops;
}

unsigned graph_filter_ops(const graph_filter *f, graph_filter_prop prop)
{
	return f && f->root ? ops_of(f->root, prop, 0) : 0;
}

int graph_filter_starts_with(const char *value, const char *prefix)
{
	size_t n = strlen(prefix);
	return strlen(value) >= n && ssrp_ascii_ieq_n(value, prefix, n);
}

int graph_filter_ends_with(const char *value, const char *suffix)
{
	size_t n = strlen(suffix), m = strlen(value);
	return m >= n && ssrp_ascii_ieq_n(value + m - n, suffix, n);
}

/* value (NULL when absent) equals the literal: null equals only null. */
static int lit_equals(const char *value, const literal *l)
{
	switch (l->kind) {
	case LIT_NULL:
		return value == NULL;
	case LIT_TRUE:
		return value && strcmp(value, "true") == 0;
	case LIT_FALSE:
		return value && strcmp(value, "false") == 0;
	case LIT_STRING:
		return value && ssrp_ascii_ieq(value, l->text);
	}
	return 0;
}

enum { F = 0, T = 1, N = -1 }; /* OData's three values */

static int eval(const node *n, graph_filter_getter get, const void *obj)
{
	const char *v = NULL;
	int a, b;
	switch (n->kind) {
	case NODE_EQ:
		return lit_equals(get(obj, n->prop), &n->lit);
	case NODE_NE:
		return !lit_equals(get(obj, n->prop), &n->lit);
	case NODE_IN:
		v = get(obj, n->prop);
		for (size_t i = 0; i < n->n_list; i++)
			if (lit_equals(v, &n->list[i]))
				return T;
		return F;
	case NODE_STARTS:
		v = get(obj, n->prop);
		return v ? graph_filter_starts_with(v, n->lit.text) : N;
	case NODE_ENDS:
		v = get(obj, n->prop);
		return v ? graph_filter_ends_with(v, n->lit.text) : N;
	case NODE_NOT:
		a = eval(n->left, get, obj);
		return a == N ? N : !a;
	case NODE_AND:
		a = eval(n->left, get, obj);
		if (a == F)
			return F;
		b = eval(n->right, get, obj);
		return b == F ? F : (a == N || b == N) ? N : T;
	case NODE_OR:
		a = eval(n->left, get, obj);
		if (a == T)
			return T;
		b = eval(n->right, get, obj);
		return b == T ? T : (a == N || b == N) ? N : F;
	}
	return F;
}

int graph_filter_match(const graph_filter *f, graph_filter_getter get, const void *obj)
{
	return f && f->root ? eval(f->root, get, obj) == T : 1;
}

static const char *required(const node *n, graph_filter_prop prop)
{
	if (n->kind == NODE_EQ)
		return n->prop == prop && n->lit.kind == LIT_STRING ? n->lit.text : NULL;
	if (n->kind == NODE_AND) {
		const char *v = required(n->left, prop);
		return v ? v : required(n->right, prop);
	}
	return NULL;
}

const char *graph_filter_required_value(const graph_filter *f, graph_filter_prop prop)
{
	return f && f->root ? required(f->root, prop) : NULL;
}
