/* The agent as a library call (include/ssrp/agent.h) where no cloud is
 * needed: no configuration, a configuration that names no device (not
 * registered: nothing touched, the progress callback says so), status on
 * the same device, and the state names. The runs against the simulated
 * cloud and swtpm are integration/test_agent_story.sh and _cases.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/cloud/pki.h"
#include "ssrp/sim.h"
#include "ssrp/agent.h"
#include "ssrp/error.h"
#include "ssrp/volume.h"

typedef struct events {
	int n;
	int identity;
	int changed;
	char last[600];
} events;

static void on_event(const ssrp_agent_event *ev, void *ctx)
{
	events *e = ctx;
	e->n++;
	e->identity += ev->step == SSRP_AGENT_STEP_IDENTITY;
	e->changed += ev->changed;
	snprintf(e->last, sizeof e->last, "%s", ev->message);
}

static char dir[256];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "%s/ssrp-agent-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_no_configuration(void **st)
{
	(void)st;
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	assert_int_equal(ssrp_agent_run(&o, &r), SSRP_E_INVALID);
	assert_int_equal(r.state, SSRP_AGENT_FAILED);
	assert_non_null(strstr(r.reason, "configuration"));
	char path[400];
	snprintf(path, sizeof path, "%s/missing.json", dir);
	o.config_path = path;
	assert_int_not_equal(ssrp_agent_run(&o, &r), SSRP_OK);
	assert_int_equal(r.state, SSRP_AGENT_FAILED);
	assert_true(r.reason[0] != '\0');
	assert_string_equal(r.reason, ssrp_error_last());
}

static void test_not_registered(void **st)
{
	(void)st;
	char cfg[400], img[400], spec[420], journal[400];
	snprintf(cfg, sizeof cfg, "%s/config.json", dir);
	snprintf(img, sizeof img, "%s/os.img", dir);
	snprintf(spec, sizeof spec, "sim:%s", img);
	snprintf(journal, sizeof journal, "%s/agent.journal", dir);
	write_text(cfg, "{\"tenant_id\":\"11111111-2222-4333-8444-555555555555\"}");
	assert_int_equal(ssrp_sim_volume_create(img, 1024 * 1024), SSRP_OK);
	struct stat before, after;
	assert_int_equal(stat(img, &before), 0);

	events ev;
	memset(&ev, 0, sizeof ev);
	ssrp_agent_options o;
	assert_int_equal(ssrp_agent_options_init(&o, SSRP_AGENT_OPTIONS_VERSION), SSRP_OK);
	o.config_path = cfg;
	o.volume_spec = spec;
	o.journal_path = journal;
	o.progress = on_event;
	o.progress_ctx = &ev;
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	assert_int_equal(ssrp_agent_run(&o, &r), SSRP_OK);
	assert_int_equal(r.state, SSRP_AGENT_NOT_REGISTERED);
	assert_string_equal(ssrp_agent_state_name(r.state), "not-registered");
	assert_non_null(strstr(r.reason, "not registered"));
	assert_int_equal(ev.identity, 1);
	assert_int_equal(ev.changed, 0);
	assert_non_null(strstr(ev.last, "nothing was done"));
	assert_int_equal(r.http_requests + r.tpm_unseals + r.volume_changes + r.journal_writes, 0);
	assert_int_equal(r.tpm_ready, -1);
	assert_int_equal(stat(img, &after), 0);
	assert_int_equal(before.st_mtime, after.st_mtime);
	assert_int_equal(access(journal, F_OK), -1);

	memset(&ev, 0, sizeof ev);
	assert_int_equal(ssrp_agent_status(&o, &r), SSRP_OK);
	assert_int_equal(r.state, SSRP_AGENT_NOT_REGISTERED);
	assert_int_equal(access(journal, F_OK), -1);
}

static void test_bad_configuration(void **st)
{
	(void)st;
	char cfg[400];
	snprintf(cfg, sizeof cfg, "%s/bad.json", dir);
	write_text(cfg, "{\"tenant_id\":\"t\",\"agent\":{\"volumes\":\"sim:x\"}}");
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = cfg;
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	assert_int_not_equal(ssrp_agent_run(&o, &r), SSRP_OK);
	assert_int_equal(r.state, SSRP_AGENT_FAILED);
	assert_non_null(strstr(r.reason, "volumes"));

	/* "agent.platform" is the platform the agent opens; platform_spec
	 * overrides it. */
	write_text(cfg, "{\"tenant_id\":\"t\",\"agent\":{\"platform\":\"nosuch:x\"}}");
	assert_int_not_equal(ssrp_agent_run(&o, &r), SSRP_OK);
	assert_int_equal(r.state, SSRP_AGENT_FAILED);
	assert_non_null(strstr(r.reason, "nosuch"));
	o.platform_spec = "config";
	assert_int_equal(ssrp_agent_run(&o, &r), SSRP_OK);
	assert_int_equal(r.state, SSRP_AGENT_NOT_REGISTERED);
}

/* The structs carry their version: one this library does not know is
 * refused before anything is read or written, naming the fix. */
static void test_versions_checked(void **st)
{
	(void)st;
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = "/nonexistent";
	ssrp_agent_report r;
	memset(&r, 0x5a, sizeof r);
	r.version = 0;
	assert_int_equal(ssrp_agent_run(&o, &r), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_AGENT_REPORT_INIT"));
	assert_int_equal(r.state, 0x5a5a5a5a); /* untouched */
	r.version = SSRP_AGENT_REPORT_VERSION + 1;
	assert_int_equal(ssrp_agent_status(&o, &r), SSRP_E_INVALID);
	ssrp_agent_report ok = SSRP_AGENT_REPORT_INIT;
	o.version = SSRP_AGENT_OPTIONS_VERSION + 1;
	assert_int_equal(ssrp_agent_run(&o, &ok), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_AGENT_OPTIONS_INIT"));
	assert_int_equal(ssrp_agent_options_init(&o, 0), SSRP_E_INVALID);
	assert_int_equal(ssrp_agent_options_init(&o, SSRP_AGENT_OPTIONS_VERSION), SSRP_OK);
	assert_int_equal(o.version, SSRP_AGENT_OPTIONS_VERSION);
	assert_null(o.config_path);
}

/* A handle the host opened (any backend, registered or not) is used as
 * given and left open: the agent borrows it. */
static void test_borrowed_volume(void **st)
{
	(void)st;
	char cfg[400], img[400], spec[420], journal[400];
	snprintf(cfg, sizeof cfg, "%s/config-b.json", dir);
	snprintf(img, sizeof img, "%s/borrowed.img", dir);
	snprintf(spec, sizeof spec, "bitlk:%s?rw", img);
	snprintf(journal, sizeof journal, "%s/borrowed.journal", dir);
	/* a device certificate as the simulated cloud issues them */
	static const char device_id[] = "0b7c1c2e-1f0e-4c55-9d3e-2f6a8e1d4b21";
	char text[3000], pem[1100], key[1100], pki_dir[420];
	snprintf(pki_dir, sizeof pki_dir, "%s/pki", dir);
	assert_int_equal(mkdir(pki_dir, 0700), 0);
	cloud_pki pki;
	assert_int_equal(cloud_pki_setup(&pki, pki_dir, NULL, 0), SSRP_OK);
	assert_int_equal(cloud_pki_device_cert(&pki, device_id, NULL), SSRP_OK);
	assert_int_equal(cloud_pki_device_paths(&pki, device_id, pem, sizeof pem, key, sizeof key),
			 SSRP_OK);
	cloud_pki_free(&pki);
	snprintf(text, sizeof text,
		 "{\"tenant_id\":\"11111111-2222-4333-8444-555555555555\","
		 "\"device\":{\"device_id\":\"%s\",\"join_type\":\"azuread\","
		 "\"cert_file\":\"%s\",\"key_file\":\"%s\"},"
		 "\"agent\":{\"volume\":\"bitlk:/nonexistent\"}}",
		 device_id, pem, key);
	write_text(cfg, text);
	assert_int_equal(ssrp_sim_volume_create(img, 1024 * 1024), SSRP_OK);
	ssrp_volume *vol = NULL;
	assert_int_equal(ssrp_volume_open(&vol, spec), SSRP_OK);
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = cfg;
	o.journal_path = journal;
	o.volume = vol; /* the configured spec would not open */
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	if (ssrp_agent_status(&o, &r) != SSRP_OK)
		fail_msg("%s", ssrp_error_last());
	/* read from the borrowed volume: encrypted, no protector yet */
	assert_int_equal(r.state, SSRP_AGENT_NOT_YET);
	assert_int_equal(r.protection_on, 0);
	ssrp_volume_status vs = SSRP_VOLUME_STATUS_INIT;
	assert_int_equal(ssrp_volume_get_status(vol, &vs), SSRP_OK); /* still open */
	ssrp_volume_close(vol);
}

static int cancel_now(void *ctx)
{
	(*(int *)ctx)++;
	return 1;
}

static int slow_no(void *ctx)
{
	(*(int *)ctx)++;
	struct timespec ts = {0, 3 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return 0;
}

/* A run asked to stop, or out of time, stops before its next step with
 * SSRP_E_CANCELLED, the volume untouched. */
static void test_cancel_and_timeout(void **st)
{
	(void)st;
	char spec[420];
	snprintf(spec, sizeof spec, "bitlk:%s/borrowed.img?rw", dir);
	ssrp_volume *vol = NULL;
	assert_int_equal(ssrp_volume_open(&vol, spec), SSRP_OK);
	char cfg[400], journal[400];
	snprintf(cfg, sizeof cfg, "%s/config-b.json", dir);
	snprintf(journal, sizeof journal, "%s/cancel.journal", dir);
	int calls = 0;
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = cfg;
	o.journal_path = journal;
	o.volume = vol;
	o.cancel = cancel_now;
	o.cancel_ctx = &calls;
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	assert_int_equal(ssrp_agent_run(&o, &r), SSRP_E_CANCELLED);
	assert_int_equal(calls, 1);
	assert_int_equal(r.state, SSRP_AGENT_FAILED);
	assert_non_null(strstr(r.reason, "cancelled"));
	assert_int_equal(r.volume_changes, 0);
	o.cancel = slow_no;
	o.timeout_ms = 1;
	calls = 0;
	assert_int_equal(ssrp_agent_run(&o, &r), SSRP_E_CANCELLED);
	assert_int_equal(calls, 1);
	assert_non_null(strstr(r.reason, "time limit"));
	ssrp_protector prot[4];
	size_t n = 0;
	assert_int_equal(ssrp_volume_list_protectors(vol, prot, 4, &n), SSRP_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(prot[i].type, SSRP_PROTECTOR_TPM);
	ssrp_volume_close(vol);
}

static void test_state_names(void **st)
{
	(void)st;
	assert_string_equal(ssrp_agent_state_name(SSRP_AGENT_COMPLIANT), "compliant");
	assert_string_equal(ssrp_agent_state_name(SSRP_AGENT_NOT_YET), "not-yet");
	assert_string_equal(ssrp_agent_state_name(SSRP_AGENT_FAILED), "failed");
}

int main(void)
{
	if (ssrp_sim_register_backends())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_configuration),
		cmocka_unit_test(test_not_registered),
		cmocka_unit_test(test_bad_configuration),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_versions_checked),
		cmocka_unit_test(test_borrowed_volume),
		cmocka_unit_test(test_cancel_and_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
