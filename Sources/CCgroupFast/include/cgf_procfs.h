/*
 * CCgroupFast — procfs: /proc/stat, meminfo, loadavg, vmstat, diskstats, and
 * per-process net/dev, stat and status. Host-wide files are opened once under
 * the proc directory the caller gives (the host's /proc, /rootfs/proc in a
 * container) and read with pread; per-process files are opened per read.
 */
#ifndef CGF_PROCFS_H
#define CGF_PROCFS_H

#include "cgf_common.h"
#include "cgf_parse.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CGF_MAX_DISKS 256
#define CGF_MAX_NET_DEVICES 128
#define CGF_NAME_MAX 64
#define CGF_DISKSTAT_FIELDS 20

/** The jiffies columns of a "cpu" line of /proc/stat, in USER_HZ ticks. */
typedef struct {
    int32_t cpu;           /* -1 for the aggregate line */
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
} cgf_cpu_times;

/** /proc/stat. */
typedef struct {
    cgf_cpu_times total;
    uint32_t cpu_count;
    cgf_cpu_times cpus[CGF_MAX_CPUS];
    uint64_t ctxt, btime, processes, procs_running, procs_blocked, intr_total, softirq_total;
} cgf_proc_stat;

/** /proc/loadavg. */
typedef struct {
    uint64_t load1_x100, load5_x100, load15_x100;  /* "0.52" -> 52 */
    uint64_t running, threads, last_pid;
} cgf_loadavg;

/** One /proc/diskstats line: fields after the name, as many as the kernel prints (11, 15, 17 or 20). */
typedef struct {
    uint32_t major, minor;
    char name[CGF_NAME_MAX];
    uint32_t field_count;
    uint64_t fields[CGF_DISKSTAT_FIELDS];
} cgf_disk;

typedef struct {
    uint32_t count, dropped;
    cgf_disk disks[CGF_MAX_DISKS];
} cgf_diskstats;

/** One interface of /proc/<pid>/net/dev. */
typedef struct {
    char name[CGF_NAME_MAX];
    uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped, rx_fifo, rx_frame, rx_compressed, rx_multicast;
    uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped, tx_fifo, tx_colls, tx_carrier, tx_compressed;
} cgf_net_interface;

typedef struct {
    uint32_t count, dropped;
    cgf_net_interface interfaces[CGF_MAX_NET_DEVICES];
} cgf_net_dev;

/** /proc/<pid>/stat (fields numbered as in proc(5)). */
typedef struct {
    int64_t pid;
    char comm[CGF_NAME_MAX];
    char state;
    int64_t ppid, pgrp, session;
    uint64_t minflt, majflt, utime, stime;
    int64_t cutime, cstime, priority, nice, num_threads;
    uint64_t starttime, vsize;
    int64_t rss_pages;
    int64_t processor;
} cgf_pid_stat;

/** /proc/<pid>/status: name, state and every numeric field ("kB" values in bytes). */
typedef struct {
    char name[CGF_NAME_MAX];
    char state;
    cgf_kv_list fields;
} cgf_pid_status;

/** Kept descriptors for the host-wide files. */
typedef struct {
    int proc_fd;
    int stat_fd, meminfo_fd, loadavg_fd, vmstat_fd, diskstats_fd;
} cgf_procfs;

/** Opens proc_path (e.g. "/proc" or "/rootfs/proc") and its host-wide files. */
int cgf_procfs_open(cgf_procfs *p, const char *proc_path);
void cgf_procfs_close(cgf_procfs *p);

int cgf_procfs_read_stat(const cgf_procfs *p, cgf_proc_stat *out, char *buf, size_t cap);
int cgf_procfs_read_meminfo(const cgf_procfs *p, cgf_kv_list *out, char *buf, size_t cap);
int cgf_procfs_read_loadavg(const cgf_procfs *p, cgf_loadavg *out, char *buf, size_t cap);
int cgf_procfs_read_vmstat(const cgf_procfs *p, cgf_kv_list *out, char *buf, size_t cap);
int cgf_procfs_read_diskstats(const cgf_procfs *p, cgf_diskstats *out, char *buf, size_t cap);
/** pid 0 reads /proc/net/dev of the agent's own namespace (use 1 for the host's). */
int cgf_procfs_read_net_dev(const cgf_procfs *p, int pid, cgf_net_dev *out, char *buf, size_t cap);
int cgf_procfs_read_pid_stat(const cgf_procfs *p, int pid, cgf_pid_stat *out, char *buf, size_t cap);
int cgf_procfs_read_pid_status(const cgf_procfs *p, int pid, cgf_pid_status *out, char *buf, size_t cap);

/* The parsers behind the reads, for fixtures and fuzzing. */
int cgf_parse_proc_stat(const char *buf, size_t len, cgf_proc_stat *out);
int cgf_parse_loadavg(const char *buf, size_t len, cgf_loadavg *out);
int cgf_parse_diskstats(const char *buf, size_t len, cgf_diskstats *out);
int cgf_parse_net_dev(const char *buf, size_t len, cgf_net_dev *out);
int cgf_parse_pid_stat(const char *buf, size_t len, cgf_pid_stat *out);
int cgf_parse_pid_status(const char *buf, size_t len, cgf_pid_status *out);

#ifdef __cplusplus
}
#endif
#endif
