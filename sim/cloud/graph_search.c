/* The simulated Graph's $search for directory collections (see
 * graph_search.h). Strict like the $filter parser: a clause without its
 * quotes or property, lower-case "and"/"or", or trailing text is refused
 * with the position, as Graph refuses it. */
#include <string.h>

#include "hal/mem.h"
#include "sim/cloud/graph_search.h"
#include "ssrp/sys/error.h"

typedef enum { S_CLAUSE, S_AND, S_OR } snode_kind;

typedef struct snode {
	snode_kind kind;
	graph_filter_prop prop;
	char *text;
	const struct snode *left, *right;
} snode;

struct graph_search {
	size_t n_nodes;
	snode nodes[2 * GRAPH_FILTER_MAX_CLAUSES];
	const snode *root;
};

typedef struct sparser {
	const char *s;
	size_t len, pos;
	unsigned clauses, depth;
	graph_search *g;
} sparser;

static int fail_at(const sparser *p, size_t pos, const char *what)
{
	if (pos >= p->len)
		return ssrp_error_set(SSRP_E_INVALID, "%s at the end of the search", what);
	return ssrp_error_set(SSRP_E_INVALID, "%s at position %zu", what, pos);
}

static void skip_ws(sparser *p)
{
	while (p->pos < p->len && p->s[p->pos] == ' ')
		p->pos++;
}

static int parse_or(sparser *p, const snode **out);

/* '"' property ':' text '"'; the position is at the opening quote. */
static int parse_clause(sparser *p, const snode **out)
{
	size_t open = p->pos;
	if (p->pos >= p->len || p->s[p->pos] != '"')
		return fail_at(p, p->pos, "expected a clause in double quotes, \"property:text\"");
	if (++p->clauses > GRAPH_FILTER_MAX_CLAUSES)
		return ssrp_error_set(SSRP_E_INVALID, "more than %d search clauses", GRAPH_FILTER_MAX_CLAUSES);
	size_t i = p->pos + 1, name_end = 0;
	while (i < p->len && p->s[i] != ':' && p->s[i] != '"')
		i++;
	if (i >= p->len || p->s[i] != ':')
		return fail_at(p, open, "a search clause names its property: \"displayName:text\"");
	name_end = i;
	int prop = graph_filter_prop_by_name(p->s + open + 1, name_end - open - 1);
	if (prop < 0)
		return ssrp_error_set(SSRP_E_INVALID, "unknown or unsearchable property '%.*s' at position %zu",
				      (int)(name_end - open - 1 > 40 ? 40 : name_end - open - 1),
				      p->s + open + 1, open + 1);
	/* The text, with \" and \\ unescaped. */
	char *text = ssrp_malloc(p->len - name_end);
	if (!text)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for a search clause");
	size_t n = 0;
	for (i = name_end + 1;; i++) {
		if (i >= p->len) {
			ssrp_free(text);
			return fail_at(p, open, "unterminated search clause");
		}
		char c = p->s[i];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i + 1 >= p->len || (p->s[i + 1] != '"' && p->s[i + 1] != '\\')) {
				ssrp_free(text);
				return fail_at(p, i, "a backslash escapes only '\"' or '\\'");
			}
			c = p->s[++i];
		}
		text[n++] = c;
	}
	text[n] = '\0';
	if (n == 0) {
		ssrp_free(text);
		return fail_at(p, open, "a search clause needs text after the ':'");
	}
	p->pos = i + 1;
	snode *e = &p->g->nodes[p->g->n_nodes++];
	memset(e, 0, sizeof *e);
	e->kind = S_CLAUSE;
	e->prop = (graph_filter_prop)prop;
	e->text = text;
	*out = e;
	return SSRP_OK;
}

static int parse_primary(sparser *p, const snode **out)
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
	return parse_clause(p, out);
}

/* " AND " / " OR ", upper case as Graph demands; consumed when present. */
static int take_keyword(sparser *p, const char *kw)
{
	size_t save = p->pos, n = strlen(kw);
	skip_ws(p);
	if (p->pos == save || p->pos + n >= p->len || memcmp(p->s + p->pos, kw, n) != 0 ||
	    (p->s[p->pos + n] != ' ' && p->s[p->pos + n] != '(' && p->s[p->pos + n] != '"')) {
		p->pos = save;
		return 0;
	}
	p->pos += n;
	skip_ws(p);
	return 1;
}

static int parse_join(sparser *p, const snode **out, int or)
{
	const snode *left;
	int rc = or ? parse_join(p, &left, 0) : parse_primary(p, &left);
	if (rc)
		return rc;
	while (take_keyword(p, or ? "OR" : "AND")) {
		const snode *right;
		if ((rc = or ? parse_join(p, &right, 0) : parse_primary(p, &right)))
			return rc;
		snode *e = &p->g->nodes[p->g->n_nodes++];
		memset(e, 0, sizeof *e);
		e->kind = or ? S_OR : S_AND;
		e->left = left;
		e->right = right;
		left = e;
	}
	*out = left;
	return SSRP_OK;
}

static int parse_or(sparser *p, const snode **out)
{
	return parse_join(p, out, 1);
}

int graph_search_parse(graph_search **out, const char *text, size_t len)
{
	*out = NULL;
	if (len > GRAPH_FILTER_MAX_LEN)
		return ssrp_error_set(SSRP_E_INVALID, "search longer than %d bytes", GRAPH_FILTER_MAX_LEN);
	if (memchr(text, '\0', len))
		return ssrp_error_set(SSRP_E_INVALID, "NUL byte in the search");
	graph_search *g = ssrp_calloc(1, sizeof *g);
	if (!g)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for a search");
	sparser p = {.s = text, .len = len, .g = g};
	skip_ws(&p);
	int rc = p.pos >= p.len ? ssrp_error_set(SSRP_E_INVALID, "empty search") : parse_or(&p, &g->root);
	if (rc == SSRP_OK) {
		skip_ws(&p);
		if (p.pos < p.len)
			rc = fail_at(&p, p.pos,
				     "unexpected text after a complete clause (clauses are joined by AND or OR, "
				     "upper case, outside the quotes)");
	}
	if (rc) {
		graph_search_free(g);
		return rc;
	}
	*out = g;
	return SSRP_OK;
}

void graph_search_free(graph_search *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_nodes; i++)
		ssrp_free(s->nodes[i].text);
	ssrp_free(s);
}

static unsigned props_of(const snode *n)
{
	return n->kind == S_CLAUSE ? 1u << n->prop : props_of(n->left) | props_of(n->right);
}

unsigned graph_search_props(const graph_search *s)
{
	return s && s->root ? props_of(s->root) : 0;
}

/* ---- tokens ---------------------------------------------------------------- */

enum { C_SEP, C_LOWER, C_UPPER, C_DIGIT, C_OTHER };

static int class_of(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return C_LOWER;
	if (c >= 'A' && c <= 'Z')
		return C_UPPER;
	if (c >= '0' && c <= '9')
		return C_DIGIT;
	if (c >= 0x80)
		return C_OTHER; /* non-ASCII letters stay inside words */
	return C_SEP;
}

static int is_word(int cls)
{
	return cls != C_SEP && cls != C_DIGIT;
}

/* The next token of s from *pos: its start and length; 0 at the end.
 * A token ends at a separator, between letters and digits, and where a
 * lower-case letter is followed by an upper-case one. */
static int next_token(const char *s, size_t *pos, size_t *start, size_t *len)
{
	size_t i = *pos;
	while (s[i] && class_of((unsigned char)s[i]) == C_SEP)
		i++;
	if (!s[i])
		return 0;
	size_t b = i;
	int prev = class_of((unsigned char)s[i++]);
	for (; s[i]; i++) {
		int cls = class_of((unsigned char)s[i]);
		if (cls == C_SEP || is_word(cls) != is_word(prev) || (prev == C_LOWER && cls == C_UPPER))
			break;
		prev = cls;
	}
	*start = b;
	*len = i - b;
	*pos = i;
	return 1;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int prefix_ci(const char *tok, size_t tn, const char *pre, size_t pn)
{
	if (pn > tn)
		return 0;
	for (size_t i = 0; i < pn; i++)
		if (lower(tok[i]) != lower(pre[i]))
			return 0;
	return 1;
}

/* pre (pn bytes) is a prefix of a token of value, or of one of its
 * space-separated words with the symbols left out ("helloworld" finds
 * "hello-world"). */
static int value_has_prefix(const char *value, const char *pre, size_t pn)
{
	size_t pos = 0, b, n;
	while (next_token(value, &pos, &b, &n))
		if (prefix_ci(value + b, n, pre, pn))
			return 1;
	for (const char *w = value; *w;) {
		while (*w == ' ')
			w++;
		size_t k = 0, j = 0;
		for (; w[j] && w[j] != ' '; j++) {
			if (class_of((unsigned char)w[j]) == C_SEP)
				continue;
			if (k == pn)
				return 1;
			if (lower(w[j]) != lower(pre[k]))
				break;
			k++;
		}
		if (k == pn && pn)
			return 1;
		while (*w && *w != ' ')
			w++;
	}
	return 0;
}

int graph_search_tokens_match(const char *value, const char *text)
{
	size_t pos = 0, b, n;
	int any = 0;
	while (next_token(text, &pos, &b, &n)) {
		any = 1;
		if (!value_has_prefix(value, text + b, n))
			return 0;
	}
	return any;
}

static int eval(const snode *n, graph_filter_getter get, const void *obj)
{
	switch (n->kind) {
	case S_AND:
		return eval(n->left, get, obj) && eval(n->right, get, obj);
	case S_OR:
		return eval(n->left, get, obj) || eval(n->right, get, obj);
	case S_CLAUSE:
		break;
	}
	const char *v = get(obj, n->prop);
	if (!v)
		return 0;
	if (n->prop == GRAPH_PROP_DISPLAY_NAME)
		return graph_search_tokens_match(v, n->text);
	return graph_filter_starts_with(v, n->text);
}

int graph_search_match(const graph_search *s, graph_filter_getter get, const void *obj)
{
	return s && s->root ? eval(s->root, get, obj) : 1;
}
