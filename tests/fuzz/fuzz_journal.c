/* libFuzzer: the agent's journal parser (escrow/journal.c), which reads a
 * file anyone with write access to the journal's directory could have
 * damaged. A journal that parses must save and parse again to the same
 * structure, and the lookups must agree with it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ssrp_journal j;
	if (ssrp_journal_parse(&j, (const char *)data, size) != 0) {
		/* a refusal leaves nothing behind */
		if (j.n_escrowed || j.device_id[0] || j.rotation_used[0])
			abort();
		return 0;
	}
	if (j.n_escrowed > SSRP_JOURNAL_MAX_ESCROWED)
		abort();
	for (size_t i = 0; i < j.n_escrowed; i++) {
		if (ssrp_journal_escrowed_at(&j, j.escrowed[i].id) != j.escrowed[i].at)
			abort();
		if (strlen(j.escrowed[i].id) != SSRP_PROTECTOR_ID_LEN)
			abort();
	}
	if (j.n_escrowed) {
		char id[SSRP_PROTECTOR_ID_LEN + 1];
		memcpy(id, j.escrowed[0].id, sizeof id);
		size_t n = j.n_escrowed;
		ssrp_journal_forget(&j, id);
		if (j.n_escrowed != n - 1 || ssrp_journal_escrowed_at(&j, id) != 0)
			abort();
		if (ssrp_journal_mark_escrowed(&j, id, 1) != 0 || ssrp_journal_escrowed_at(&j, id) != 1)
			abort();
	}
	return 0;
}
