/*
 * One cgroup's sample and spec for cgroup v1, v2 and hybrid hosts. File names
 * follow the kernel (Documentation/admin-guide/cgroup-v1, cgroup-v2.rst);
 * derived values follow cAdvisor (working set, cache/rss choice, shares).
 */
#include "cgf_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Which kernel file backs a sample or spec file in a mode; fallback is tried when name is absent. */
typedef struct {
    cgf_controller ctrl;
    const char *name;
    const char *fallback;
} file_def;

static const file_def v1_sample_files[CGF_F_COUNT] = {
    [CGF_F_CPU_USAGE] = {CGF_CTRL_CPUACCT, "cpuacct.usage", NULL},
    [CGF_F_CPU_USAGE_PERCPU] = {CGF_CTRL_CPUACCT, "cpuacct.usage_percpu", NULL},
    [CGF_F_CPU_ACCT_STAT] = {CGF_CTRL_CPUACCT, "cpuacct.stat", NULL},
    [CGF_F_CPU_STAT] = {CGF_CTRL_CPU, "cpu.stat", NULL},
    [CGF_F_MEMORY_USAGE] = {CGF_CTRL_MEMORY, "memory.usage_in_bytes", NULL},
    [CGF_F_MEMORY_MAX_USAGE] = {CGF_CTRL_MEMORY, "memory.max_usage_in_bytes", NULL},
    [CGF_F_MEMORY_FAILCNT] = {CGF_CTRL_MEMORY, "memory.failcnt", NULL},
    [CGF_F_MEMORY_KMEM_USAGE] = {CGF_CTRL_MEMORY, "memory.kmem.usage_in_bytes", NULL},
    [CGF_F_MEMORY_SWAP] = {CGF_CTRL_MEMORY, "memory.memsw.usage_in_bytes", NULL},
    [CGF_F_MEMORY_STAT] = {CGF_CTRL_MEMORY, "memory.stat", NULL},
    [CGF_F_MEMORY_EVENTS] = {CGF_CTRL_MEMORY, NULL, NULL},
    [CGF_F_IO_SERVICE_BYTES] = {CGF_CTRL_BLKIO, "blkio.throttle.io_service_bytes_recursive",
                                "blkio.throttle.io_service_bytes"},
    [CGF_F_IO_SERVICED] = {CGF_CTRL_BLKIO, "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced"},
    [CGF_F_IO_STAT] = {CGF_CTRL_BLKIO, NULL, NULL},
    [CGF_F_PIDS_CURRENT] = {CGF_CTRL_PIDS, "pids.current", NULL},
    [CGF_F_PIDS_MAX] = {CGF_CTRL_PIDS, "pids.max", NULL},
    /* Hybrid hosts expose pressure in the controller-less cgroup2 mount. */
    [CGF_F_CPU_PRESSURE] = {CGF_CTRL_UNIFIED, "cpu.pressure", NULL},
    [CGF_F_MEMORY_PRESSURE] = {CGF_CTRL_UNIFIED, "memory.pressure", NULL},
    [CGF_F_IO_PRESSURE] = {CGF_CTRL_UNIFIED, "io.pressure", NULL},
};

static const file_def v2_sample_files[CGF_F_COUNT] = {
    [CGF_F_CPU_USAGE] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_F_CPU_USAGE_PERCPU] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_F_CPU_ACCT_STAT] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_F_CPU_STAT] = {CGF_CTRL_UNIFIED, "cpu.stat", NULL},
    [CGF_F_MEMORY_USAGE] = {CGF_CTRL_UNIFIED, "memory.current", NULL},
    [CGF_F_MEMORY_MAX_USAGE] = {CGF_CTRL_UNIFIED, "memory.peak", NULL},
    [CGF_F_MEMORY_FAILCNT] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_F_MEMORY_KMEM_USAGE] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_F_MEMORY_SWAP] = {CGF_CTRL_UNIFIED, "memory.swap.current", NULL},
    [CGF_F_MEMORY_STAT] = {CGF_CTRL_UNIFIED, "memory.stat", NULL},
    [CGF_F_MEMORY_EVENTS] = {CGF_CTRL_UNIFIED, "memory.events", NULL},
    [CGF_F_IO_SERVICE_BYTES] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_F_IO_SERVICED] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_F_IO_STAT] = {CGF_CTRL_UNIFIED, "io.stat", NULL},
    [CGF_F_PIDS_CURRENT] = {CGF_CTRL_UNIFIED, "pids.current", NULL},
    [CGF_F_PIDS_MAX] = {CGF_CTRL_UNIFIED, "pids.max", NULL},
    [CGF_F_CPU_PRESSURE] = {CGF_CTRL_UNIFIED, "cpu.pressure", NULL},
    [CGF_F_MEMORY_PRESSURE] = {CGF_CTRL_UNIFIED, "memory.pressure", NULL},
    [CGF_F_IO_PRESSURE] = {CGF_CTRL_UNIFIED, "io.pressure", NULL},
};

static const file_def v1_spec_files[CGF_S_COUNT] = {
    [CGF_S_CPU_SHARES] = {CGF_CTRL_CPU, "cpu.shares", NULL},
    [CGF_S_CPU_QUOTA] = {CGF_CTRL_CPU, "cpu.cfs_quota_us", NULL},
    [CGF_S_CPU_PERIOD] = {CGF_CTRL_CPU, "cpu.cfs_period_us", NULL},
    [CGF_S_CPU_WEIGHT] = {CGF_CTRL_CPU, NULL, NULL},
    [CGF_S_CPU_MAX] = {CGF_CTRL_CPU, NULL, NULL},
    [CGF_S_CPUSET_CPUS] = {CGF_CTRL_CPUSET, "cpuset.cpus", NULL},
    [CGF_S_CPUSET_MEMS] = {CGF_CTRL_CPUSET, "cpuset.mems", NULL},
    [CGF_S_MEMORY_LIMIT] = {CGF_CTRL_MEMORY, "memory.limit_in_bytes", NULL},
    [CGF_S_MEMORY_RESERVATION] = {CGF_CTRL_MEMORY, "memory.soft_limit_in_bytes", NULL},
    [CGF_S_MEMORY_SWAP_LIMIT] = {CGF_CTRL_MEMORY, "memory.memsw.limit_in_bytes", NULL},
    [CGF_S_MEMORY_LOW] = {CGF_CTRL_MEMORY, NULL, NULL},
    [CGF_S_MEMORY_HIGH] = {CGF_CTRL_MEMORY, NULL, NULL},
    [CGF_S_MEMORY_USE_HIERARCHY] = {CGF_CTRL_MEMORY, "memory.use_hierarchy", NULL},
    [CGF_S_PIDS_MAX] = {CGF_CTRL_PIDS, "pids.max", NULL},
};

static const file_def v2_spec_files[CGF_S_COUNT] = {
    [CGF_S_CPU_SHARES] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_S_CPU_QUOTA] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_S_CPU_PERIOD] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_S_CPU_WEIGHT] = {CGF_CTRL_UNIFIED, "cpu.weight", NULL},
    [CGF_S_CPU_MAX] = {CGF_CTRL_UNIFIED, "cpu.max", NULL},
    [CGF_S_CPUSET_CPUS] = {CGF_CTRL_UNIFIED, "cpuset.cpus.effective", NULL},
    [CGF_S_CPUSET_MEMS] = {CGF_CTRL_UNIFIED, "cpuset.mems.effective", NULL},
    [CGF_S_MEMORY_LIMIT] = {CGF_CTRL_UNIFIED, "memory.max", NULL},
    [CGF_S_MEMORY_RESERVATION] = {CGF_CTRL_UNIFIED, "memory.min", NULL},
    [CGF_S_MEMORY_SWAP_LIMIT] = {CGF_CTRL_UNIFIED, "memory.swap.max", NULL},
    [CGF_S_MEMORY_LOW] = {CGF_CTRL_UNIFIED, "memory.low", NULL},
    [CGF_S_MEMORY_HIGH] = {CGF_CTRL_UNIFIED, "memory.high", NULL},
    [CGF_S_MEMORY_USE_HIERARCHY] = {CGF_CTRL_UNIFIED, NULL, NULL},
    [CGF_S_PIDS_MAX] = {CGF_CTRL_UNIFIED, "pids.max", NULL},
};

/* v1: usage_in_bytes, max_usage_in_bytes, failcnt; v2: current, max (limit), events. */
static const char *const v1_hugetlb_suffix[3] = {"usage_in_bytes", "max_usage_in_bytes", "failcnt"};
static const char *const v2_hugetlb_suffix[3] = {"current", "max", "events"};

static const file_def *sample_table(const cgf_hierarchy *h) {
    return h->mode == CGF_MODE_V2 ? v2_sample_files : v1_sample_files;
}

/* ---- hierarchy ------------------------------------------------------------ */

int cgf_hugepage_name(uint64_t kb, char *out, size_t cap) {
    int n;
    if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0) {
        n = snprintf(out, cap, "%lluGB", (unsigned long long)(kb / (1024 * 1024)));
    } else if (kb >= 1024 && kb % 1024 == 0) {
        n = snprintf(out, cap, "%lluMB", (unsigned long long)(kb / 1024));
    } else {
        n = snprintf(out, cap, "%lluKB", (unsigned long long)kb);
    }
    return (n < 0 || (size_t)n >= cap) ? CGF_ETOOBIG : CGF_OK;
}

int cgf_hierarchy_open(cgf_hierarchy *h, cgf_mode mode, const char *const mount_paths[CGF_CTRL_COUNT],
                       const uint64_t *hugepage_kb, uint32_t hugepage_count) {
    memset(h, 0, sizeof(*h));
    h->mode = mode;
    for (int i = 0; i < CGF_CTRL_COUNT; i++) h->root_fd[i] = -1;
    if (mode != CGF_MODE_V1 && mode != CGF_MODE_V2 && mode != CGF_MODE_HYBRID) return CGF_EINVAL;
    int opened = 0;
    for (int i = 0; i < CGF_CTRL_COUNT; i++) {
        if (mount_paths[i] == NULL) continue;
        if (mode == CGF_MODE_V2 && i != CGF_CTRL_UNIFIED) continue;
        h->root_fd[i] = open(mount_paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h->root_fd[i] >= 0) opened++;
    }
    h->sample_mask = CGF_MASK_ALL;
    long ticks = sysconf(_SC_CLK_TCK);
    h->ns_per_tick = ticks > 0 ? 1000000000ull / (uint64_t)ticks : 10000000ull;
    for (uint32_t i = 0; i < hugepage_count && h->hugepage_count < CGF_MAX_HUGEPAGE_SIZES; i++) {
        if (cgf_hugepage_name(hugepage_kb[i], h->hugepage_size[h->hugepage_count], CGF_HUGEPAGE_NAME_MAX) ==
            CGF_OK)
            h->hugepage_count++;
    }
    return opened > 0 ? CGF_OK : CGF_ENOENT;
}

void cgf_hierarchy_set_sample_mask(cgf_hierarchy *h, uint32_t mask) { h->sample_mask = mask; }

void cgf_hierarchy_close(cgf_hierarchy *h) {
    for (int i = 0; i < CGF_CTRL_COUNT; i++) {
        if (h->root_fd[i] >= 0) close(h->root_fd[i]);
        h->root_fd[i] = -1;
    }
}

/* ---- cgroup handle ---------------------------------------------------------- */

/* "/a//b/./c" -> "a/b/c", "/" -> "."; refuses relative names and ".." components. */
static int normalize_name(const char *name, char *rel, size_t cap) {
    if (name == NULL || name[0] != '/') return CGF_EINVAL;
    size_t n = 0;
    const char *p = name;
    while (*p) {
        while (*p == '/') p++;
        const char *start = p;
        while (*p && *p != '/') p++;
        size_t len = (size_t)(p - start);
        if (len == 0 || (len == 1 && start[0] == '.')) continue;
        if (len == 2 && start[0] == '.' && start[1] == '.') return CGF_EINVAL;
        if (n + len + 2 > cap) return CGF_EINVAL;
        if (n > 0) rel[n++] = '/';
        memcpy(rel + n, start, len);
        n += len;
    }
    if (n == 0) rel[n++] = '.';
    rel[n] = '\0';
    return CGF_OK;
}

static int join(char *out, size_t cap, const char *rel, const char *name) {
    int n = snprintf(out, cap, "%s/%s", rel, name);
    return (n < 0 || (size_t)n >= cap) ? CGF_EINVAL : CGF_OK;
}

static int join3(char *out, size_t cap, const char *rel, const char *size, const char *suffix) {
    int n = snprintf(out, cap, "%s/hugetlb.%s.%s", rel, size, suffix);
    return (n < 0 || (size_t)n >= cap) ? CGF_EINVAL : CGF_OK;
}

/* Opens (keep) or checks (no keep) rel/name under dirfd. Returns 1 present, 0 absent. */
static int probe_file(int dirfd, const char *path, int keep, int *fd_out) {
    *fd_out = -1;
    if (keep) {
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return 0;
        *fd_out = fd;
        return 1;
    }
    return faccessat(dirfd, path, R_OK, 0) == 0;
}

static int dir_has(const cgf_cgroup *cg, cgf_controller c) { return (cg->dirs_present >> c) & 1u; }

static int64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Resolves (and with keep_fds opens) the files of one hierarchy whose directory exists. */
static void open_controller(cgf_cgroup *cg, cgf_controller c) {
    const cgf_hierarchy *h = cg->hierarchy;
    const file_def *table = sample_table(h);
    char path[CGF_PATH_MAX + 64];
    for (int f = 0; f < CGF_F_COUNT; f++) {
        const file_def *d = &table[f];
        if (d->ctrl != c || d->name == NULL || !(h->sample_mask & (1u << f)) || cg->file_name[f] != NULL) continue;
        const char *candidates[2] = {d->name, d->fallback};
        for (int k = 0; k < 2 && candidates[k] != NULL; k++) {
            if (join(path, sizeof(path), cg->rel, candidates[k]) != CGF_OK) break;
            if (probe_file(h->root_fd[c], path, cg->keep_fds, &cg->fd[f])) {
                cg->file_name[f] = candidates[k];
                cg->fd_count += cg->fd[f] >= 0;
                break;
            }
        }
    }

    cgf_controller hctrl = h->mode == CGF_MODE_V2 ? CGF_CTRL_UNIFIED : CGF_CTRL_HUGETLB;
    const char *const *suffix = h->mode == CGF_MODE_V2 ? v2_hugetlb_suffix : v1_hugetlb_suffix;
    if (c == hctrl && (h->sample_mask & CGF_MASK_HUGETLB)) {
        for (uint32_t i = 0; i < h->hugepage_count; i++) {
            for (int j = 0; j < 3; j++) {
                if (join3(path, sizeof(path), cg->rel, h->hugepage_size[i], suffix[j]) != CGF_OK) continue;
                cg->hugetlb_present[i][j] =
                    (uint8_t)probe_file(h->root_fd[hctrl], path, cg->keep_fds, &cg->hugetlb_fd[i][j]);
                cg->fd_count += cg->hugetlb_fd[i][j] >= 0;
            }
        }
    }

    /* use_hierarchy cannot change once a cgroup has children; read it once. */
    if (c == CGF_CTRL_MEMORY && h->mode != CGF_MODE_V2) {
        char small[64];
        size_t len;
        uint64_t v;
        if (join(path, sizeof(path), cg->rel, "memory.use_hierarchy") == CGF_OK &&
            cgf_read_at(h->root_fd[CGF_CTRL_MEMORY], path, small, sizeof(small), &len) == CGF_OK &&
            cgf_parse_single_u64(small, len, 0, &v) == CGF_OK)
            cg->use_hierarchy = v != 0;
    }
}

/* Marks and opens the hierarchies that have the cgroup's directory now but did not before. */
static void adopt_new_dirs(cgf_cgroup *cg) {
    const cgf_hierarchy *h = cg->hierarchy;
    for (int c = 0; c < CGF_CTRL_COUNT; c++) {
        struct stat st;
        if (h->root_fd[c] < 0 || dir_has(cg, (cgf_controller)c)) continue;
        if (fstatat(h->root_fd[c], cg->rel, &st, 0) == 0 && S_ISDIR(st.st_mode)) {
            cg->dirs_present |= 1u << c;
            open_controller(cg, (cgf_controller)c);
        }
    }
}

int cgf_cgroup_open(cgf_cgroup *cg, const cgf_hierarchy *h, const char *name, int keep_fds) {
    memset(cg, 0, sizeof(*cg));
    cg->hierarchy = h;
    cg->keep_fds = keep_fds ? 1 : 0;
    cg->use_hierarchy = 1;
    cg->opened_ns = monotonic_ns();
    for (int i = 0; i < CGF_F_COUNT; i++) cg->fd[i] = -1;
    for (int i = 0; i < CGF_MAX_HUGEPAGE_SIZES; i++)
        for (int j = 0; j < 3; j++) cg->hugetlb_fd[i][j] = -1;
    char rel[CGF_PATH_MAX];
    int rc = normalize_name(name, rel, sizeof(rel));
    if (rc != CGF_OK) return rc;
    cg->rel = strdup(rel);
    if (cg->rel == NULL) return CGF_EIO;
    adopt_new_dirs(cg);
    /* The controller-less cgroup2 mount of a hybrid host only adds pressure: it does not make a cgroup. */
    uint32_t real_dirs = h->mode == CGF_MODE_HYBRID ? cg->dirs_present & ~(1u << CGF_CTRL_UNIFIED)
                                                     : cg->dirs_present;
    if (real_dirs == 0) return CGF_ENOENT;
    return CGF_OK;
}

void cgf_cgroup_close(cgf_cgroup *cg) {
    free(cg->rel);
    cg->rel = NULL;
    cg->fd_count = 0;
    for (int i = 0; i < CGF_F_COUNT; i++) {
        if (cg->fd[i] >= 0) close(cg->fd[i]);
        cg->fd[i] = -1;
    }
    for (int i = 0; i < CGF_MAX_HUGEPAGE_SIZES; i++) {
        for (int j = 0; j < 3; j++) {
            if (cg->hugetlb_fd[i][j] >= 0) close(cg->hugetlb_fd[i][j]);
            cg->hugetlb_fd[i][j] = -1;
        }
    }
}

int cgf_cgroup_fd_count(const cgf_cgroup *cg) { return cg->fd_count; }

int cgf_cgroup_file_path(const cgf_cgroup *cg, int f, char *out, size_t cap) {
    if (f < 0 || f >= CGF_F_COUNT || cg->file_name[f] == NULL) return -1;
    if (join(out, cap, cg->rel, cg->file_name[f]) != CGF_OK) return -1;
    return (int)sample_table(cg->hierarchy)[f].ctrl;
}

/* Reads a file of this cgroup: from the kept fd, or by path relative to the hierarchy. */
static int read_file(const cgf_cgroup *cg, int fd, cgf_controller ctrl, const char *name, char *buf, size_t cap,
                     size_t *len) {
    if (fd >= 0) return cgf_read_fd(fd, buf, cap, len);
    char path[CGF_PATH_MAX + 64];
    if (join(path, sizeof(path), cg->rel, name) != CGF_OK) return CGF_EINVAL;
    return cgf_read_at(cg->hierarchy->root_fd[ctrl], path, buf, cap, len);
}

/* ---- parsers for the per-device formats -------------------------------------- */

static int parse_dev(const char **pp, const char *end, uint32_t *major, uint32_t *minor) {
    uint64_t ma, mi;
    int rc = cgf_parse_u64(pp, end, &ma);
    if (rc != CGF_OK) return rc;
    if (*pp >= end || **pp != ':') return CGF_EPARSE;
    (*pp)++;
    rc = cgf_parse_u64(pp, end, &mi);
    if (rc != CGF_OK) return rc;
    if (ma > UINT32_MAX || mi > UINT32_MAX) return CGF_ERANGE;
    *major = (uint32_t)ma;
    *minor = (uint32_t)mi;
    return CGF_OK;
}

/* Finds or appends the row for a device; NULL when the table is full. */
static cgf_io_device *io_row(cgf_io_table *t, uint32_t major, uint32_t minor) {
    for (uint32_t i = 0; i < t->count; i++)
        if (t->devices[i].major == major && t->devices[i].minor == minor) return &t->devices[i];
    if (t->count >= CGF_MAX_DEVICES) return NULL;
    cgf_io_device *d = &t->devices[t->count++];
    memset(d, 0, sizeof(*d));
    d->major = major;
    d->minor = minor;
    return d;
}

static int word_eq(const char *w, size_t n, const char *lit) { return strlen(lit) == n && memcmp(w, lit, n) == 0; }

int cgf_parse_blkio(const char *buf, size_t len, cgf_io_table *out) {
    static const char *const ops[CGF_BLKIO_OP_COUNT] = {"Read", "Write", "Sync", "Async", "Discard", "Total"};
    const char *p = buf, *end = buf + len;
    out->count = 0;
    out->dropped = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        if (nl - p >= 6 && memcmp(p, "Total ", 6) == 0) { /* grand total line */
            p = nl + 1;
            continue;
        }
        uint32_t major, minor;
        int rc = parse_dev(&p, nl, &major, &minor);
        if (rc != CGF_OK) return rc;
        if (p >= nl || *p != ' ') return CGF_EPARSE;
        p++;
        const char *op = p;
        while (p < nl && *p != ' ') p++;
        size_t oplen = (size_t)(p - op);
        if (p >= nl) return CGF_EPARSE;
        p++;
        uint64_t v;
        rc = cgf_parse_u64(&p, nl, &v);
        if (rc != CGF_OK) return rc;
        if (p != nl) return CGF_EPARSE;
        int idx = -1;
        for (int i = 0; i < CGF_BLKIO_OP_COUNT; i++)
            if (word_eq(op, oplen, ops[i])) idx = i;
        if (idx < 0) return CGF_EPARSE;
        cgf_io_device *d = io_row(out, major, minor);
        if (d == NULL) {
            out->dropped++;
        } else {
            d->value[idx] = v;
            d->present |= 1u << idx;
        }
        p = nl + 1;
    }
    return out->dropped ? CGF_EOVERFLOW : CGF_OK;
}

int cgf_parse_io_stat(const char *buf, size_t len, cgf_io_table *out) {
    static const char *const keys[CGF_IOSTAT_KEY_COUNT] = {"rbytes", "wbytes", "rios", "wios", "dbytes", "dios",
                                                           "cost.usage", "cost.wait", "cost.indebt",
                                                           "cost.indelay"};
    const char *p = buf, *end = buf + len;
    out->count = 0;
    out->dropped = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        uint32_t major, minor;
        int rc = parse_dev(&p, nl, &major, &minor);
        if (rc != CGF_OK) return rc;
        cgf_io_device *d = io_row(out, major, minor);
        if (d == NULL) out->dropped++;
        while (p < nl) {
            if (*p != ' ') return CGF_EPARSE;
            while (p < nl && *p == ' ') p++;
            if (p >= nl) break;
            const char *k = p;
            while (p < nl && *p != '=') p++;
            if (p >= nl) return CGF_EPARSE;
            size_t klen = (size_t)(p - k);
            p++;
            uint64_t v;
            rc = cgf_parse_u64(&p, nl, &v);
            if (rc != CGF_OK) return rc;
            if (d == NULL) continue;
            for (int i = 0; i < CGF_IOSTAT_KEY_COUNT; i++) {
                if (word_eq(k, klen, keys[i])) {
                    d->value[i] = v;
                    d->present |= 1u << i;
                }
            }
        }
        p = nl + 1;
    }
    return out->dropped ? CGF_EOVERFLOW : CGF_OK;
}

uint64_t cgf_cpu_weight_to_shares(uint64_t weight) {
    if (weight == 0) return 0;
    if (weight > 10000) weight = 10000;
    return 2 + ((weight - 1) * 262142) / 9999;
}

/* ---- sample ----------------------------------------------------------------- */

static int mul_checked(uint64_t a, uint64_t b, uint64_t *out) {
    if (a != 0 && b > UINT64_MAX / a) return CGF_ERANGE;
    *out = a * b;
    return CGF_OK;
}

/* Parses a small flat keyed file, storing the values of the listed keys (scaled) into the given fields. */
typedef struct {
    const char *key;
    uint64_t *field;
    uint64_t scale;
} key_target;

static int parse_keys_into(const char *buf, size_t len, const key_target *targets, int ntargets) {
    const char *p = buf, *end = buf + len, *key;
    size_t klen;
    uint64_t v;
    int rc;
    while ((rc = cgf_flat_keyed_next(&p, end, &key, &klen, &v)) == CGF_OK) {
        for (int i = 0; i < ntargets; i++) {
            if (word_eq(key, klen, targets[i].key)) {
                rc = mul_checked(v, targets[i].scale, targets[i].field);
                if (rc != CGF_OK) return rc;
            }
        }
    }
    return rc == CGF_ABSENT ? CGF_OK : rc;
}

static int parse_sample_file(const cgf_cgroup *cg, int f, const char *buf, size_t len, cgf_sample *s) {
    int v2 = cg->hierarchy->mode == CGF_MODE_V2;
    uint64_t tick = cg->hierarchy->ns_per_tick;
    switch (f) {
    case CGF_F_CPU_USAGE:
        return cgf_parse_single_u64(buf, len, 0, &s->cpu.usage_total_ns);
    case CGF_F_CPU_USAGE_PERCPU:
        return cgf_parse_u64_list(buf, len, s->cpu.per_cpu_ns, CGF_MAX_CPUS, &s->cpu.per_cpu_count);
    case CGF_F_CPU_ACCT_STAT: {
        const key_target t[] = {{"user", &s->cpu.usage_user_ns, tick}, {"system", &s->cpu.usage_system_ns, tick}};
        return parse_keys_into(buf, len, t, 2);
    }
    case CGF_F_CPU_STAT:
        if (v2) {
            const key_target t[] = {
                {"usage_usec", &s->cpu.usage_total_ns, 1000}, {"user_usec", &s->cpu.usage_user_ns, 1000},
                {"system_usec", &s->cpu.usage_system_ns, 1000}, {"nr_periods", &s->cpu.nr_periods, 1},
                {"nr_throttled", &s->cpu.nr_throttled, 1}, {"throttled_usec", &s->cpu.throttled_time_ns, 1000},
                {"nr_bursts", &s->cpu.nr_bursts, 1}, {"burst_usec", &s->cpu.burst_time_ns, 1000}};
            return parse_keys_into(buf, len, t, 8);
        } else {
            const key_target t[] = {{"nr_periods", &s->cpu.nr_periods, 1},
                                    {"nr_throttled", &s->cpu.nr_throttled, 1},
                                    {"throttled_time", &s->cpu.throttled_time_ns, 1}};
            return parse_keys_into(buf, len, t, 3);
        }
    case CGF_F_MEMORY_USAGE:
        return cgf_parse_single_u64(buf, len, 0, &s->memory.usage);
    case CGF_F_MEMORY_MAX_USAGE:
        return cgf_parse_single_u64(buf, len, 0, &s->memory.max_usage);
    case CGF_F_MEMORY_FAILCNT:
        return cgf_parse_single_u64(buf, len, 0, &s->memory.failcnt);
    case CGF_F_MEMORY_KMEM_USAGE:
        return cgf_parse_single_u64(buf, len, 0, &s->memory.kernel_usage);
    case CGF_F_MEMORY_SWAP:
        return cgf_parse_single_u64(buf, len, 0, v2 ? &s->memory.swap : &s->memory.memsw_usage);
    case CGF_F_MEMORY_STAT:
        return cgf_parse_flat_keyed(buf, len, &s->memory.stat);
    case CGF_F_MEMORY_EVENTS: {
        const key_target t[] = {{"low", &s->memory.events_low, 1}, {"high", &s->memory.events_high, 1},
                                {"max", &s->memory.events_max, 1}, {"oom", &s->memory.events_oom, 1},
                                {"oom_kill", &s->memory.events_oom_kill, 1}};
        return parse_keys_into(buf, len, t, 5);
    }
    case CGF_F_IO_SERVICE_BYTES:
        return cgf_parse_blkio(buf, len, &s->io.service_bytes);
    case CGF_F_IO_SERVICED:
        return cgf_parse_blkio(buf, len, &s->io.serviced);
    case CGF_F_IO_STAT:
        return cgf_parse_io_stat(buf, len, &s->io.stat);
    case CGF_F_PIDS_CURRENT:
        return cgf_parse_single_u64(buf, len, 0, &s->pids_current);
    case CGF_F_PIDS_MAX: {
        int rc = cgf_parse_single_u64(buf, len, 1, &s->pids_max);
        if (rc == CGF_OK && s->pids_max == CGF_UNLIMITED) s->pids_max = 0;
        return rc;
    }
    case CGF_F_CPU_PRESSURE:
        return cgf_parse_pressure(buf, len, &s->cpu.psi);
    case CGF_F_MEMORY_PRESSURE:
        return cgf_parse_pressure(buf, len, &s->memory.psi);
    case CGF_F_IO_PRESSURE:
        return cgf_parse_pressure(buf, len, &s->io.psi);
    default:
        return CGF_EINVAL;
    }
}

static uint64_t stat_or_zero(const cgf_kv_list *stat, const char *key) {
    uint64_t v = 0;
    cgf_kv_get(stat, key, &v);
    return v;
}

/* cAdvisor's derived memory values (container/libcontainer/handler.go setMemoryStats). */
static void derive_memory(const cgf_cgroup *cg, cgf_sample *s) {
    cgf_memory_sample *m = &s->memory;
    const cgf_kv_list *st = &m->stat;
    int stat_ok = s->status[CGF_F_MEMORY_STAT] == CGF_OK;
    const char *inactive_key;
    if (cg->hierarchy->mode == CGF_MODE_V2) {
        /* The root cgroup has no memory.current: cAdvisor uses anon + file from its memory.stat. */
        if (s->status[CGF_F_MEMORY_USAGE] == CGF_ABSENT && stat_ok)
            m->usage = stat_or_zero(st, "anon") + stat_or_zero(st, "file");
        m->cache = stat_or_zero(st, "file");
        m->rss = stat_or_zero(st, "anon");
        m->mapped_file = stat_or_zero(st, "file_mapped");
        /* Deliberate difference: cAdvisor leaves kernel usage 0 on v2; the kernel (5.18+) has the
         * `kernel` key (slab, stacks, page tables, sockets...), already counted in memory.current. */
        m->kernel_usage = stat_or_zero(st, "kernel");
        m->total_active_file = stat_or_zero(st, "active_file");
        m->total_inactive_file = stat_or_zero(st, "inactive_file");
        m->file_dirty = stat_or_zero(st, "file_dirty");
        m->file_writeback = stat_or_zero(st, "file_writeback");
        m->pgscan = stat_or_zero(st, "pgscan");
        m->pgsteal = stat_or_zero(st, "pgsteal");
        m->workingset_refault_file = stat_or_zero(st, "workingset_refault_file");
        m->workingset_refault_anon = stat_or_zero(st, "workingset_refault_anon");
        m->pgfault = m->hierarchical_pgfault = stat_or_zero(st, "pgfault");
        m->pgmajfault = m->hierarchical_pgmajfault = stat_or_zero(st, "pgmajfault");
        inactive_key = "inactive_file";
    } else {
        int h = cg->use_hierarchy;
        m->cache = stat_or_zero(st, h ? "total_cache" : "cache");
        m->rss = stat_or_zero(st, h ? "total_rss" : "rss");
        m->swap = stat_or_zero(st, h ? "total_swap" : "swap");
        m->mapped_file = stat_or_zero(st, h ? "total_mapped_file" : "mapped_file");
        m->total_active_file = stat_or_zero(st, "total_active_file");
        m->total_inactive_file = stat_or_zero(st, "total_inactive_file");
        m->pgfault = stat_or_zero(st, "pgfault");
        m->pgmajfault = stat_or_zero(st, "pgmajfault");
        m->hierarchical_pgfault = stat_or_zero(st, "total_pgfault");
        m->hierarchical_pgmajfault = stat_or_zero(st, "total_pgmajfault");
        inactive_key = "total_inactive_file"; /* even when use_hierarchy is 0, as cAdvisor */
    }
    uint64_t inactive;
    m->working_set = m->usage;
    if (stat_ok && cgf_kv_get(st, inactive_key, &inactive))
        m->working_set = m->usage < inactive ? 0 : m->usage - inactive;
}

static int worse(int a, int b) {
    if (a == CGF_EGONE || b == CGF_EGONE) return CGF_EGONE;
    return a < 0 ? a : b;
}

static int read_hugetlb(cgf_cgroup *cg, cgf_sample *s, char *buf, size_t cap) {
    const cgf_hierarchy *h = cg->hierarchy;
    int v2 = h->mode == CGF_MODE_V2;
    cgf_controller ctrl = v2 ? CGF_CTRL_UNIFIED : CGF_CTRL_HUGETLB;
    const char *const *suffix = v2 ? v2_hugetlb_suffix : v1_hugetlb_suffix;
    int result = CGF_OK;
    s->hugetlb_count = 0;
    for (uint32_t i = 0; i < h->hugepage_count; i++) {
        if (!cg->hugetlb_present[i][0]) continue;
        cgf_hugetlb_sample *e = &s->hugetlb[s->hugetlb_count++];
        memset(e, 0, sizeof(*e));
        memcpy(e->size, h->hugepage_size[i], CGF_HUGEPAGE_NAME_MAX);
        for (int j = 0; j < 3; j++) {
            if (!cg->hugetlb_present[i][j]) continue;
            char name[64];
            snprintf(name, sizeof(name), "hugetlb.%s.%s", e->size, suffix[j]);
            size_t len;
            int rc = read_file(cg, cg->hugetlb_fd[i][j], ctrl, name, buf, cap, &len);
            if (rc == CGF_OK) {
                if (j == 0) rc = cgf_parse_single_u64(buf, len, 0, &e->usage);
                else if (j == 1 && v2) rc = cgf_parse_single_u64(buf, len, 1, &e->limit);
                else if (j == 1) rc = cgf_parse_single_u64(buf, len, 0, &e->max_usage);
                else if (v2) {
                    const key_target t[] = {{"max", &e->failcnt, 1}};
                    rc = parse_keys_into(buf, len, t, 1);
                } else rc = cgf_parse_single_u64(buf, len, 0, &e->failcnt);
            }
            if (rc != CGF_OK && e->status == CGF_OK) e->status = (int8_t)rc;
            result = worse(result, rc);
        }
    }
    return result;
}

int cgf_cgroup_read_sample(cgf_cgroup *cg, cgf_sample *s, char *buf, size_t cap) {
    if (cg == NULL || s == NULL || buf == NULL || cap == 0) return CGF_EINVAL;
    if (monotonic_ns() - cg->opened_ns < CGF_LATE_DIR_WINDOW_NS) adopt_new_dirs(cg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* Reset the scalar parts; the large tables are reset by their parsers (count = 0). */
    memset(&s->cpu, 0, offsetof(cgf_cpu_sample, per_cpu_ns));
    memset(&s->cpu.nr_periods, 0, sizeof(cgf_cpu_sample) - offsetof(cgf_cpu_sample, nr_periods));
    memset(&s->memory, 0, offsetof(cgf_memory_sample, stat));
    s->memory.stat.count = s->memory.stat.dropped = 0;
    memset(&s->memory.psi, 0, sizeof(s->memory.psi));
    s->io.service_bytes.count = s->io.serviced.count = s->io.stat.count = 0;
    s->io.service_bytes.dropped = s->io.serviced.dropped = s->io.stat.dropped = 0;
    memset(&s->io.psi, 0, sizeof(s->io.psi));
    s->pids_current = s->pids_max = 0;
    s->hugetlb_count = 0;
    s->timestamp_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;

    const file_def *table = sample_table(cg->hierarchy);
    int result = CGF_OK;
    for (int f = 0; f < CGF_F_COUNT; f++) {
        if (cg->file_name[f] == NULL) {
            s->status[f] = CGF_ABSENT;
            continue;
        }
        size_t len;
        int rc = read_file(cg, cg->fd[f], table[f].ctrl, cg->file_name[f], buf, cap, &len);
        if (rc == CGF_EGONE) {
            s->status[f] = CGF_EGONE;
            return CGF_EGONE;
        }
        if (rc == CGF_OK) rc = parse_sample_file(cg, f, buf, len, s);
        s->status[f] = (int8_t)rc;
        result = worse(result, rc);
    }
    result = worse(result, read_hugetlb(cg, s, buf, cap));
    derive_memory(cg, s);
    if (result == CGF_EGONE) return CGF_EGONE;
    return result == CGF_OK ? CGF_OK : CGF_EPARTIAL;
}

/* ---- spec ------------------------------------------------------------------- */

/* cpu.max: "max 100000" or "50000 100000". */
static int parse_cpu_max(const char *buf, size_t len, uint64_t *quota, uint64_t *period) {
    const char *p = buf, *end = buf + len;
    while (end > p && (end[-1] == '\n' || end[-1] == ' ')) end--;
    if (end - p >= 3 && memcmp(p, "max", 3) == 0) {
        *quota = 0;
        p += 3;
    } else {
        int rc = cgf_parse_u64(&p, end, quota);
        if (rc != CGF_OK) return rc;
    }
    if (p >= end || *p != ' ') return CGF_EPARSE;
    p++;
    int rc = cgf_parse_u64(&p, end, period);
    if (rc != CGF_OK) return rc;
    return p == end ? CGF_OK : CGF_EPARSE;
}

static int parse_spec_file(int f, const char *buf, size_t len, cgf_spec *s) {
    switch (f) {
    case CGF_S_CPU_SHARES: return cgf_parse_single_u64(buf, len, 0, &s->cpu_shares);
    case CGF_S_CPU_QUOTA: {
        int64_t q;
        int rc = cgf_parse_single_i64(buf, len, &q);
        if (rc == CGF_OK) s->cpu_quota_us = q > 0 ? (uint64_t)q : 0;
        return rc;
    }
    case CGF_S_CPU_PERIOD: return cgf_parse_single_u64(buf, len, 0, &s->cpu_period_us);
    case CGF_S_CPU_WEIGHT: {
        int rc = cgf_parse_single_u64(buf, len, 0, &s->cpu_weight);
        if (rc == CGF_OK) s->cpu_shares = cgf_cpu_weight_to_shares(s->cpu_weight);
        return rc;
    }
    case CGF_S_CPU_MAX: return parse_cpu_max(buf, len, &s->cpu_quota_us, &s->cpu_period_us);
    case CGF_S_CPUSET_CPUS: return cgf_parse_line_text(buf, len, s->cpuset_cpus, sizeof(s->cpuset_cpus));
    case CGF_S_CPUSET_MEMS: return cgf_parse_line_text(buf, len, s->cpuset_mems, sizeof(s->cpuset_mems));
    case CGF_S_MEMORY_LIMIT: return cgf_parse_single_u64(buf, len, 1, &s->memory_limit);
    case CGF_S_MEMORY_RESERVATION: return cgf_parse_single_u64(buf, len, 1, &s->memory_reservation);
    case CGF_S_MEMORY_SWAP_LIMIT: return cgf_parse_single_u64(buf, len, 1, &s->memory_swap_limit);
    case CGF_S_MEMORY_LOW: return cgf_parse_single_u64(buf, len, 1, &s->memory_low);
    case CGF_S_MEMORY_HIGH: return cgf_parse_single_u64(buf, len, 1, &s->memory_high);
    case CGF_S_MEMORY_USE_HIERARCHY: {
        uint64_t v;
        int rc = cgf_parse_single_u64(buf, len, 0, &v);
        if (rc == CGF_OK) s->use_hierarchy = v != 0;
        return rc;
    }
    case CGF_S_PIDS_MAX: {
        int rc = cgf_parse_single_u64(buf, len, 1, &s->pids_max);
        if (rc == CGF_OK && s->pids_max == CGF_UNLIMITED) s->pids_max = 0;
        return rc;
    }
    default: return CGF_EINVAL;
    }
}

int cgf_cgroup_read_spec(cgf_cgroup *cg, cgf_spec *s, char *buf, size_t cap) {
    if (cg == NULL || s == NULL || buf == NULL || cap == 0) return CGF_EINVAL;
    const cgf_hierarchy *h = cg->hierarchy;
    int v2 = h->mode == CGF_MODE_V2;
    const file_def *table = v2 ? v2_spec_files : v1_spec_files;
    memset(s, 0, sizeof(*s));
    s->use_hierarchy = v2 ? 1 : cg->use_hierarchy;
    int result = CGF_OK;
    for (int f = 0; f < CGF_S_COUNT; f++) {
        const file_def *d = &table[f];
        s->status[f] = CGF_ABSENT;
        if (d->name == NULL || !dir_has(cg, d->ctrl)) continue;
        size_t len;
        int rc = read_file(cg, -1, d->ctrl, d->name, buf, cap, &len);
        if (rc == CGF_EGONE) {
            /* A missing file in a directory that still exists is just absent. */
            struct stat st;
            if (fstatat(h->root_fd[d->ctrl], cg->rel, &st, 0) == 0) continue;
            s->status[f] = CGF_EGONE;
            return CGF_EGONE;
        }
        if (rc == CGF_OK) rc = parse_spec_file(f, buf, len, s);
        s->status[f] = (int8_t)rc;
        result = worse(result, rc);
    }
    if (v2) {
        s->has_cpu = 1;
        s->has_memory = s->status[CGF_S_MEMORY_LIMIT] == CGF_OK || cg->file_name[CGF_F_MEMORY_STAT] != NULL;
        s->has_cpuset = s->status[CGF_S_CPUSET_CPUS] == CGF_OK;
        s->has_pids = cg->file_name[CGF_F_PIDS_CURRENT] != NULL;
        s->has_blkio = cg->file_name[CGF_F_IO_STAT] != NULL;
    } else {
        s->has_cpu = dir_has(cg, CGF_CTRL_CPU) || dir_has(cg, CGF_CTRL_CPUACCT);
        s->has_memory = dir_has(cg, CGF_CTRL_MEMORY);
        s->has_cpuset = dir_has(cg, CGF_CTRL_CPUSET);
        s->has_pids = dir_has(cg, CGF_CTRL_PIDS);
        s->has_blkio = dir_has(cg, CGF_CTRL_BLKIO);
    }
    for (uint32_t i = 0; i < h->hugepage_count; i++) s->has_hugetlb |= cg->hugetlb_present[i][0];
    return result == CGF_OK ? CGF_OK : CGF_EPARTIAL;
}
