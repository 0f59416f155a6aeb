/*
 * CCgroupFast — host identity through libsystemd, and libseccomp's presence.
 */
#ifndef CGF_SYSTEM_H
#define CGF_SYSTEM_H

#include "cgf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The machine id (32 hex digits + NUL) from sd_id128_get_machine; a negative errno on failure. */
int cgf_machine_id(char out[33]);

/** The boot id (32 hex digits + NUL) from sd_id128_get_boot; a negative errno on failure. */
int cgf_boot_id(char out[33]);

/** Tells the service manager about state changes (sd_notify): "READY=1", "STOPPING=1", "WATCHDOG=1".
    Returns > 0 when sent, 0 when NOTIFY_SOCKET is not set, a negative errno on failure. */
int cgf_notify(const char *state);

/** The watchdog interval in microseconds when the service manager asked for pings (sd_watchdog_enabled), else 0. */
uint64_t cgf_watchdog_usec(void);

/** Sends one structured entry to the journal: `fields` are "KEY=value" strings (MESSAGE=, PRIORITY=, ...),
    at most 64. Returns 0 or a negative errno. */
int cgf_journal_send(const char *const *fields, int count);

/** Whether standard error is the journal's stream: JOURNAL_STREAM ("dev:inode") names fd 2. */
int cgf_stderr_is_journal(void);

/** Returns the heap's free pages to the kernel (glibc malloc_trim). */
void cgf_release_free_memory(void);

/** Sizes glibc malloc for a daemon with a few busy threads; call first thing, before threads start:
    at most 2 arenas (M_ARENA_MAX; the default, 8 per core, gives each NIO and collector thread its own
    heap, each keeping its free space). A fixed mmap threshold, which would hand a scrape's megabyte
    buffers back each time, was measured and left out: re-faulting them cost 1.3 ms per scrape. */
void cgf_tune_malloc(void);

/** Maps this process's code page by page as it runs. The kernel maps a file page that faults
    together with its neighbours already in the page cache (fault-around, 64 KiB), so code spread
    through a 24 MiB binary keeps far more resident than it runs. Every file-backed mapping that is
    not writable (the executable's and its libraries' code and constants) is registered with a
    userfaultfd in asynchronous write-protect mode (Linux 6.7), which turns fault-around off for
    it and delivers nothing (nothing is write-protected); then the code pages mapped so far are
    dropped (cgf_drop_code_pages), and those that run again come back one by one from the page cache.
    The descriptor stays open for the life of the process. Returns the number of mappings
    registered, or a negative errno with nothing changed: -ENOSYS or -EPERM when userfaultfd is
    not available (a container runtime's seccomp profile), -EINVAL before Linux 6.7. */
int cgf_map_code_on_touch(void);

/** After cgf_map_code_on_touch: unmaps the code and constant pages mapped so far (MADV_DONTNEED on
    the read-only file mappings, page runs that /proc/self/pagemap shows hold only the file's bytes;
    a private copy — data the loader relocated, RELRO — is kept), so that what ran only at start-up
    stops counting; what runs again faults back in page by page. Returns the number of mappings
    gone through (0 when cgf_map_code_on_touch did not succeed), or a negative errno. */
int cgf_drop_code_pages(void);

/** Bytes of heap handed out and not yet freed, over every arena (glibc mallinfo2 `uordblks`):
    what leak checks compare before and after a piece of work. */
uint64_t cgf_heap_in_use(void);

/** The linked libseccomp version as major*10000 + minor*100 + micro. */
unsigned cgf_seccomp_version(void);

#ifdef __cplusplus
}
#endif
#endif
