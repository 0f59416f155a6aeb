/*
 * The process's code mapped page by page as it runs, instead of in the kernel's 64 KiB fault-around
 * windows (README: resident memory).
 */
#include "cgf_system.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15) /* Linux 6.7; Debian 12's headers are 6.1 */
#endif

/* The userfaultfd the mappings are registered with: closing it would end the registration. */
static int code_uffd = -1;

typedef void (*mapping_fn)(unsigned long start, unsigned long len, void *ctx);

/* Calls `fn` for each file-backed mapping of this process that is not writable (code and
 * constants of the executable and its libraries); 0, or a negative errno when /proc/self/maps
 * cannot be read. */
static int each_readonly_file_mapping(mapping_fn fn, void *ctx) {
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) return -errno;
    char line[4096];
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long start, end;
        char perms[5];
        int path_at = 0;
        /* start-end perms offset dev inode path */
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3 || path_at == 0) continue;
        if (line[path_at] != '/' || perms[1] == 'w' || perms[0] != 'r' || end <= start) continue;
        fn(start, end - start, ctx);
    }
    fclose(maps);
    return 0;
}

/* A mapping the kernel refuses keeps its fault-around; the others still count. */
static void register_mapping(unsigned long start, unsigned long len, void *ctx) {
    struct uffdio_register reg = {.range = {.start = start, .len = len}, .mode = UFFDIO_REGISTER_MODE_WP};
    if (ioctl(code_uffd, UFFDIO_REGISTER, &reg) == 0) (*(int *)ctx)++;
}

/* /proc/self/pagemap, 8 bytes per page: bit 63 present, 62 swapped, 61 a file page (not a private copy). */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE (1ULL << 61)

struct drop_context {
    int pagemap;
    unsigned long page;
    int dropped;
};

/* Unmaps the pages of the mapping that hold nothing but the file's bytes: present file pages and
 * absent ones. A private copy — a page the loader relocated (RELRO, text relocations), a debugger's
 * breakpoint — is kept, as is a swapped-out one: dropping those would bring back the file's bytes. */
static void drop_mapping(unsigned long start, unsigned long len, void *ctx) {
    struct drop_context *d = ctx;
    uint64_t entries[512];
    unsigned long pages = len / d->page, run_start = 0, run_length = 0;
    for (unsigned long first = 0; first < pages; first += 512) {
        unsigned long n = pages - first < 512 ? pages - first : 512;
        off_t at = (off_t)((start / d->page + first) * sizeof(uint64_t));
        if (pread(d->pagemap, entries, n * sizeof(uint64_t), at) != (ssize_t)(n * sizeof(uint64_t))) return;
        for (unsigned long i = 0; i < n; i++) {
            uint64_t e = entries[i];
            int droppable = (e & PM_PRESENT) ? (e & PM_FILE) != 0 : (e & PM_SWAPPED) == 0;
            unsigned long address = start + (first + i) * d->page;
            if (droppable) {
                if (run_length == 0) run_start = address;
                run_length += d->page;
            } else if (run_length > 0) {
                madvise((void *)run_start, run_length, MADV_DONTNEED);
                run_length = 0;
            }
        }
    }
    if (run_length > 0) madvise((void *)run_start, run_length, MADV_DONTNEED);
    d->dropped++;
}

int cgf_map_code_on_touch(void) {
    if (code_uffd >= 0) return -EALREADY;
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0) return -errno;
    /* Asynchronous write-protect mode: the kernel resolves any write fault itself (there are none:
     * nothing here is write-protected), so no fault is ever delivered to the descriptor; a
     * registered mapping only loses its fault-around. */
    struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC};
    if (ioctl(fd, UFFDIO_API, &api) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    code_uffd = fd;
    int registered = 0;
    int rc = each_readonly_file_mapping(register_mapping, &registered);
    if (rc < 0 || registered == 0) {
        close(fd);
        code_uffd = -1;
        return rc < 0 ? rc : -ENOTSUP;
    }
    cgf_drop_code_pages();
    return registered;
}

int cgf_drop_code_pages(void) {
    if (code_uffd < 0) return 0; /* with fault-around, what is dropped comes back 64 KiB at a time */
    struct drop_context d = {.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC),
                             .page = (unsigned long)sysconf(_SC_PAGESIZE)};
    if (d.pagemap < 0) return -errno;
    int rc = each_readonly_file_mapping(drop_mapping, &d);
    close(d.pagemap);
    return rc < 0 ? rc : d.dropped;
}
