/* What the parts of the simulated Graph (graph*.c) share: the parsed
 * request, permission checks, OData query options, paging and response
 * helpers. Not for use outside sim/cloud/graph*.c. */
#ifndef SSRP_SIM_CLOUD_GRAPH_INTERNAL_H
#define SSRP_SIM_CLOUD_GRAPH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sim/cloud/cloud.h"
#include "sim/cloud/graph_filter.h"
#include "sim/cloud/graph_search.h"

#define GRAPH_ROOT "https://graph.microsoft.com"
#define GRAPH_BASE GRAPH_ROOT "/v1.0"
#define GRAPH_METADATA GRAPH_BASE "/$metadata#"
#define GRAPH_MAX_SEGMENTS 8
#define GRAPH_MAX_SELECT 16
#define GRAPH_PAGE_DEFAULT 100
#define GRAPH_PAGE_MAX 999
#define GRAPH_BATCH_MAX 20
#define GRAPH_DENIED_MESSAGE "Insufficient privileges to complete the operation."

/* System query options, as bits. */
enum {
	GQ_FILTER = 1u << 0,
	GQ_SELECT = 1u << 1,
	GQ_TOP = 1u << 2,
	GQ_SKIPTOKEN = 1u << 3,
	GQ_ID = 1u << 4, /* $id, for DELETE .../$ref?$id=... */
	GQ_COUNT = 1u << 5, /* $count, an advanced query: ConsistencyLevel: eventual */
	GQ_ORDERBY = 1u << 6,
	GQ_SEARCH = 1u << 7, /* only with ConsistencyLevel: eventual */
};

typedef struct graph_query {
	unsigned present; /* GQ_* bits */
	char *filter;     /* percent-decoded */
	char *select;     /* percent-decoded, as given */
	char *select_buf; /* select split in place */
	size_t n_select;
	const char *select_items[GRAPH_MAX_SELECT];
	size_t top;
	char *skiptoken;
	char *id;
	int count; /* $count=true with ConsistencyLevel: eventual (ignored without) */
	char *orderby; /* percent-decoded, as given */
	char *search;  /* percent-decoded, as given */
	int order_prop; /* the $orderby property (graph_filter_prop), or -1 */
	int order_desc;
} graph_query;

typedef struct graph_req {
	cloud_ctx *ctx;
	const cloud_request *rq;
	cloud_response *rs;
	cloud_principal who;
	char actor[160]; /* "app:<appId>" or "user:<upn>" */
	uint64_t now;
	char *path_buf; /* the path after "/v1.0/", split in place */
	size_t n_seg;
	char *seg[GRAPH_MAX_SEGMENTS];
	graph_query q;
} graph_req;

/* ---- graph.c: routing ---------------------------------------------------- */

/* One request, inner ($batch) or not: token, path, query, then the handler
 * with the state lock held. */
void graph_route(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs, int inner);

/* ---- graph.c: responses --------------------------------------------------- */

void graph_error(graph_req *g, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 4, 5)))
#endif
	;
/* 404 Request_ResourceNotFound for an id. */
void graph_not_found(graph_req *g, const char *id);
/* 403 Authorization_RequestDenied. */
void graph_denied(graph_req *g);
/* 400 BadRequest "Resource not found for the segment '...'". */
void graph_bad_segment(graph_req *g, const char *segment);
/* 405 for a method a resource does not take. */
void graph_bad_method(graph_req *g);
/* Print obj (which this deletes) as the response body with status. */
void graph_send(graph_req *g, int status, cJSON *obj);
void graph_no_content(graph_req *g);

/* ---- graph.c: permissions ------------------------------------------------- */

/* 1 when the caller holds one of app_roles (app-only token) or one of
 * scopes (delegated token); a NULL list grants nothing. Names compare
 * without regard to case, as Entra's do ("BitlockerKey.Read.All"). */
int graph_has_permission(const graph_req *g, const char *const *app_roles, const char *const *scopes);
/* Delegated callers: 1 when the signed-in user holds one of the directory
 * roles. 0 for app-only tokens. Lock held. */
int graph_user_has_role(graph_req *g, const char *const *roles);
int graph_is_delegated(const graph_req *g);

/* ---- graph.c: query options ------------------------------------------------ */

/* Refuse (400, response filled, returns -1) any query option present that
 * is not in allowed. */
int graph_query_allow(graph_req *g, unsigned allowed);
/* Refuse (400) a $select naming a property not in known (NULL-ended);
 * type is the OData type name for the message ("microsoft.graph.user"). */
int graph_select_check(graph_req *g, const char *const *known, const char *type);
/* 1 when no $select was given or it names prop. */
int graph_selected(const graph_req *g, const char *prop);
/* 1 when $select was given and names prop. */
int graph_select_names(const graph_req *g, const char *prop);
/* 1 when the request carries ConsistencyLevel: eventual. */
int graph_eventual(const graph_req *g);
/* 1 for an advanced query: ConsistencyLevel: eventual and $count=true. */
int graph_advanced_query(const graph_req *g);

/* ---- graph_query.c: $filter, $search and $orderby against an entity ------- */

/* How an entity offers a use of a property in a query (the tables of
 * "Advanced query capabilities on Microsoft Entra ID objects" and the
 * resource pages). */
typedef enum { GQL_NO = 0, GQL_DEFAULT, GQL_ADVANCED } graph_query_level;

typedef struct graph_prop_rule {
	graph_filter_prop prop;
	unsigned char eq;          /* eq (and in, which follows eq) */
	unsigned char starts_with;
	unsigned char ends_with;
	unsigned char null;        /* eq null / ne null */
	unsigned char orderby;
} graph_prop_rule;

typedef struct graph_entity_rules {
	const char *type;     /* "microsoft.graph.user", for messages */
	const char *resource; /* "User", for messages */
	int directory;        /* a directory object: ne, not, $search, advanced queries */
	const graph_prop_rule *props;
	size_t n_props;
} graph_entity_rules;

/* Parse and check $filter, $search and $orderby against the entity's rules
 * (NULL in *f / *s when absent; the order in g->q.order_prop). On a query
 * Graph would refuse: 400 with Graph's code (BadRequest for syntax and
 * unknown properties, Request_UnsupportedQuery for a use the entity does
 * not offer, or offers only as an advanced query), -1. */
int graph_list_prepare(graph_req *g, const graph_entity_rules *r, graph_filter **f, graph_search **s);
/* "https://graph.microsoft.com/v1.0/$metadata#<set>[(<select>)][<suffix>]",
 * added to obj as "@odata.context". */
int graph_add_context(graph_req *g, cJSON *obj, const char *set, const char *suffix);

/* ---- graph.c: paging --------------------------------------------------------- */

/* Where a page starts (an opaque position in the underlying collection,
 * from $skiptoken) and how many items it holds (from $top, when
 * allow_top). On a bad $top or $skiptoken: 400, -1. */
int graph_page_begin(graph_req *g, int allow_top, size_t *start, size_t *size);
/* Add "@odata.nextLink" that resumes at position next. */
int graph_page_link(graph_req *g, cJSON *obj, size_t next);

/* A collection to page through: positions 0..count-1 of an underlying
 * sequence, the items that pass the filter shown. The $skiptoken holds the
 * underlying position, so a page costs what it shows plus the items it
 * skips over, never a rescan from the start. */
typedef struct graph_collection {
	const char *set;  /* for @odata.context: "users", "devices", "directoryObjects" */
	size_t count;
	/* The item at pos, or NULL to skip it (a dangling reference). */
	const void *(*at)(graph_req *g, const void *arg, size_t pos);
	const void *arg;
	const graph_filter *filter; /* or NULL */
	const graph_search *search; /* or NULL */
	graph_filter_getter get;
	/* The JSON for one item, or NULL when out of memory. */
	cJSON *(*item)(graph_req *g, const struct graph_collection *c, const void *item);
	int level; /* for item: how much of each item the caller may see */
	int allow_top;
} graph_collection;

/* Respond 200 with {"@odata.context","value":[...],"@odata.nextLink"?},
 * in g->q.order_prop's order when $orderby was given. */
void graph_send_collection(graph_req *g, const graph_collection *c);

/* ---- graph.c: helpers -------------------------------------------------------- */

/* Percent-decode len bytes of s into a new string; plus_space turns '+'
 * into ' ' (query strings). NULL on a bad escape, a NUL byte or OOM. */
char *graph_pct_decode(const char *s, size_t len, int plus_space);
/* Copy a GUID-like id, lower-cased, into out (CLOUD_ID_LEN + 1); -1 when
 * it is too long to be one. */
int graph_lower_id(char out[CLOUD_ID_LEN + 1], const char *in);
/* Parse the request body as a JSON object: 415/400 filled and NULL on
 * failure. */
cJSON *graph_body_object(graph_req *g);
/* cJSON adders that report failure, so an out-of-memory response is never
 * silently incomplete: each returns 0 on success, -1 otherwise. */
int graph_add_str(cJSON *o, const char *name, const char *value);
int graph_add_bool(cJSON *o, const char *name, int value);
int graph_add_item(cJSON *o, const char *name, cJSON *item);
int graph_add_array_item(cJSON *array, cJSON *item);

/* ---- the handlers, lock held ------------------------------------------------- */

/* users, me, devices (graph_directory.c) */
void graph_directory_handle(graph_req *g);
/* subscribedSkus[/{id}] (graph_skus.c) */
void graph_skus_handle(graph_req *g);
/* informationProtection/bitlocker/recoveryKeys (graph_keys.c) */
void graph_keys_handle(graph_req *g);
/* POST $batch (graph_batch.c); called without the lock. */
void graph_batch_handle(graph_req *g);

#endif
