/* ssrp: the administrator's report (`ssrp assoc report`) and what feeds it.
 *
 * For every device in the tenant: its join type (trustType), the recovery
 * keys Entra ID holds for it (count, newest, oldest) and its registered
 * owners, and the lines an administrator acts on: devices with no key,
 * devices without an owner (their users cannot look their key up
 * themselves), devices near Entra ID's limit of 200 keys. Read with an
 * app-only token (Device.Read.All, BitLockerKey.ReadBasic.All: key
 * metadata, never a key) in few requests.
 *
 * The devices' own reports join it: what each device told the association
 * service about its disk (the "report" member of its request, ssrp/assoc.h)
 *   "report":{"state":"compliant","verifiedAt":1764900000,
 *             "protectors":["{6A3C...-...}", ...]}
 * kept by ssrp-assocd, latest per device, in one file it can rebuild:
 *   {"version":1,"devices":[{"deviceId","state","verifiedAt","receivedAt",
 *    "protectors":[...]}, ...]}
 * Each device that reported shows the recovery protector ids on its disk
 * and whether Entra ID holds a key of each.
 *
 * And the key reads of an audit log: Entra ID's "Read BitLocker key"
 * entries (directoryAudits, one JSON object a line), counted.
 *
 * Errors as ssrp/error.h. Threads: a report, a device report and key-read
 * counts are plain data; a reports cache is one thread's at a time (a
 * server that shares one locks around it). */
#ifndef SSRP_ASSOC_REPORT_H
#define SSRP_ASSOC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- a device's report ---------------------------------------------------- */
#define SSRP_DEVICE_REPORT_MAX_PROTECTORS 32
#define SSRP_DEVICE_REPORTS_MAX 200000u
/* Where ssrp-assocd keeps the cache and `ssrp assoc report` looks for it
 * when not told otherwise. */
#define SSRP_DEVICE_REPORTS_DEFAULT_DIR "/var/lib/ssrp"
#define SSRP_DEVICE_REPORTS_FILE "device-reports.json"

/* Library-owned (parsed from a request, kept in a cache): fields may be
 * added at the end. */
typedef struct ssrp_device_report {
	char device_id[37];  /* lower case; the cache's key */
	char state[16];      /* "compliant" | "not-yet" */
	int64_t verified_at; /* Unix seconds of the last complete verification; 0 never */
	int64_t received_at; /* the service: when it arrived */
	size_t n;
	char protectors[SSRP_DEVICE_REPORT_MAX_PROTECTORS][39]; /* "{XXXXXXXX-...}" */
} ssrp_device_report;

/* The latest report of each device (opaque), at most
 * SSRP_DEVICE_REPORTS_MAX devices: the one heard from longest ago makes
 * room. */
typedef struct ssrp_device_reports ssrp_device_reports;

/** An empty cache; free with ssrp_device_reports_destroy. */
SSRP_API int ssrp_device_reports_new(ssrp_device_reports **out);
SSRP_API void ssrp_device_reports_destroy(ssrp_device_reports *c);
/** How many devices it holds. */
SSRP_API size_t ssrp_device_reports_count(const ssrp_device_reports *c);
/** Keep r as device_id's latest report, received now (device_id: a GUID,
 * any case, as the device's certificate names it; SSRP_E_INVALID
 * otherwise). */
SSRP_API int ssrp_device_reports_keep(ssrp_device_reports *c, const char *device_id,
				      const ssrp_device_report *r);
/** The file's text (free with ssrp_free; *len its length) or NULL when out
 * of memory. */
SSRP_API char *ssrp_device_reports_text(const ssrp_device_reports *c, size_t *len);
/** Read path into c (emptied first). A missing file is an empty cache
 * (SSRP_OK). Text that is not the cache's is SSRP_E_FORMAT naming what is
 * wrong, c left empty; entries that are not reports are skipped, counted in
 * *skipped, the first one's fault in why (cap bytes). */
SSRP_API int ssrp_device_reports_load(ssrp_device_reports *c, const char *path, size_t *skipped,
				      char *why, size_t cap);

/* ---- the report ------------------------------------------------------------ */
/* From this many keys a device counts as near the limit. */
#define SSRP_REPORT_NEAR_LIMIT 150

/* Library-allocated array elements: fields may be added at the end. */
typedef struct ssrp_report_device {
	char id[40];          /* object id */
	char device_id[40];   /* deviceId */
	char *name;           /* displayName; "" when none */
	char trust_type[16];  /* "AzureAd", "ServerAd", "Workplace"; "" unknown */
	int enabled;
	size_t n_keys;
	char newest[40], oldest[40]; /* createdDateTime as Graph gave it; "" none */
	size_t n_owners;
	char *owners;         /* userPrincipalNames joined by ", "; "" none */
	/* what the device reported, NULL when it has not (points into the
	 * reports given to the read) */
	const ssrp_device_report *reported;
	unsigned char in_entra[SSRP_DEVICE_REPORT_MAX_PROTECTORS]; /* per reported id */
	size_t n_lacking; /* reported protectors Entra ID holds no key of */
} ssrp_report_device;

/* Versioned: the caller sets the version (SSRP_REPORT_INIT); the library
 * fills the rest. */
#define SSRP_REPORT_VERSION 1
typedef struct ssrp_report {
	unsigned int version;        /* SSRP_REPORT_VERSION, set by the caller */
	ssrp_report_device *devices; /* sorted by deviceId */
	size_t n;
	size_t no_key, no_owner, near_limit;
	size_t keys, orphan_keys; /* all keys; keys of no device in the list */
	size_t reported;          /* devices with a report */
	size_t lacking;           /* devices whose disk holds a protector Entra lacks */
	size_t reported_unknown;  /* reports of devices not in the directory */
	unsigned long graph_requests; /* token requests included */
} ssrp_report;

#define SSRP_REPORT_INIT {.version = SSRP_REPORT_VERSION}

/** Read the tenant with the configuration's app credential (app_id with
 * app_cert_file, else app_secret_file; SSRP_E_INVALID when it has
 * neither), joined with the devices' reports (NULL: none; they must
 * outlive out). SSRP_OK with *out filled (its version set by the caller);
 * an error naming what could not be read otherwise (*out then empty). Free
 * with ssrp_assoc_report_free. */
SSRP_API int ssrp_assoc_report_read(const ssrp_cloud_config *cfg,
				    const ssrp_device_reports *reports, ssrp_report *out);
/** Free what a report holds (the version stays). */
SSRP_API void ssrp_assoc_report_free(ssrp_report *r);

/* ---- key reads ------------------------------------------------------------- */
/* Versioned: the caller sets the version (SSRP_KEY_READS_INIT). */
#define SSRP_KEY_READS_VERSION 1
typedef struct ssrp_key_reads {
	unsigned int version;      /* SSRP_KEY_READS_VERSION, set by the caller */
	unsigned long reads;       /* key reads in [since, until] */
	unsigned long reads_other; /* key reads outside it */
	unsigned long other;       /* entries that are not key reads */
	unsigned long bad;         /* lines skipped */
	unsigned long first_bad;   /* the first one's number (1-based); 0 none */
	char first_bad_why[120];
} ssrp_key_reads;

#define SSRP_KEY_READS_INIT {.version = SSRP_KEY_READS_VERSION}

/** Count the audit log's key reads between since and until (Unix seconds):
 * lines {"activityDisplayName":"Read BitLocker key","activityDateTime":...}
 * as Graph's directoryAudits gives each entry (or the simulated tenant's
 * {"action","time"}); other entries are counted apart, lines that are not
 * such an object skipped and counted, never fatal. SSRP_OK unless the file
 * cannot be read (SSRP_E_IO naming it). */
SSRP_API int ssrp_key_reads_count(const char *path, int64_t since, int64_t until,
				  ssrp_key_reads *out);

#ifdef __cplusplus
}
#endif

#endif
