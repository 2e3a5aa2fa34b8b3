/* $search on directory collections, as Graph's "Use the $search query
 * parameter" page describes it for directory objects:
 *
 *   search := or-expr
 *   or-expr := and-expr ( RWS "OR" RWS and-expr )*
 *   and-expr := primary ( RWS "AND" RWS primary )*
 *   primary := "(" OWS or-expr OWS ")" | clause
 *   clause := '"' property ":" text '"'   (\" and \\ escape inside)
 *
 * AND and OR are upper case and outside the quotes; the property is named
 * in every clause. displayName is searched by tokens (words split at
 * spaces, symbols, digits and lower-to-upper case changes, each search
 * token a prefix of a token of the value, in any order, without regard to
 * case); other string properties match by startsWith. Which properties an
 * entity allows is the caller's to check (graph_search_props). */
#ifndef SSRP_SIM_CLOUD_GRAPH_SEARCH_H
#define SSRP_SIM_CLOUD_GRAPH_SEARCH_H

#include <stddef.h>

#include "sim/cloud/graph_filter.h"

typedef struct graph_search graph_search;

/* Parse len bytes (percent-decoded). SSRP_E_INVALID with a message naming
 * the problem and its offset, or SSRP_E_NOMEM; *out NULL on failure. */
int graph_search_parse(graph_search **out, const char *text, size_t len);
void graph_search_free(graph_search *s);

/* Bit (1u << prop) for every property a clause names. */
unsigned graph_search_props(const graph_search *s);
/* 1 when obj satisfies the search; a NULL search matches everything. */
int graph_search_match(const graph_search *s, graph_filter_getter get, const void *obj);

/* 1 when every token of text is a prefix of some token of value. */
int graph_search_tokens_match(const char *value, const char *text);

#endif
