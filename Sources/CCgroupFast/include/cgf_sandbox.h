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

/** Option of cgf_sandbox_confine: open(2)/openat(2) may also open an existing file write-only
    (O_WRONLY without O_CREAT or O_TRUNC) — for /proc/<pid>/clear_refs, which the referenced-memory
    collector writes when asked to reset. Without it every open is read-only. */
#define CGF_SANDBOX_WRITE_OPENS 1u

/** Loads the allow-list for all threads: every call in `names` (system call names; names this kernel
    or architecture does not know are skipped and counted in `*unknown`) with any arguments, plus
    these with checked arguments (not to be listed in `names`):
      open, openat   read-only: O_RDONLY, no O_CREAT, no O_TRUNC (see CGF_SANDBOX_WRITE_OPENS);
      clone          with CLONE_THREAD and no namespace flag: threads, never a new process;
      kill, tgkill   to this process only;
      prlimit64      reading a limit only (no new limit);
    and openat2 and clone3 (their flags are in a struct a filter cannot read) fail with ENOSYS, so
    callers fall back to openat and clone. Anything else fails with EPERM through a SIGSYS handler
    that counts it (cgf_sandbox_denied). `options`: 0 or CGF_SANDBOX_WRITE_OPENS. Returns 0, or a
    negative errno (nothing loaded). */
int cgf_sandbox_confine(const char *const *names, int count, unsigned options, int *unknown);

/** One probe of cgf_sandbox_run_probes: what was tried, its result (-1 on failure) and errno, and the
    errno a confining sandbox gives (0: the call must succeed). */
struct cgf_sandbox_probe {
    char name[48];
    long result;
    int error;
    int expected_error;
};

/** The test hook: tries, for real, what the sandbox must refuse — an open for writing (of
    `scratch_path`, which should not exist, and of /proc/self files), fork, a clone with a namespace
    flag, clone3, openat2, kill and tgkill of other processes, tkill, setting a resource limit, execve
    and execveat of a path that does not exist — and what it must allow (a read-only open, a thread, signals to itself). A process
    a probe creates by mistake exits at once. `options`: as given to cgf_sandbox_confine. Fills up to
    `cap` probes; returns how many. */
int cgf_sandbox_run_probes(const char *scratch_path, unsigned options, struct cgf_sandbox_probe *out, int cap);

/** How many times system call `nr` was denied since confinement. */
uint64_t cgf_sandbox_denied(int nr);

/** The name of system call `nr` on this architecture into `out` (empty when unknown). */
void cgf_sandbox_syscall_name(int nr, char *out, int cap);

#ifdef __cplusplus
}
#endif
#endif
