/* bench_cloud: the simulated cloud's throughput, latency and memory.
 *
 *   1. memory: a server with 100k users and 100k devices loaded against one
 *      with a single user and device, both started with `ssrp sim cloud
 *      start`; VmRSS from /proc/PID/status, the difference divided by the
 *      number of directory objects (goal <= 1 KiB each);
 *   2. GET /v1.0/users/{upn} (a random one of the 100k per request) and
 *      POST /v1.0/$batch (20 GETs each) with keep-alive TLS from wrk, on the
 *      real port with a Host header (wrk checks no certificates), giving
 *      requests/s and p50/p99 latency (goals: >= 10k req/s, p99 < 10 ms);
 *   3. the reference, in the same run with the same wrk settings: a trivial
 *      libmicrohttpd TLS responder (the same epoll thread pool, the same
 *      certificate)
 *      answering every request with a fixed body of the same size. The
 *      ratio sim/reference says what the simulator itself costs.
 * A human table goes to stdout and, as the last line, one JSON object.
 * Exit 0 when it measured (whether or not the goals were met), 1 on errors,
 * 2 on wrong arguments.
 *
 * bench_cloud --reference-server DIR is the reference responder itself
 * (DIR holds server.pem and server.key); it prints its port and serves
 * until SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>

#include "bench/bench_util.h"

extern char **environ;

#define GOAL_RPS 10000.0
#define GOAL_P99_MS 10.0
#define GOAL_BYTES_PER_OBJECT 1024.0
#define BATCH_SIZE 20
#define APP_ID "0b0b0b0b-0000-4000-8000-000000000001"
#define APP_SECRET "bench-secret"
#define TENANT_ID "0c0c0c0c-0000-4000-8000-000000000001"

typedef struct opts {
	const char *ssrp, *wrk;
	long users, devices;
	int duration, connections, threads;
	const char *keep;
} opts;

typedef struct wrk_result {
	double rps, p50_ms, p99_ms;
	long requests, errors, non2xx;
} wrk_result;

/* ---- the reference responder ------------------------------------------- */

static const char ref_body[] =
	"{\"id\":\"0d0d0d0d-0000-4000-8000-000000000001\",\"userPrincipalName\":\"user1@bench."
	"example\",\"displayName\":\"Bench User 1\",\"onPremisesSamAccountName\":null,"
	"\"usageLocation\":null,\"assignedLicenses\":[],\"@odata.context\":\"https://graph."
	"microsoft.com/v1.0/$metadata#users/$entity\"}";

static enum MHD_Result ref_handler(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *data,
				   size_t *size, void **ctx)
{
	(void)cls, (void)url, (void)method, (void)version, (void)data;
	if (!*ctx) {
		*ctx = (void *)1;
		return MHD_YES;
	}
	if (*size) {
		*size = 0;
		return MHD_YES;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(
		sizeof ref_body - 1, (void *)ref_body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static int reference_server(const char *dir)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/server.pem", dir);
	char *cert = bench_read_file(p, NULL);
	snprintf(p, sizeof p, "%s/server.key", dir);
	char *key = bench_read_file(p, NULL);
	if (!cert || !key) {
		fprintf(stderr, "bench_cloud: no server.pem/server.key in %s\n", dir);
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* one epoll thread per CPU, as sim/cloud/server.c */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int pool = cpus < 2 ? 2u : cpus > 8 ? 8u : (unsigned)cpus;
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TLS, 0, NULL, NULL, ref_handler, NULL,
		MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&a,
		MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
	if (!d)
		return 1;
	int fd = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD)->listen_fd;
	socklen_t len = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &len);
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	free(cert);
	free(key);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A tenant with n users and n devices, written without cJSON to keep the
 * generator's own memory out of the way. */
static int write_state(const char *path, long users, long devices)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	char hex[65];
	sha256_hex(APP_SECRET, hex);
	fprintf(f, "{\"tenant\":{\"id\":\"" TENANT_ID "\",\"domain\":\"bench.example\"},\n");
	fprintf(f, "\"apps\":[{\"appId\":\"" APP_ID "\",\"displayName\":\"bench\","
		   "\"secretSha256\":\"%s\",\"roles\":[\"User.Read.All\",\"Device.Read.All\"]}],\n",
		hex);
	fprintf(f, "\"users\":[\n");
	for (long i = 0; i < users; i++)
		fprintf(f,
			"%s{\"id\":\"0d0d0d0d-0000-4000-8000-%012ld\",\"userPrincipalName\":"
			"\"user%ld@bench.example\",\"displayName\":\"Bench User %ld\","
			"\"onPremisesSamAccountName\":\"user%ld\",\"onPremisesDomainName\":\"corp.bench.example\"}\n",
			i ? "," : "", i, i, i, i);
	fprintf(f, "],\n\"devices\":[\n");
	for (long i = 0; i < devices; i++)
		fprintf(f,
			"%s{\"id\":\"0e0e0e0e-0000-4000-8000-%012ld\",\"deviceId\":"
			"\"0f0f0f0f-0000-4000-8000-%012ld\",\"displayName\":\"PC-%06ld\","
			"\"accountEnabled\":true,\"registeredOwners\":[\"0d0d0d0d-0000-4000-8000-%012ld\"]}\n",
			i ? "," : "", i, i, i, users ? i % users : 0);
	fprintf(f, "]}\n");
	return fclose(f) == 0 ? 0 : -1;
}

/* Run argv, stdout into out (cap bytes); the exit status, -1 on failure. */
static int run(char *const argv[], char *out, size_t cap)
{
	int p[2];
	if (pipe(p))
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC); /* the dup2 onto 1 clears it there */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e) {
		close(p[0]);
		fprintf(stderr, "bench_cloud: cannot run %s: %s\n", argv[0], strerror(e));
		return -1;
	}
	size_t len = 0;
	ssize_t n;
	while ((n = read(p[0], out + len, cap - 1 - len)) > 0 && len + (size_t)n < cap - 1)
		len += (size_t)n;
	if (n > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long vm_rss_kib(long pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	long kib = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/* An app-only token from the simulator, written to path (0600). */
static int get_token(const bench_cloud *s, const char *path)
{
	bench_body body = {0};
	char connect[128];
	snprintf(connect, sizeof connect, "login.microsoftonline.com:443:127.0.0.1:%d", s->port);
	struct curl_slist *ct = curl_slist_append(NULL, connect);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL,
			 "https://login.microsoftonline.com/" TENANT_ID "/oauth2/v2.0/token");
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS,
			 "grant_type=client_credentials&client_id=" APP_ID
			 "&client_secret=" APP_SECRET
			 "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	CURLcode cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	curl_slist_free_all(ct);
	char *t = body.p ? strstr(body.p, "\"access_token\":\"") : NULL;
	if (cc != CURLE_OK || !t) {
		/* the answer is shown only when it holds no token */
		fprintf(stderr, "bench_cloud: no token (%s): %.300s\n", curl_easy_strerror(cc),
			body.p && !t ? body.p : "");
		free(body.p);
		return -1;
	}
	t += 16;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t n = strcspn(t, "\"");
	ssize_t w = fd == -1 ? -1 : write(fd, t, n);
	if (fd != -1)
		close(fd);
	free(body.p);
	return w == (ssize_t)n ? 0 : -1;
}

/* The wrk script: random UPNs (or a $batch of them), the Host and
 * Authorization headers, and a done() that prints one parseable line. */
static int write_lua(const char *path, const char *token_file, long users, int batch)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"local tf = io.open(\"%s\"); local token = tf:read(\"*a\"); tf:close()\n"
		"local users = %ld\n"
		"wrk.headers[\"Host\"] = \"graph.microsoft.com\"\n"
		"wrk.headers[\"Authorization\"] = \"Bearer \" .. token\n"
		"math.randomseed(42)\n",
		token_file, users);
	if (batch)
		fprintf(f,
			"wrk.headers[\"Content-Type\"] = \"application/json\"\n"
			"request = function()\n"
			"  local parts = {}\n"
			"  for i = 1, %d do\n"
			"    parts[i] = string.format('{\"id\":\"%%d\",\"method\":\"GET\",\"url\":"
			"\"/users/user%%d@bench.example\"}', i, math.random(0, users - 1))\n"
			"  end\n"
			"  return wrk.format(\"POST\", \"/v1.0/$batch\", nil, '{\"requests\":[' .. "
			"table.concat(parts, ',') .. ']}')\n"
			"end\n",
			BATCH_SIZE);
	else
		fprintf(f, "request = function()\n"
			   "  return wrk.format(\"GET\", \"/v1.0/users/user\" .. math.random(0, users - "
			   "1) .. \"@bench.example\")\n"
			   "end\n");
	fprintf(f, "done = function(s, lat, req)\n"
		   "  io.write(string.format(\"WRKJSON %%d %%d %%d %%d %%d %%d\\n\", s.requests, "
		   "s.duration, lat:percentile(50), lat:percentile(99), s.errors.connect + "
		   "s.errors.read + s.errors.write + s.errors.timeout, s.errors.status))\n"
		   "end\n");
	return fclose(f) == 0 ? 0 : -1;
}

static int run_wrk(const opts *o, int port, const char *lua, wrk_result *r)
{
	char url[128], d[16], c[16], t[16];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", port);
	snprintf(d, sizeof d, "%ds", o->duration);
	snprintf(c, sizeof c, "%d", o->connections);
	snprintf(t, sizeof t, "%d", o->threads);
	char *argv[] = {(char *)o->wrk, "-t", t, "-c", c, "-d", d, "-s", (char *)lua, url, NULL};
	static char out[65536];
	if (run(argv, out, sizeof out) != 0)
		return -1;
	char *line = strstr(out, "WRKJSON ");
	long req, dur, p50, p99, err, non2xx;
	if (!line || sscanf(line, "WRKJSON %ld %ld %ld %ld %ld %ld", &req, &dur, &p50, &p99, &err,
			    &non2xx) != 6 || dur <= 0) {
		fprintf(stderr, "bench_cloud: cannot read wrk's output:\n%s\n", out);
		return -1;
	}
	r->requests = req;
	r->rps = (double)req / ((double)dur / 1e6);
	r->p50_ms = (double)p50 / 1000.0;
	r->p99_ms = (double)p99 / 1000.0;
	r->errors = err;
	r->non2xx = non2xx;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_cloud --ssrp PATH [--wrk PATH] [--users N] [--devices N]\n"
			"                   [--duration S] [--connections C] [--threads T] "
			"[--keep DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--reference-server"))
		return reference_server(argv[2]);
	opts o = {NULL, "wrk", 100000, 100000, 10, 32, 1, NULL};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage();
		if (!strcmp(a, "--ssrp"))
			o.ssrp = v;
		else if (!strcmp(a, "--wrk"))
			o.wrk = v;
		else if (!strcmp(a, "--users"))
			o.users = atol(v);
		else if (!strcmp(a, "--devices"))
			o.devices = atol(v);
		else if (!strcmp(a, "--duration"))
			o.duration = atoi(v);
		else if (!strcmp(a, "--connections"))
			o.connections = atoi(v);
		else if (!strcmp(a, "--threads"))
			o.threads = atoi(v);
		else if (!strcmp(a, "--keep"))
			o.keep = v;
		else
			return usage();
		i++;
	}
	if (!o.ssrp || o.users < 1 || o.devices < 1 || o.duration < 1 || o.connections < 1 ||
	    o.threads < 1)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	char work[512];
	if (o.keep) {
		snprintf(work, sizeof work, "%s", o.keep);
		mkdir(work, 0700);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(work, sizeof work, "%s/ssrp-bench-cloud.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(work)) {
			perror("bench_cloud: mkdtemp");
			return 1;
		}
	}
	char small_state[600], big_state[600], small_dir[600], big_dir[600], token[600],
		get_lua[600], batch_lua[600];
	snprintf(small_state, sizeof small_state, "%s/small.json", work);
	snprintf(big_state, sizeof big_state, "%s/big.json", work);
	snprintf(small_dir, sizeof small_dir, "%s/small", work);
	snprintf(big_dir, sizeof big_dir, "%s/big", work);
	snprintf(token, sizeof token, "%s/token", work);
	snprintf(get_lua, sizeof get_lua, "%s/get.lua", work);
	snprintf(batch_lua, sizeof batch_lua, "%s/batch.lua", work);

	int failed = 1;
	bench_cloud small = {0}, big = {0};
	pid_t ref_pid = 0;
	if (write_state(small_state, 1, 1) || write_state(big_state, o.users, o.devices)) {
		fprintf(stderr, "bench_cloud: cannot write the tenants in %s\n", work);
		goto out;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *small_args[] = {"--state", small_state, "--device-certs", "0", NULL};
	char *big_args[] = {"--state", big_state, "--device-certs", "0", NULL};
	if (bench_cloud_start(&small, o.ssrp, small_dir, small_args, "bench_cloud") ||
	    bench_cloud_start(&big, o.ssrp, big_dir, big_args, "bench_cloud"))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double start_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (get_token(&big, token) || write_lua(get_lua, token, o.users, 0) ||
	    write_lua(batch_lua, token, o.users, 1))
		goto out;
	/* Memory of the directory itself: before any load opens connections
	 * (each costs a thread stack). */
	long rss_small = vm_rss_kib(small.pid), rss_big = vm_rss_kib(big.pid);
	double objects = (double)(o.users + o.devices);
	double per_object = (double)(rss_big - rss_small) * 1024.0 / objects;

	/* the reference responder, with the simulator's certificate */
	int p[2];
	if (pipe(p)) {
		perror("bench_cloud: pipe");
		goto out;
	}
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	char *rargv[] = {"/proc/self/exe", "--reference-server", big_dir, NULL};
	char self[1024];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl > 0) {
		self[sl] = '\0';
		rargv[0] = self;
	}
	int e = posix_spawn(&ref_pid, rargv[0], &fa, NULL, rargv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	char portbuf[32] = "";
	ssize_t pn = e ? -1 : read(p[0], portbuf, sizeof portbuf - 1);
	close(p[0]);
	if (pn <= 0) {
		fprintf(stderr, "bench_cloud: the reference responder did not start\n");
		ref_pid = e ? 0 : ref_pid;
		goto out;
	}
	int ref_port = atoi(portbuf);

	wrk_result get = {0}, batch = {0}, ref = {0}, get2 = {0}, ref2 = {0};
	/* Alternate sim and reference so that load changes on the machine hit
	 * both alike; the better of two runs each. */
	if (run_wrk(&o, big.port, get_lua, &get) || run_wrk(&o, ref_port, get_lua, &ref) ||
	    run_wrk(&o, big.port, get_lua, &get2) || run_wrk(&o, ref_port, get_lua, &ref2) ||
	    run_wrk(&o, big.port, batch_lua, &batch))
		goto out;
	if (get2.rps > get.rps)
		get = get2;
	if (ref2.rps > ref.rps)
		ref = ref2;
	long rss_loaded = vm_rss_kib(big.pid);

	double ratio = ref.rps > 0 ? get.rps / ref.rps : 0;
	int met = get.rps >= GOAL_RPS && get.p99_ms < GOAL_P99_MS &&
		  per_object <= GOAL_BYTES_PER_OBJECT && get.errors == 0 && get.non2xx == 0 &&
		  batch.non2xx == 0;
	printf("simulated cloud: %ld users + %ld devices, wrk -t%d -c%d -d%ds, keep-alive TLS\n",
	       o.users, o.devices, o.threads, o.connections, o.duration);
	printf("%-28s %12s %10s %10s %8s %8s\n", "load", "requests/s", "p50 ms", "p99 ms",
	       "errors", "non-2xx");
	printf("%-28s %12.0f %10.3f %10.3f %8ld %8ld\n", "GET /v1.0/users/{upn}", get.rps,
	       get.p50_ms, get.p99_ms, get.errors, get.non2xx);
	printf("%-28s %12.0f %10.3f %10.3f %8ld %8ld\n", "POST /v1.0/$batch (x20)", batch.rps,
	       batch.p50_ms, batch.p99_ms, batch.errors, batch.non2xx);
	printf("%-28s %12.0f %10.3f %10.3f %8ld %8ld\n", "reference: static MHD TLS", ref.rps,
	       ref.p50_ms, ref.p99_ms, ref.errors, ref.non2xx);
	printf("sim / reference: %.3f\n", ratio);
	printf("memory: %ld KiB with 1+1 objects, %ld KiB with %.0f objects: %.0f bytes per "
	       "object (goal <= %.0f); %ld KiB after the load\n",
	       rss_small, rss_big, objects, per_object, GOAL_BYTES_PER_OBJECT, rss_loaded);
	printf("start-up of both servers: %.2f s\n", start_s);
	printf("goals (>= %.0f req/s, p99 < %.0f ms, <= %.0f B/object) %s\n", GOAL_RPS, GOAL_P99_MS,
	       GOAL_BYTES_PER_OBJECT, met ? "met" : "NOT met");
	printf("{\"bench\":\"cloud\",\"users\":%ld,\"devices\":%ld,\"connections\":%d,"
	       "\"wrk_threads\":%d,\"duration_s\":%d,"
	       "\"get_user_rps\":%.0f,\"get_user_p50_ms\":%.3f,\"get_user_p99_ms\":%.3f,"
	       "\"batch_rps\":%.0f,\"batch_inner_rps\":%.0f,\"batch_p50_ms\":%.3f,"
	       "\"batch_p99_ms\":%.3f,\"reference_rps\":%.0f,\"reference_p99_ms\":%.3f,"
	       "\"ratio_sim_vs_reference\":%.3f,\"rss_kib_small\":%ld,\"rss_kib_loaded_state\":%ld,"
	       "\"rss_kib_after_load\":%ld,\"bytes_per_object\":%.0f,\"errors\":%ld,"
	       "\"goal_rps\":%.0f,\"goal_p99_ms\":%.0f,\"goal_bytes_per_object\":%.0f,\"met\":%s}\n",
	       o.users, o.devices, o.connections, o.threads, o.duration, get.rps, get.p50_ms,
	       get.p99_ms, batch.rps, batch.rps * BATCH_SIZE, batch.p50_ms, batch.p99_ms, ref.rps,
	       ref.p99_ms, ratio, rss_small, rss_big, rss_loaded, per_object,
	       get.errors + get.non2xx + batch.errors + batch.non2xx, GOAL_RPS, GOAL_P99_MS,
	       GOAL_BYTES_PER_OBJECT, met ? "true" : "false");
	failed = 0;
out:
	if (ref_pid > 0) {
		kill(ref_pid, SIGTERM);
		waitpid(ref_pid, NULL, 0);
	}
	bench_cloud_stop(&small, o.ssrp);
	bench_cloud_stop(&big, o.ssrp);
	if (!o.keep && !failed) {
		char cmd[700];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_cloud: could not remove %s\n", work);
	} else if (failed) {
		fprintf(stderr, "bench_cloud: failed; files kept in %s\n", work);
	}
	curl_global_cleanup();
	return failed;
}
