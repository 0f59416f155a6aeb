/*
 * CCgroupFast — one cgroup's sample and spec, for cgroup v1, v2 and hybrid.
 *
 * A cgf_hierarchy holds one directory fd per mounted controller (opened once).
 * A cgf_cgroup is one cgroup in it: opening it resolves which files exist and,
 * with keep_fds, opens each sample file once; reading a sample is then one
 * pread per file into the caller's buffer and an in-place parse into a fixed
 * struct. The only heap allocation is the cgroup's path, made by open and
 * freed by close; reading allocates nothing.
 */
#ifndef CGF_CGROUP_H
#define CGF_CGROUP_H

#include "cgf_common.h"
#include "cgf_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the host mounts cgroups. */
typedef enum {
    CGF_MODE_V1 = 1,      /* v1 controllers only */
    CGF_MODE_V2 = 2,      /* unified hierarchy only */
    CGF_MODE_HYBRID = 3   /* v1 controllers plus a (controller-less) cgroup2 mount, read for pressure */
} cgf_mode;

/** The hierarchies a cgroup can live in; CGF_CTRL_UNIFIED is the cgroup2 mount. */
typedef enum {
    CGF_CTRL_CPU = 0,
    CGF_CTRL_CPUACCT,
    CGF_CTRL_CPUSET,
    CGF_CTRL_MEMORY,
    CGF_CTRL_BLKIO,
    CGF_CTRL_PIDS,
    CGF_CTRL_HUGETLB,
    CGF_CTRL_UNIFIED,
    CGF_CTRL_COUNT
} cgf_controller;

/** The files a sample reads; which kernel file backs each depends on the mode. */
typedef enum {
    CGF_F_CPU_USAGE = 0,       /* v1 cpuacct.usage */
    CGF_F_CPU_USAGE_PERCPU,    /* v1 cpuacct.usage_percpu */
    CGF_F_CPU_ACCT_STAT,       /* v1 cpuacct.stat */
    CGF_F_CPU_STAT,            /* v1 cpu.stat, v2 cpu.stat */
    CGF_F_MEMORY_USAGE,        /* v1 memory.usage_in_bytes, v2 memory.current */
    CGF_F_MEMORY_MAX_USAGE,    /* v1 memory.max_usage_in_bytes, v2 memory.peak */
    CGF_F_MEMORY_FAILCNT,      /* v1 memory.failcnt */
    CGF_F_MEMORY_KMEM_USAGE,   /* v1 memory.kmem.usage_in_bytes */
    CGF_F_MEMORY_SWAP,         /* v1 memory.memsw.usage_in_bytes, v2 memory.swap.current */
    CGF_F_MEMORY_STAT,         /* v1 and v2 memory.stat */
    CGF_F_MEMORY_EVENTS,       /* v2 memory.events */
    CGF_F_IO_SERVICE_BYTES,    /* v1 blkio.throttle.io_service_bytes_recursive (or without _recursive) */
    CGF_F_IO_SERVICED,         /* v1 blkio.throttle.io_serviced_recursive (or without _recursive) */
    CGF_F_IO_STAT,             /* v2 io.stat */
    CGF_F_PIDS_CURRENT,        /* pids.current */
    CGF_F_PIDS_MAX,            /* pids.max */
    CGF_F_CPU_PRESSURE,        /* cgroup2 cpu.pressure (v2, and the unified mount in hybrid) */
    CGF_F_MEMORY_PRESSURE,     /* cgroup2 memory.pressure */
    CGF_F_IO_PRESSURE,         /* cgroup2 io.pressure */
    CGF_F_COUNT
} cgf_sample_file;

/** The files of the spec (limits), read on demand and not kept open. */
typedef enum {
    CGF_S_CPU_SHARES = 0,      /* v1 cpu.shares */
    CGF_S_CPU_QUOTA,           /* v1 cpu.cfs_quota_us */
    CGF_S_CPU_PERIOD,          /* v1 cpu.cfs_period_us */
    CGF_S_CPU_WEIGHT,          /* v2 cpu.weight */
    CGF_S_CPU_MAX,             /* v2 cpu.max */
    CGF_S_CPUSET_CPUS,         /* v1 cpuset.cpus, v2 cpuset.cpus.effective */
    CGF_S_CPUSET_MEMS,         /* v1 cpuset.mems, v2 cpuset.mems.effective */
    CGF_S_MEMORY_LIMIT,        /* v1 memory.limit_in_bytes, v2 memory.max */
    CGF_S_MEMORY_RESERVATION,  /* v1 memory.soft_limit_in_bytes, v2 memory.min */
    CGF_S_MEMORY_SWAP_LIMIT,   /* v1 memory.memsw.limit_in_bytes, v2 memory.swap.max */
    CGF_S_MEMORY_LOW,          /* v2 memory.low */
    CGF_S_MEMORY_HIGH,         /* v2 memory.high */
    CGF_S_MEMORY_USE_HIERARCHY,/* v1 memory.use_hierarchy */
    CGF_S_PIDS_MAX,            /* pids.max */
    CGF_S_COUNT
} cgf_spec_file;

/** Operations of a v1 blkio line, in cAdvisor's names. */
enum { CGF_BLKIO_READ = 0, CGF_BLKIO_WRITE, CGF_BLKIO_SYNC, CGF_BLKIO_ASYNC, CGF_BLKIO_DISCARD,
       CGF_BLKIO_TOTAL, CGF_BLKIO_OP_COUNT };
/** Keys of a v2 io.stat line. */
enum { CGF_IOSTAT_RBYTES = 0, CGF_IOSTAT_WBYTES, CGF_IOSTAT_RIOS, CGF_IOSTAT_WIOS, CGF_IOSTAT_DBYTES,
       CGF_IOSTAT_DIOS, CGF_IOSTAT_COST_USAGE, CGF_IOSTAT_COST_WAIT, CGF_IOSTAT_COST_INDEBT,
       CGF_IOSTAT_COST_INDELAY, CGF_IOSTAT_KEY_COUNT };
#define CGF_IO_MAX_FIELDS 10

/** One device's counters; bit i of `present` says value[i] was in the file. */
typedef struct {
    uint32_t major;
    uint32_t minor;
    uint32_t present;
    uint64_t value[CGF_IO_MAX_FIELDS];
} cgf_io_device;

/** A per-device table (v1 blkio file or v2 io.stat). */
typedef struct {
    uint32_t count;
    uint32_t dropped;
    cgf_io_device devices[CGF_MAX_DEVICES];
} cgf_io_table;

/** CPU: usage in ns, CFS throttling, pressure. */
typedef struct {
    uint64_t usage_total_ns;
    uint64_t usage_user_ns;
    uint64_t usage_system_ns;
    uint32_t per_cpu_count;    /* 0 on v2: the kernel has no per-cpu cgroup usage there */
    uint64_t per_cpu_ns[CGF_MAX_CPUS];
    uint64_t nr_periods;
    uint64_t nr_throttled;
    uint64_t throttled_time_ns;
    uint64_t nr_bursts;        /* v2 only (cAdvisor does not read these on v1) */
    uint64_t burst_time_ns;
    cgf_psi psi;
} cgf_cpu_sample;

/** Memory, with cAdvisor's derived values already computed. */
typedef struct {
    uint64_t usage;
    uint64_t max_usage;
    uint64_t failcnt;
    uint64_t kernel_usage;
    uint64_t memsw_usage;      /* v1 memory.memsw.usage_in_bytes (memory + swap) */
    uint64_t cache;
    uint64_t rss;
    uint64_t swap;
    uint64_t mapped_file;
    uint64_t working_set;
    uint64_t total_active_file;
    uint64_t total_inactive_file;
    uint64_t file_dirty;
    uint64_t file_writeback;
    uint64_t pgscan;
    uint64_t pgsteal;
    uint64_t workingset_refault_file;
    uint64_t workingset_refault_anon;
    uint64_t pgfault;                 /* container_data */
    uint64_t pgmajfault;
    uint64_t hierarchical_pgfault;    /* hierarchical_data */
    uint64_t hierarchical_pgmajfault;
    uint64_t events_low;              /* v2 memory.events */
    uint64_t events_high;
    uint64_t events_max;
    uint64_t events_oom;
    uint64_t events_oom_kill;
    cgf_kv_list stat;                 /* every key of memory.stat */
    cgf_psi psi;
} cgf_memory_sample;

/** Block I/O: v1 blkio tables or v2 io.stat, and pressure. */
typedef struct {
    cgf_io_table service_bytes;   /* v1, ops CGF_BLKIO_* */
    cgf_io_table serviced;        /* v1, ops CGF_BLKIO_* */
    cgf_io_table stat;            /* v2, keys CGF_IOSTAT_* */
    cgf_psi psi;
} cgf_io_sample;

/** One hugetlb page size. */
typedef struct {
    char size[CGF_HUGEPAGE_NAME_MAX];  /* the kernel's name: "2MB", "1GB" */
    int8_t status;                     /* worst status of this size's files */
    uint64_t usage;
    uint64_t max_usage;                /* v1 only */
    uint64_t failcnt;                  /* v1 .failcnt, v2 .events "max" */
    uint64_t limit;                    /* v2 .max */
} cgf_hugetlb_sample;

/** Everything one housekeeping pass reads for one cgroup. */
typedef struct {
    int64_t timestamp_ns;              /* CLOCK_REALTIME when the read started */
    cgf_cpu_sample cpu;
    cgf_memory_sample memory;
    cgf_io_sample io;
    uint64_t pids_current;
    uint64_t pids_max;                 /* 0 when "max" */
    uint32_t hugetlb_count;
    cgf_hugetlb_sample hugetlb[CGF_MAX_HUGEPAGE_SIZES];
    int8_t status[CGF_F_COUNT];        /* per file: CGF_OK, CGF_ABSENT or an error */
} cgf_sample;

/** The container's limits (cAdvisor's ContainerSpec inputs). */
typedef struct {
    uint8_t has_cpu;
    uint8_t has_memory;
    uint8_t has_cpuset;
    uint8_t has_pids;
    uint8_t has_blkio;
    uint8_t has_hugetlb;
    uint8_t use_hierarchy;             /* v1 memory.use_hierarchy */
    uint64_t cpu_shares;               /* v1 cpu.shares, or v2 cpu.weight converted */
    uint64_t cpu_weight;               /* v2 raw weight */
    uint64_t cpu_quota_us;             /* 0 when unlimited */
    uint64_t cpu_period_us;
    char cpuset_cpus[CGF_CPUSET_MAX];
    char cpuset_mems[CGF_CPUSET_MAX];
    uint64_t memory_limit;             /* CGF_UNLIMITED for "max"; v1 keeps the kernel's huge value */
    uint64_t memory_reservation;
    uint64_t memory_swap_limit;
    uint64_t memory_low;
    uint64_t memory_high;
    uint64_t pids_max;                 /* 0 when "max" */
    int8_t status[CGF_S_COUNT];
} cgf_spec;

/** One directory fd per mounted hierarchy. Owned by the caller; close with cgf_hierarchy_close. */
typedef struct {
    cgf_mode mode;
    int root_fd[CGF_CTRL_COUNT];       /* -1 when not mounted */
    uint64_t ns_per_tick;              /* 1e9 / sysconf(_SC_CLK_TCK) */
    uint32_t hugepage_count;
    char hugepage_size[CGF_MAX_HUGEPAGE_SIZES][CGF_HUGEPAGE_NAME_MAX];
    uint32_t sample_mask;              /* bit f: sample file f is read; CGF_MASK_HUGETLB: hugetlb files */
} cgf_hierarchy;

/** The bit of sample_mask that enables the hugetlb files. */
#define CGF_MASK_HUGETLB (1u << 31)
/** Every sample file and hugetlb (the default after cgf_hierarchy_open). */
#define CGF_MASK_ALL 0xFFFFFFFFu

/** One cgroup, opened in every hierarchy that has it. */
typedef struct {
    const cgf_hierarchy *hierarchy;
    char *rel;                         /* "." for the root, else "docker/abc"; allocated by open */
    uint32_t dirs_present;             /* bit per cgf_controller */
    uint8_t keep_fds;
    uint8_t use_hierarchy;
    int fd[CGF_F_COUNT];               /* kept open when keep_fds, else -1 */
    const char *file_name[CGF_F_COUNT];/* NULL: the file does not exist for this cgroup */
    int hugetlb_fd[CGF_MAX_HUGEPAGE_SIZES][3];
    uint8_t hugetlb_present[CGF_MAX_HUGEPAGE_SIZES][3];
    int fd_count;                      /* descriptors kept open now */
    int64_t opened_ns;                 /* CLOCK_MONOTONIC at open */
} cgf_cgroup;

/**
 * How long after open a read still looks for hierarchies whose directory did not exist yet:
 * runtimes create a cgroup's directory in one hierarchy after another, and discovery may open the
 * cgroup as soon as the first one appears.
 */
#define CGF_LATE_DIR_WINDOW_NS (10LL * 1000 * 1000 * 1000)

/**
 * Opens the hierarchies. mount_paths[i] is the absolute mount point of
 * controller i or NULL. hugepage_kb lists the host's page sizes in KiB
 * (from /sys/kernel/mm/hugepages), count entries.
 */
int cgf_hierarchy_open(cgf_hierarchy *h, cgf_mode mode, const char *const mount_paths[CGF_CTRL_COUNT],
                       const uint64_t *hugepage_kb, uint32_t hugepage_count);
void cgf_hierarchy_close(cgf_hierarchy *h);

/** Chooses which files cgroups opened from now on read (metric kinds that are off cost nothing). */
void cgf_hierarchy_set_sample_mask(cgf_hierarchy *h, uint32_t mask);

/** The kernel's hugetlb file name for a page size ("2MB" for 2048 KiB). */
int cgf_hugepage_name(uint64_t kb, char *out, size_t cap);

/**
 * Opens the cgroup `name` ("/" or "/docker/abc"). CGF_ENOENT when no hierarchy
 * has it, CGF_EINVAL when the name is not absolute or has a ".." component.
 * With keep_fds each sample file is opened once and kept; otherwise every read
 * opens and closes it (for when the process is short of descriptors).
 */
int cgf_cgroup_open(cgf_cgroup *cg, const cgf_hierarchy *h, const char *name, int keep_fds);
void cgf_cgroup_close(cgf_cgroup *cg);

/** Number of descriptors the cgroup keeps open. */
int cgf_cgroup_fd_count(const cgf_cgroup *cg);

/**
 * The path of sample file f relative to its hierarchy's mount ("docker/abc/memory.stat") into out;
 * returns the controller (cgf_controller) or -1 when the cgroup has no such file.
 */
int cgf_cgroup_file_path(const cgf_cgroup *cg, int f, char *out, size_t cap);

/**
 * Reads one sample. buf/cap is scratch space for one file at a time (64 KiB is
 * ample for 1024 CPUs). Returns CGF_OK, CGF_EGONE when the cgroup vanished, or
 * CGF_EPARTIAL when some files failed (see out->status).
 */
int cgf_cgroup_read_sample(cgf_cgroup *cg, cgf_sample *out, char *buf, size_t cap);

/** Reads the limits. Same return convention as the sample. */
int cgf_cgroup_read_spec(cgf_cgroup *cg, cgf_spec *out, char *buf, size_t cap);

/** Reads a whole file from an open fd with pread at offset 0. */
int cgf_read_fd(int fd, char *buf, size_t cap, size_t *len);

/** Reads a whole file relative to a directory fd (openat + read + close). */
int cgf_read_at(int dirfd, const char *path, char *buf, size_t cap, size_t *len);

/** v1 blkio format: "MAJ:MIN Op value" lines and a final "Total value". */
int cgf_parse_blkio(const char *buf, size_t len, cgf_io_table *out);

/** v2 io.stat format: "MAJ:MIN key=value ..." lines. */
int cgf_parse_io_stat(const char *buf, size_t len, cgf_io_table *out);

/** cAdvisor's conversion of cgroup v2 cpu.weight (1..10000) to v1 shares. */
uint64_t cgf_cpu_weight_to_shares(uint64_t weight);

#ifdef __cplusplus
}
#endif
#endif
