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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

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
	ssrp_agent_report r;
	ssrp_agent_options o;
	memset(&o, 0, sizeof o);
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
	memset(&o, 0, sizeof o);
	o.config_path = cfg;
	o.volume_spec = spec;
	o.journal_path = journal;
	o.progress = on_event;
	o.progress_ctx = &ev;
	ssrp_agent_report r;
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
	ssrp_agent_options o;
	memset(&o, 0, sizeof o);
	o.config_path = cfg;
	ssrp_agent_report r;
	assert_int_not_equal(ssrp_agent_run(&o, &r), SSRP_OK);
	assert_int_equal(r.state, SSRP_AGENT_FAILED);
	assert_non_null(strstr(r.reason, "volumes"));
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
