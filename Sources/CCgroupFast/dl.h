/*
 * Libraries the agent needs only for some flags (librdkafka for -storage_driver=kafka, libcrypto for
 * BigQuery's RS256), loaded when first used instead of at start-up: a process that never pushes to
 * Kafka or BigQuery does not map them, relocate them or resolve its symbols in them.
 *
 * A user lists the functions it calls once, as an X-macro, and calls them through DL_CALL:
 *
 *     #define KAFKA_FUNCTIONS(X) X(rd_kafka_new) X(rd_kafka_destroy)
 *     DL_LIBRARY(kafka, "librdkafka.so.1", KAFKA_FUNCTIONS)
 *     if (dl_load_kafka(err, errlen) != 0) return NULL;
 *     DL_CALL(kafka, rd_kafka_new)(...);
 *
 * The pointers keep the header's prototypes (__typeof__), so calls are type-checked as before.
 */
#ifndef CGF_DL_H
#define CGF_DL_H

#include <stddef.h>

/* Opens `soname` and resolves `count` symbols into `slots`, once per process (a load that failed
 * is tried again by the next call). 0, or -1 with the reason (the library or a symbol missing) in err. */
int cgf_dl_load(const char *soname, const char *const *names, void **slots, size_t count,
                char *err, size_t errlen);

#define DL_ENUM_(f) dl_index_##f,
#define DL_NAME_(f) #f,
#define DL_LIBRARY(lib, soname, FUNCTIONS)                                                          \
    enum { FUNCTIONS(DL_ENUM_) dl_count_##lib };                                                    \
    static const char *const dl_names_##lib[] = { FUNCTIONS(DL_NAME_) };                            \
    static void *dl_slots_##lib[dl_count_##lib];                                                    \
    static int dl_load_##lib(char *err, size_t errlen) {                                            \
        return cgf_dl_load(soname, dl_names_##lib, dl_slots_##lib, dl_count_##lib, err, errlen);   \
    }
#define DL_CALL(lib, f) ((__typeof__(&f))dl_slots_##lib[dl_index_##f])

#endif
