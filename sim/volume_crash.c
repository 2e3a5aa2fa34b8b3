/* The simulator's "sim:" volume backend: the "bitlk" backend, opened
 * read-write unless "?ro", with one more option, kill_at_write=N — the Nth
 * metadata-copy write of this process writes half its bytes, flushes them
 * and kills the process, as a power cut would. The crash tests use it to
 * check that every write point leaves the volume as it was before or after
 * the update. Only libssrp-sim has it; libssrp never kills its host. */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bitlocker/bitlk_volume.h"
#include "bitlocker/volume_backends.h"
#include "sim/sim_backends.h"
#include "ssrp/sys/error.h"

static atomic_uint writes; /* metadata-copy writes of this process */

static int write_then_die(ssrp_bitlk_store *s, const uint8_t *buf, size_t len, uint64_t offset,
			  void *ctx)
{
	unsigned kill_at = (unsigned)(uintptr_t)ctx;
	if (atomic_fetch_add(&writes, 1) + 1 == kill_at) {
		(void)ssrp_bitlk_store_pwrite(s, buf, len / 2, offset);
		(void)ssrp_bitlk_store_sync(s);
		raise(SIGKILL);
	}
	int rc = ssrp_bitlk_store_pwrite(s, buf, len, offset);
	return rc ? rc : ssrp_bitlk_store_sync(s);
}

/* Take kill_at_write=N out of the options; the rest goes to bitlk. */
static int split_config(char *out, size_t cap, unsigned *kill_at, const char *config)
{
	size_t n = strcspn(config, "?");
	if (n >= cap)
		return ssrp_error_set(SSRP_E_SPEC, "the volume path is too long");
	memcpy(out, config, n);
	out[n] = '\0';
	const char *q = config[n] ? config + n : NULL;
	char sep = '?';
	while (q && *q) {
		const char *opt = q + 1, *next = strchr(opt, '&');
		size_t len = next ? (size_t)(next - opt) : strlen(opt);
		char *end;
		if (len > 14 && !strncmp(opt, "kill_at_write=", 14)) {
			unsigned long k = strtoul(opt + 14, &end, 10);
			if (end != opt + len || !k || k > 1000000)
				return ssrp_error_set(SSRP_E_SPEC,
						      "volume option '%.*s': kill_at_write needs a "
						      "number from 1",
						      (int)len, opt);
			*kill_at = (unsigned)k;
		} else {
			size_t used = strlen(out);
			if (used + 1 + len >= cap)
				return ssrp_error_set(SSRP_E_SPEC, "the volume spec is too long");
			out[used] = sep;
			memcpy(out + used + 1, opt, len);
			out[used + 1 + len] = '\0';
			sep = '&';
		}
		q = next;
	}
	return SSRP_OK;
}

static int sim_open(void *ctx, const char *config)
{
	char rest[1200];
	unsigned kill_at = 0;
	int rc = split_config(rest, sizeof rest, &kill_at, config);
	if (rc)
		return rc;
	ssrp_bitlk_open_options o = {.writable = 1};
	if (kill_at) {
		o.write_region = write_then_die;
		o.write_region_ctx = (void *)(uintptr_t)kill_at;
	}
	return ssrp_bitlk_volume_open(ctx, rest, &o);
}

void ssrp_sim_volume_backend_fill(ssrp_volume_backend *b)
{
	/* Every slot is bitlk's; only the name and open differ. */
	*b = ssrp_volume_backend_bitlk;
	b->info.name = "sim";
	b->info.description = "a simulated BitLocker volume in a file (libssrp-sim), opened "
			      "read-write";
	b->info.config_help = "PATH of a volume made by `ssrp-sim volume create` "
			      "[?ro][&kill_at_write=N]";
	b->open = sim_open;
}
