/* bench_decrypt: the whole decrypted view of a 1 GiB volume, once per
 * method (XTS-AES-128 and AES-256-CBC with the Elephant diffuser), read by
 * ssrp (ssrp_volume_read in 4 MiB calls on bitlk:PATH, holes skipped), by
 * dislocker-file (the volume decrypted to a file on the same file system),
 * and by raw OpenSSL over the same ciphertext buffers (one EVP context, the
 * IV or tweak set per sector: XTS, or CBC with the encrypted byte offset as
 * IV; OpenSSL has no Elephant diffuser, so that figure is its floor).
 *
 * The volumes are made sparse (ssrp_sim_volume_create_with, unwritten
 * sectors are holes), unlocked by their clear key, so no password is
 * involved, in a temporary directory on tmpfs (/dev/shm) when there is one.
 * One run each. A table goes to stdout and, last, one JSON object. Goal:
 * ssrp at least 0.8x raw OpenSSL and faster than dislocker-file. Exit 0
 * when it measured (goal met or not), 1 on errors. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ssrp/sim.h"
#include "ssrp/volume.h"

#define MIB (1024u * 1024u)
#define VOLUME_BYTES (1024ull * MIB)
#define CHUNK (4u * MIB)
#define SECTOR 512u
#define GOAL_RATIO_MIN 0.8
#define TMPFS_MAGIC_NUMBER 0x01021994

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process or of its waited children:
 * on a busy machine they say more than the wall clock. */
static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int fail_ssrp(const char *what)
{
	fprintf(stderr, "bench_decrypt: %s: %s\n", what, ssrp_error_last());
	return -1;
}

/* ssrp: every byte of the view that is not a reserved hole. */
static int run_ssrp(const char *spec, uint8_t *buf, double *secs, double *cpu)
{
	ssrp_volume *v = NULL;
	ssrp_volume_region r[8];
	size_t n = 0;
	if (ssrp_volume_open(&v, spec))
		return fail_ssrp("open");
	if (ssrp_volume_reserved_regions(v, r, 8, &n) || n > 8) {
		ssrp_volume_close(v);
		return fail_ssrp("reserved regions");
	}
	double t0 = now_s(), c0 = cpu_s(RUSAGE_SELF);
	for (uint64_t off = 0; off < VOLUME_BYTES;) {
		uint64_t len = VOLUME_BYTES - off < CHUNK ? VOLUME_BYTES - off : CHUNK, skip = 0;
		for (size_t i = 0; i < n; i++) {
			if (off >= r[i].offset && off < r[i].offset + r[i].length)
				skip = r[i].offset + r[i].length - off;
			else if (r[i].offset > off && r[i].offset - off < len)
				len = r[i].offset - off;
		}
		if (skip) {
			off += skip;
			continue;
		}
		if (ssrp_volume_read(v, off, buf, (size_t)len)) {
			ssrp_volume_close(v);
			return fail_ssrp("read");
		}
		off += len;
	}
	*secs = now_s() - t0;
	*cpu = cpu_s(RUSAGE_SELF) - c0;
	ssrp_volume_close(v);
	return 0;
}

/* Raw OpenSSL over the same bytes, read from the file into buf. */
static int run_raw(const char *path, uint16_t method, uint8_t *buf, double *secs, double *cpu)
{
	uint8_t key[32] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
	int xts = method == SSRP_VOLUME_METHOD_XTS_AES_128;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new(), *ecb = EVP_CIPHER_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!ctx || !ecb || fd < 0 ||
	    EVP_DecryptInit_ex(ctx, xts ? EVP_aes_128_xts() : EVP_aes_256_cbc(), NULL, key, NULL) != 1 ||
	    EVP_EncryptInit_ex(ecb, EVP_aes_256_ecb(), NULL, key, NULL) != 1) {
		fprintf(stderr, "bench_decrypt: raw OpenSSL setup failed\n");
		return -1;
	}
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	EVP_CIPHER_CTX_set_padding(ecb, 0);
	double t0 = now_s(), c0 = cpu_s(RUSAGE_SELF);
	for (uint64_t off = 0; off < VOLUME_BYTES; off += CHUNK) {
		if (pread(fd, buf, CHUNK, (off_t)off) != (ssize_t)CHUNK) {
			fprintf(stderr, "bench_decrypt: reading %s: %s\n", path, strerror(errno));
			return -1;
		}
		for (size_t s = 0; s < CHUNK / SECTOR; s++) {
			uint64_t sector = off / SECTOR + s;
			uint8_t iv[16] = {0}, *p = buf + s * SECTOR;
			int outl = 0;
			for (int k = 0; k < 8; k++)
				iv[k] = (uint8_t)((xts ? sector : sector * SECTOR) >> (8 * k));
			if (!xts)
				EVP_EncryptUpdate(ecb, iv, &outl, iv, 16);
			if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1 ||
			    EVP_DecryptUpdate(ctx, p, &outl, p, SECTOR) != 1) {
				fprintf(stderr, "bench_decrypt: raw decryption failed\n");
				return -1;
			}
		}
	}
	*secs = now_s() - t0;
	*cpu = cpu_s(RUSAGE_SELF) - c0;
	close(fd);
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_CTX_free(ecb);
	return 0;
}

/* dislocker-file with the clear key, its output next to the volume. */
static int run_dislocker(const char *path, const char *out, double *secs, double *cpu)
{
	double t0 = now_s(), c0 = cpu_s(RUSAGE_CHILDREN);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("dislocker-file", "dislocker-file", "-c", "-V", path, "--", out, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*secs = now_s() - t0;
	*cpu = cpu_s(RUSAGE_CHILDREN) - c0;
	struct stat st;
	if (!WIFEXITED(status) || WEXITSTATUS(status) || stat(out, &st) ||
	    (uint64_t)st.st_size < VOLUME_BYTES) {
		fprintf(stderr, "bench_decrypt: dislocker-file failed (status 0x%x)\n", (unsigned)status);
		return -1;
	}
	unlink(out);
	return 0;
}

int main(void)
{
	if (ssrp_sim_register_backends())
		return 1;
	static const struct {
		uint16_t method;
		const char *name;
	} methods[] = {{SSRP_VOLUME_METHOD_XTS_AES_128, "xts-aes-128"},
		       {SSRP_VOLUME_METHOD_AES_256_CBC_DIFFUSER, "aes-cbc-diffuser-256"}};
	struct statfs sf;
	const char *base = statfs("/dev/shm", &sf) == 0 && (unsigned long)sf.f_type == TMPFS_MAGIC_NUMBER
				   ? "/dev/shm"
				   : "/tmp";
	char dir[256], path[300], spec[320], out[300];
	snprintf(dir, sizeof dir, "%s/ssrp-bench-decrypt.XXXXXX", base);
	uint8_t *buf = malloc(CHUNK);
	if (!buf || !mkdtemp(dir)) {
		fprintf(stderr, "bench_decrypt: cannot make a work directory in %s\n", base);
		return 1;
	}
	double mbs[2][3], cpu_mbs[2][3];
	int rc = 0;
	printf("decrypting a 1 GiB sparse volume (on %s), one run each, MB/s\n", base);
	printf("%-22s %10s %10s %10s %8s %8s   (MB per CPU second: ssrp raw dislocker)\n", "method",
	       "ssrp", "raw", "dislocker", "ssrp/raw", "ssrp/dis");
	for (size_t m = 0; m < 2 && !rc; m++) {
		double t[3], c[3];
		snprintf(path, sizeof path, "%s/%s.img", dir, methods[m].name);
		snprintf(spec, sizeof spec, "bitlk:%s", path);
		snprintf(out, sizeof out, "%s/%s.out", dir, methods[m].name);
		if (ssrp_sim_volume_create_with(path, VOLUME_BYTES, methods[m].method,
						SSRP_SIM_CREATE_SPARSE)) {
			rc = fail_ssrp("create");
			break;
		}
		rc = run_ssrp(spec, buf, &t[0], &c[0]);
		if (!rc)
			rc = run_raw(path, methods[m].method, buf, &t[1], &c[1]);
		if (!rc)
			rc = run_dislocker(path, out, &t[2], &c[2]);
		unlink(path);
		unlink(out);
		for (int k = 0; k < 3 && !rc; k++) {
			mbs[m][k] = VOLUME_BYTES / t[k] / 1e6;
			cpu_mbs[m][k] = VOLUME_BYTES / (c[k] > 1e-6 ? c[k] : 1e-6) / 1e6;
		}
		if (!rc)
			printf("%-22s %10.0f %10.0f %10.0f %8.2f %8.2f   (%.0f %.0f %.0f)\n",
			       methods[m].name, mbs[m][0], mbs[m][1], mbs[m][2], mbs[m][0] / mbs[m][1],
			       mbs[m][0] / mbs[m][2], cpu_mbs[m][0], cpu_mbs[m][1], cpu_mbs[m][2]);
	}
	rmdir(dir);
	free(buf);
	if (rc)
		return 1;
	int met = 1;
	printf("{\"bench\":\"decrypt\",\"bytes\":%llu,\"dir\":\"%s\"", (unsigned long long)VOLUME_BYTES,
	       base);
	for (size_t m = 0; m < 2; m++) {
		double ratio = mbs[m][0] / mbs[m][1];
		int ok = ratio >= GOAL_RATIO_MIN && mbs[m][0] > mbs[m][2];
		met &= ok;
		printf(",\"%s\":{\"ssrp_mbs\":%.0f,\"raw_openssl_mbs\":%.0f,\"dislocker_mbs\":%.0f,"
		       "\"ratio_raw\":%.2f,\"ratio_dislocker\":%.2f,\"ssrp_mb_per_cpu_s\":%.0f,"
		       "\"raw_openssl_mb_per_cpu_s\":%.0f,\"dislocker_mb_per_cpu_s\":%.0f,"
		       "\"goal_met\":%s}",
		       methods[m].name, mbs[m][0], mbs[m][1], mbs[m][2], ratio, mbs[m][0] / mbs[m][2],
		       cpu_mbs[m][0], cpu_mbs[m][1], cpu_mbs[m][2], ok ? "true" : "false");
	}
	printf(",\"goal\":\"ssrp >= %.1fx raw OpenSSL and faster than dislocker-file\",\"goal_met\":%s}\n",
	       GOAL_RATIO_MIN, met ? "true" : "false");
	return 0;
}
