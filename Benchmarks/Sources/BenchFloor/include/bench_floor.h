/* The floor for the sampling benchmark: pread of a list of files, nothing parsed. */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H
#include <stddef.h>

/** One file: kept open (fd >= 0) or read by path each time (fd < 0). */
typedef struct {
    int fd;
    const char *path;
} floor_file;

/** Opens the first `keep` files and leaves the rest to be opened per read; returns how many opened. */
size_t floor_open(floor_file *files, size_t n, size_t keep);

/** Reads every file once into buf (pread from kept fds, open+read+close otherwise); returns bytes read. */
size_t floor_read_all(const floor_file *files, size_t n, char *buf, size_t cap);

void floor_close(floor_file *files, size_t n);
#endif
