/* The $filter subset the simulated Graph understands (OData v4 syntax).
 *
 *   filter     := or-expr
 *   or-expr    := and-expr ( RWS "or" RWS and-expr )*
 *   and-expr   := unary ( RWS "and" RWS unary )*
 *   unary      := "not" ( RWS | OWS "(" ) unary | primary
 *   primary    := "(" OWS or-expr OWS ")" | function | comparison
 *   function   := ( "startsWith" | "endsWith" ) "(" OWS property OWS ","
 *                 OWS string OWS ")"
 *   comparison := property RWS ( "eq" | "ne" ) RWS literal
 *               | property RWS "in" OWS "(" OWS literal
 *                 ( OWS "," OWS literal )* OWS ")"
 *   literal    := string | "true" | "false" | "null"
 *   string     := "'" ( any byte but "'" | "''" )* "'"
 *   property   := one of graph_filter_prop's names
 *
 * "and", "or", "not" and the function names are matched without regard to
 * case (Graph's own examples write "NOT", "OR", "startswith" and
 * "startsWith"); eq, ne, in, the literals and property names are
 * case-sensitive. A Boolean property takes only true, false or null, a
 * string property only a string or null. Anything else (other operators,
 * functions, numbers, unbalanced quotes, trailing input) is refused with
 * SSRP_E_INVALID, or SSRP_E_NOTSUPPORTED for OData that is valid but not
 * offered (gt, contains, any, ...), and a last-error message naming the
 * problem and its byte offset. String values are compared without regard
 * to ASCII case, as the directory compares strings.
 *
 * Matching uses OData's rules for null: "eq null" is true for an absent
 * value and "ne 'x'" is true for it too, while a function of an absent
 * value is null, "not null" stays null, and a null result excludes the
 * object. What each entity offers by default, only in an advanced query,
 * or not at all is the caller's to decide from graph_filter_ops. */
#ifndef SSRP_SIM_CLOUD_GRAPH_FILTER_H
#define SSRP_SIM_CLOUD_GRAPH_FILTER_H

#include <stddef.h>

typedef enum graph_filter_prop {
	GRAPH_PROP_ID = 0,
	GRAPH_PROP_DEVICE_ID,
	GRAPH_PROP_DISPLAY_NAME,
	GRAPH_PROP_UPN,
	GRAPH_PROP_SAM,
	GRAPH_PROP_ACCOUNT_ENABLED, /* Boolean: the getter gives "true" or "false" */
	GRAPH_PROP_OPERATING_SYSTEM,
	GRAPH_PROP_TRUST_TYPE,
	GRAPH_PROP_USAGE_LOCATION,
	GRAPH_PROP_COUNT
} graph_filter_prop;

/* How a filter uses a property, as bits (graph_filter_ops). */
enum {
	GRAPH_OP_EQ = 1u << 0,          /* eq with a value */
	GRAPH_OP_NE = 1u << 1,          /* ne (with a value or null) */
	GRAPH_OP_NOT = 1u << 2,         /* inside a not(...) */
	GRAPH_OP_IN = 1u << 3,
	GRAPH_OP_STARTS_WITH = 1u << 4,
	GRAPH_OP_ENDS_WITH = 1u << 5,
	GRAPH_OP_NULL = 1u << 6,        /* eq null or ne null */
};

/* Bounds that keep a hostile filter cheap to parse and evaluate. */
#define GRAPH_FILTER_MAX_LEN 4096
#define GRAPH_FILTER_MAX_CLAUSES 64 /* comparisons, functions and in-list values */
#define GRAPH_FILTER_MAX_DEPTH 16

typedef struct graph_filter graph_filter;

/* Parse len bytes of text (not NUL-terminated necessarily). On success
 * *out is a new filter for graph_filter_free; on failure *out is NULL and
 * SSRP_E_INVALID, SSRP_E_NOTSUPPORTED (or SSRP_E_NOMEM) is returned with
 * ssrp_error_last() describing the problem without the "Invalid filter
 * clause" prefix. */
int graph_filter_parse(graph_filter **out, const char *text, size_t len);
void graph_filter_free(graph_filter *f);

/* The Graph name of a property ("deviceId"), and by name (-1 if none). */
const char *graph_filter_prop_name(graph_filter_prop p);
int graph_filter_prop_by_name(const char *name, size_t len);
/* 1 for a Boolean property. */
int graph_filter_prop_is_bool(graph_filter_prop p);

/* Bit (1u << prop) set for every property the filter mentions, so the
 * caller can refuse properties that its entity type lacks. */
unsigned graph_filter_props(const graph_filter *f);
/* GRAPH_OP_* bits: how the filter uses prop (0 when it does not). */
unsigned graph_filter_ops(const graph_filter *f, graph_filter_prop prop);

/* Gives the value of a property of obj, or NULL when obj has none. */
typedef const char *(*graph_filter_getter)(const void *obj, graph_filter_prop p);
/* 1 when obj satisfies the filter, 0 otherwise (false or null). */
int graph_filter_match(const graph_filter *f, graph_filter_getter get, const void *obj);

/* When every object the filter can match must have prop equal to one
 * literal (the filter is "prop eq 'v'" or an "and" of clauses with one of
 * them), that literal, so the caller can use an index; NULL otherwise. */
const char *graph_filter_required_value(const graph_filter *f, graph_filter_prop prop);

/* ASCII case-insensitive prefix and suffix tests, shared with $search. */
int graph_filter_starts_with(const char *value, const char *prefix);
int graph_filter_ends_with(const char *value, const char *suffix);

#endif
