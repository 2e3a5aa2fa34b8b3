/* A BitLocker volume's file or device (see bitlk_store.h): opening and
 * the metadata copies. The file itself (locking, I/O, the mapping) is the
 * platform's: bitlk_store_posix.c, bitlk_store_windows.c. */
#include <stdio.h>
#include <string.h>

#include "hal/mem.h"
#include "bitlocker/bitlk_keys.h"
#include "bitlocker/bitlk_store.h"
#include "ssrp/sys/error.h"

int ssrp_bitlk_store_open(ssrp_bitlk_store *s, const char *path, int writable,
			const ssrp_bitlk_layout *layout)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->map = NULL;
	s->writable = writable;
	if (strlen(path) >= sizeof s->path)
		return ssrp_error_set(SSRP_E_INVALID, "volume path is too long");
	strcpy(s->path, path);
	int rc = ssrp_bitlk_store_open_file(s);
	if (rc)
		return rc;
	uint8_t header[SSRP_FVE_SECTOR];
	if (s->dev_size < SSRP_FVE_SECTOR)
		rc = ssrp_error_set(SSRP_E_FORMAT, "%s is %llu bytes: too small to be a volume", path,
				    (unsigned long long)s->dev_size);
	if (!rc && !layout)
		rc = ssrp_bitlk_store_pread(s, header, sizeof header, 0);
	if (!rc && !layout)
		rc = ssrp_fve_boot_parse(&s->boot, header);
	if (!rc && layout) {
		s->layout = *layout;
		s->boot.sector_size = (uint16_t)layout->sector;
		memcpy(s->boot.copies, layout->copies, sizeof s->boot.copies);
		rc = ssrp_bitlk_store_map(s);
	}
	if (!rc)
		s->block = ssrp_calloc(1, SSRP_FVE_REGION);
	if (!rc && !s->block)
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory opening %s", path);
	if (rc) {
		ssrp_error_prefix(rc, "%s", path);
		ssrp_bitlk_store_close(s);
	}
	return rc;
}

void ssrp_bitlk_store_close(ssrp_bitlk_store *s)
{
	ssrp_bitlk_store_close_file(s);
	ssrp_free_secret(s->block, s->block ? SSRP_FVE_REGION : 0);
	s->block = NULL;
}

/* The layout the chosen copy describes. */
static int take_layout(ssrp_bitlk_store *s, const ssrp_fve_metadata *md)
{
	ssrp_bitlk_layout *l = &s->layout;
	l->sector = s->boot.sector_size;
	/* Done converting, the encrypted size is the volume's; part-way, the
	 * volume is the whole device, as cryptsetup maps it. */
	int done = md->state == SSRP_FVE_STATE_ENCRYPTED && md->next_state == SSRP_FVE_STATE_ENCRYPTED;
	l->size = done ? md->volume_size : s->dev_size / l->sector * l->sector;
	l->encrypted_size = md->volume_size;
	l->converting_size = md->state == SSRP_FVE_STATE_SWITCHING ? md->convert_size : 0;
	memcpy(l->copies, md->copies, sizeof l->copies);
	l->relocated_at = md->relocated_at;
	l->relocated_size = md->relocated_size;
	int rc = ssrp_bitlk_layout_check(l, s->dev_size);
	return rc ? rc : ssrp_bitlk_store_map(s);
}

int ssrp_bitlk_store_read_metadata(ssrp_bitlk_store *s, ssrp_fve_metadata *out)
{
	uint8_t *region = ssrp_malloc(SSRP_FVE_REGION);
	ssrp_fve_metadata *copy = ssrp_malloc(sizeof *copy);
	if (!region || !copy) {
		ssrp_free(region);
		ssrp_free(copy);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading metadata");
	}
	int best = -1, valid = 0, rc = SSRP_OK;
	uint64_t seqs[3] = {0, 0, 0};
	/* Windows' metadata has no sequence: copies of one sequence must also
	 * hold the same block (the stored CRC-32 tells), else the first valid
	 * one (written first) is the newest and the others are behind. */
	uint32_t crcs[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		uint64_t at = s->boot.copies[i];
		s->copy_ok[i] = 0;
		s->copy_note[i][0] = '\0';
		rc = at <= s->dev_size && s->dev_size - at >= SSRP_FVE_REGION
			     ? ssrp_bitlk_store_pread(s, region, SSRP_FVE_REGION, at)
			     : ssrp_error_set(SSRP_E_FORMAT, "past the end of the device");
		if (rc == SSRP_OK)
			rc = ssrp_fve_metadata_parse(copy, region, SSRP_FVE_REGION);
		if (rc == SSRP_OK && memcmp(copy->copies, s->boot.copies, sizeof copy->copies))
			rc = ssrp_error_set(SSRP_E_FORMAT,
					    "metadata: its offsets disagree with the volume header");
		if (rc) {
			snprintf(s->copy_note[i], sizeof s->copy_note[i], "%s", ssrp_error_last());
			continue;
		}
		valid++;
		seqs[i] = copy->sequence;
		const uint8_t *c = region + copy->content_len + 4;
		crcs[i] = c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
		if (best < 0 || copy->sequence > out->sequence) {
			best = i;
			memcpy(out, copy, sizeof *copy);
			memcpy(s->block, region, SSRP_FVE_REGION);
			s->block_len = copy->content_len +
				       (copy->has_validation ? SSRP_FVE_VALIDATION_LEN : 8);
		}
	}
	ssrp_free(region);
	ssrp_free_secret(copy, sizeof *copy);
	if (best < 0)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "%s: no readable metadata copy (1 at 0x%llx: %s; 2 at 0x%llx: %s; "
				      "3 at 0x%llx: %s)",
				      s->path, (unsigned long long)s->boot.copies[0], s->copy_note[0],
				      (unsigned long long)s->boot.copies[1], s->copy_note[1],
				      (unsigned long long)s->boot.copies[2], s->copy_note[2]);
	for (int i = 0; i < 3; i++) {
		s->copy_ok[i] = !s->copy_note[i][0] && seqs[i] == seqs[best] && crcs[i] == crcs[best];
		if (!s->copy_note[i][0] && !s->copy_ok[i])
			snprintf(s->copy_note[i], sizeof s->copy_note[i],
				 "behind copy %d (an update was cut off)", best + 1);
	}
	s->chosen = best;
	s->copies_in_step = s->copy_ok[0] && s->copy_ok[1] && s->copy_ok[2];
	rc = take_layout(s, out);
	if (rc)
		return ssrp_error_prefix(rc, "%s: metadata copy %d", s->path, best + 1);
	ssrp_error_clear();
	return SSRP_OK;
}

int ssrp_bitlk_store_verify(ssrp_bitlk_store *s, const ssrp_fve_metadata *md, const uint8_t vmk[32])
{
	int rc = ssrp_fve_metadata_verify(s->block, md, vmk);
	if (rc)
		ssrp_error_prefix(rc, "%s: metadata copy %d at 0x%llx", s->path, s->chosen + 1,
				  (unsigned long long)s->boot.copies[s->chosen]);
	return rc;
}

static int refuse_read_only(const ssrp_bitlk_store *s)
{
	return ssrp_error_set(SSRP_E_REFUSED,
			      "volume %s is open read-only; open it for writing to change it "
			      "(bitlk:PATH?rw)",
			      s->path);
}

/* One copy's write: its whole region, made durable before the next. */
static int write_region(ssrp_bitlk_store *s, const uint8_t *buf, size_t len, uint64_t offset)
{
	if (s->write_region)
		return s->write_region(s, buf, len, offset, s->write_region_ctx);
	int rc = ssrp_bitlk_store_pwrite(s, buf, len, offset);
	return rc ? rc : ssrp_bitlk_store_sync(s);
}

int ssrp_bitlk_store_repair(ssrp_bitlk_store *s)
{
	if (!s->writable)
		return refuse_read_only(s);
	size_t len = SSRP_FVE_REGION; /* the chosen copy's region, as it is */
	int rc = SSRP_OK;
	for (int i = 0; rc == SSRP_OK && i < 3; i++)
		if (!s->copy_ok[i])
			rc = write_region(s, s->block, len, s->boot.copies[i]);
	if (rc == SSRP_OK) {
		s->copies_in_step = 1;
		for (int i = 0; i < 3; i++) {
			s->copy_ok[i] = 1;
			s->copy_note[i][0] = '\0';
		}
	}
	return rc;
}

int ssrp_bitlk_store_write_metadata(ssrp_bitlk_store *s, ssrp_fve_metadata *md, const uint8_t *vmk)
{
	if (!s->writable)
		return refuse_read_only(s);
	if (!vmk)
		return ssrp_error_set(SSRP_E_LOCKED,
				      "%s: the metadata's validation datum is sealed with the volume "
				      "master key, so changing it needs the volume unlocked first",
				      s->path);
	uint8_t *region = ssrp_calloc(1, SSRP_FVE_REGION);
	if (!region)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory writing metadata");
	uint8_t nonce[12];
	ssrp_bitlk_next_nonce(nonce, md);
	md->sequence++;
	size_t used = 0;
	/* Metadata holding entries ssrp does not model (Windows') is edited
	 * in place, keeping them; ssrp's own is encoded from the model. */
	int rc = md->unmodelled ? ssrp_fve_metadata_rewrite(region,
							     SSRP_FVE_REGION - SSRP_FVE_VALIDATION_LEN,
							     &used, s->block, SSRP_FVE_REGION, md)
				: ssrp_fve_metadata_encode(region,
							   SSRP_FVE_REGION - SSRP_FVE_VALIDATION_LEN,
							   &used, md);
	if (rc == SSRP_OK)
		rc = ssrp_fve_metadata_seal(region, SSRP_FVE_REGION, &used, vmk, nonce);
	/* The whole region, zeros after the block: a block that shrank leaves
	 * nothing stale behind, and the three copies are alike byte for byte. */
	size_t len = SSRP_FVE_REGION;
	for (int i = 0; rc == SSRP_OK && i < 3; i++)
		rc = write_region(s, region, len, s->boot.copies[i]);
	if (rc == SSRP_OK) {
		s->copies_in_step = 1;
		memcpy(s->block, region, SSRP_FVE_REGION);
		s->block_len = used;
		for (int i = 0; i < 3; i++) {
			s->copy_ok[i] = 1;
			s->copy_note[i][0] = '\0';
		}
		/* Keep the validation fields as a reader will parse them. */
		ssrp_fve_metadata *back = ssrp_malloc(sizeof *back);
		if (back && ssrp_fve_metadata_parse(back, region, SSRP_FVE_REGION) == SSRP_OK) {
			md->content_len = back->content_len;
			md->has_validation = back->has_validation;
			md->validation = back->validation;
			for (size_t i = 0; i < md->n_vmks; i++)
				md->vmks[i].changed = 0;
		}
		ssrp_free_secret(back, back ? sizeof *back : 0);
		ssrp_error_clear();
	}
	ssrp_free_secret(region, SSRP_FVE_REGION);
	return rc;
}
