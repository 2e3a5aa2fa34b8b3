/* hal_probe.exe: hal/'s Windows implementations driven from the command
 * line, for tests/mingw/run_windows_build.sh to compare with OpenSSL and
 * the file system under Wine.
 *   hal_probe sign KEY.pem CERT.pem DATA   thumbprint (hex) and the RS256
 *                                          signature of DATA (base64url)
 *   hal_probe atomic PATH TEXT             replace PATH with TEXT, read it back
 *   hal_probe lock PATH                    take the run lock, then again */
#include <stdio.h>
#include <string.h>

#include "hal/fs.h"
#include "hal/mem.h"
#include "hal/sign.h"
#include "ssrp/sys/error.h"

static int failed(int rc)
{
	printf("error %d: %s\n", rc, ssrp_error_last());
	return 1;
}

static int sign(const char *key_file, const char *cert_file, const char *data_file)
{
	unsigned char *key = NULL, *data = NULL;
	size_t key_len = 0, data_len = 0;
	int rc = ssrp_fs_read_input(key_file, 1 << 16, &key, &key_len);
	if (!rc)
		rc = ssrp_fs_read_input(data_file, 1 << 20, &data, &data_len);
	uint8_t tp[SSRP_SHA1_LEN];
	ssrp_sign_key *k = NULL;
	if (!rc)
		rc = ssrp_sign_key_load(&k, (const char *)key, key_len, key_file, cert_file, tp);
	uint8_t sig[1024];
	size_t sig_len = sizeof sig;
	if (!rc)
		rc = ssrp_sign_rs256(k, data, data_len, sig, &sig_len);
	ssrp_sign_key_free(k);
	if (key)
		ssrp_free_secret(key, key_len + 1);
	if (data)
		ssrp_free_secret(data, data_len + 1);
	if (rc)
		return failed(rc);
	printf("thumbprint=");
	for (size_t i = 0; i < sizeof tp; i++)
		printf("%02X", tp[i]);
	char b64[2048];
	if (ssrp_base64url(sig, sig_len, b64, sizeof b64) < 0)
		return failed(SSRP_E_BUFSIZE);
	printf("\nsignature=%s\n", b64);
	return 0;
}

static int atomic(const char *path, const char *text)
{
	int rc = ssrp_fs_write_atomic(path, text, strlen(text), 0600);
	unsigned char *back = NULL;
	size_t len = 0;
	if (!rc)
		rc = ssrp_fs_read_input(path, 1 << 16, &back, &len);
	if (rc)
		return failed(rc);
	printf("read back=%s\n", (const char *)back);
	ssrp_free_secret(back, len + 1);
	return 0;
}

static int lock(const char *path)
{
	ssrp_fs_lock *a = NULL, *b = NULL;
	int rc = ssrp_fs_lock_acquire(&a, path, 0);
	if (rc)
		return failed(rc);
	printf("first=held\n");
	rc = ssrp_fs_lock_acquire(&b, path, 100);
	printf("second=%s\n", rc == SSRP_E_BUSY ? "busy" : rc ? "error" : "held");
	ssrp_fs_lock_release(b);
	ssrp_fs_lock_release(a);
	rc = ssrp_fs_lock_acquire(&b, path, 0);
	printf("after release=%s\n", rc ? "error" : "held");
	ssrp_fs_lock_release(b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "sign"))
		return sign(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "atomic"))
		return atomic(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "lock"))
		return lock(argv[2]);
	fprintf(stderr, "usage: hal_probe sign KEY CERT DATA | atomic PATH TEXT | lock PATH\n");
	return 2;
}
