/* The simulated Microsoft Graph v1.0 (graph.microsoft.com): the entry
 * point, routing, bearer-token check, OData query options, paging and the
 * helpers the resource handlers share (graph_internal.h).
 *
 * Every request needs a valid bearer token (401 otherwise, filled by
 * cloud_token_verify). The token is checked before the state lock is
 * taken: verification needs only the signing key and the tenant id. Each
 * request (and each request inside a $batch) then runs with the lock held,
 * so a batch never holds it across its parts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hal/hex.h"
#include "hal/mem.h"
#include "hal/text.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/graph_internal.h"
#include "ssrp/sys/error.h"

/* ---- small strings ------------------------------------------------------- */

typedef struct strbuf {
	char *p;
	size_t len, cap;
	int oom;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = ssrp_realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Percent-encode every byte outside keep (and outside the unreserved set). */
static void sb_encode(strbuf *b, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || (c && strchr(keep, c))) {
			sb_add(b, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			sb_add(b, e, 3);
		}
	}
}

int graph_lower_id(char out[CLOUD_ID_LEN + 1], const char *in)
{
	size_t n = strlen(in);
	if (n > CLOUD_ID_LEN)
		return -1;
	for (size_t i = 0; i <= n; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	return 0;
}

char *graph_pct_decode(const char *s, size_t len, int plus_space)
{
	char *out = ssrp_malloc(len + 1);
	if (out && cloud_percent_decode(out, len + 1, s, len, plus_space) < 0) {
		ssrp_free(out);
		out = NULL;
	}
	return out;
}

/* ---- responses ------------------------------------------------------------- */

/* Messages echo parts of the request (ids, segments, option names), which
 * may hold any bytes; a response body must stay valid UTF-8 JSON, so each
 * byte that does not start a well-formed sequence becomes '?'. The
 * vsnprintf cut may also have split a character at the end. */
static void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (*p) {
		size_t n = 0;
		if (*p < 0x80)
			n = 1;
		else if ((*p & 0xe0) == 0xc0)
			n = 2;
		else if ((*p & 0xf0) == 0xe0)
			n = 3;
		else if ((*p & 0xf8) == 0xf0)
			n = 4;
		int ok = n > 0 && !(n == 2 && *p < 0xc2) && !(n == 4 && *p > 0xf4);
		for (size_t i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		/* Overlong three-byte forms, UTF-16 surrogates, and code points
		 * past U+10FFFF. */
		if (ok && n == 3)
			ok = !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0);
		if (ok && n == 4)
			ok = !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90);
		if (!ok) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

void graph_error(graph_req *g, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	utf8_scrub(msg);
	cloud_graph_error(g->rs, g->rq, status, code, "%s", msg);
}

void graph_not_found(graph_req *g, const char *id)
{
	graph_error(g, 404, "Request_ResourceNotFound",
		    "Resource '%s' does not exist or one of its queried reference-property objects are not present.",
		    id);
}

void graph_denied(graph_req *g)
{
	graph_error(g, 403, "Authorization_RequestDenied", GRAPH_DENIED_MESSAGE);
}

void graph_bad_segment(graph_req *g, const char *segment)
{
	graph_error(g, 400, "BadRequest", "Resource not found for the segment '%s'.", segment);
}

void graph_bad_method(graph_req *g)
{
	graph_error(g, 405, "Request_BadRequest",
		    "Specified HTTP method is not allowed for the request target.");
}

void graph_send(graph_req *g, int status, cJSON *obj)
{
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	if (!text) {
		graph_error(g, 500, "generalException", "The simulator ran out of memory.");
		return;
	}
	cloud_respond_json(g->rs, status, text);
}

void graph_no_content(graph_req *g)
{
	g->rs->status = 204;
}

int graph_eventual(const graph_req *g)
{
	const char *level = cloud_request_header(g->rq, "consistencylevel");
	return level && ssrp_ascii_ieq(level, "eventual");
}

int graph_advanced_query(const graph_req *g)
{
	return graph_eventual(g) && (g->q.present & GQ_COUNT) && g->q.count;
}

int graph_add_str(cJSON *o, const char *name, const char *value)
{
	cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();
	return graph_add_item(o, name, v);
}

int graph_add_bool(cJSON *o, const char *name, int value)
{
	return graph_add_item(o, name, cJSON_CreateBool(value));
}

int graph_add_item(cJSON *o, const char *name, cJSON *item)
{
	if (!o || !item || !cJSON_AddItemToObject(o, name, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

int graph_add_array_item(cJSON *array, cJSON *item)
{
	if (!array || !item || !cJSON_AddItemToArray(array, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

cJSON *graph_body_object(graph_req *g)
{
	static const char payload_msg[] = "Unable to read JSON request payload. Please ensure Content-Type "
					  "header is set and payload is of valid JSON format.";
	const char *ct = cloud_request_header(g->rq, "content-type");
	if (ct) {
		static const char json[] = "application/json";
		size_t n = sizeof json - 1;
		if (!ssrp_ascii_ieq_n(ct, json, n) || (ct[n] && ct[n] != ';' && ct[n] != ' ')) {
			graph_error(g, 415, "UnsupportedMediaType",
				    "The content type '%.100s' is not supported; send application/json.", ct);
			return NULL;
		}
	}
	if (!ct || !g->rq->body || g->rq->body_len == 0) {
		graph_error(g, 400, "BadRequest", "%s", payload_msg);
		return NULL;
	}
	const char *text = (const char *)g->rq->body;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, g->rq->body_len, &end, 0);
	if (j && end) {
		size_t at = (size_t)(end - text);
		while (at < g->rq->body_len && strchr(" \t\r\n", text[at]) && text[at])
			at++;
		if (at != g->rq->body_len) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		graph_error(g, 400, "BadRequest", "%s", payload_msg);
		return NULL;
	}
	return j;
}

/* ---- permissions -------------------------------------------------------------- */

int graph_is_delegated(const graph_req *g)
{
	return g->who.kind == CLOUD_PRINCIPAL_USER;
}

int graph_has_permission(const graph_req *g, const char *const *app_roles, const char *const *scopes)
{
	const char *const *list = graph_is_delegated(g) ? scopes : app_roles;
	const char *held = graph_is_delegated(g) ? g->who.scopes : g->who.roles;
	for (; list && *list; list++)
		if (cloud_word_in(held, *list))
			return 1;
	return 0;
}

int graph_user_has_role(graph_req *g, const char *const *roles)
{
	if (!graph_is_delegated(g))
		return 0;
	const cloud_user *u = cloud_user_find(g->ctx->state, g->who.user_id);
	if (!u)
		return 0;
	for (; *roles; roles++)
		if (cloud_user_has_role(u, *roles))
			return 1;
	return 0;
}

/* ---- query options --------------------------------------------------------------- */

static const struct {
	const char *name;  /* as in the URL */
	const char *odata; /* as ASP.NET OData names it in its messages */
	unsigned bit;
} query_options[] = {
	{"$filter", "Filter", GQ_FILTER},
	{"$select", "Select", GQ_SELECT},
	{"$top", "Top", GQ_TOP},
	{"$skiptoken", "SkipToken", GQ_SKIPTOKEN},
	{"$id", "Id", GQ_ID},
	{"$count", "Count", GQ_COUNT},
	{"$orderby", "OrderBy", GQ_ORDERBY},
	{"$search", "Search", GQ_SEARCH},
};

static int set_option(graph_req *g, unsigned bit, char *value)
{
	graph_query *q = &g->q;
	switch (bit) {
	case GQ_FILTER:
		q->filter = value;
		return 0;
	case GQ_SKIPTOKEN:
		q->skiptoken = value;
		return 0;
	case GQ_ID:
		q->id = value;
		return 0;
	case GQ_ORDERBY:
		q->orderby = value;
		return 0;
	case GQ_SEARCH:
		q->search = value;
		return 0;
	case GQ_COUNT:
		if (strcmp(value, "true") && strcmp(value, "false")) {
			graph_error(g, 400, "BadRequest",
				    "Invalid value '%.40s' for $count: true or false.", value);
			ssrp_free(value);
			return -1;
		}
		/* Without ConsistencyLevel: eventual, Graph ignores $count=true
		 * on a list ("Error handling for advanced queries"). */
		q->count = !strcmp(value, "true") && graph_eventual(g);
		ssrp_free(value);
		return 0;
	case GQ_TOP: {
		/* Digits only: "+5", " 5", "5.0" and "0x5" are all refused. */
		size_t v = 0, n = strlen(value);
		int ok = n > 0 && n <= 4;
		for (size_t i = 0; ok && i < n; i++) {
			if (value[i] < '0' || value[i] > '9')
				ok = 0;
			else
				v = v * 10 + (size_t)(value[i] - '0');
		}
		if (!ok || v < 1 || v > GRAPH_PAGE_MAX) {
			graph_error(g, 400, "Request_BadRequest",
				    "Invalid page size specified: '%.40s'. Must be between 1 and %d inclusive.",
				    value, GRAPH_PAGE_MAX);
			ssrp_free(value);
			return -1;
		}
		q->top = v;
		ssrp_free(value);
		return 0;
	}
	case GQ_SELECT: {
		q->select = value;
		q->select_buf = ssrp_malloc(strlen(value) + 1);
		if (!q->select_buf) {
			graph_error(g, 500, "generalException", "The simulator ran out of memory.");
			return -1;
		}
		strcpy(q->select_buf, value);
		char *p = q->select_buf;
		for (;;) {
			char *comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			while (*p == ' ')
				p++;
			size_t n = strlen(p);
			while (n && p[n - 1] == ' ')
				p[--n] = '\0';
			if (!n) {
				graph_error(g, 400, "BadRequest",
					    "Parsing OData Select and Expand failed: an empty property name in "
					    "'$select=%.100s'.",
					    value);
				return -1;
			}
			if (q->n_select == GRAPH_MAX_SELECT) {
				graph_error(g, 400, "BadRequest",
					    "Parsing OData Select and Expand failed: more than %d properties.",
					    GRAPH_MAX_SELECT);
				return -1;
			}
			q->select_items[q->n_select++] = p;
			if (!comma)
				break;
			p = comma + 1;
		}
		return 0;
	}
	}
	ssrp_free(value);
	return 0;
}

static int parse_query(graph_req *g)
{
	const char *q = g->rq->query ? g->rq->query : "";
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		size_t nn = eq ? (size_t)(eq - q) : n;
		if (n == 0)
			goto next;
		char *name = graph_pct_decode(q, nn, 1);
		char *value = eq ? graph_pct_decode(eq + 1, n - nn - 1, 1) : graph_pct_decode("", 0, 0);
		if (!name || !value) {
			ssrp_free(name);
			ssrp_free(value);
			graph_error(g, 400, "BadRequest", "The query string holds a malformed percent-encoding.");
			return -1;
		}
		/* Options without '$' are custom query options: OData ignores them. */
		if (name[0] != '$') {
			ssrp_free(name);
			ssrp_free(value);
			goto next;
		}
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof query_options / sizeof query_options[0]; i++)
			if (ssrp_ascii_ieq(name, query_options[i].name))
				bit = query_options[i].bit;
		if (!bit) {
			if (ssrp_ascii_ieq(name, "$expand") || ssrp_ascii_ieq(name, "$skip") ||
				 ssrp_ascii_ieq(name, "$format"))
				graph_error(g, 400, "BadRequest",
					    "Query option '%.40s' is not supported by the simulated directory.",
					    name);
			else
				graph_error(g, 400, "BadRequest", "The query parameter '%.40s' is not supported.",
					    name);
			ssrp_free(name);
			ssrp_free(value);
			return -1;
		}
		if (g->q.present & bit) {
			graph_error(g, 400, "BadRequest",
				    "Query option '%.40s' was specified more than once, but it must be specified at "
				    "most once.",
				    name);
			ssrp_free(name);
			ssrp_free(value);
			return -1;
		}
		ssrp_free(name);
		g->q.present |= bit;
		if (set_option(g, bit, value))
			return -1;
	next:
		if (!amp)
			break;
		q = amp + 1;
	}
	return 0;
}

int graph_query_allow(graph_req *g, unsigned allowed)
{
	for (size_t i = 0; i < sizeof query_options / sizeof query_options[0]; i++) {
		if ((g->q.present & query_options[i].bit) && !(allowed & query_options[i].bit)) {
			graph_error(g, 400, "BadRequest",
				    "The query specified in the URI is not valid. Query option '%s' is not "
				    "allowed. To allow it, set the 'AllowedQueryOptions' property on "
				    "EnableQueryAttribute or QueryValidationSettings.",
				    query_options[i].odata);
			return -1;
		}
	}
	return 0;
}

int graph_select_check(graph_req *g, const char *const *known, const char *type)
{
	for (size_t i = 0; i < g->q.n_select; i++) {
		const char *const *k = known;
		while (*k && !ssrp_ascii_ieq(*k, g->q.select_items[i]))
			k++;
		if (!*k) {
			graph_error(g, 400, "BadRequest",
				    "Parsing OData Select and Expand failed: Could not find a property named "
				    "'%.100s' on type '%s'.",
				    g->q.select_items[i], type);
			return -1;
		}
	}
	return 0;
}

int graph_select_names(const graph_req *g, const char *prop)
{
	for (size_t i = 0; i < g->q.n_select; i++)
		if (ssrp_ascii_ieq(g->q.select_items[i], prop))
			return 1;
	return 0;
}

int graph_selected(const graph_req *g, const char *prop)
{
	return !(g->q.present & GQ_SELECT) || graph_select_names(g, prop);
}

int graph_add_context(graph_req *g, cJSON *obj, const char *set, const char *suffix)
{
	strbuf b = {0};
	sb_str(&b, GRAPH_METADATA);
	sb_str(&b, set);
	if (g->q.present & GQ_SELECT) {
		sb_str(&b, "(");
		for (size_t i = 0; i < g->q.n_select; i++) {
			if (i)
				sb_str(&b, ",");
			sb_str(&b, g->q.select_items[i]);
		}
		sb_str(&b, ")");
	}
	sb_str(&b, suffix ? suffix : "");
	int rc = b.oom ? -1 : graph_add_str(obj, "@odata.context", b.p);
	ssrp_free(b.p);
	return rc;
}

/* ---- paging ------------------------------------------------------------------------ */

/* A $skiptoken is "ssrp1", 16 hex digits binding it to the request it was
 * made for (path, $filter, $select, $top, $orderby, $search), then the
 * position in hex. The binding refuses a token replayed against another
 * query, as Graph does, instead of silently returning an unrelated page. */
static uint64_t page_binding(const graph_req *g)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char top[24];
	snprintf(top, sizeof top, "%zu", (g->q.present & GQ_TOP) ? g->q.top : (size_t)0);
	const char *parts[] = {g->rq->path,
			       g->q.filter ? g->q.filter : "",
			       g->q.select ? g->q.select : "",
			       top,
			       g->q.orderby ? g->q.orderby : "",
			       g->q.search ? g->q.search : ""};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		for (const char *p = parts[i]; *p; p++) {
			char c = *p;
			if (i == 0 && c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			h = (h ^ (unsigned char)c) * 0x100000001b3ull;
		}
		h = (h ^ 0xff) * 0x100000001b3ull;
	}
	return h;
}

int graph_page_begin(graph_req *g, int allow_top, size_t *start, size_t *size)
{
	*size = (allow_top && (g->q.present & GQ_TOP)) ? g->q.top : GRAPH_PAGE_DEFAULT;
	*start = 0;
	if (!(g->q.present & GQ_SKIPTOKEN))
		return 0;
	const char *t = g->q.skiptoken;
	char want[24];
	snprintf(want, sizeof want, "%016llx", (unsigned long long)page_binding(g));
	size_t n = strlen(t);
	int ok = n > 21 && n <= 21 + 16 && strncmp(t, "ssrp1", 5) == 0 && strncmp(t + 5, want, 16) == 0;
	uint64_t pos = 0;
	for (size_t i = 21; ok && i < n; i++) {
		/* skiptokens are written in lower case only */
		int v = t[i] >= 'A' && t[i] <= 'F' ? -1 : ssrp_hex_value((unsigned char)t[i]);
		if (v < 0)
			ok = 0;
		else
			pos = pos * 16 + (uint64_t)v;
	}
	if (!ok || pos > (uint64_t)SIZE_MAX) {
		graph_error(g, 400, "Request_BadRequest",
			    "The $skiptoken is not valid for this request; follow @odata.nextLink as given.");
		return -1;
	}
	*start = (size_t)pos;
	return 0;
}

int graph_page_link(graph_req *g, cJSON *obj, size_t next)
{
	strbuf b = {0};
	sb_str(&b, GRAPH_ROOT);
	sb_encode(&b, g->rq->path, "/$()'=,@:!*+;");
	sb_str(&b, "?");
	if (g->q.present & GQ_FILTER) {
		sb_str(&b, "$filter=");
		sb_encode(&b, g->q.filter, "");
		sb_str(&b, "&");
	}
	if (g->q.present & GQ_SELECT) {
		sb_str(&b, "$select=");
		sb_encode(&b, g->q.select, ",");
		sb_str(&b, "&");
	}
	if (g->q.present & GQ_SEARCH) {
		sb_str(&b, "$search=");
		sb_encode(&b, g->q.search, "");
		sb_str(&b, "&");
	}
	if (g->q.present & GQ_ORDERBY) {
		sb_str(&b, "$orderby=");
		sb_encode(&b, g->q.orderby, "");
		sb_str(&b, "&");
	}
	/* The next page stays an advanced query when this one was. */
	if (g->q.count)
		sb_str(&b, "$count=true&");
	char tail[80];
	if (g->q.present & GQ_TOP) {
		snprintf(tail, sizeof tail, "$top=%zu&", g->q.top);
		sb_str(&b, tail);
	}
	snprintf(tail, sizeof tail, "$skiptoken=ssrp1%016llx%llx", (unsigned long long)page_binding(g),
		 (unsigned long long)next);
	sb_str(&b, tail);
	int rc = b.oom ? -1 : graph_add_str(obj, "@odata.nextLink", b.p);
	ssrp_free(b.p);
	return rc;
}

static int collection_match(const graph_collection *c, const void *it)
{
	return it && graph_filter_match(c->filter, c->get, it) && graph_search_match(c->search, c->get, it);
}

static void send_page(graph_req *g, const graph_collection *c)
{
	size_t start, size;
	if (graph_page_begin(g, c->allow_top, &start, &size))
		return;
	cJSON *obj = cJSON_CreateObject();
	cJSON *value = cJSON_CreateArray();
	int bad = graph_add_context(g, obj, c->set, NULL);
	bad |= graph_add_item(obj, "value", value);
	if (bad)
		value = NULL;
	size_t pos = start, shown = 0;
	for (; pos < c->count && !bad; pos++) {
		const void *it = c->at(g, c->arg, pos);
		if (!collection_match(c, it))
			continue;
		/* A match past a full page: there is a next page, and it starts here. */
		if (shown == size)
			break;
		bad |= graph_add_array_item(value, c->item(g, c, it));
		shown++;
	}
	if (!bad && pos < c->count)
		bad |= graph_page_link(g, obj, pos);
	if (!bad && g->q.count) {
		size_t matches = 0;
		for (size_t i = 0; i < c->count; i++)
			matches += collection_match(c, c->at(g, c->arg, i));
		bad |= !cJSON_AddNumberToObject(obj, "@odata.count", (double)matches);
	}
	if (bad) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	graph_send(g, 200, obj);
}

typedef struct sort_item {
	const void *it;
	const char *key; /* NULL sorts first, as OData orders null */
	size_t pos;      /* ties keep the collection's order */
	int desc;
} sort_item;

static int sort_cmp(const void *pa, const void *pb)
{
	const sort_item *a = pa, *b = pb;
	int r = !a->key ? (b->key ? -1 : 0) : !b->key ? 1 : ssrp_ascii_icmp(a->key, b->key);
	if (a->desc)
		r = -r;
	return r ? r : (a->pos < b->pos ? -1 : a->pos > b->pos);
}

static const void *sorted_at(graph_req *g, const void *arg, size_t pos)
{
	(void)g;
	return ((const sort_item *)arg)[pos].it;
}

void graph_send_collection(graph_req *g, const graph_collection *c)
{
	if (g->q.order_prop < 0) {
		send_page(g, c);
		return;
	}
	/* $orderby: the matches, sorted, are the collection the pages walk
	 * (the $skiptoken is bound to the order, so positions stay valid). */
	size_t n = 0;
	sort_item *items = ssrp_calloc(c->count ? c->count : 1, sizeof *items);
	if (!items) {
		graph_error(g, 500, "generalException", "The simulator ran out of memory.");
		return;
	}
	for (size_t i = 0; i < c->count; i++) {
		const void *it = c->at(g, c->arg, i);
		if (!collection_match(c, it))
			continue;
		items[n].it = it;
		items[n].key = c->get(it, (graph_filter_prop)g->q.order_prop);
		items[n].pos = i;
		items[n].desc = g->q.order_desc;
		n++;
	}
	qsort(items, n, sizeof *items, sort_cmp);
	graph_collection view = *c;
	view.count = n;
	view.at = sorted_at;
	view.arg = items;
	view.filter = NULL;
	view.search = NULL;
	send_page(g, &view);
	ssrp_free(items);
}

/* ---- routing ------------------------------------------------------------------------ */

/* Split the path after "/v1.0/" at '/', except inside a quoted key such as
 * devices(deviceId='...'), where a '/' belongs to the literal. */
static int split_path(graph_req *g, const char *rest)
{
	g->path_buf = ssrp_malloc(strlen(rest) + 1);
	if (!g->path_buf) {
		graph_error(g, 500, "generalException", "The simulator ran out of memory.");
		return -1;
	}
	strcpy(g->path_buf, rest);
	char *p = g->path_buf;
	int quoted = 0;
	g->seg[g->n_seg++] = p;
	for (; *p; p++) {
		if (*p == '\'')
			quoted = !quoted;
		else if (*p == '/' && !quoted) {
			*p = '\0';
			if (g->n_seg == GRAPH_MAX_SEGMENTS) {
				graph_bad_segment(g, p + 1);
				return -1;
			}
			g->seg[g->n_seg++] = p + 1;
		}
	}
	/* A trailing slash is tolerated, as Graph does. */
	if (g->n_seg > 1 && !g->seg[g->n_seg - 1][0])
		g->n_seg--;
	for (size_t i = 0; i < g->n_seg; i++) {
		if (!g->seg[i][0]) {
			graph_bad_segment(g, "");
			return -1;
		}
	}
	return 0;
}

/* The entity-set name of a segment, ignoring a key in parentheses. */
static int segment_is(const char *seg, const char *name)
{
	size_t n = strlen(name);
	return ssrp_ascii_ieq_n(seg, name, n) && (seg[n] == '\0' || seg[n] == '(');
}

void graph_route(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs, int inner)
{
	graph_req g;
	memset(&g, 0, sizeof g);
	g.ctx = ctx;
	g.rq = rq;
	g.rs = rs;
	g.now = ctx->now ? ctx->now() : (uint64_t)time(NULL);
	g.q.order_prop = -1;

	if (cloud_token_verify(ctx, rq, &g.who, rs))
		return;
	if (g.who.kind == CLOUD_PRINCIPAL_USER)
		snprintf(g.actor, sizeof g.actor, "user:%s", g.who.upn);
	else
		snprintf(g.actor, sizeof g.actor, "app:%s", g.who.app_id);
	snprintf(rs->identity, sizeof rs->identity, "%s", g.actor);

	static const char prefix[] = "/v1.0/";
	const char *path = rq->path ? rq->path : "";
	if (ssrp_ascii_ieq(path, "/v1.0") || ssrp_ascii_ieq(path, "/v1.0/")) {
		graph_bad_segment(&g, "");
		return;
	}
	if (!ssrp_ascii_ieq_n(path, prefix, sizeof prefix - 1)) {
		const char *v = path[0] == '/' ? path + 1 : path;
		size_t n = strcspn(v, "/");
		graph_error(&g, 400, "BadRequest", "Invalid version: '%.*s'; the simulator serves v1.0.",
			    (int)(n > 40 ? 40 : n), v);
		return;
	}
	if (split_path(&g, path + sizeof prefix - 1) || parse_query(&g))
		goto out;

	if (ssrp_ascii_ieq(g.seg[0], "$batch")) {
		if (inner)
			graph_error(&g, 400, "BadRequest", "A $batch request cannot hold another $batch.");
		else
			graph_batch_handle(&g);
		goto out;
	}
	int directory = segment_is(g.seg[0], "users") || segment_is(g.seg[0], "me") ||
			segment_is(g.seg[0], "devices");
	int keys = ssrp_ascii_ieq(g.seg[0], "informationProtection");
	int skus = ssrp_ascii_ieq(g.seg[0], "subscribedSkus");
	if (!directory && !keys && !skus) {
		graph_bad_segment(&g, g.seg[0]);
		goto out;
	}
	cloud_state_lock(ctx->state);
	if (directory)
		graph_directory_handle(&g);
	else if (skus)
		graph_skus_handle(&g);
	else
		graph_keys_handle(&g);
	cloud_state_unlock(ctx->state);
out:
	ssrp_free(g.path_buf);
	ssrp_free(g.q.filter);
	ssrp_free(g.q.select);
	ssrp_free(g.q.select_buf);
	ssrp_free(g.q.skiptoken);
	ssrp_free(g.q.id);
	ssrp_free(g.q.orderby);
	ssrp_free(g.q.search);
}

void cloud_graph_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	graph_route(ctx, rq, rs, 0);
}
