/* The $filter subset the simulated Graph understands.
 *
 *   filter     := or-expr
 *   or-expr    := and-expr ( RWS "or" RWS and-expr )*
 *   and-expr   := primary ( RWS "and" RWS primary )*
 *   primary    := "(" OWS or-expr OWS ")" | comparison
 *   comparison := property RWS "eq" RWS literal
 *   literal    := "'" ( any byte but "'" | "''" )* "'"
 *   property   := deviceId | displayName | userPrincipalName | id
 *               | onPremisesSamAccountName
 *
 * Keywords and property names are case-sensitive, as in OData. Anything
 * else (other operators, functions, numbers, unbalanced quotes, trailing
 * input) is refused with SSRP_E_INVALID and a last-error message naming
 * the problem and its byte offset. Literal values are compared without
 * regard to ASCII case, as the directory compares strings. */
#ifndef SSRP_SIM_CLOUD_GRAPH_FILTER_H
#define SSRP_SIM_CLOUD_GRAPH_FILTER_H

#include <stddef.h>

typedef enum graph_filter_prop {
	GRAPH_PROP_ID = 0,
	GRAPH_PROP_DEVICE_ID,
	GRAPH_PROP_DISPLAY_NAME,
	GRAPH_PROP_UPN,
	GRAPH_PROP_SAM,
	GRAPH_PROP_COUNT
} graph_filter_prop;

/* Bounds that keep a hostile filter cheap to parse and evaluate. */
#define GRAPH_FILTER_MAX_LEN 4096
#define GRAPH_FILTER_MAX_CLAUSES 64
#define GRAPH_FILTER_MAX_DEPTH 16

typedef struct graph_filter graph_filter;

/* Parse len bytes of text (not NUL-terminated necessarily). On success
 * *out is a new filter for graph_filter_free; on failure *out is NULL and
 * SSRP_E_INVALID (or SSRP_E_NOMEM) is returned with ssrp_error_last()
 * describing the problem without the "Invalid filter clause" prefix. */
int graph_filter_parse(graph_filter **out, const char *text, size_t len);
void graph_filter_free(graph_filter *f);

/* The Graph name of a property ("deviceId"). */
const char *graph_filter_prop_name(graph_filter_prop p);

/* Bit (1u << prop) set for every property the filter mentions, so the
 * caller can refuse properties that its entity type lacks. */
unsigned graph_filter_props(const graph_filter *f);

/* Gives the value of a property of obj, or NULL when obj has none (a
 * NULL never equals any literal). */
typedef const char *(*graph_filter_getter)(const void *obj, graph_filter_prop p);
/* 1 when obj satisfies the filter, 0 otherwise. */
int graph_filter_match(const graph_filter *f, graph_filter_getter get, const void *obj);

/* When every object the filter can match must have prop equal to one
 * literal (the filter is "prop eq 'v'" or an "and" of clauses with one of
 * them), that literal, so the caller can use an index; NULL otherwise. */
const char *graph_filter_required_value(const graph_filter *f, graph_filter_prop prop);

#endif
