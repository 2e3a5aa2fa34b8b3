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
#include "sim/cloud/graph_filter.h"
#include "ssrp/sys/error.h"

typedef enum { NODE_EQ, NODE_AND, NODE_OR } node_kind;

typedef struct node {
	node_kind kind;
	graph_filter_prop prop; /* NODE_EQ */
	char *value;            /* NODE_EQ, unescaped, NUL-terminated */
	const struct node *left, *right;
} node;

struct graph_filter {
	size_t n_nodes;
	node nodes[2 * GRAPH_FILTER_MAX_CLAUSES];
	const node *root;
};

static const char *const prop_names[GRAPH_PROP_COUNT] = {
	[GRAPH_PROP_ID] = "id",
	[GRAPH_PROP_DEVICE_ID] = "deviceId",
	[GRAPH_PROP_DISPLAY_NAME] = "displayName",
	[GRAPH_PROP_UPN] = "userPrincipalName",
	[GRAPH_PROP_SAM] = "onPremisesSamAccountName",
};

const char *graph_filter_prop_name(graph_filter_prop p)
{
	return (unsigned)p < GRAPH_PROP_COUNT ? prop_names[p] : "";
}

typedef struct parser {
	const char *s;
	size_t len, pos;
	unsigned clauses;
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

static int fail_at(const parser *p, size_t pos, const char *what)
{
	char ex[40];
	if (pos >= p->len)
		return ssrp_error_set(SSRP_E_INVALID, "%s at the end of the filter", what);
	excerpt(ex, sizeof ex, p->s + pos, p->len - pos);
	return ssrp_error_set(SSRP_E_INVALID, "%s at position %zu ('%s')", what, pos, ex);
}

static node *new_node(parser *p)
{
	/* clauses are bounded, and an expression of k clauses has at most
	 * 2k - 1 nodes, so the pool cannot run out. */
	node *n = &p->f->nodes[p->f->n_nodes++];
	memset(n, 0, sizeof *n);
	return n;
}

static int parse_or(parser *p, const node **out);

/* A single-quoted literal with '' for a quote; the position is at the
 * opening quote. */
static int parse_literal(parser *p, char **out)
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

static int parse_comparison(parser *p, const node **out)
{
	size_t at = p->pos;
	size_t n = ident_len(p);
	char ex[40];
	if (n == 0) {
		if (p->pos < p->len && p->s[p->pos] == '\'')
			return fail_at(p, at, "a literal must follow 'property eq', not lead a clause");
		return fail_at(p, at, "expected a property name");
	}
	if (word_is(p, n, "not"))
		return fail_at(p, at, "unsupported operator 'not'");
	if (p->pos + n < p->len && p->s[p->pos + n] == '(') {
		excerpt(ex, sizeof ex, p->s + p->pos, n);
		return ssrp_error_set(SSRP_E_INVALID, "unsupported function '%s' at position %zu", ex, at);
	}
	int prop = -1;
	for (int i = 0; i < GRAPH_PROP_COUNT; i++)
		if (word_is(p, n, prop_names[i]))
			prop = i;
	if (prop < 0) {
		excerpt(ex, sizeof ex, p->s + p->pos, n);
		return ssrp_error_set(SSRP_E_INVALID, "unknown or unfilterable property '%s' at position %zu",
				      ex, at);
	}
	p->pos += n;
	if (p->pos < p->len && (p->s[p->pos] == '/' || p->s[p->pos] == '.'))
		return fail_at(p, p->pos, "property paths are not supported");
	if (skip_ws(p) == 0)
		return fail_at(p, p->pos, "expected ' eq ' after the property");
	size_t op_at = p->pos;
	size_t on = ident_len(p);
	if (!word_is(p, on, "eq")) {
		static const char *const ops[] = {"ne", "gt", "ge", "lt", "le", "in", "has", "any", "all",
						  "Eq", "EQ", "eQ"};
		for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
			if (word_is(p, on, ops[i]))
				return ssrp_error_set(SSRP_E_INVALID,
						      "unsupported operator '%s' at position %zu (only 'eq')",
						      ops[i], op_at);
		return fail_at(p, op_at, "expected 'eq' after the property");
	}
	p->pos += on;
	if (skip_ws(p) == 0)
		return fail_at(p, p->pos, "expected a space after 'eq'");
	if (p->pos >= p->len || p->s[p->pos] != '\'')
		return fail_at(p, p->pos, "expected a single-quoted string literal after 'eq'");
	if (++p->clauses > GRAPH_FILTER_MAX_CLAUSES)
		return ssrp_error_set(SSRP_E_INVALID, "more than %d comparisons", GRAPH_FILTER_MAX_CLAUSES);
	node *e = new_node(p);
	e->kind = NODE_EQ;
	e->prop = (graph_filter_prop)prop;
	int rc = parse_literal(p, &e->value);
	if (rc)
		return rc;
	*out = e;
	return SSRP_OK;
}

static int parse_primary(parser *p, const node **out)
{
	if (p->pos < p->len && p->s[p->pos] == '(') {
		size_t open = p->pos;
		if (++p->depth > GRAPH_FILTER_MAX_DEPTH)
			return fail_at(p, open, "parentheses nested too deeply");
		p->pos++;
		skip_ws(p);
		int rc = parse_or(p, out);
		if (rc)
			return rc;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ')')
			return fail_at(p, p->pos, "expected ')'");
		p->pos++;
		p->depth--;
		return SSRP_OK;
	}
	return parse_comparison(p, out);
}

/* After an operand: is the next token " <kw> "? Consumes it if so. A
 * clause that ends and is followed by something else is left for the
 * caller to report. */
static int take_keyword(parser *p, const char *kw)
{
	size_t save = p->pos;
	if (skip_ws(p) == 0) {
		p->pos = save;
		return 0;
	}
	size_t n = ident_len(p);
	if (!word_is(p, n, kw) || p->pos + n >= p->len || !is_ws(p->s[p->pos + n])) {
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
	int rc = parse_primary(p, &left);
	if (rc)
		return rc;
	while (take_keyword(p, "and")) {
		const node *right;
		if ((rc = parse_primary(p, &right)))
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
			if (p.pos > before && after == p.len && (word_is(&p, n, "and") || word_is(&p, n, "or")))
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
	for (size_t i = 0; i < f->n_nodes; i++)
		ssrp_free(f->nodes[i].value);
	ssrp_free(f);
}

static unsigned props_of(const node *n)
{
	if (n->kind == NODE_EQ)
		return 1u << n->prop;
	return props_of(n->left) | props_of(n->right);
}

unsigned graph_filter_props(const graph_filter *f)
{
	return f && f->root ? props_of(f->root) : 0;
}

static int ascii_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return x < y ? -1 : 1;
		if (!x)
			return 0;
	}
}

static int match_node(const node *n, graph_filter_getter get, const void *obj)
{
	switch (n->kind) {
	case NODE_EQ: {
		const char *v = get(obj, n->prop);
		return v && ascii_casecmp(v, n->value) == 0;
	}
	case NODE_AND:
		return match_node(n->left, get, obj) && match_node(n->right, get, obj);
	case NODE_OR:
		return match_node(n->left, get, obj) || match_node(n->right, get, obj);
	}
	return 0;
}

int graph_filter_match(const graph_filter *f, graph_filter_getter get, const void *obj)
{
	return f && f->root ? match_node(f->root, get, obj) : 1;
}

static const char *required(const node *n, graph_filter_prop prop)
{
	if (n->kind == NODE_EQ)
		return n->prop == prop ? n->value : NULL;
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
