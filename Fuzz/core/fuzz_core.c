/*
 * libFuzzer targets for the C core: one per parser the core exposes, chosen at compile time with
 * -DFUZZ_TARGET=<name> (scripts/fuzz.sh builds one binary per name; `FUZZ_TARGETS` below lists them).
 * Each input reaches the real function in a buffer of exactly its size (libFuzzer's copy), so any
 * read past the end is an AddressSanitizer report; undefined behaviour aborts (no recovery).
 *
 *   numbers      cgf_parse_u64 / _i64 / _fixed on any text, cgf_hugepage_name and
 *                cgf_cpu_weight_to_shares on the input's first 8 bytes as a number
 *   single       cgf_parse_single_u64 (with and without "max") and cgf_parse_single_i64
 *   flat_keyed   cgf_parse_flat_keyed (memory.stat, cpu.stat, vmstat, memory.events)
 *   meminfo      cgf_parse_meminfo
 *   u64_list     cgf_parse_u64_list (cpuacct.usage_percpu), into a roomy and a 2-entry table
 *   pressure     cgf_parse_pressure (*.pressure)
 *   line_text    cgf_parse_line_text (cpuset.cpus), into a roomy and a 4-byte buffer
 *   blkio        cgf_parse_blkio (v1 blkio.throttle.*)
 *   io_stat      cgf_parse_io_stat (v2 io.stat)
 *   proc_stat    cgf_parse_proc_stat (/proc/stat)
 *   loadavg      cgf_parse_loadavg
 *   diskstats    cgf_parse_diskstats
 *   net_dev      cgf_parse_net_dev (/proc/<pid>/net/dev)
 *   pid_stat     cgf_parse_pid_stat (/proc/<pid>/stat)
 *   pid_status   cgf_parse_pid_status (/proc/<pid>/status)
 *   auth         cgf_password_matches(password, hash) ("password\nhash"; APR1 through "$apr1$"
 *                hashes), cgf_md5 and cgf_sha1 of the whole input
 *   grpc         the runtimes' gRPC client (cgf_grpc_unary): the input is every byte the runtime sends
 *                on a socketpair (then it closes its side); two unary calls on the connection
 *                (streams 1 and 3) with a 4 KiB response cap
 *   cgroup       a whole cgroup read through the real fd path (cgf_hierarchy_open, cgf_cgroup_open,
 *                cgf_cgroup_read_sample, cgf_cgroup_read_spec) in v1+hybrid and in v2 mode, on a
 *                scratch tree whose files are the input's sections: "@@ memory/memory.stat\n<content>"
 *                (directories cpu cpuacct cpuset memory blkio pids hugetlb for v1, unified for v2)
 */
#include "CCgroupFast.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define TARGET_IS(name) (strcmp(FUZZ_TARGET_NAME, name) == 0)
#define STR2(x) #x
#define STR(x) STR2(x)
#define FUZZ_TARGET_NAME STR(FUZZ_TARGET)

/* ---- the cgroup target's scratch tree ------------------------------------------------------- */

static const char *const controller_dirs[CGF_CTRL_COUNT] = {"cpu",  "cpuacct", "cpuset",  "memory",
                                                            "blkio", "pids",   "hugetlb", "unified"};
static char tree[256];
#define MAX_SECTIONS 64
static char written[MAX_SECTIONS][192];
static int written_count;

static int make_tree(void) {
    const char *base = getenv("FUZZ_SCRATCH");
    snprintf(tree, sizeof tree, "%s/nm-fuzz-cgroup-%d", base ? base : "/dev/shm", (int)getpid());
    if (mkdir(tree, 0700) != 0) return -1;
    for (int c = 0; c < CGF_CTRL_COUNT; c++) {
        char dir[320];
        snprintf(dir, sizeof dir, "%s/%s", tree, controller_dirs[c]);
        if (mkdir(dir, 0700) != 0) return -1;
    }
    return 0;
}

static void remove_tree(void) {
    for (int c = 0; c < CGF_CTRL_COUNT; c++) {
        char dir[320];
        snprintf(dir, sizeof dir, "%s/%s", tree, controller_dirs[c]);
        rmdir(dir);
    }
    rmdir(tree);
}

/* "ctrl/file" with ctrl one of the directories and file a plain name; anything else is skipped. */
static int valid_section_path(const char *path) {
    const char *slash = strchr(path, '/');
    if (!slash || strchr(slash + 1, '/') || slash[1] == 0 || strcmp(slash + 1, ".") == 0 ||
        strcmp(slash + 1, "..") == 0)
        return 0;
    for (int c = 0; c < CGF_CTRL_COUNT; c++) {
        size_t n = strlen(controller_dirs[c]);
        if ((size_t)(slash - path) == n && strncmp(path, controller_dirs[c], n) == 0) return 1;
    }
    return 0;
}

/* Writes each "@@ path\n" section's content (up to the next "\n@@ ") as a file of the tree. */
static void write_sections(const char *data, size_t len) {
    const char *p = data, *end = data + len;
    written_count = 0;
    while (p < end && written_count < MAX_SECTIONS) {
        if ((size_t)(end - p) < 3 || memcmp(p, "@@ ", 3) != 0) break;
        p += 3;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        char name[128];
        size_t nlen = (size_t)(nl - p);
        if (nlen >= sizeof name) break;
        memcpy(name, p, nlen);
        name[nlen] = 0;
        const char *content = nl + 1, *next = content;
        while (next < end && !((size_t)(end - next) >= 4 && memcmp(next, "\n@@ ", 4) == 0)) next++;
        if (!memchr(name, 0, nlen) && valid_section_path(name)) {
            snprintf(written[written_count], sizeof written[0], "%s/%s", tree, name);
            int fd = open(written[written_count], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd >= 0) {
                /* a section with "\n" before the next marker keeps it: files end in a newline */
                size_t clen = (size_t)(next - content) + (next < end ? 1 : 0);
                if (write(fd, content, clen) != (ssize_t)clen) abort();
                close(fd);
                written_count++;
            }
        }
        p = next < end ? next + 1 : end;
    }
}

static void read_cgroup(cgf_mode mode, int keep_fds) {
    static cgf_hierarchy h;
    static cgf_cgroup cg;
    static cgf_sample s;
    static cgf_spec spec;
    static char buf[64 * 1024];
    char paths[CGF_CTRL_COUNT][320];
    const char *mounts[CGF_CTRL_COUNT] = {0};
    for (int c = 0; c < CGF_CTRL_COUNT; c++) {
        snprintf(paths[c], sizeof paths[c], "%s/%s", tree, controller_dirs[c]);
        mounts[c] = paths[c];
    }
    const uint64_t huge[] = {2048, 1048576};
    if (cgf_hierarchy_open(&h, mode, mounts, huge, 2) != CGF_OK) abort();
    if (cgf_cgroup_open(&cg, &h, "/", keep_fds) == CGF_OK) {
        cgf_cgroup_read_sample(&cg, &s, buf, sizeof buf);
        cgf_cgroup_read_sample(&cg, &s, buf, 64); /* a buffer too small for most files */
        cgf_cgroup_read_spec(&cg, &spec, buf, sizeof buf);
        char path[CGF_PATH_MAX];
        for (int f = 0; f < CGF_F_COUNT; f++) cgf_cgroup_file_path(&cg, f, path, sizeof path);
    }
    cgf_cgroup_close(&cg);
    cgf_hierarchy_close(&h);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (TARGET_IS("cgroup")) {
        if (make_tree() != 0) {
            fprintf(stderr, "fuzz cgroup: cannot make the scratch tree %s\n", tree);
            abort();
        }
        atexit(remove_tree);
    }
    return 0;
}

/* A NUL-terminated copy of data[from, to) (exact size: ASan sees any overread). */
static char *cstring(const uint8_t *data, size_t from, size_t to) {
    char *s = malloc(to - from + 1);
    if (!s) abort();
    memcpy(s, data + from, to - from);
    s[to - from] = 0;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *buf = (const char *)data;
    const char *end = buf + size;
    if (TARGET_IS("numbers")) {
        const char *p = buf;
        uint64_t u;
        int64_t i;
        cgf_parse_u64(&p, end, &u);
        p = buf;
        cgf_parse_i64(&p, end, &i);
        for (unsigned digits = 0; digits < 4; digits++) {
            p = buf;
            cgf_parse_fixed(&p, end, digits, &u);
        }
        if (size >= 8) {
            uint64_t v;
            char name[CGF_HUGEPAGE_NAME_MAX];
            memcpy(&v, data, 8);
            cgf_hugepage_name(v, name, sizeof name);
            cgf_hugepage_name(v, name, 3);
            cgf_cpu_weight_to_shares(v);
        }
    } else if (TARGET_IS("single")) {
        uint64_t u;
        int64_t i;
        cgf_parse_single_u64(buf, size, 1, &u);
        cgf_parse_single_u64(buf, size, 0, &u);
        cgf_parse_single_i64(buf, size, &i);
    } else if (TARGET_IS("flat_keyed")) {
        static cgf_kv_list kv;
        if (cgf_parse_flat_keyed(buf, size, &kv) == CGF_OK) {
            uint64_t v;
            cgf_kv_get(&kv, "total_rss", &v);
        }
    } else if (TARGET_IS("meminfo")) {
        static cgf_kv_list kv;
        cgf_parse_meminfo(buf, size, &kv);
    } else if (TARGET_IS("u64_list")) {
        static uint64_t list[CGF_MAX_CPUS];
        uint32_t n;
        cgf_parse_u64_list(buf, size, list, CGF_MAX_CPUS, &n);
        cgf_parse_u64_list(buf, size, list, 2, &n);
    } else if (TARGET_IS("pressure")) {
        cgf_psi psi;
        cgf_parse_pressure(buf, size, &psi);
    } else if (TARGET_IS("line_text")) {
        char text[CGF_CPUSET_MAX];
        cgf_parse_line_text(buf, size, text, sizeof text);
        cgf_parse_line_text(buf, size, text, 4);
    } else if (TARGET_IS("blkio")) {
        static cgf_io_table io;
        cgf_parse_blkio(buf, size, &io);
    } else if (TARGET_IS("io_stat")) {
        static cgf_io_table io;
        cgf_parse_io_stat(buf, size, &io);
    } else if (TARGET_IS("proc_stat")) {
        static cgf_proc_stat ps;
        cgf_parse_proc_stat(buf, size, &ps);
    } else if (TARGET_IS("loadavg")) {
        cgf_loadavg la;
        cgf_parse_loadavg(buf, size, &la);
    } else if (TARGET_IS("diskstats")) {
        static cgf_diskstats ds;
        cgf_parse_diskstats(buf, size, &ds);
    } else if (TARGET_IS("net_dev")) {
        static cgf_net_dev nd;
        cgf_parse_net_dev(buf, size, &nd);
    } else if (TARGET_IS("pid_stat")) {
        cgf_pid_stat ps;
        cgf_parse_pid_stat(buf, size, &ps);
    } else if (TARGET_IS("pid_status")) {
        static cgf_pid_status st;
        cgf_parse_pid_status(buf, size, &st);
    } else if (TARGET_IS("auth")) {
        const char *nl = memchr(buf, '\n', size);
        size_t split = nl ? (size_t)(nl - buf) : size;
        char *password = cstring(data, 0, split);
        char *hash = cstring(data, nl ? split + 1 : size, size);
        /* libcrypt's methods take as much work as the hash asks for (bcrypt up to 2^31 rounds,
           SHA-crypt 999,999,999, yescrypt gigabytes): the hash comes from the admin's htpasswd file,
           so only the cheap settings of the methods htpasswd writes are tried. */
        int cheap_bcrypt = strlen(hash) >= 7 && hash[1] == '2' && hash[3] == '$' && hash[4] == '0' &&
                           (hash[5] == '4' || hash[5] == '5') && hash[6] == '$';
        int costly = hash[0] == '$' && strncmp(hash, "$apr1$", 6) != 0 && strncmp(hash, "$1$", 3) != 0 &&
                     !cheap_bcrypt &&
                     !((strncmp(hash, "$5$", 3) == 0 || strncmp(hash, "$6$", 3) == 0) && !strstr(hash, "rounds="));
        if (!costly) cgf_password_matches(password, hash); /* "$apr1$<salt>$" hashes run cgf_apr1 */
        uint8_t digest[20];
        cgf_md5(data, size, digest);
        cgf_sha1(data, size, digest);
        free(password);
        free(hash);
        if (costly) return -1; /* not added to the corpus */
    } else if (TARGET_IS("cgroup")) {
        write_sections(buf, size);
        read_cgroup(CGF_MODE_HYBRID, 1);
        read_cgroup(CGF_MODE_V1, 0);
        read_cgroup(CGF_MODE_V2, size % 2);
        for (int k = 0; k < written_count; k++) unlink(written[k]);
    } else if (TARGET_IS("grpc")) {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) abort();
        for (size_t off = 0; off < size;) { /* max_len 16384: fits the socket's buffer */
            ssize_t w = write(fds[1], data + off, size - off);
            if (w <= 0) abort();
            off += (size_t)w;
        }
        shutdown(fds[1], SHUT_WR);
        cgf_grpc *c = cgf_grpc_open_fd(fds[0]);
        if (!c) abort();
        static const char *const meta[] = {"containerd-namespace", "k8s.io"};
        for (int call = 0; call < 2; call++) {
            cgf_grpc_result r;
            cgf_grpc_unary(c, "/runtime.v1.RuntimeService/ListPodSandbox", meta, 1, "\x0a\x01x", 3, 2000, 4096, &r);
            if (r.status == 0 && r.len > 4096) abort();
            cgf_grpc_free(r.data);
        }
        cgf_grpc_close(c);
        close(fds[1]);
    } else {
        fprintf(stderr, "fuzz_core: unknown FUZZ_TARGET %s\n", FUZZ_TARGET_NAME);
        abort();
    }
    return 0;
}
