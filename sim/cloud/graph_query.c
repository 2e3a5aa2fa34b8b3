/* $filter, $search and $orderby of a collection request checked against
 * what the entity offers (graph_entity_rules): by default, only in an
 * advanced query (ConsistencyLevel: eventual and $count=true), or not at
 * all. The rules and messages follow "Advanced query capabilities on
 * Microsoft Entra ID objects" (learn.microsoft.com/graph/aad-advanced-queries):
 *  - ne and not only in advanced queries, for every property that has eq;
 *  - in wherever eq is, at eq's level;
 *  - endsWith only in advanced queries, on the few properties that have it;
 *  - null comparisons per property, advanced where offered at all;
 *  - $search only with ConsistencyLevel: eventual ($count not needed);
 *  - $orderby per property, and together with $filter only advanced. */
#include <stdio.h>
#include <string.h>

#include "hal/text.h"
#include "sim/cloud/graph_internal.h"
#include "ssrp/sys/error.h"

#define ADVANCED_HINT                                                                              \
	"is not supported because the required parameters might be missing. Try adding $count=true " \
	"query parameter and ConsistencyLevel:eventual header. Refer to "                           \
	"https://aka.ms/graph-docs/advanced-queries for more information"

static const graph_prop_rule *rule_of(const graph_entity_rules *r, int prop)
{
	for (size_t i = 0; i < r->n_props; i++)
		if ((int)r->props[i].prop == prop)
			return &r->props[i];
	return NULL;
}

static void no_such_property(graph_req *g, const graph_entity_rules *r, const char *name)
{
	graph_error(g, 400, "BadRequest", "Invalid filter clause: Could not find a property named '%s' on type '%s'.",
		    name, r->type);
}

static void unsupported_clause(graph_req *g, const graph_entity_rules *r, int prop)
{
	graph_error(g, 400, "Request_UnsupportedQuery",
		    "Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.",
		    graph_filter_prop_name((graph_filter_prop)prop), r->resource);
}

static void needs_advanced(graph_req *g, const char *what)
{
	graph_error(g, 400, "Request_UnsupportedQuery", "Operator '%s' " ADVANCED_HINT, what);
}

/* The level at which the entity offers one use (a GRAPH_OP_* bit). */
static graph_query_level level_of(const graph_entity_rules *r, const graph_prop_rule *pr, unsigned op)
{
	switch (op) {
	case GRAPH_OP_EQ:
		return (graph_query_level)pr->eq;
	case GRAPH_OP_IN:
		return r->directory ? (graph_query_level)pr->eq : GQL_NO;
	case GRAPH_OP_NE:
	case GRAPH_OP_NOT:
		return r->directory && pr->eq != GQL_NO ? GQL_ADVANCED : GQL_NO;
	case GRAPH_OP_STARTS_WITH:
		return (graph_query_level)pr->starts_with;
	case GRAPH_OP_ENDS_WITH:
		return (graph_query_level)pr->ends_with;
	case GRAPH_OP_NULL:
		return (graph_query_level)pr->null;
	}
	return GQL_NO;
}

static const char *op_name(unsigned op)
{
	switch (op) {
	case GRAPH_OP_NE:
		return "ne";
	case GRAPH_OP_NOT:
		return "not";
	case GRAPH_OP_IN:
		return "in";
	case GRAPH_OP_ENDS_WITH:
		return "endsWith";
	default:
		return NULL; /* a use of the property itself: eq, startsWith, null */
	}
}

static int prepare_filter(graph_req *g, const graph_entity_rules *r, graph_filter **out)
{
	graph_filter *f;
	int rc = graph_filter_parse(&f, g->q.filter, strlen(g->q.filter));
	if (rc == SSRP_E_NOMEM) {
		graph_error(g, 500, "generalException", "The simulator ran out of memory.");
		return -1;
	}
	if (rc == SSRP_E_NOTSUPPORTED) {
		graph_error(g, 400, "Request_UnsupportedQuery", "Unsupported query: %s.", ssrp_error_last());
		return -1;
	}
	if (rc) {
		graph_error(g, 400, "BadRequest", "Invalid filter clause: %s.", ssrp_error_last());
		return -1;
	}
	unsigned props = graph_filter_props(f);
	for (int p = 0; p < GRAPH_PROP_COUNT; p++) {
		if ((props & (1u << p)) && !rule_of(r, p)) {
			no_such_property(g, r, graph_filter_prop_name((graph_filter_prop)p));
			graph_filter_free(f);
			return -1;
		}
	}
	int advanced = graph_advanced_query(g);
	for (int p = 0; p < GRAPH_PROP_COUNT; p++) {
		const graph_prop_rule *pr = rule_of(r, p);
		unsigned ops = pr ? graph_filter_ops(f, (graph_filter_prop)p) : 0;
		for (unsigned op = 1; op <= GRAPH_OP_NULL; op <<= 1) {
			if (!(ops & op))
				continue;
			graph_query_level lv = level_of(r, pr, op);
			if (lv == GQL_DEFAULT || (lv == GQL_ADVANCED && advanced))
				continue;
			if (lv == GQL_ADVANCED && op_name(op))
				needs_advanced(g, op_name(op));
			else
				unsupported_clause(g, r, p);
			graph_filter_free(f);
			return -1;
		}
	}
	*out = f;
	return 0;
}

static int prepare_search(graph_req *g, const graph_entity_rules *r, graph_search **out)
{
	if (!graph_eventual(g)) {
		graph_error(g, 400, "Request_UnsupportedQuery",
			    "Request with $search query parameter only works through MSGraph with a special "
			    "request header: 'ConsistencyLevel: eventual'");
		return -1;
	}
	graph_search *s;
	int rc = graph_search_parse(&s, g->q.search, strlen(g->q.search));
	if (rc == SSRP_E_NOMEM) {
		graph_error(g, 500, "generalException", "The simulator ran out of memory.");
		return -1;
	}
	if (rc) {
		graph_error(g, 400, "BadRequest", "Invalid search: %s.", ssrp_error_last());
		return -1;
	}
	/* "Any property that can be used in $filter can also be used inside
	 * $search": the string properties the entity filters on. */
	unsigned props = graph_search_props(s);
	for (int p = 0; p < GRAPH_PROP_COUNT; p++) {
		if (!(props & (1u << p)))
			continue;
		const graph_prop_rule *pr = rule_of(r, p);
		if (!pr) {
			no_such_property(g, r, graph_filter_prop_name((graph_filter_prop)p));
		} else if (pr->eq == GQL_NO || graph_filter_prop_is_bool((graph_filter_prop)p)) {
			graph_error(g, 400, "Request_UnsupportedQuery",
				    "Unsupported search clause specified for property '%s' of resource '%s'.",
				    graph_filter_prop_name((graph_filter_prop)p), r->resource);
		} else {
			continue;
		}
		graph_search_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* "displayName", "displayName asc" or "displayName desc". */
static int prepare_orderby(graph_req *g, const graph_entity_rules *r)
{
	const char *v = g->q.orderby;
	while (*v == ' ')
		v++;
	size_t n = strcspn(v, " ,");
	const char *rest = v + n;
	while (*rest == ' ')
		rest++;
	int desc = 0;
	if (ssrp_ascii_ieq_n(rest, "desc", 4) && (rest[4] == '\0' || rest[4] == ' ' || rest[4] == ',')) {
		desc = 1;
		rest += 4;
	} else if (ssrp_ascii_ieq_n(rest, "asc", 3) && (rest[3] == '\0' || rest[3] == ' ' || rest[3] == ',')) {
		rest += 3;
	}
	while (*rest == ' ')
		rest++;
	if (n == 0 || (*rest && *rest != ',')) {
		graph_error(g, 400, "BadRequest",
			    "Invalid $orderby '%.100s': a property name, then asc or desc.", g->q.orderby);
		return -1;
	}
	if (*rest == ',') {
		graph_error(g, 400, "Request_UnsupportedQuery",
			    "Sorting by more than one property is not supported: '%.100s'.", g->q.orderby);
		return -1;
	}
	int prop = graph_filter_prop_by_name(v, n);
	const graph_prop_rule *pr = prop < 0 ? NULL : rule_of(r, prop);
	if (!pr) {
		graph_error(g, 400, "BadRequest",
			    "Parsing OData OrderBy failed: Could not find a property named '%.*s' on type '%s'.",
			    (int)(n > 60 ? 60 : n), v, r->type);
		return -1;
	}
	int advanced = graph_advanced_query(g);
	if (pr->orderby == GQL_NO) {
		graph_error(g, 400, "Request_UnsupportedQuery",
			    "Sorting on property '%s' of resource '%s' is not supported.",
			    graph_filter_prop_name((graph_filter_prop)prop), r->resource);
		return -1;
	}
	if (pr->orderby == GQL_ADVANCED && !advanced) {
		graph_error(g, 400, "Request_UnsupportedQuery", "Sorting on '%s' " ADVANCED_HINT,
			    graph_filter_prop_name((graph_filter_prop)prop));
		return -1;
	}
	/* "Using $filter and $orderby together is supported only with
	 * advanced queries." */
	if ((g->q.present & GQ_FILTER) && r->directory && !advanced) {
		graph_error(g, 400, "Request_UnsupportedQuery",
			    "Sorting and filtering together (%s) " ADVANCED_HINT, "$orderby with $filter");
		return -1;
	}
	g->q.order_prop = prop;
	g->q.order_desc = desc;
	return 0;
}

int graph_list_prepare(graph_req *g, const graph_entity_rules *r, graph_filter **f, graph_search **s)
{
	*f = NULL;
	*s = NULL;
	if ((g->q.present & GQ_SEARCH) && prepare_search(g, r, s))
		return -1;
	if ((g->q.present & GQ_FILTER) && prepare_filter(g, r, f)) {
		graph_search_free(*s);
		*s = NULL;
		return -1;
	}
	if ((g->q.present & GQ_ORDERBY) && prepare_orderby(g, r)) {
		graph_filter_free(*f);
		graph_search_free(*s);
		*f = NULL;
		*s = NULL;
		return -1;
	}
	return 0;
}
