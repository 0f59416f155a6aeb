#define _GNU_SOURCE
#include "bench_floor.h"

#include <fcntl.h>
#include <unistd.h>

size_t floor_open(floor_file *files, size_t n, size_t keep) {
    size_t opened = 0;
    for (size_t i = 0; i < n; i++) {
        files[i].fd = i < keep ? open(files[i].path, O_RDONLY | O_CLOEXEC) : -1;
        opened += files[i].fd >= 0;
    }
    return opened;
}

size_t floor_read_all(const floor_file *files, size_t n, char *buf, size_t cap) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (files[i].fd >= 0) {
            ssize_t r = pread(files[i].fd, buf, cap, 0);
            if (r > 0) total += (size_t)r;
        } else {
            int fd = open(files[i].path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t r = read(fd, buf, cap);
            if (r > 0) total += (size_t)r;
            close(fd);
        }
    }
    return total;
}

void floor_close(floor_file *files, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (files[i].fd >= 0) close(files[i].fd);
        files[i].fd = -1;
    }
}
