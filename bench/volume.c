/* bench_volume: sequential write, then read, of 48 MiB through
 * ssrp_volume_write / ssrp_volume_read in 1 MiB calls on a fresh 64 MiB sim
 * volume, against raw OpenSSL XTS-AES-128 over the same buffers and the
 * same sectors in the same run: one EVP context per direction made once,
 * the tweak (the sector number) set per 512-byte sector, as any BitLocker
 * implementation must. The raw figure is the crypto alone, so the ratio is
 * what ssrp's I/O path (range checks, the sim file, copies) costs on top.
 * A third line, raw XTS plus pwrite/pread of a plain file next to the
 * volume, shows how much of that is the file itself.
 *
 * The volume lives in a temporary directory on tmpfs (/dev/shm) when there
 * is one, so the page cache, not a disk, is under the file; the output says
 * which. ssrp and raw runs alternate; each figure is the median of the
 * runs. A human table goes to stdout and, as its last line, one JSON
 * object. Exit 0 when it measured (goal met or not), 1 on errors, 2 on
 * wrong arguments. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "ssrp/sim.h"
#include "ssrp/volume.h"

#define MIB (1024u * 1024u)
#define SECTOR 512u
#define VOLUME_MIB 64u
#define GOAL_RATIO_MIN 0.8 /* ssrp at least 80 % of raw XTS throughput */
#define TMPFS_MAGIC_NUMBER 0x01021994

typedef struct opts {
	unsigned mib;  /* data moved each way */
	unsigned runs;
	const char *dir;
} opts;

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

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- ssrp ---------------------------------------------------------------- */

/* 1 MiB-aligned offsets whose whole MiB avoids the reserved regions. */
static int pick_chunks(ssrp_volume *v, uint64_t *offsets, unsigned want)
{
	ssrp_volume_region r[16];
	size_t n = 0;
	if (ssrp_volume_reserved_regions(v, r, 16, &n)) {
		fprintf(stderr, "bench_volume: %s\n", ssrp_error_last());
		return -1;
	}
	unsigned got = 0;
	for (uint64_t off = 0; off + MIB <= (uint64_t)VOLUME_MIB * MIB && got < want; off += MIB) {
		int clear = 1;
		for (size_t i = 0; i < n && i < 16; i++)
			if (off < r[i].offset + r[i].length && r[i].offset < off + MIB)
				clear = 0;
		if (clear)
			offsets[got++] = off;
	}
	if (got < want) {
		fprintf(stderr, "bench_volume: only %u free MiB in a %u MiB volume\n", got, VOLUME_MIB);
		return -1;
	}
	return 0;
}

static int ssrp_run(ssrp_volume *v, const uint64_t *offsets, unsigned n, const uint8_t *src,
		    uint8_t *dst, double *write_s, double *read_s)
{
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (ssrp_volume_write(v, offsets[i], src, MIB)) {
			fprintf(stderr, "bench_volume: write: %s\n", ssrp_error_last());
			return -1;
		}
	double t1 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (ssrp_volume_read(v, offsets[i], dst, MIB)) {
			fprintf(stderr, "bench_volume: read: %s\n", ssrp_error_last());
			return -1;
		}
	double t2 = now_s();
	*write_s = t1 - t0;
	*read_s = t2 - t1;
	/* Untimed: every chunk reads back what was written. */
	for (unsigned i = 0; i < n; i++)
		if (ssrp_volume_read(v, offsets[i], dst, MIB) || memcmp(dst, src, MIB)) {
			fprintf(stderr, "bench_volume: the chunk at %llu reads back wrong\n",
				(unsigned long long)offsets[i]);
			return -1;
		}
	return 0;
}

/* ---- raw OpenSSL XTS ----------------------------------------------------- */

typedef struct raw_xts {
	EVP_CIPHER_CTX *enc, *dec;
} raw_xts;

static int raw_init(raw_xts *x)
{
	uint8_t key[32];
	do
		if (RAND_bytes(key, sizeof key) != 1)
			return -1;
	while (!memcmp(key, key + 16, 16));
	x->enc = EVP_CIPHER_CTX_new();
	x->dec = EVP_CIPHER_CTX_new();
	int ok = x->enc && x->dec &&
		 EVP_CipherInit_ex(x->enc, EVP_aes_128_xts(), NULL, key, NULL, 1) == 1 &&
		 EVP_CipherInit_ex(x->dec, EVP_aes_128_xts(), NULL, key, NULL, 0) == 1;
	memset(key, 0, sizeof key);
	return ok ? 0 : -1;
}

static void raw_free(raw_xts *x)
{
	EVP_CIPHER_CTX_free(x->enc);
	EVP_CIPHER_CTX_free(x->dec);
}

/* One MiB: per sector, set the tweak and run the cipher over 512 bytes. */
static int raw_mib(EVP_CIPHER_CTX *ctx, int enc, uint8_t *out, const uint8_t *in,
		   uint64_t first_sector)
{
	uint8_t iv[16] = {0};
	for (unsigned s = 0; s < MIB / SECTOR; s++) {
		uint64_t sector = first_sector + s;
		for (unsigned k = 0; k < 8; k++)
			iv[k] = (uint8_t)(sector >> (8 * k));
		int outl = 0;
		if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc) != 1 ||
		    EVP_CipherUpdate(ctx, out + s * SECTOR, &outl, in + s * SECTOR, SECTOR) != 1 ||
		    outl != (int)SECTOR)
			return -1;
	}
	return 0;
}

/* Encrypt src into ct for every chunk's sectors, then decrypt ct into dst
 * for every chunk's sectors; the last chunk's round trip gives src back. */
static int raw_run(raw_xts *x, const uint64_t *offsets, unsigned n, const uint8_t *src,
		   uint8_t *ct, uint8_t *dst, double *enc_s, double *dec_s)
{
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (raw_mib(x->enc, 1, ct, src, offsets[i] / SECTOR))
			return -1;
	double t1 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (raw_mib(x->dec, 0, dst, ct, offsets[i] / SECTOR))
			return -1;
	double t2 = now_s();
	*enc_s = t1 - t0;
	*dec_s = t2 - t1;
	if (memcmp(dst, src, MIB)) {
		fprintf(stderr, "bench_volume: raw XTS did not round-trip\n");
		return -1;
	}
	return 0;
}

/* As raw_run, with each MiB written to and read from a plain file at the
 * chunk's offset, as the sim backend stores it. */
static int raw_io_run(raw_xts *x, int fd, const uint64_t *offsets, unsigned n,
		      const uint8_t *src, uint8_t *ct, uint8_t *dst, double *enc_s, double *dec_s)
{
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (raw_mib(x->enc, 1, ct, src, offsets[i] / SECTOR) ||
		    pwrite(fd, ct, MIB, (off_t)offsets[i]) != (ssize_t)MIB)
			return -1;
	double t1 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (pread(fd, ct, MIB, (off_t)offsets[i]) != (ssize_t)MIB ||
		    raw_mib(x->dec, 0, dst, ct, offsets[i] / SECTOR))
			return -1;
	double t2 = now_s();
	*enc_s = t1 - t0;
	*dec_s = t2 - t1;
	if (memcmp(dst, src, MIB)) {
		fprintf(stderr, "bench_volume: raw XTS with file I/O did not round-trip\n");
		return -1;
	}
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: bench_volume [--mib N] [--runs N] [--dir DIR]\n"
	      "Sequential write then read through ssrp_volume_write/read in 1 MiB calls on a\n"
	      "fresh 64 MiB sim volume, against raw OpenSSL XTS-AES-128 in the same run.\n"
	      "  --mib N    MiB moved each way, 1..61 (default 48)\n"
	      "  --runs N   runs of each, alternating (default 7)\n"
	      "  --dir DIR  where the volume goes (default: /dev/shm if it is there, else\n"
	      "             $TMPDIR or /tmp)\n",
	      f);
}

static int parse_args(opts *o, int argc, char **argv)
{
	o->mib = 48;
	o->runs = 7;
	o->dir = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		unsigned long n = v ? strtoul(v, &end, 10) : 0;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout), 1;
		if (!strcmp(a, "--dir") && v) {
			o->dir = v;
		} else if (!strcmp(a, "--mib") && v && !*end && n >= 1 && n <= 61) {
			o->mib = (unsigned)n;
		} else if (!strcmp(a, "--runs") && v && !*end && n >= 1 && n <= 1000) {
			o->runs = (unsigned)n;
		} else {
			fprintf(stderr, "bench_volume: bad argument '%s'\n", a);
			usage(stderr);
			return -1;
		}
		i++;
	}
	return 0;
}

/* A fresh directory for the volume under *base; *tmpfs says what holds it. */
static int make_dir(const opts *o, char *dir, size_t cap, const char **base_out, int *tmpfs)
{
	const char *base = o->dir;
	struct stat st;
	if (!base)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
			       ? "/dev/shm"
			       : (getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	snprintf(dir, cap, "%s/ssrp-bench-volume.XXXXXX", base);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "bench_volume: mkdtemp %s: %s\n", dir, strerror(errno));
		return -1;
	}
	struct statfs fs;
	*tmpfs = statfs(dir, &fs) == 0 && (unsigned long)fs.f_type == TMPFS_MAGIC_NUMBER;
	*base_out = base;
	return 0;
}

int main(int argc, char **argv)
{
	if (ssrp_sim_register_backends())
		return 1;
	opts o;
	int rc = parse_args(&o, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	char dir[600], path[700], spec[720], plain[700];
	const char *base = NULL;
	int tmpfs = 0;
	if (make_dir(&o, dir, sizeof dir, &base, &tmpfs))
		return 1;
	snprintf(path, sizeof path, "%s/volume.img", dir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	snprintf(plain, sizeof plain, "%s/plain.bin", dir);
	int fd = open(plain, O_RDWR | O_CREAT | O_EXCL, 0600);

	int ret = 1;
	ssrp_volume *v = NULL;
	raw_xts x = {NULL, NULL};
	uint64_t offsets[64];
	uint8_t *src = malloc(MIB), *dst = malloc(MIB), *ct = malloc(MIB);
	double *w = calloc(o.runs, sizeof *w), *r = calloc(o.runs, sizeof *r);
	double *e = calloc(o.runs, sizeof *e), *d = calloc(o.runs, sizeof *d);
	double *fe = calloc(o.runs, sizeof *fe), *fd_ = calloc(o.runs, sizeof *fd_);
	if (!src || !dst || !ct || !w || !r || !e || !d || !fe || !fd_) {
		fprintf(stderr, "bench_volume: out of memory\n");
		goto out;
	}
	if (fd < 0 || ftruncate(fd, (off_t)VOLUME_MIB * MIB)) {
		fprintf(stderr, "bench_volume: %s: %s\n", plain, strerror(errno));
		goto out;
	}
	for (unsigned i = 0; i < MIB; i++)
		src[i] = (uint8_t)((i * 2654435761u) >> 11);
	if (ssrp_sim_volume_create(path, (uint64_t)VOLUME_MIB * MIB) ||
	    ssrp_volume_open(&v, spec)) {
		fprintf(stderr, "bench_volume: %s\n", ssrp_error_last());
		goto out;
	}
	if (pick_chunks(v, offsets, o.mib))
		goto out;
	if (raw_init(&x)) {
		fprintf(stderr, "bench_volume: OpenSSL refused XTS-AES-128\n");
		goto out;
	}
	/* One untimed round of each warms caches and the file's pages. */
	double ws, rs, es, ds;
	if (ssrp_run(v, offsets, o.mib, src, dst, &ws, &rs) ||
	    raw_run(&x, offsets, o.mib, src, ct, dst, &es, &ds) ||
	    raw_io_run(&x, fd, offsets, o.mib, src, ct, dst, &es, &ds))
		goto out;
	/* Rotate which goes first, so drift in the machine's load hits all. */
	for (unsigned i = 0; i < o.runs; i++) {
		for (unsigned k = 0; k < 3; k++) {
			unsigned which = (i + k) % 3;
			int fail = which == 0 ? ssrp_run(v, offsets, o.mib, src, dst, &w[i], &r[i])
				 : which == 1 ? raw_run(&x, offsets, o.mib, src, ct, dst, &e[i], &d[i])
					      : raw_io_run(&x, fd, offsets, o.mib, src, ct, dst, &fe[i],
							   &fd_[i]);
			if (fail) {
				fprintf(stderr, "bench_volume: run %u failed\n", i);
				goto out;
			}
		}
	}
	double mb = (double)o.mib * MIB / 1e6;
	/* Combined ratio from total times per run, medians of those. */
	double *ssrp_total = calloc(o.runs, sizeof *ssrp_total);
	double *raw_total = calloc(o.runs, sizeof *raw_total);
	if (!ssrp_total || !raw_total) {
		free(ssrp_total);
		free(raw_total);
		goto out;
	}
	for (unsigned i = 0; i < o.runs; i++) {
		ssrp_total[i] = w[i] + r[i];
		raw_total[i] = e[i] + d[i];
	}
	double mw = mb / median(w, o.runs), mr = mb / median(r, o.runs);
	double me = mb / median(e, o.runs), md = mb / median(d, o.runs);
	double ms = 2 * mb / median(ssrp_total, o.runs), mx = 2 * mb / median(raw_total, o.runs);
	for (unsigned i = 0; i < o.runs; i++)
		raw_total[i] = fe[i] + fd_[i];
	double fw = mb / median(fe, o.runs), fr = mb / median(fd_, o.runs);
	double fx = 2 * mb / median(raw_total, o.runs);
	free(ssrp_total);
	free(raw_total);
	double ratio_w = mw / me, ratio_r = mr / md, ratio = ms / mx;
	int met = ratio >= GOAL_RATIO_MIN;

	printf("bench_volume: %u MiB each way in 1 MiB calls, %u runs (medians), volume in %s (%s)\n",
	       o.mib, o.runs, base, tmpfs ? "tmpfs" : "not tmpfs: disk noise included");
	printf("%-34s %10s %10s %10s\n", "", "write", "read", "both");
	printf("%-34s %10.0f %10.0f %10.0f  MB/s\n", "ssrp_volume_write/read (sim)", mw, mr, ms);
	printf("%-34s %10.0f %10.0f %10.0f  MB/s\n", "raw OpenSSL XTS-AES-128 (EVP)", me, md, mx);
	printf("%-34s %10.0f %10.0f %10.0f  MB/s\n", "raw XTS + pwrite/pread of a file", fw, fr,
	       fx);
	printf("%-34s %10.2f %10.2f %10.2f  (goal >= %.1f: %s)\n", "ratio ssrp / raw XTS", ratio_w,
	       ratio_r, ratio, GOAL_RATIO_MIN, met ? "met" : "not met");
	printf("%-34s %10.2f %10.2f %10.2f\n", "ratio ssrp / raw XTS + file I/O", mw / fw, mr / fr,
	       ms / fx);
	printf("{\"bench\":\"volume\",\"mib\":%u,\"chunk_bytes\":%u,\"runs\":%u,\"tmpfs\":%s,"
	       "\"ssrp_write_mb_s\":%.1f,\"ssrp_read_mb_s\":%.1f,\"ssrp_mb_s\":%.1f,"
	       "\"raw_encrypt_mb_s\":%.1f,\"raw_decrypt_mb_s\":%.1f,\"raw_mb_s\":%.1f,"
	       "\"raw_file_io_mb_s\":%.1f,\"ratio_write\":%.3f,\"ratio_read\":%.3f,\"ratio\":%.3f,"
	       "\"ratio_vs_file_io\":%.3f,\"goal_ratio_min\":%.1f,\"met\":%s}\n",
	       o.mib, MIB, o.runs, tmpfs ? "true" : "false", mw, mr, ms, me, md, mx, fx, ratio_w,
	       ratio_r, ratio, ms / fx, GOAL_RATIO_MIN, met ? "true" : "false");
	ret = 0;
out:
	raw_free(&x);
	ssrp_volume_close(v);
	if (fd >= 0)
		close(fd);
	unlink(plain);
	unlink(path);
	rmdir(dir);
	free(src);
	free(dst);
	free(ct);
	free(w);
	free(r);
	free(e);
	free(d);
	free(fe);
	free(fd_);
	return ret;
}
