/* bench_stretch: BitLocker's recovery-key stretching (2^20 SHA-256
 * iterations over 88 bytes, so 2^21 compressions), measured in one run as:
 *   (a) ssrp:       ssrp_stretch_recovery_key (bitlocker/stretch.c);
 *   (b) floor:      2^21 bare SHA256_Transform calls on changing data, the
 *                   cost of the compressions alone on this machine;
 *   (c) dislocker:  Debian's libdislocker stretch_recovery_key (mbed TLS),
 *                   the implementation Linux users have today;
 *   (d) update/final: the same loop written with SHA256_Init/Update/Final,
 *                   shown for scale only.
 * The methods alternate within each run, so load changes on the machine hit
 * them alike; the figures are medians. Both ssrp's and dislocker's outputs
 * are checked against the known answer on every run. A human table goes to
 * stdout, and as its last line one JSON object. Exit 0 when it measured
 * (whether or not the goals were met), 1 on errors, 2 on wrong arguments.
 *
 * dislocker's header (dislocker/accesses/stretch_key.h) pulls in mbed TLS
 * headers that Debian's libdislocker0-dev does not depend on, so the one
 * function is declared here from that header's prototype instead. */

/* The floor and the update/final loop use the SHA-256 low-level API, which
 * OpenSSL 3 deprecates; it is the only one exposing the compression. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "bitlocker/stretch.h"
#include "ssrp/error.h"

#ifdef SSRP_BENCH_DISLOCKER
/* libdislocker: TRUE (1) on success. */
int stretch_recovery_key(const uint8_t *recovery_key, const uint8_t *salt, uint8_t *result);
#endif

#define GOAL_RATIO_MAX 1.15  /* ssrp at most 15 % above the compression floor */
#define GOAL_SPEEDUP_MIN 5.0 /* and at least 5 times faster than libdislocker */
#define COMPRESSIONS (2u * SSRP_STRETCH_ITERATIONS)
#define MAX_RUNS 1000

static const uint8_t kat_key16[16] = {0xa9, 0x27, 0x12, 0x27, 0xa6, 0xf2, 0x58, 0x4a,
				      0x3b, 0xa6, 0x49, 0xe6, 0xdc, 0xca, 0xc5, 0x76};
static const uint8_t kat_salt[16] = {0x43, 0x2d, 0xd1, 0x9f, 0x37, 0xdd, 0x41, 0x3a,
				     0x88, 0x55, 0x22, 0x25, 0x62, 0x8c, 0x8a, 0xe5};
static const uint8_t kat_stretched[32] = {
	0xa3, 0x1c, 0xc8, 0x82, 0xbc, 0xbf, 0x88, 0x27, 0x3f, 0xac, 0xd5,
	0xa8, 0xd1, 0xa5, 0x01, 0x8c, 0xec, 0xf2, 0xb9, 0xec, 0xee, 0x7e,
	0x7e, 0x3d, 0x2f, 0x01, 0xfd, 0xd2, 0x59, 0x19, 0xb8, 0xb2};

enum { M_SSRP, M_FLOOR, M_DISLOCKER, M_UPDATE_FINAL, M_COUNT };

static const char *const method_names[M_COUNT] = {"ssrp", "floor", "dislocker",
						  "update/final"};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts samples in place. */
static double median(double *samples, int n)
{
	qsort(samples, (size_t)n, sizeof *samples, cmp_double);
	return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

/* A result the compiler cannot discard. */
static volatile uint32_t sink;

static int run_ssrp(void)
{
	uint8_t out[32];
	if (ssrp_stretch_recovery_key(out, kat_key16, kat_salt) != SSRP_OK) {
		fprintf(stderr, "bench_stretch: ssrp: %s\n", ssrp_error_last());
		return -1;
	}
	if (memcmp(out, kat_stretched, 32)) {
		fprintf(stderr, "bench_stretch: ssrp's stretched key is not the known answer\n");
		return -1;
	}
	return 0;
}

/* 2^21 compressions and nothing else: one block whose first word changes
 * every call, chained through the state. */
static int run_floor(void)
{
	SHA256_CTX c;
	uint8_t block[64];
	memset(block, 0x36, sizeof block);
	SHA256_Init(&c);
	for (uint32_t i = 0; i < COMPRESSIONS; i++) {
		memcpy(block, &i, sizeof i);
		SHA256_Transform(&c, block);
	}
	sink = c.h[0];
	return 0;
}

static int run_dislocker(void)
{
#ifdef SSRP_BENCH_DISLOCKER
	uint8_t out[32];
	if (stretch_recovery_key(kat_key16, kat_salt, out) != 1) {
		fprintf(stderr, "bench_stretch: libdislocker's stretch_recovery_key failed\n");
		return -1;
	}
	if (memcmp(out, kat_stretched, 32)) {
		fprintf(stderr, "bench_stretch: libdislocker's stretched key is not the known "
				"answer\n");
		return -1;
	}
#endif
	return 0;
}

/* The definition written the obvious way with the same library. */
static int run_update_final(void)
{
	uint8_t s[88] = {0};
	SHA256(kat_key16, 16, s + 32);
	memcpy(s + 64, kat_salt, 16);
	for (uint64_t count = 0; count < SSRP_STRETCH_ITERATIONS; count++) {
		SHA256_CTX c;
		for (int k = 0; k < 8; k++)
			s[80 + k] = (uint8_t)(count >> (8 * k));
		SHA256_Init(&c);
		SHA256_Update(&c, s, sizeof s);
		SHA256_Final(s, &c);
	}
	if (memcmp(s, kat_stretched, 32)) {
		fprintf(stderr, "bench_stretch: the update/final loop is not the known answer\n");
		return -1;
	}
	return 0;
}

static int (*const methods[M_COUNT])(void) = {run_ssrp, run_floor, run_dislocker,
					       run_update_final};

static void usage(FILE *f)
{
	fputs("usage: bench_stretch [--runs N]\n"
	      "  --runs N   timed runs of each method; the figures are medians (default 7)\n",
	      f);
}

static int parse_args(int *runs, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > MAX_RUNS) {
				fprintf(stderr, "bench_stretch: --runs needs a number from 1 to %d\n",
					MAX_RUNS);
				return 2;
			}
			*runs = (int)v;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 1;
		} else {
			fprintf(stderr, "bench_stretch: bad argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	return 0;
}

static void json_num(const char *key, double v, int ok)
{
	if (ok)
		printf("\"%s\":%.4f,", key, v);
	else
		printf("\"%s\":null,", key);
}

int main(int argc, char **argv)
{
	int runs = 7;
	int rc = parse_args(&runs, argc, argv);
	if (rc)
		return rc == 1 ? 0 : 2;
#ifdef SSRP_BENCH_DISLOCKER
	const int have_dislocker = 1;
#else
	const int have_dislocker = 0;
#endif

	static double samples[M_COUNT][MAX_RUNS];
	/* One untimed round first: page faults, lazy binding, CPU clock-up. */
	for (int m = 0; m < M_COUNT; m++)
		if ((m != M_DISLOCKER || have_dislocker) && methods[m]())
			return 1;
	for (int r = 0; r < runs; r++) {
		for (int m = 0; m < M_COUNT; m++) {
			if (m == M_DISLOCKER && !have_dislocker)
				continue;
			double t0 = now_s();
			if (methods[m]())
				return 1;
			samples[m][r] = now_s() - t0;
		}
	}

	double med[M_COUNT], lo[M_COUNT], hi[M_COUNT];
	for (int m = 0; m < M_COUNT; m++) {
		if (m == M_DISLOCKER && !have_dislocker)
			continue;
		med[m] = median(samples[m], runs);
		lo[m] = samples[m][0];
		hi[m] = samples[m][runs - 1];
	}

	printf("Recovery-key stretching: 0x%x SHA-256 iterations (%u compressions), %d runs\n",
	       SSRP_STRETCH_ITERATIONS, COMPRESSIONS, runs);
	printf("%-14s %10s %10s %10s %10s\n", "method", "median s", "min s", "max s", "x floor");
	for (int m = 0; m < M_COUNT; m++) {
		if (m == M_DISLOCKER && !have_dislocker) {
			printf("%-14s %10s\n", method_names[m], "not built (no libdislocker)");
			continue;
		}
		printf("%-14s %10.4f %10.4f %10.4f %10.3f\n", method_names[m], med[m], lo[m], hi[m],
		       med[m] / med[M_FLOOR]);
	}
	double ratio = med[M_SSRP] / med[M_FLOOR];
	double speedup = have_dislocker ? med[M_DISLOCKER] / med[M_SSRP] : 0;
	int met = ratio <= GOAL_RATIO_MAX && have_dislocker && speedup >= GOAL_SPEEDUP_MIN;
	printf("floor: %.1f M compressions/s\n", COMPRESSIONS / med[M_FLOOR] / 1e6);
	printf("ssrp / floor: %.3f (goal <= %.2f)\n", ratio, GOAL_RATIO_MAX);
	/* No stretch can beat the floor (each iteration needs the previous
	 * one's digest), so dislocker / floor bounds the reachable speedup. */
	if (have_dislocker)
		printf("dislocker / ssrp: %.1fx faster (goal >= %.0fx; at most %.1fx on this "
		       "machine, dislocker / floor)\n",
		       speedup, GOAL_SPEEDUP_MIN, med[M_DISLOCKER] / med[M_FLOOR]);
	printf("goals %s\n", met ? "met" : "NOT met");

	printf("{\"bench\":\"stretch\",\"runs\":%d,", runs);
	json_num("ssrp_s", med[M_SSRP], 1);
	json_num("floor_s", med[M_FLOOR], 1);
	json_num("dislocker_s", have_dislocker ? med[M_DISLOCKER] : 0, have_dislocker);
	json_num("update_final_s", med[M_UPDATE_FINAL], 1);
	printf("\"ratio_vs_floor\":%.3f,", ratio);
	if (have_dislocker)
		printf("\"speedup_vs_dislocker\":%.2f,\"speedup_bound\":%.2f,", speedup,
		       med[M_DISLOCKER] / med[M_FLOOR]);
	else
		printf("\"speedup_vs_dislocker\":null,\"speedup_bound\":null,");
	printf("\"goal_ratio_max\":%.2f,\"goal_speedup_min\":%.0f,\"met\":%s}\n", GOAL_RATIO_MAX,
	       GOAL_SPEEDUP_MIN, met ? "true" : "false");
	return 0;
}
