/* A Windows program (mingw-w64) that makes one HTTPS GET with the libcurl
 * (Schannel) and cJSON cross-built by scripts/windows-deps, and says what
 * came back, so tests/mingw/run_curl_probe.sh can run it under Wine against
 * the simulated cloud.
 *
 * usage: curl_probe URL CA_FILE CLIENT_PFX|- [HOST:PORT:ADDR:PORT...]
 *   CA_FILE     the only CA the server's certificate may chain to
 *   CLIENT_PFX  a PKCS#12 client certificate and key (empty password), or -
 *   the rest    curl's connect-to entries (the simulator's host names)
 * Prints "status=N", then what the JSON body holds: "error.code=C" (Graph),
 * "code=C subcode=S" (DRS errors) or "keys=N" (the DRS key list), then "tls=" and
 * libcurl's TLS library.
 * Exits 0 when an answer with a JSON body came back, 2 on a transfer error
 * (printed as "curl error N: ..."), 3 when the body is not JSON, 1 on bad
 * usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#define MAX_BODY (1024 * 1024)

typedef struct body {
	char *data;
	size_t len;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
	body *b = user;
	size_t add = size * n;
	if (add > MAX_BODY - b->len)
		return 0;
	char *d = realloc(b->data, b->len + add + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, add);
	b->len += add;
	d[b->len] = '\0';
	b->data = d;
	return add;
}

static const char *json_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static int report(const body *b)
{
	cJSON *j = b->data ? cJSON_Parse(b->data) : NULL;
	if (!cJSON_IsObject(j)) {
		printf("body is not a JSON object (%d bytes)\n", (int)b->len);
		cJSON_Delete(j);
		return 3;
	}
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(j, "keys");
	if (cJSON_IsObject(err))
		printf("error.code=%s\n", json_string(err, "code"));
	else if (cJSON_IsArray(keys))
		printf("keys=%d\n", cJSON_GetArraySize(keys));
	else
		printf("code=%s subcode=%s\n", json_string(j, "code"), json_string(j, "subcode"));
	cJSON_Delete(j);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: curl_probe URL CA_FILE CLIENT_PFX|- [HOST:PORT:ADDR:PORT...]\n");
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "curl_global_init failed\n");
		return 2;
	}
	CURL *c = curl_easy_init();
	struct curl_slist *connect_to = NULL;
	for (int i = 4; i < argc; i++)
		connect_to = curl_slist_append(connect_to, argv[i]);
	char errbuf[CURL_ERROR_SIZE] = "";
	body b = {NULL, 0};
	curl_easy_setopt(c, CURLOPT_URL, argv[1]);
	curl_easy_setopt(c, CURLOPT_CAINFO, argv[2]);
	if (strcmp(argv[3], "-") != 0) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, argv[3]);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "P12");
		curl_easy_setopt(c, CURLOPT_KEYPASSWD, "");
	}
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	CURLcode rc = curl_easy_perform(c);
	int exit_code;
	if (rc != CURLE_OK) {
		printf("curl error %d: %s\n", (int)rc, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		exit_code = 2;
	} else {
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		printf("status=%ld\n", status);
		exit_code = report(&b);
	}
	printf("tls=%s\n", curl_version_info(CURLVERSION_NOW)->ssl_version);
	free(b.data);
	curl_slist_free_all(connect_to);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	return exit_code;
}
