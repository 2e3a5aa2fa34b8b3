/* `ssrp assoc report [--config F] [--json | --csv | --html FILE]
 * [--reports FILE] [--audit FILE [--days N]]`: the administrator's report
 * over ssrp/assoc_report.h, joined with the devices' reports that
 * ssrp-assocd keeps and the key reads of an audit log (the same header). Text (default) gives
 * the summary lines and the devices that need attention; --json and --csv
 * every device on standard output; --html FILE a page with both. Text from
 * the directory is escaped for each format (a CSV cell that a spreadsheet
 * would run as a formula is prefixed with '). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include <ssrp/assoc_report.h>
#include <ssrp/buf.h>
#include <ssrp/config.h>
#include <ssrp/file.h>
#include <ssrp/sys/error.h>
#include "tools/cli_util.h"
#include "tools/cmd_assoc_report.h"

static const char usage[] =
	"usage: ssrp assoc report [--config FILE] [--json | --csv | --html FILE]\n"
	"                         [--reports FILE] [--audit FILE [--days N]]\n"
	"\n"
	"Every device in the tenant: its join type, the BitLocker recovery keys Entra ID\n"
	"holds for it (count, newest, oldest; never a key) and its registered owners; then\n"
	"the devices with no key, those without an owner (their users cannot look their key\n"
	"up themselves) and those near Entra ID's limit of 200 keys. Read with the\n"
	"configuration's app credential (app_id with app_secret_file or app_cert_file;\n"
	"application permissions Device.Read.All, User.Read.All and\n"
	"BitLockerKey.ReadBasic.All).\n"
	"\n"
	"  --reports FILE  the devices' reports ssrp-assocd keeps (default\n"
	"                  " SSRP_DEVICE_REPORTS_DEFAULT_DIR "/" SSRP_DEVICE_REPORTS_FILE "): each device that reported\n"
	"                  shows the recovery protector ids on its disk and whether Entra ID\n"
	"                  holds a key of each; then the devices whose disk holds one it lacks\n"
	"  --audit FILE    the tenant's audit log, one JSON entry a line (Graph's\n"
	"                  directoryAudits): \"Read BitLocker key\" entries are counted\n"
	"  --days N        the window for --audit: the last N days (default 30)\n"
	"Exit 0 when read, 1 when Graph could not be read, 2 for usage.\n";

typedef struct report_args {
	const char *config, *html, *reports, *audit, *days;
	int json, csv, help;
	const char *positional;
} report_args;

/* A growing text. */
typedef struct text {
	char *s;
	size_t len, cap;
	int failed;
} text;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->failed || n < 0)
		return;
	if (t->len + (size_t)n + 1 > t->cap) {
		size_t cap = (t->len + (size_t)n + 1) * 2;
		char *s = ssrp_realloc(t->s, cap);
		if (!s) {
			t->failed = 1;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static void put_html(text *t, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': put(t, "&lt;"); break;
		case '>': put(t, "&gt;"); break;
		case '&': put(t, "&amp;"); break;
		case '"': put(t, "&quot;"); break;
		case '\'': put(t, "&#39;"); break;
		default: put(t, "%c", *s);
		}
	}
}

static void put_csv(text *t, const char *s)
{
	int formula = *s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r';
	put(t, "\"%s", formula ? "'" : "");
	for (; *s; s++)
		put(t, *s == '"' ? "\"\"" : "%c", *s);
	put(t, "\"");
}

static const char *join_word(const char *trust)
{
	return !strcmp(trust, "AzureAd")    ? "Entra joined"
	       : !strcmp(trust, "ServerAd")  ? "hybrid joined"
	       : !strcmp(trust, "Workplace") ? "registered"
					     : "unknown";
}

/* The report and what was joined to it. */
typedef struct view {
	const ssrp_report *r;
	const char *reports_path;
	size_t reports_skipped;
	const char *audit_path; /* NULL: key reads not counted */
	unsigned days;
	ssrp_key_reads kr;
} view;

static void summary(text *t, const view *v)
{
	const ssrp_report *r = v->r;
	put(t, "devices:                %zu\n", r->n);
	put(t, "recovery keys:          %zu (%zu of devices no longer in the directory)\n", r->keys,
	    r->orphan_keys);
	put(t, "devices with no key:    %zu\n", r->no_key);
	put(t, "devices without owner:  %zu (their users cannot look their key up themselves)\n",
	    r->no_owner);
	put(t, "devices near the limit: %zu (%d or more of the 200 keys Entra ID keeps)\n",
	    r->near_limit, SSRP_REPORT_NEAR_LIMIT);
	put(t, "devices that reported:  %zu (device reports in %s", r->reported, v->reports_path);
	if (r->reported_unknown)
		put(t, "; %zu of devices not in the directory", r->reported_unknown);
	if (v->reports_skipped)
		put(t, "; %zu unreadable entries skipped", v->reports_skipped);
	put(t, ")\n");
	put(t, "devices whose disk holds a protector Entra lacks: %zu\n", r->lacking);
	if (!v->audit_path) {
		put(t, "keys read in the last %u days: not counted (give --audit FILE)\n", v->days);
		return;
	}
	put(t, "keys read in the last %u days: %lu (audit log %s: %lu earlier or later, %lu "
	       "other entries, %lu lines skipped",
	    v->days, v->kr.reads, v->audit_path, v->kr.reads_other, v->kr.other, v->kr.bad);
	if (v->kr.bad)
		put(t, ", the first at line %lu: %s", v->kr.first_bad, v->kr.first_bad_why);
	put(t, ")\n");
}

/* "{id} (in Entra ID), {id} (NOT in Entra ID)" */
static void put_protectors(text *t, const ssrp_report_device *d)
{
	for (size_t k = 0; d->reported && k < d->reported->n; k++)
		put(t, "%s%s (%s)", k ? ", " : "", d->reported->protectors[k],
		    d->in_entra[k] ? "in Entra ID" : "NOT in Entra ID");
}

static void as_text(text *t, const view *v)
{
	const ssrp_report *r = v->r;
	summary(t, v);
	for (size_t i = 0; i < r->n; i++) {
		const ssrp_report_device *d = &r->devices[i];
		if (d->n_keys && d->n_owners && d->n_keys < SSRP_REPORT_NEAR_LIMIT && !d->n_lacking)
			continue;
		put(t, "%s %s (%s): %zu key%s, %s%s", d->device_id, d->name,
		    join_word(d->trust_type), d->n_keys, d->n_keys == 1 ? "" : "s",
		    d->n_owners ? "owners " : "no owner", d->owners ? d->owners : "");
		if (d->n_lacking) {
			put(t, "; on its disk: ");
			put_protectors(t, d);
		}
		put(t, "\n");
	}
}

static void json_reported(cJSON *e, const ssrp_report_device *d)
{
	if (!d->reported) {
		cJSON_AddNullToObject(e, "reported");
		return;
	}
	cJSON *o = cJSON_AddObjectToObject(e, "reported");
	cJSON_AddStringToObject(o, "state", d->reported->state);
	cJSON_AddNumberToObject(o, "verifiedAt", (double)d->reported->verified_at);
	cJSON_AddNumberToObject(o, "receivedAt", (double)d->reported->received_at);
	cJSON_AddNumberToObject(o, "protectorsLacking", (double)d->n_lacking);
	cJSON *a = cJSON_AddArrayToObject(o, "protectors");
	for (size_t k = 0; a && k < d->reported->n; k++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddItemToArray(a, p);
		cJSON_AddStringToObject(p, "id", d->reported->protectors[k]);
		cJSON_AddBoolToObject(p, "inEntra", d->in_entra[k]);
	}
}

static char *as_json(const view *v)
{
	const ssrp_report *r = v->r;
	cJSON *o = cJSON_CreateObject();
	cJSON *s = cJSON_AddObjectToObject(o, "summary");
	cJSON_AddNumberToObject(s, "devices", (double)r->n);
	cJSON_AddNumberToObject(s, "keys", (double)r->keys);
	cJSON_AddNumberToObject(s, "orphanKeys", (double)r->orphan_keys);
	cJSON_AddNumberToObject(s, "devicesWithoutKey", (double)r->no_key);
	cJSON_AddNumberToObject(s, "devicesWithoutOwner", (double)r->no_owner);
	cJSON_AddNumberToObject(s, "devicesNearKeyLimit", (double)r->near_limit);
	cJSON_AddNumberToObject(s, "devicesReported", (double)r->reported);
	cJSON_AddNumberToObject(s, "devicesLackingProtector", (double)r->lacking);
	cJSON_AddNumberToObject(s, "reportsOfUnknownDevices", (double)r->reported_unknown);
	cJSON_AddNumberToObject(s, "reportsSkipped", (double)v->reports_skipped);
	if (v->audit_path) {
		cJSON *k = cJSON_AddObjectToObject(s, "keyReads");
		cJSON_AddNumberToObject(k, "days", v->days);
		cJSON_AddNumberToObject(k, "reads", (double)v->kr.reads);
		cJSON_AddNumberToObject(k, "readsOutsideWindow", (double)v->kr.reads_other);
		cJSON_AddNumberToObject(k, "otherEntries", (double)v->kr.other);
		cJSON_AddNumberToObject(k, "linesSkipped", (double)v->kr.bad);
	} else {
		cJSON_AddNullToObject(s, "keyReads");
	}
	cJSON_AddNumberToObject(s, "graphRequests", (double)r->graph_requests);
	cJSON *a = cJSON_AddArrayToObject(o, "devices");
	for (size_t i = 0; a && i < r->n; i++) {
		const ssrp_report_device *d = &r->devices[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddItemToArray(a, e);
		cJSON_AddStringToObject(e, "deviceId", d->device_id);
		cJSON_AddStringToObject(e, "id", d->id);
		cJSON_AddStringToObject(e, "displayName", d->name);
		cJSON_AddStringToObject(e, "trustType", d->trust_type);
		cJSON_AddBoolToObject(e, "accountEnabled", d->enabled);
		cJSON_AddNumberToObject(e, "keys", (double)d->n_keys);
		if (d->n_keys) {
			cJSON_AddStringToObject(e, "newestKey", d->newest);
			cJSON_AddStringToObject(e, "oldestKey", d->oldest);
		} else {
			cJSON_AddNullToObject(e, "newestKey");
			cJSON_AddNullToObject(e, "oldestKey");
		}
		cJSON_AddNumberToObject(e, "owners", (double)d->n_owners);
		cJSON_AddStringToObject(e, "ownerUpns", d->owners ? d->owners : "");
		json_reported(e, d);
	}
	char *out = cJSON_Print(o);
	cJSON_Delete(o);
	return out;
}

static void as_csv(text *t, const view *v)
{
	const ssrp_report *r = v->r;
	put(t, "deviceId,displayName,trustType,accountEnabled,keys,newestKey,oldestKey,owners,"
	       "ownerUpns,reportedState,protectors,protectorsLacking\r\n");
	for (size_t i = 0; i < r->n; i++) {
		const ssrp_report_device *d = &r->devices[i];
		put(t, "%s,", d->device_id);
		put_csv(t, d->name);
		put(t, ",%s,%s,%zu,%s,%s,%zu,", d->trust_type, d->enabled ? "true" : "false",
		    d->n_keys, d->newest, d->oldest, d->n_owners);
		put_csv(t, d->owners ? d->owners : "");
		if (d->reported) {
			text p = {0};
			put_protectors(&p, d);
			put(t, ",%s,", d->reported->state);
			put_csv(t, p.s ? p.s : "");
			t->failed |= p.failed;
			ssrp_free(p.s);
			put(t, ",%zu\r\n", d->n_lacking);
		} else {
			put(t, ",,,\r\n");
		}
	}
}

static void as_html(text *t, const view *v)
{
	const ssrp_report *r = v->r;
	put(t, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<title>BitLocker escrow report</title></head><body>\n"
	       "<h1>BitLocker escrow report</h1>\n<pre>");
	text s = {0};
	summary(&s, v);
	if (s.failed)
		t->failed = 1;
	else if (s.s)
		put_html(t, s.s);
	ssrp_free(s.s);
	put(t, "</pre>\n<table>\n<tr><th>deviceId</th><th>name</th><th>join</th><th>keys</th>"
	       "<th>newest</th><th>oldest</th><th>owners</th><th>reported</th>"
	       "<th>protectors on its disk</th></tr>\n");
	for (size_t i = 0; i < r->n; i++) {
		const ssrp_report_device *d = &r->devices[i];
		put(t, "<tr><td>%s</td><td>", d->device_id);
		put_html(t, d->name);
		put(t, "</td><td>%s</td><td>%zu</td><td>%s</td><td>%s</td><td>",
		    join_word(d->trust_type), d->n_keys, d->newest, d->oldest);
		put_html(t, d->owners ? d->owners : "");
		put(t, "</td><td>%s</td><td>", d->reported ? d->reported->state : "");
		put_protectors(t, d);
		put(t, "</td></tr>\n");
	}
	put(t, "</table>\n</body></html>\n");
}

/* The devices' reports and the audit log's key reads into v. */
static int join_extras(view *v, ssrp_device_reports *reports, const report_args *a)
{
	char why[300];
	int rc = ssrp_device_reports_load(reports, v->reports_path, &v->reports_skipped, why,
					  sizeof why);
	if (rc)
		return ssrp_error_prefix(rc, "the device reports (--reports)");
	if (v->reports_skipped)
		fprintf(stderr, "ssrp assoc report: %s: %zu entr%s skipped (the first: %s)\n",
			v->reports_path, v->reports_skipped, v->reports_skipped == 1 ? "y" : "ies",
			why);
	if (!a->audit)
		return SSRP_OK;
	int64_t now = (int64_t)time(NULL);
	rc = ssrp_key_reads_count(a->audit, now - (int64_t)v->days * 86400, now, &v->kr);
	if (rc)
		return rc;
	v->audit_path = a->audit;
	if (v->kr.bad)
		fprintf(stderr,
			"ssrp assoc report: %s: %lu line%s skipped (the first, line %lu: %s)\n",
			a->audit, v->kr.bad, v->kr.bad == 1 ? "" : "s", v->kr.first_bad,
			v->kr.first_bad_why);
	return SSRP_OK;
}

int ssrp_cmd_assoc_report(int argc, char **argv)
{
	static const cli_option opts[] = {
		{"--config", CLI_VALUE, offsetof(report_args, config), NULL},
		{"--html", CLI_VALUE, offsetof(report_args, html), NULL},
		{"--reports", CLI_VALUE, offsetof(report_args, reports), NULL},
		{"--audit", CLI_VALUE, offsetof(report_args, audit), NULL},
		{"--days", CLI_VALUE, offsetof(report_args, days), NULL},
		{"--json", CLI_FLAG, offsetof(report_args, json), NULL},
		{"--csv", CLI_FLAG, offsetof(report_args, csv), NULL},
		{"--help", CLI_FLAG, offsetof(report_args, help), NULL},
		{"-h", CLI_FLAG, offsetof(report_args, help), NULL},
	};
	report_args a;
	memset(&a, 0, sizeof a);
	int n_pos = 0;
	int rc = cli_parse_options(&a, opts, sizeof opts / sizeof *opts, &a.positional, 0, &n_pos,
				   argc - 1, argv + 1);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (a.json + a.csv + (a.html != NULL) > 1)
		return cli_usage_error("give one of --json, --csv and --html FILE");
	view v;
	memset(&v, 0, sizeof v);
	v.kr = (ssrp_key_reads)SSRP_KEY_READS_INIT;
	v.days = 30;
	v.reports_path = a.reports ? a.reports
				   : SSRP_DEVICE_REPORTS_DEFAULT_DIR "/" SSRP_DEVICE_REPORTS_FILE;
	if (a.days) {
		uint64_t d;
		if (!a.audit)
			return cli_usage_error("--days counts key reads in --audit FILE: give both");
		if (cli_parse_uint(&d, a.days, 1, 36500) != 0)
			return cli_usage_error("--days: expected a number of days from 1 to 36500, "
					       "not '%s'",
					       a.days);
		v.days = (unsigned)d;
	}
	ssrp_device_reports *reports = NULL;
	if ((rc = ssrp_device_reports_new(&reports)) != SSRP_OK ||
	    (rc = join_extras(&v, reports, &a)) != SSRP_OK) {
		ssrp_device_reports_destroy(reports);
		return cli_fail(rc);
	}
	ssrp_cloud_config *cfg = NULL;
	if ((rc = cli_load_config(&cfg, a.config, NULL)) != 0) {
		ssrp_device_reports_destroy(reports);
		return rc;
	}
	ssrp_report r = SSRP_REPORT_INIT;
	rc = ssrp_assoc_report_read(cfg, reports, &r);
	ssrp_cloud_config_free(cfg);
	if (rc) {
		ssrp_device_reports_destroy(reports);
		return cli_fail(rc);
	}
	v.r = &r;
	text t = {0};
	char *json = NULL;
	if (a.json) {
		if (!(json = as_json(&v)))
			t.failed = 1;
		else
			put(&t, "%s\n", json);
		cJSON_free(json);
	} else if (a.csv) {
		as_csv(&t, &v);
	} else if (a.html) {
		as_html(&t, &v);
	} else {
		as_text(&t, &v);
	}
	ssrp_assoc_report_free(&r);
	ssrp_device_reports_destroy(reports);
	if (t.failed) {
		ssrp_free(t.s);
		return cli_fail(ssrp_error_set(SSRP_E_NOMEM, "out of memory"));
	}
	if (a.html) {
		rc = ssrp_fs_write_output(a.html, t.s, t.len, 0644, 0);
		ssrp_free(t.s);
		return rc ? cli_fail(rc) : EXIT_OK;
	}
	fwrite(t.s ? t.s : "", 1, t.len, stdout);
	ssrp_free(t.s);
	return fflush(stdout) ? EXIT_FAILURE_ : EXIT_OK;
}
