/* Creating a simulated BitLocker volume: keys, a clear-key protector, every
 * sector encrypted, the header and three metadata copies; built under a
 * temporary name and linked into place, so a crash never leaves half a
 * volume at the final path. POSIX. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bitlocker/fve_crypto.h"
#include "bitlocker/fve_sector.h"
#include "hal/clock.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "bitlocker/bitlk_keys.h"
#include "bitlocker/bitlk_store.h"
#include "ssrp/sys/error.h"
#include "ssrp/sim.h"
#include "ssrp/volume.h"

/* The FVEK's length for a method, as its KEY datum holds it; 0: unknown. */
static size_t fvek_len_of(uint16_t method)
{
	switch (method) {
	case SSRP_FVE_ALG_CBC_128: return 16;
	case SSRP_FVE_ALG_CBC_256: case SSRP_FVE_ALG_XTS_128: return 32;
	case SSRP_FVE_ALG_CBC_ELEPHANT_128: case SSRP_FVE_ALG_CBC_ELEPHANT_256:
	case SSRP_FVE_ALG_XTS_256: return 64;
	default: return 0;
	}
}

/* An XTS key must not repeat its halves (OpenSSL refuses such keys). */
static int new_fvek(uint8_t fvek[64], size_t len)
{
	int rc;
	do
		rc = ssrp_random_bytes(fvek, len);
	while (rc == SSRP_OK && !memcmp(fvek, fvek + len / 2, len / 2));
	return rc;
}

static int fill_metadata(ssrp_fve_metadata *md, const ssrp_bitlk_layout *l, const uint8_t vmk[32],
			 uint16_t method, const uint8_t *fvek)
{
	memset(md, 0, sizeof *md);
	md->volume_size = l->size;
	memcpy(md->copies, l->copies, sizeof md->copies);
	md->relocated_at = l->relocated_at;
	md->next_nonce = 1;
	md->method = method;
	md->filetime = ssrp_filetime_now();
	md->description_len = (uint16_t)ssrp_bitlk_ascii_to_utf16(
		md->description, sizeof md->description, "ssrp simulated volume");
	ssrp_fve_vmk *k = &md->vmks[0];
	md->n_vmks = 1;
	k->protection = SSRP_FVE_PROTECT_CLEAR_KEY;
	k->filetime = md->filetime;
	k->has_clear_key = k->has_wrapped_vmk = 1;
	int rc = ssrp_guid_generate(md->volume_guid);
	if (!rc)
		rc = ssrp_guid_generate(k->guid);
	if (!rc)
		rc = ssrp_random_bytes(k->clear_key, sizeof k->clear_key);
	if (!rc)
		rc = ssrp_bitlk_wrap_key(&k->wrapped_vmk, md, k->clear_key, SSRP_FVE_ALG_VMK, vmk, 32);
	if (!rc)
		rc = ssrp_bitlk_wrap_key(&md->fvek, md, vmk, method, fvek, fvek_len_of(method));
	return rc;
}

/* Every sector of the view encrypts zeros, so the volume reads as zeros. */
static int encrypt_zeros(int fd, const ssrp_bitlk_layout *l, uint16_t method, const uint8_t *fvek)
{
	enum { CHUNK = 256 };
	uint8_t zeros[CHUNK * SSRP_FVE_SECTOR], ct[CHUNK * SSRP_FVE_SECTOR];
	memset(zeros, 0, sizeof zeros);
	ssrp_fve_cipher *x = NULL;
	int rc = ssrp_fve_cipher_new(&x, method, fvek, fvek_len_of(method));
	uint64_t sectors = l->size / SSRP_FVE_SECTOR;
	for (uint64_t s = 0; rc == SSRP_OK && s < sectors;) {
		uint64_t phys = ssrp_bitlk_layout_physical(l, s);
		size_t n = 1;
		while (phys != UINT64_MAX && n < CHUNK && s + n < sectors &&
		       ssrp_bitlk_layout_physical(l, s + n) == phys + n)
			n++;
		if (phys != UINT64_MAX) {
			rc = ssrp_fve_cipher_encrypt(x, ct, zeros, phys, n, SSRP_FVE_SECTOR);
			if (!rc && pwrite(fd, ct, n * SSRP_FVE_SECTOR, (off_t)(phys * SSRP_FVE_SECTOR)) !=
					   (ssize_t)(n * SSRP_FVE_SECTOR))
				rc = ssrp_error_set(SSRP_E_IO, "writing the new volume: %s",
						    strerror(errno));
		}
		s += n;
	}
	ssrp_fve_cipher_free(x);
	return rc;
}

static int build(const char *tmp, const ssrp_bitlk_layout *l, uint16_t method, unsigned flags)
{
	uint8_t vmk[32], fvek[64], header[SSRP_FVE_SECTOR];
	ssrp_fve_metadata *md = ssrp_malloc(sizeof *md);
	if (!md)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory creating a volume");
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = fd < 0 ? ssrp_error_set(SSRP_E_IO, "cannot create %s: %s", tmp, strerror(errno))
			: SSRP_OK;
	if (!rc && ftruncate(fd, (off_t)l->size))
		rc = ssrp_error_set(SSRP_E_IO, "cannot size %s: %s", tmp, strerror(errno));
	if (!rc)
		rc = ssrp_random_bytes(vmk, sizeof vmk);
	if (!rc)
		rc = new_fvek(fvek, fvek_len_of(method));
	if (!rc)
		rc = fill_metadata(md, l, vmk, method, fvek);
	if (!rc && !(flags & SSRP_SIM_CREATE_SPARSE))
		rc = encrypt_zeros(fd, l, method, fvek);
	if (!rc) {
		ssrp_fve_volume_header_encode(header, l->size, l->copies);
		if (pwrite(fd, header, sizeof header, 0) != (ssize_t)sizeof header)
			rc = ssrp_error_set(SSRP_E_IO, "writing the volume header: %s", strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	ssrp_bitlk_store store;
	if (!rc)
		rc = ssrp_bitlk_store_open(&store, tmp, 1, l);
	if (!rc) {
		rc = ssrp_bitlk_store_write_metadata(&store, md, vmk);
		ssrp_bitlk_store_close(&store);
	}
	ssrp_memzero(vmk, sizeof vmk);
	ssrp_memzero(fvek, sizeof fvek);
	ssrp_free_secret(md, sizeof *md);
	return rc;
}

int ssrp_sim_volume_create(const char *path, uint64_t size)
{
	return ssrp_sim_volume_create_with(path, size, SSRP_VOLUME_METHOD_XTS_AES_128, 0);
}

int ssrp_sim_volume_create_with(const char *path, uint64_t size, uint16_t method, unsigned flags)
{
	ssrp_bitlk_layout l;
	char tmp[1100];
	if (!path || !*path)
		return ssrp_error_set(SSRP_E_INVALID, "no path given for the new volume");
	if (!fvek_len_of(method))
		return ssrp_error_set(SSRP_E_INVALID,
				      "encryption method 0x%04x is not one BitLocker uses (0x8000 to "
				      "0x8005)",
				      method);
	int rc = ssrp_bitlk_layout_for(&l, size);
	if (rc)
		return rc;
	if (access(path, F_OK) == 0)
		return ssrp_error_set(SSRP_E_INVALID, "%s exists; a new volume never overwrites a file",
				      path);
	snprintf(tmp, sizeof tmp, "%s.creating.%ld", path, (long)getpid());
	rc = build(tmp, &l, method, flags);
	/* link() refuses to replace a file that appeared meanwhile. */
	if (!rc && link(tmp, path))
		rc = ssrp_error_set(SSRP_E_IO, "cannot create %s: %s", path, strerror(errno));
	unlink(tmp);
	return rc;
}
