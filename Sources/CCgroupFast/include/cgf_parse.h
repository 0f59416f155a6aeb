/*
 * CCgroupFast — in-place parsers for the kernel's cgroup and procfs formats.
 *
 * Each parser takes a buffer and its length (the buffer need not be NUL
 * terminated), never reads past buf+len, and returns a status code. Numbers
 * are parsed without strtoull: overflow past 2^64-1 is CGF_ERANGE.
 */
#ifndef CGF_PARSE_H
#define CGF_PARSE_H

#include "cgf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The special value for "max" / unlimited in single-value files. */
#define CGF_UNLIMITED UINT64_MAX

/** Parses an unsigned decimal at *p (< end), advancing *p past the digits. */
int cgf_parse_u64(const char **p, const char *end, uint64_t *out);

/** Parses a signed decimal at *p (< end), advancing *p. */
int cgf_parse_i64(const char **p, const char *end, int64_t *out);

/** Parses a decimal with up to `digits` fractional digits into value*10^digits ("1.04", 2 -> 104). */
int cgf_parse_fixed(const char **p, const char *end, unsigned digits, uint64_t *out);

/** A single-value file: one number and an optional newline. "max" gives CGF_UNLIMITED when allow_max. */
int cgf_parse_single_u64(const char *buf, size_t len, int allow_max, uint64_t *out);

/** A single signed value ("-1" in cpu.cfs_quota_us). */
int cgf_parse_single_i64(const char *buf, size_t len, int64_t *out);

/**
 * Iterates a flat keyed file: on CGF_OK sets key/klen/value and advances *p;
 * returns CGF_ABSENT at the end, or an error (a line without '\n' is truncated).
 */
int cgf_flat_keyed_next(const char **p, const char *end, const char **key, size_t *klen, uint64_t *value);

/** A flat keyed file ("key value\n" lines: memory.stat, cpu.stat, vmstat). Every line must end in '\n'. */
int cgf_parse_flat_keyed(const char *buf, size_t len, cgf_kv_list *out);

/** /proc/meminfo style ("Key:   123 kB\n"); values with a "kB" unit are converted to bytes. */
int cgf_parse_meminfo(const char *buf, size_t len, cgf_kv_list *out);

/** A space-separated list of numbers (cpuacct.usage_percpu). */
int cgf_parse_u64_list(const char *buf, size_t len, uint64_t *out, uint32_t cap, uint32_t *count);

/** One line of a pressure file. */
typedef struct {
    uint64_t avg10_x100;   /* avg10 in hundredths of a percent ("1.04" -> 104) */
    uint64_t avg60_x100;
    uint64_t avg300_x100;
    uint64_t total_us;     /* total stall time in microseconds */
} cgf_psi_line;

/** A pressure file (cpu.pressure, memory.pressure, io.pressure). */
typedef struct {
    uint8_t has_some;
    uint8_t has_full;
    cgf_psi_line some;
    cgf_psi_line full;
} cgf_psi;

/** "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull ...\n". */
int cgf_parse_pressure(const char *buf, size_t len, cgf_psi *out);

/** Copies a one-line text value (cpuset.cpus) without its newline; CGF_ETOOBIG when it does not fit. */
int cgf_parse_line_text(const char *buf, size_t len, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
