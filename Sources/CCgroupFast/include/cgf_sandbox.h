/*
 * CCgroupFast — the seccomp sandbox: an allow-list of system calls loaded with libseccomp for every
 * thread of the process. A call outside the list fails with EPERM (a SIGSYS handler sets the return
 * value) and is counted per system call so the agent can log it; it never kills the process.
 */
#ifndef CGF_SANDBOX_H
#define CGF_SANDBOX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest system call number counted; denials of larger numbers are counted at this index. */
#define CGF_SANDBOX_MAX_SYSCALL 511

/** Loads the allow-list (`names`: system call names; names this kernel or architecture does not know
    are skipped and counted in `*unknown`) for all threads. Returns 0, or a negative errno (nothing
    loaded). */
int cgf_sandbox_confine(const char *const *names, int count, int *unknown);

/** How many times system call `nr` was denied since confinement. */
uint64_t cgf_sandbox_denied(int nr);

/** The name of system call `nr` on this architecture into `out` (empty when unknown). */
void cgf_sandbox_syscall_name(int nr, char *out, int cap);

#ifdef __cplusplus
}
#endif
#endif
