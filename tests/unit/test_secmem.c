/* Key memory (hal/secmem): each block is its own mapping, marked "do not
 * dump" and, for root, locked; the kernel's /proc/self/smaps is the oracle.
 * A volume backend's state (where the VMK lives while a volume is open)
 * comes from it, and goes away on close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hal/secmem.h"
#include "ssrp/sys/volume.h"

/* AddressSanitizer's mlock interceptor does nothing and answers success, so
 * under ASan a lock cannot be seen in smaps (the plain and valgrind runs
 * check it). */
#if defined(__SANITIZE_ADDRESS__)
#define LOCK_VISIBLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCK_VISIBLE 0
#endif
#endif
#ifndef LOCK_VISIBLE
#define LOCK_VISIBLE 1
#endif

/* The VmFlags line of the mapping holding p, in flags; 0 when no mapping
 * holds p. */
static int mapping_flags(const void *p, char *flags, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	char line[512];
	int inside = 0, found = 0;
	uintptr_t a = (uintptr_t)p;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			inside = a >= lo && a < hi;
			continue;
		}
		if (inside && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, cap, "%s", line + 8);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static int has_flag(const char *flags, const char *flag)
{
	char padded[512], want[8];
	snprintf(padded, sizeof padded, " %s ", flags);
	for (char *c = padded; *c; c++)
		if (*c == '\n')
			*c = ' ';
	snprintf(want, sizeof want, " %s ", flag);
	return strstr(padded, want) != NULL;
}

static void block_is_private_and_goes_away(void **state)
{
	(void)state;
	uint8_t *p = ssrp_secmem_alloc(100);
	assert_non_null(p);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xA5, 100);
	char flags[512];
	assert_true(mapping_flags(p, flags, sizeof flags));
	assert_true(has_flag(flags, "dd")); /* MADV_DONTDUMP */
	if (geteuid() == 0)                 /* root may lock without a limit */
		assert_true(ssrp_secmem_locked(p));
	if (ssrp_secmem_locked(p) && LOCK_VISIBLE)
		assert_true(has_flag(flags, "lo"));
	ssrp_secmem_free(p, 100);
	assert_false(mapping_flags(p, flags, sizeof flags)); /* unmapped */
	ssrp_secmem_free(NULL, 0);
}

static void heap_memory_is_not_marked(void **state)
{
	(void)state; /* the oracle can tell: an ordinary block has no "dd" */
	static uint8_t plain[64];
	char flags[512];
	assert_true(mapping_flags(plain, flags, sizeof flags));
	assert_false(has_flag(flags, "dd"));
}

static void *seen_ctx;
static int fake_open(void *ctx, const char *config)
{
	(void)config;
	seen_ctx = ctx;
	memset(ctx, 0x42, 32); /* a key */
	return SSRP_OK;
}
static void fake_close(void *ctx)
{
	(void)ctx;
}
static const ssrp_volume_backend fake = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {.name = "keyholder", .description = "holds a key", .config_help = ""},
	.ctx_size = 32,
	.open = fake_open,
	.close = fake_close,
};

static void volume_state_is_key_memory(void **state)
{
	(void)state;
	ssrp_volume *v = NULL;
	assert_int_equal(ssrp_volume_open_backend(&v, &fake, ""), SSRP_OK);
	char flags[512];
	assert_true(mapping_flags(seen_ctx, flags, sizeof flags));
	assert_true(has_flag(flags, "dd"));
	if (geteuid() == 0 && LOCK_VISIBLE)
		assert_true(has_flag(flags, "lo"));
	ssrp_volume_close(v);
	assert_false(mapping_flags(seen_ctx, flags, sizeof flags));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(block_is_private_and_goes_away),
		cmocka_unit_test(heap_memory_is_not_marked),
		cmocka_unit_test(volume_state_is_key_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
