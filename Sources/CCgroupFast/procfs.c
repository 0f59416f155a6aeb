/*
 * procfs readers and parsers (formats as in proc(5) and Documentation/admin-guide/iostats.rst).
 */
#include "cgf_procfs.h"
#include "cgf_cgroup.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int is_space(char c) { return c == ' ' || c == '\t'; }

static const char *skip_spaces(const char *p, const char *end) {
    while (p < end && is_space(*p)) p++;
    return p;
}

/* Copies a word (up to a space or end) into out; CGF_EPARSE for an empty word. */
static int copy_word(const char **pp, const char *end, char *out, size_t cap) {
    const char *p = *pp, *start = p;
    while (p < end && !is_space(*p)) p++;
    size_t n = (size_t)(p - start);
    if (n == 0) return CGF_EPARSE;
    if (n >= cap) n = cap - 1; /* names longer than the field are cut, not refused */
    memcpy(out, start, n);
    out[n] = '\0';
    *pp = p;
    return CGF_OK;
}

/* Reads up to `max` space-separated numbers before end; returns how many in *n. */
static int parse_numbers(const char **pp, const char *end, uint64_t *out, uint32_t max, uint32_t *n) {
    const char *p = *pp;
    uint32_t count = 0;
    for (;;) {
        p = skip_spaces(p, end);
        if (p >= end) break;
        uint64_t v;
        int rc = cgf_parse_u64(&p, end, &v);
        if (rc != CGF_OK) return rc;
        if (p < end && !is_space(*p)) return CGF_EPARSE;
        if (count < max) out[count] = v;
        count++;
    }
    *n = count < max ? count : max;
    *pp = p;
    return CGF_OK;
}

int cgf_parse_proc_stat(const char *buf, size_t len, cgf_proc_stat *out) {
    const char *p = buf, *end = buf + len;
    int seen_total = 0;
    out->cpu_count = 0;
    memset(&out->total, 0, sizeof(out->total));
    out->ctxt = out->btime = out->processes = out->procs_running = out->procs_blocked = 0;
    out->intr_total = out->softirq_total = 0;
    int result = CGF_OK;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        const char *key = p;
        while (p < nl && !is_space(*p)) p++;
        size_t klen = (size_t)(p - key);
        uint64_t v[10] = {0};
        uint32_t n = 0;
        if (klen >= 3 && memcmp(key, "cpu", 3) == 0) {
            int rc = parse_numbers(&p, nl, v, 10, &n);
            if (rc != CGF_OK) return rc;
            if (n < 4) return CGF_EPARSE;
            cgf_cpu_times t = {-1, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
            if (klen == 3) {
                out->total = t;
                seen_total = 1;
            } else {
                const char *q = key + 3;
                uint64_t idx;
                int rc2 = cgf_parse_u64(&q, key + klen, &idx);
                if (rc2 != CGF_OK || q != key + klen || idx > INT32_MAX) return CGF_EPARSE;
                t.cpu = (int32_t)idx;
                if (out->cpu_count < CGF_MAX_CPUS) out->cpus[out->cpu_count++] = t;
                else result = CGF_EOVERFLOW;
            }
        } else {
            /* "intr" and "softirq" lines start with their total; other keys have one number. */
            p = skip_spaces(p, nl);
            uint64_t first = 0;
            if (p < nl) {
                int rc = cgf_parse_u64(&p, nl, &first);
                if (rc != CGF_OK) return rc;
            }
            if (klen == 4 && memcmp(key, "ctxt", 4) == 0) out->ctxt = first;
            else if (klen == 5 && memcmp(key, "btime", 5) == 0) out->btime = first;
            else if (klen == 9 && memcmp(key, "processes", 9) == 0) out->processes = first;
            else if (klen == 13 && memcmp(key, "procs_running", 13) == 0) out->procs_running = first;
            else if (klen == 13 && memcmp(key, "procs_blocked", 13) == 0) out->procs_blocked = first;
            else if (klen == 4 && memcmp(key, "intr", 4) == 0) out->intr_total = first;
            else if (klen == 7 && memcmp(key, "softirq", 7) == 0) out->softirq_total = first;
        }
        p = nl + 1;
    }
    if (!seen_total) return CGF_EPARSE;
    return result;
}

int cgf_parse_loadavg(const char *buf, size_t len, cgf_loadavg *out) {
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof(*out));
    uint64_t *loads[3] = {&out->load1_x100, &out->load5_x100, &out->load15_x100};
    for (int i = 0; i < 3; i++) {
        p = skip_spaces(p, end);
        int rc = cgf_parse_fixed(&p, end, 2, loads[i]);
        if (rc != CGF_OK) return rc;
    }
    p = skip_spaces(p, end);
    int rc = cgf_parse_u64(&p, end, &out->running);
    if (rc != CGF_OK) return rc;
    if (p >= end || *p != '/') return CGF_EPARSE;
    p++;
    rc = cgf_parse_u64(&p, end, &out->threads);
    if (rc != CGF_OK) return rc;
    p = skip_spaces(p, end);
    rc = cgf_parse_u64(&p, end, &out->last_pid);
    if (rc != CGF_OK) return rc;
    if (p >= end || *p != '\n') return CGF_EPARSE;
    return CGF_OK;
}

int cgf_parse_diskstats(const char *buf, size_t len, cgf_diskstats *out) {
    const char *p = buf, *end = buf + len;
    out->count = out->dropped = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        cgf_disk tmp, *d = out->count < CGF_MAX_DISKS ? &out->disks[out->count] : &tmp;
        uint64_t ma, mi;
        p = skip_spaces(p, nl);
        int rc = cgf_parse_u64(&p, nl, &ma);
        if (rc != CGF_OK) return rc;
        p = skip_spaces(p, nl);
        rc = cgf_parse_u64(&p, nl, &mi);
        if (rc != CGF_OK) return rc;
        if (ma > UINT32_MAX || mi > UINT32_MAX) return CGF_ERANGE;
        p = skip_spaces(p, nl);
        rc = copy_word(&p, nl, d->name, sizeof(d->name));
        if (rc != CGF_OK) return rc;
        d->major = (uint32_t)ma;
        d->minor = (uint32_t)mi;
        memset(d->fields, 0, sizeof(d->fields));
        rc = parse_numbers(&p, nl, d->fields, CGF_DISKSTAT_FIELDS, &d->field_count);
        if (rc != CGF_OK) return rc;
        if (d->field_count < 4) return CGF_EPARSE; /* partitions on old kernels print 4 */
        if (d == &tmp) out->dropped++; else out->count++;
        p = nl + 1;
    }
    return out->dropped ? CGF_EOVERFLOW : CGF_OK;
}

int cgf_parse_net_dev(const char *buf, size_t len, cgf_net_dev *out) {
    const char *p = buf, *end = buf + len;
    out->count = out->dropped = 0;
    int line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        if (line++ < 2) { /* two header lines */
            p = nl + 1;
            continue;
        }
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        if (colon == NULL) return CGF_EPARSE;
        cgf_net_interface tmp, *i = out->count < CGF_MAX_NET_DEVICES ? &out->interfaces[out->count] : &tmp;
        const char *name = skip_spaces(p, colon);
        if (name == colon) return CGF_EPARSE;
        size_t n = (size_t)(colon - name);
        if (n >= sizeof(i->name)) n = sizeof(i->name) - 1;
        memcpy(i->name, name, n);
        i->name[n] = '\0';
        uint64_t v[16];
        uint32_t count;
        p = colon + 1;
        int rc = parse_numbers(&p, nl, v, 16, &count);
        if (rc != CGF_OK) return rc;
        if (count != 16) return CGF_EPARSE;
        i->rx_bytes = v[0]; i->rx_packets = v[1]; i->rx_errors = v[2]; i->rx_dropped = v[3];
        i->rx_fifo = v[4]; i->rx_frame = v[5]; i->rx_compressed = v[6]; i->rx_multicast = v[7];
        i->tx_bytes = v[8]; i->tx_packets = v[9]; i->tx_errors = v[10]; i->tx_dropped = v[11];
        i->tx_fifo = v[12]; i->tx_colls = v[13]; i->tx_carrier = v[14]; i->tx_compressed = v[15];
        if (i == &tmp) out->dropped++; else out->count++;
        p = nl + 1;
    }
    if (line < 2) return CGF_EPARSE;
    return out->dropped ? CGF_EOVERFLOW : CGF_OK;
}

/* Parses one signed field of /proc/<pid>/stat. */
static int next_i64(const char **pp, const char *end, int64_t *out) {
    *pp = skip_spaces(*pp, end);
    return cgf_parse_i64(pp, end, out);
}

static int next_u64(const char **pp, const char *end, uint64_t *out) {
    *pp = skip_spaces(*pp, end);
    return cgf_parse_u64(pp, end, out);
}

int cgf_parse_pid_stat(const char *buf, size_t len, cgf_pid_stat *out) {
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof(*out));
    int rc = next_i64(&p, end, &out->pid);
    if (rc != CGF_OK) return rc;
    /* comm is in parentheses and may itself contain ") ": the last ')' ends it. */
    const char *open = memchr(p, '(', (size_t)(end - p));
    const char *close = NULL;
    for (const char *q = end; q > p; q--)
        if (q[-1] == ')') { close = q - 1; break; }
    if (open == NULL || close == NULL || close < open) return CGF_EPARSE;
    size_t n = (size_t)(close - open - 1);
    if (n >= sizeof(out->comm)) n = sizeof(out->comm) - 1;
    memcpy(out->comm, open + 1, n);
    out->comm[n] = '\0';
    p = skip_spaces(close + 1, end);
    if (p >= end) return CGF_EPARSE;
    out->state = *p++;
    int64_t skip;
    uint64_t uskip;
    /* fields 4..: ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
       cutime cstime priority nice num_threads itrealvalue starttime vsize rss ... processor (39) */
    if ((rc = next_i64(&p, end, &out->ppid)) || (rc = next_i64(&p, end, &out->pgrp)) ||
        (rc = next_i64(&p, end, &out->session)) || (rc = next_i64(&p, end, &skip)) ||
        (rc = next_i64(&p, end, &skip)) || (rc = next_u64(&p, end, &uskip)) ||
        (rc = next_u64(&p, end, &out->minflt)) || (rc = next_u64(&p, end, &uskip)) ||
        (rc = next_u64(&p, end, &out->majflt)) || (rc = next_u64(&p, end, &uskip)) ||
        (rc = next_u64(&p, end, &out->utime)) || (rc = next_u64(&p, end, &out->stime)) ||
        (rc = next_i64(&p, end, &out->cutime)) || (rc = next_i64(&p, end, &out->cstime)) ||
        (rc = next_i64(&p, end, &out->priority)) || (rc = next_i64(&p, end, &out->nice)) ||
        (rc = next_i64(&p, end, &out->num_threads)) || (rc = next_i64(&p, end, &skip)) ||
        (rc = next_u64(&p, end, &out->starttime)) || (rc = next_u64(&p, end, &out->vsize)) ||
        (rc = next_i64(&p, end, &out->rss_pages)))
        return rc;
    /* fields 25..38, then processor (39); older kernels may stop earlier. */
    for (int field = 25; field <= 39; field++) {
        const char *q = skip_spaces(p, end);
        if (q >= end || *q == '\n') break;
        int64_t v;
        if ((rc = next_i64(&p, end, &v)) != CGF_OK) {
            uint64_t big; /* fields such as rsslim can exceed INT64_MAX */
            p = q;
            if ((rc = next_u64(&p, end, &big)) != CGF_OK) return rc;
            v = 0;
        }
        if (field == 39) out->processor = v;
    }
    return CGF_OK;
}

int cgf_parse_pid_status(const char *buf, size_t len, cgf_pid_status *out) {
    const char *p = buf, *end = buf + len;
    out->name[0] = '\0';
    out->state = '?';
    out->fields.count = out->fields.dropped = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        if (colon == NULL) return CGF_EPARSE;
        size_t klen = (size_t)(colon - p);
        const char *v = skip_spaces(colon + 1, nl);
        if (klen == 4 && memcmp(p, "Name", 4) == 0) {
            size_t n = (size_t)(nl - v);
            if (n >= sizeof(out->name)) n = sizeof(out->name) - 1;
            memcpy(out->name, v, n);
            out->name[n] = '\0';
        } else if (klen == 5 && memcmp(p, "State", 5) == 0) {
            if (v < nl) out->state = *v;
        } else if (v < nl && *v >= '0' && *v <= '9' && klen < CGF_KEY_MAX) {
            /* numeric fields: keep the first number ("Uid: 0 0 0 0" keeps the real uid) */
            const char *q = v;
            uint64_t num;
            int rc = cgf_parse_u64(&q, nl, &num);
            if (rc == CGF_OK) {
                q = skip_spaces(q, nl);
                if (nl - q == 2 && q[0] == 'k' && q[1] == 'B') {
                    if (num > UINT64_MAX / 1024) return CGF_ERANGE;
                    num *= 1024;
                }
                if (out->fields.count < CGF_MAX_KV) {
                    cgf_kv *item = &out->fields.items[out->fields.count++];
                    memcpy(item->key, p, klen);
                    item->key[klen] = '\0';
                    item->value = num;
                } else {
                    out->fields.dropped++;
                }
            } else if (rc == CGF_ERANGE) {
                return rc;
            }
        }
        p = nl + 1;
    }
    return out->name[0] ? CGF_OK : CGF_EPARSE;
}

/* ---- readers ------------------------------------------------------------------ */

int cgf_procfs_open(cgf_procfs *p, const char *proc_path) {
    p->proc_fd = open(proc_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    p->stat_fd = p->meminfo_fd = p->loadavg_fd = p->vmstat_fd = p->diskstats_fd = -1;
    if (p->proc_fd < 0) return CGF_ENOENT;
    p->stat_fd = openat(p->proc_fd, "stat", O_RDONLY | O_CLOEXEC);
    p->meminfo_fd = openat(p->proc_fd, "meminfo", O_RDONLY | O_CLOEXEC);
    p->loadavg_fd = openat(p->proc_fd, "loadavg", O_RDONLY | O_CLOEXEC);
    p->vmstat_fd = openat(p->proc_fd, "vmstat", O_RDONLY | O_CLOEXEC);
    p->diskstats_fd = openat(p->proc_fd, "diskstats", O_RDONLY | O_CLOEXEC);
    return CGF_OK;
}

void cgf_procfs_close(cgf_procfs *p) {
    int *fds[] = {&p->stat_fd, &p->meminfo_fd, &p->loadavg_fd, &p->vmstat_fd, &p->diskstats_fd, &p->proc_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0) close(*fds[i]);
        *fds[i] = -1;
    }
}

#define READ_KEPT(fd, buf, cap, len) \
    do { \
        if ((fd) < 0) return CGF_ABSENT; \
        int rc_ = cgf_read_fd((fd), (buf), (cap), &(len)); \
        if (rc_ != CGF_OK) return rc_; \
    } while (0)

int cgf_procfs_read_stat(const cgf_procfs *p, cgf_proc_stat *out, char *buf, size_t cap) {
    size_t len;
    READ_KEPT(p->stat_fd, buf, cap, len);
    return cgf_parse_proc_stat(buf, len, out);
}

int cgf_procfs_read_meminfo(const cgf_procfs *p, cgf_kv_list *out, char *buf, size_t cap) {
    size_t len;
    READ_KEPT(p->meminfo_fd, buf, cap, len);
    return cgf_parse_meminfo(buf, len, out);
}

int cgf_procfs_read_loadavg(const cgf_procfs *p, cgf_loadavg *out, char *buf, size_t cap) {
    size_t len;
    READ_KEPT(p->loadavg_fd, buf, cap, len);
    return cgf_parse_loadavg(buf, len, out);
}

int cgf_procfs_read_vmstat(const cgf_procfs *p, cgf_kv_list *out, char *buf, size_t cap) {
    size_t len;
    READ_KEPT(p->vmstat_fd, buf, cap, len);
    return cgf_parse_flat_keyed(buf, len, out);
}

int cgf_procfs_read_diskstats(const cgf_procfs *p, cgf_diskstats *out, char *buf, size_t cap) {
    size_t len;
    READ_KEPT(p->diskstats_fd, buf, cap, len);
    return cgf_parse_diskstats(buf, len, out);
}

/* Reads /proc/<pid>/<name> (or /proc/<name> for pid 0). */
static int read_pid_file(const cgf_procfs *p, int pid, const char *name, char *buf, size_t cap, size_t *len) {
    char path[64];
    int n = pid > 0 ? snprintf(path, sizeof(path), "%d/%s", pid, name) : snprintf(path, sizeof(path), "%s", name);
    if (pid < 0 || n < 0 || (size_t)n >= sizeof(path)) return CGF_EINVAL;
    return cgf_read_at(p->proc_fd, path, buf, cap, len);
}

int cgf_procfs_read_net_dev(const cgf_procfs *p, int pid, cgf_net_dev *out, char *buf, size_t cap) {
    size_t len;
    int rc = read_pid_file(p, pid, "net/dev", buf, cap, &len);
    return rc != CGF_OK ? rc : cgf_parse_net_dev(buf, len, out);
}

int cgf_procfs_read_pid_stat(const cgf_procfs *p, int pid, cgf_pid_stat *out, char *buf, size_t cap) {
    size_t len;
    int rc = read_pid_file(p, pid, "stat", buf, cap, &len);
    return rc != CGF_OK ? rc : cgf_parse_pid_stat(buf, len, out);
}

int cgf_procfs_read_pid_status(const cgf_procfs *p, int pid, cgf_pid_status *out, char *buf, size_t cap) {
    size_t len;
    int rc = read_pid_file(p, pid, "status", buf, cap, &len);
    return rc != CGF_OK ? rc : cgf_parse_pid_status(buf, len, out);
}
