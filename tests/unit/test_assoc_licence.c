/* The association engine's licence rule (escrow/assoc_licence.c): a user's
 * assignedLicenses against the tenant's subscribedSkus, as Graph writes
 * them; and the run's catalogue, read by one worker while the others wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "escrow/assoc_private.h"
#include "hal/thread.h"

#define P1 "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
#define INTUNE "061f9ace-7d42-4136-88ac-31dc755f143f"
#define P1_PLAN "41781fb2-bc02-4b7c-bd55-b576c07bb09d"
#define INTUNE_PLAN "c1ec4a95-1f05-45b3-a911-aa3fa01094f5"
#define EXO_PLAN "9aaf7827-d63c-4b61-89c3-182f06f82e5c"

/* Two subscriptions as List subscribedSkus gives them ($select'ed). */
static const char skus_json[] =
	"[{\"skuId\":\"" P1 "\",\"skuPartNumber\":\"AAD_PREMIUM\",\"capabilityStatus\":\"Enabled\","
	"\"servicePlans\":[{\"servicePlanId\":\"" P1_PLAN "\",\"servicePlanName\":\"AAD_PREMIUM\","
	"\"provisioningStatus\":\"Success\",\"appliesTo\":\"User\"}]},"
	"{\"skuId\":\"" INTUNE "\",\"skuPartNumber\":\"EMS\",\"capabilityStatus\":\"Warning\","
	"\"servicePlans\":[{\"servicePlanId\":\"" EXO_PLAN "\",\"servicePlanName\":\"EXCHANGE_S_FOUNDATION\","
	"\"provisioningStatus\":\"Success\",\"appliesTo\":\"Company\"},"
	"{\"servicePlanId\":\"" INTUNE_PLAN "\",\"servicePlanName\":\"INTUNE_A\","
	"\"provisioningStatus\":\"Success\",\"appliesTo\":\"User\"}]}]";

static char *plans[] = {"AAD_PREMIUM", "INTUNE_A", NULL};

static ssrp_assoc_licence check(const char *skus, const char *assigned, const char **plan)
{
	cJSON *s = cJSON_Parse(skus), *a = cJSON_Parse(assigned);
	assert_non_null(s);
	assert_non_null(a);
	ssrp_assoc_licence l = assoc_licence_of(a, s, plans, plan);
	cJSON_Delete(s);
	cJSON_Delete(a);
	return l;
}

static void test_licence_rule(void **st)
{
	(void)st;
	const char *plan;
	/* a plan of an assigned SKU, matched by name without case */
	assert_int_equal(check(skus_json, "[{\"skuId\":\"" P1 "\",\"disabledPlans\":[]}]", &plan),
			 SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(plan, "AAD_PREMIUM");
	/* skuId in upper case, a subscription in its grace period (Warning) */
	assert_int_equal(check(skus_json,
			       "[{\"skuId\":\"061F9ACE-7D42-4136-88AC-31DC755F143F\",\"disabledPlans\":[]}]",
			       &plan),
			 SSRP_ASSOC_LICENCE_OK);
	assert_string_equal(plan, "INTUNE_A");
	/* no licence at all */
	assert_int_equal(check(skus_json, "[]", &plan), SSRP_ASSOC_LICENCE_MISSING);
	assert_null(plan);
	/* the plan switched off in the user's assignment */
	assert_int_equal(check(skus_json,
			       "[{\"skuId\":\"" INTUNE "\",\"disabledPlans\":[\"" INTUNE_PLAN "\"]}]", &plan),
			 SSRP_ASSOC_LICENCE_MISSING);
	/* disabling another plan leaves this one */
	assert_int_equal(check(skus_json,
			       "[{\"skuId\":\"" INTUNE "\",\"disabledPlans\":[\"" EXO_PLAN "\"]}]", &plan),
			 SSRP_ASSOC_LICENCE_OK);
	/* a SKU the tenant no longer lists gives nothing */
	assert_int_equal(check(skus_json,
			       "[{\"skuId\":\"11111111-1111-4111-8111-111111111111\",\"disabledPlans\":[]}]",
			       &plan),
			 SSRP_ASSOC_LICENCE_MISSING);
	/* a suspended subscription, a plan the tenant has Disabled */
	static const char suspended[] =
		"[{\"skuId\":\"" P1 "\",\"capabilityStatus\":\"Suspended\",\"servicePlans\":[{\"servicePlanId\":\"" P1_PLAN
		"\",\"servicePlanName\":\"AAD_PREMIUM\",\"provisioningStatus\":\"Success\"}]}]";
	assert_int_equal(check(suspended, "[{\"skuId\":\"" P1 "\",\"disabledPlans\":[]}]", &plan),
			 SSRP_ASSOC_LICENCE_MISSING);
	static const char disabled[] =
		"[{\"skuId\":\"" P1 "\",\"capabilityStatus\":\"Enabled\",\"servicePlans\":[{\"servicePlanId\":\"" P1_PLAN
		"\",\"servicePlanName\":\"AAD_PREMIUM\",\"provisioningStatus\":\"Disabled\"}]}]";
	assert_int_equal(check(disabled, "[{\"skuId\":\"" P1 "\",\"disabledPlans\":[]}]", &plan),
			 SSRP_ASSOC_LICENCE_MISSING);
	/* members of the wrong type are skipped, not trusted */
	assert_int_equal(check(skus_json, "[{\"skuId\":42},\"" P1 "\",null]", &plan),
			 SSRP_ASSOC_LICENCE_MISSING);
}

static void test_catalogue_once(void **st)
{
	(void)st;
	assoc_skus s;
	char why[200];
	assoc_skus_init(&s);
	assert_int_equal(assoc_skus_claim(&s), 1);
	assert_int_equal(assoc_skus_claim(&s), 0); /* one reader a run */
	assoc_skus_settle(&s, cJSON_Parse(skus_json), NULL);
	assoc_skus_settle(&s, NULL, "late"); /* ignored */
	const cJSON *v = assoc_skus_wait(&s, why, sizeof why);
	assert_int_equal(cJSON_GetArraySize(v), 2);
	assert_int_equal(assoc_skus_claim(&s), 0);
	/* the next run reads again; a failure is kept with its reason */
	assoc_skus_reset(&s);
	assert_int_equal(assoc_skus_claim(&s), 1);
	assoc_skus_settle(&s, NULL, "HTTP 403");
	assert_null(assoc_skus_wait(&s, why, sizeof why));
	assert_string_equal(why, "HTTP 403");
	assoc_skus_free(&s);
}

static void *waiter(void *p)
{
	char why[64];
	return (void *)assoc_skus_wait(p, why, sizeof why);
}

/* Every worker waiting for the reader wakes up with its answer. */
static void test_catalogue_waiters(void **st)
{
	(void)st;
	assoc_skus s;
	assoc_skus_init(&s);
	assert_int_equal(assoc_skus_claim(&s), 1);
	ssrp_thread th[6];
	for (int i = 0; i < 6; i++)
		assert_int_equal(ssrp_thread_start(&th[i], waiter, &s), 0);
	cJSON *value = cJSON_Parse(skus_json);
	assoc_skus_settle(&s, value, NULL);
	for (int i = 0; i < 6; i++)
		ssrp_thread_join(&th[i]); /* a waiter never woken hangs here */
	assert_ptr_equal(assoc_skus_wait(&s, NULL, 0), value);
	assoc_skus_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_licence_rule),
		cmocka_unit_test(test_catalogue_once),
		cmocka_unit_test(test_catalogue_waiters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
