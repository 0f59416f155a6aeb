/*
 * CCgroupFast — pointer accessors for the fixed-size arrays inside the structs,
 * so Swift reads them as buffers instead of as imported tuples.
 *
 * Every accessor takes a valid (non-null) struct and returns the address of an array member of it,
 * which is never null: the header says so (_Nonnull), so Swift imports non-optional pointers and
 * needs no force-unwrap. The element counts that go with them (cpu.per_cpu_count, hugetlb_count,
 * count, field_count, ...) are bounded by the array sizes by the parsers that fill them.
 * cgf_cgroup_file_name is the one accessor that returns null (no such file).
 */
#ifndef CGF_ACCESS_H
#define CGF_ACCESS_H

#include "cgf_cgroup.h"
#include "cgf_procfs.h"

#pragma clang assume_nonnull begin

static inline const uint64_t *cgf_sample_per_cpu(const cgf_sample *s) { return s->cpu.per_cpu_ns; }
static inline const cgf_kv_list *cgf_sample_memory_stat(const cgf_sample *s) { return &s->memory.stat; }
static inline const cgf_io_table *cgf_sample_io_service_bytes(const cgf_sample *s) { return &s->io.service_bytes; }
static inline const cgf_io_table *cgf_sample_io_serviced(const cgf_sample *s) { return &s->io.serviced; }
static inline const cgf_io_table *cgf_sample_io_stat(const cgf_sample *s) { return &s->io.stat; }
static inline const cgf_kv *cgf_kv_items(const cgf_kv_list *l) { return l->items; }
static inline const char *cgf_kv_key(const cgf_kv *kv) { return kv->key; }
static inline const cgf_io_device *cgf_io_devices(const cgf_io_table *t) { return t->devices; }
static inline const uint64_t *cgf_io_values(const cgf_io_device *d) { return d->value; }
static inline const cgf_hugetlb_sample *cgf_sample_hugetlb(const cgf_sample *s) { return s->hugetlb; }
static inline const char *cgf_hugetlb_size(const cgf_hugetlb_sample *h) { return h->size; }
static inline const int8_t *cgf_sample_status(const cgf_sample *s) { return s->status; }
static inline const int8_t *cgf_spec_status(const cgf_spec *s) { return s->status; }
static inline const char *cgf_spec_cpuset_cpus(const cgf_spec *s) { return s->cpuset_cpus; }
static inline const char *cgf_spec_cpuset_mems(const cgf_spec *s) { return s->cpuset_mems; }
static inline const char *_Nullable cgf_cgroup_file_name(const cgf_cgroup *cg, int f) {
    return (f >= 0 && f < CGF_F_COUNT) ? cg->file_name[f] : 0;
}
static inline const cgf_cpu_times *cgf_proc_stat_cpus(const cgf_proc_stat *s) { return s->cpus; }
static inline const cgf_disk *cgf_diskstats_disks(const cgf_diskstats *d) { return d->disks; }
static inline const char *cgf_disk_name(const cgf_disk *d) { return d->name; }
static inline const uint64_t *cgf_disk_fields(const cgf_disk *d) { return d->fields; }
static inline const cgf_net_interface *cgf_net_interfaces(const cgf_net_dev *n) { return n->interfaces; }
static inline const char *cgf_net_interface_name(const cgf_net_interface *i) { return i->name; }
static inline const char *cgf_pid_stat_comm(const cgf_pid_stat *s) { return s->comm; }
static inline const char *cgf_pid_status_name(const cgf_pid_status *s) { return s->name; }

#pragma clang assume_nonnull end

#endif
