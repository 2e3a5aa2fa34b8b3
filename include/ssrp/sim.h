/* ssrp-sim: the simulator library, for tests and CI pipelines only.
 *
 * libssrp-sim stands in for hardware: it creates BitLocker volumes in
 * files, registers the "sim:" volume backend (a "bitlk" volume opened
 * read-write, with crash injection) and the "tbs-socket:" TPM backend (the
 * Windows TBS backend's marshalling core over a raw TPM 2.0 socket such as
 * swtpm's). A production agent links libssrp alone; nothing here is in it.
 *
 * libssrp-sim is a static library built against libssrp's static library
 * (it reaches the BitLocker codec's internals to create volumes): link it
 * with `pkg-config --static --libs ssrp-sim`. */
#ifndef SSRP_SIM_H
#define SSRP_SIM_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Register "sim:" (volumes) and "tbs-socket:" (TPM) with libssrp, once;
 * later calls do nothing. Call it before opening a spec that names them.
 *
 * "sim:PATH[?opt&...]" opens a volume made by ssrp_sim_volume_create
 * read-write; options: ro, rw, and kill_at_write=N: the Nth metadata-copy
 * write of this process writes half its bytes, then the process kills
 * itself with SIGKILL, as a power cut would (crash tests).
 * "tbs-socket:HOST:PORT" talks TPM 2.0 commands to a socket. */
int ssrp_sim_register_backends(void);

/** Create a BitLocker volume in a file at path (open it as "sim:path" or
 * "bitlk:path"): size bytes, a multiple of 64 KiB and at least 1 MiB;
 * XTS-AES-128, zero-filled, unlocked by a clear key (encrypted, protection
 * off) as BitLocker leaves a disk before its first protector. Refuses to
 * overwrite a file. */
int ssrp_sim_volume_create(const char *path, uint64_t size);

/** The same with any BitLocker method (SSRP_VOLUME_METHOD_*; the FVEK
 * random). flags SSRP_SIM_CREATE_SPARSE leaves the data sectors unwritten
 * (holes in the file: they read as noise, not zeros), for large volumes in
 * tests and benchmarks. */
#define SSRP_SIM_CREATE_SPARSE 1u
int ssrp_sim_volume_create_with(const char *path, uint64_t size, uint16_t method,
				unsigned flags);

#ifdef __cplusplus
}
#endif

#endif
