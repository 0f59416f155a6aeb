/*
 * Runs the C core under AddressSanitizer and UndefinedBehaviorSanitizer:
 * every parser over every fixture file and over deterministic mutations of
 * them (bit flips, truncations, long digit runs), each input in a buffer of
 * exactly its size so any read past the end is caught; then whole-cgroup
 * reads of the fixture trees, this host's cgroups and this host's /proc.
 * Usage: core_check FIXTURES_DIR [MUTATIONS_PER_FILE]
 */
#include "CCgroupFast.h"
#include "../../Sources/CCgroupFast/dl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static unsigned long inputs;

/* The gRPC client (cgf_grpc_unary) against canned peer bytes on a socketpair: server SETTINGS, then a
   full answer on stream 1 (headers, one message "hi", trailers grpc-status 0) and a Trailers-Only
   answer on stream 3 (grpc-status 5, grpc-message "a%20b"); literal HPACK fields. Returns 1 when both
   calls end as they must. */
static int grpc_check(void) {
    static const uint8_t peer[] = {
        0, 0, 0, 4, 0, 0, 0, 0, 0, /* SETTINGS */
        0, 0, 44, 1, 4, 0, 0, 0, 1, /* HEADERS stream 1, END_HEADERS */
        0, 7, ':', 's', 't', 'a', 't', 'u', 's', 3, '2', '0', '0',
        0, 12, 'c', 'o', 'n', 't', 'e', 'n', 't', '-', 't', 'y', 'p', 'e', 16, 'a', 'p', 'p', 'l', 'i', 'c', 'a',
        't', 'i', 'o', 'n', '/', 'g', 'r', 'p', 'c',
        0, 0, 7, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 'h', 'i', /* DATA stream 1: one message "hi" */
        0, 0, 15, 1, 5, 0, 0, 0, 1, /* HEADERS stream 1, END_STREAM: trailers */
        0, 11, 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't', 'u', 's', 1, '0',
    };
    static const uint8_t peer3[] = {
        0, 0, 79, 1, 5, 0, 0, 0, 3, /* HEADERS stream 3, END_STREAM: Trailers-Only */
        0, 7, ':', 's', 't', 'a', 't', 'u', 's', 3, '2', '0', '0',
        0, 12, 'c', 'o', 'n', 't', 'e', 'n', 't', '-', 't', 'y', 'p', 'e', 16, 'a', 'p', 'p', 'l', 'i', 'c', 'a',
        't', 'i', 'o', 'n', '/', 'g', 'r', 'p', 'c',
        0, 11, 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't', 'u', 's', 1, '5',
    };
    static const uint8_t trailer_message[] = {
        0, 12, 'g', 'r', 'p', 'c', '-', 'm', 'e', 's', 's', 'a', 'g', 'e', 5, 'a', '%', '2', '0', 'b',
    };
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
    if (write(fds[1], peer, sizeof peer) != (ssize_t)sizeof peer) return 0;
    cgf_grpc *c = cgf_grpc_open_fd(fds[0]);
    if (!c) return 0;
    static const char *const meta[] = {"containerd-namespace", "k8s.io"};
    cgf_grpc_result r1, r2, r3;
    cgf_grpc_unary(c, "/x.Y/Z", meta, 1, "q", 1, 2000, 1024, &r1);
    /* stream 3's block gets grpc-message appended: its frame length above already counts it (and it
       is sent once the client opened stream 3: frames on a stream not yet opened end the session) */
    if (write(fds[1], peer3, sizeof peer3) != (ssize_t)sizeof peer3
        || write(fds[1], trailer_message, sizeof trailer_message) != (ssize_t)sizeof trailer_message) return 0;
    cgf_grpc_unary(c, "/x.Y/Z", NULL, 0, NULL, 0, 2000, 1024, &r2);
    shutdown(fds[1], SHUT_WR);
    cgf_grpc_unary(c, "/x.Y/Z", NULL, 0, NULL, 0, 2000, 1024, &r3); /* the peer closed: unavailable */
    int ok = r1.status == 0 && r1.len == 2 && r1.data && memcmp(r1.data, "hi", 2) == 0
        && r2.status == 5 && strcmp(r2.message, "a b") == 0 && r3.status == CGF_GRPC_UNAVAILABLE;
    if (!ok) fprintf(stderr, "core_check: grpc %d %zu / %d %s / %d %s\n", r1.status, r1.len, r2.status, r2.message,
                     r3.status, r3.message);
    cgf_grpc_free(r1.data);
    cgf_grpc_free(r2.data);
    cgf_grpc_free(r3.data);
    cgf_grpc_close(c);
    close(fds[1]);
    return ok;
}

/* A key generated here as PEM (PKCS#8, or PKCS#1 when traditional): malloc'd, its length in *len. */
static char *key_pem(EVP_PKEY *k, int traditional, size_t *len) {
    BIO *b = BIO_new(BIO_s_mem());
    int ok = traditional ? PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(b, &data) : 0;
    char *copy = n > 0 ? malloc((size_t)n) : NULL;
    if (copy) memcpy(copy, data, (size_t)n);
    *len = copy ? (size_t)n : 0;
    BIO_free(b);
    return copy;
}

/* Loads a key from a buffer of exactly its size (reads past the end are caught); 1 when it loaded. */
static int load_exact(const char *pem, size_t len, char *err, size_t errlen) {
    char *copy = malloc(len ? len : 1);
    if (!copy) return 0;
    memcpy(copy, pem, len);
    cgf_rsa_key *k = cgf_rsa_key_load(copy, len, err, errlen);
    free(copy);
    inputs++;
    cgf_rsa_key_free(k);
    return k != NULL;
}

/* Datagrams through sendmmsg (cgf_push.h): 700 of 1 to 300 bytes over a datagram socketpair come
   out whole, in order, each once (three sendmmsg calls of up to 256); an empty batch sends nothing;
   a datagram larger than the socket takes stops the sending there with the count and an errno.
   Returns 1 when all held. */
static int datagram_check(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return 0;
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    enum { N = 700 };
    static uint8_t buf[N * 300];
    static size_t ends[N];
    size_t at = 0;
    for (size_t i = 0; i < N; i++) {
        size_t len = 1 + (i * 37) % 300;
        for (size_t j = 0; j < len; j++) buf[at + j] = (uint8_t)(i + j);
        at += len;
        ends[i] = at;
    }
    int err = -99, ok = cgf_send_datagrams(sv[0], buf, ends, 0, &err) == 0 && err == 0;
    /* Sent in chunks the receiver drains in between: a datagram socketpair's queue is short. */
    size_t done = 0, got = 0, off = 0;
    uint8_t in[400];
    while (ok && done < N) {
        size_t chunk = N - done < 300 ? N - done : 300;
        size_t base = done == 0 ? 0 : ends[done - 1];
        size_t rel[300];
        for (size_t i = 0; i < chunk; i++) rel[i] = ends[done + i] - base;
        size_t n = cgf_send_datagrams(sv[0], buf + base, rel, chunk, &err);
        ok = n == chunk && err == 0;
        done += n;
        for (; ok && got < done; got++) {
            ssize_t r = recv(sv[1], in, sizeof in, 0);
            size_t want = ends[got] - off;
            ok = r == (ssize_t)want && memcmp(in, buf + off, want) == 0;
            off = ends[got];
        }
    }
    /* A datagram over the socket's limit: the first two go, the third stops it with an errno. */
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    static uint8_t huge[300000];
    size_t hends[4] = {10, 20, 20 + sizeof huge - 30, sizeof huge};
    size_t n = ok ? cgf_send_datagrams(sv[0], huge, hends, 4, &err) : 0;
    ok = ok && n == 2 && err != 0;
    close(sv[0]);
    close(sv[1]);
    return ok;
}

/* Libraries loaded on first use (dl.h): a missing library and a missing symbol are named, nothing
   is left half-resolved, and a present one resolves every name. Returns 1 when all held. */
static int dl_check(void) {
    char err[256] = "";
    const char *names[] = {"rd_kafka_version", "rd_kafka_no_such_function"};
    void *slots[2] = {0};
    int ok = cgf_dl_load("libnode-metrics-missing.so.9", names, slots, 1, err, sizeof err) == -1 &&
             strstr(err, "cannot load libnode-metrics-missing.so.9") != NULL && slots[0] == NULL;
    ok = ok && cgf_dl_load("librdkafka.so.1", names, slots, 2, err, sizeof err) == -1 &&
         strcmp(err, "librdkafka.so.1 has no rd_kafka_no_such_function") == 0 && slots[0] == NULL && slots[1] == NULL;
    ok = ok && cgf_dl_load("librdkafka.so.1", names, slots, 1, err, sizeof err) == 0 && slots[0] != NULL;
    return ok;
}

/* RS256 (cgf_sign.h): PKCS#8 and PKCS#1 keys sign and the signature verifies; 1024-bit RSA, EC,
   garbage and every truncation and many byte flips of a key file (outside input) are refused or
   loaded without a memory error. Returns 1 when all held. */
static int sign_check(void) {
    char err[256];
    size_t len8 = 0, len1 = 0, lens = 0, lenec = 0;
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *small = EVP_RSA_gen(1024), *ec = EVP_EC_gen("P-256");
    char *pkcs8 = rsa ? key_pem(rsa, 0, &len8) : NULL, *pkcs1 = rsa ? key_pem(rsa, 1, &len1) : NULL;
    char *weak = small ? key_pem(small, 0, &lens) : NULL, *ecpem = ec ? key_pem(ec, 0, &lenec) : NULL;
    int ok = pkcs8 && pkcs1 && weak && ecpem && strstr(pkcs1, "BEGIN RSA PRIVATE KEY") != NULL;
    for (int form = 0; ok && form < 2; form++) {
        cgf_rsa_key *k = form ? cgf_rsa_key_load(pkcs1, len1, err, sizeof err) : cgf_rsa_key_load(pkcs8, len8, err, sizeof err);
        uint8_t sig[256];
        long n = k ? cgf_rsa_sign_sha256(k, "header.claims", 13, sig, sizeof sig, err, sizeof err) : -1;
        EVP_MD_CTX *v = EVP_MD_CTX_new();
        ok = n == 256 && v && cgf_rsa_key_bits(k) == 2048 && EVP_DigestVerifyInit(v, NULL, EVP_sha256(), NULL, rsa) == 1 &&
             EVP_DigestVerify(v, sig, (size_t)n, (const unsigned char *)"header.claims", 13) == 1;
        ok = ok && k && cgf_rsa_sign_sha256(k, "x", 1, sig, 100, err, sizeof err) == -1; /* buffer too small */
        EVP_MD_CTX_free(v);
        cgf_rsa_key_free(k);
    }
    ok = ok && !load_exact(weak, lens, err, sizeof err) && strstr(err, "1024 bits") != NULL;
    ok = ok && !load_exact(ecpem, lenec, err, sizeof err) && strstr(err, "not RSA") != NULL;
    ok = ok && !load_exact("not a key", 9, err, sizeof err) && !load_exact("", 0, err, sizeof err);
    for (size_t cut = 0; ok && cut < len8; cut += 7) load_exact(pkcs8, cut, err, sizeof err);
    for (int round = 0; ok && round < 200; round++) {
        char *m = malloc(len8);
        if (!m) break;
        memcpy(m, pkcs8, len8);
        for (int f = 0; f <= round % 4; f++) m[(size_t)((unsigned)round * 2654435761u + (unsigned)f * 97u) % len8] ^= (char)(1 + round % 127);
        load_exact(m, len8, err, sizeof err);
        free(m);
    }
    free(pkcs8); free(pkcs1); free(weak); free(ecpem);
    EVP_PKEY_free(rsa); EVP_PKEY_free(small); EVP_PKEY_free(ec);
    return ok;
}

/* The crash handler in a child: a real trap instruction (as Swift's runtime traps) must give a report
   naming this function and death by SIGILL. Returns 1 when it did. */
__attribute__((noinline)) static void crash_check_trap(void) { __builtin_trap(); }

static int crash_check(void) {
    int fds[2];
    if (pipe(fds) != 0) return 0;
    pid_t child = fork();
    if (child < 0) return 0;
    if (child == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        if (cgf_crash_install() != 0 || cgf_crash_symbol_count() <= 0) _exit(3);
        void *stack = cgf_crash_thread_enter("crash-check");
        cgf_crash_thread_leave(stack);
        crash_check_trap();
        _exit(4);
    }
    close(fds[1]);
    static char report[16384];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof report - 1 && (n = read(fds[0], report + len, sizeof report - 1 - len)) > 0) len += (size_t)n;
    report[len] = 0;
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    int ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGILL && strstr(report, "*** node-metrics: fatal signal SIGILL (4)") &&
             strstr(report, "*** backtrace: ") && strstr(report, "crash_check_trap + 0x") &&
             strstr(report, "*** end of crash report; dying of SIGILL");
    if (!ok) fprintf(stderr, "core_check: crash report wrong (status %d):\n%s\n", status, report);
    return ok;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Every parser over one input; the results are ignored: only memory safety is checked. */
static void parse_all(const char *data, size_t len) {
    char *buf = malloc(len ? len : 1); /* exact size: ASan flags any overread */
    if (!buf) abort();
    memcpy(buf, data, len);
    static cgf_kv_list kv;
    static cgf_io_table io;
    static cgf_proc_stat ps;
    static cgf_diskstats ds;
    static cgf_net_dev nd;
    static cgf_pid_status st;
    static uint64_t list[CGF_MAX_CPUS];
    cgf_psi psi;
    cgf_loadavg la;
    cgf_pid_stat pst;
    uint64_t u;
    int64_t i;
    uint32_t n;
    char text[CGF_CPUSET_MAX];
    cgf_parse_single_u64(buf, len, 1, &u);
    cgf_parse_single_u64(buf, len, 0, &u);
    cgf_parse_single_i64(buf, len, &i);
    cgf_parse_flat_keyed(buf, len, &kv);
    cgf_parse_meminfo(buf, len, &kv);
    cgf_parse_u64_list(buf, len, list, CGF_MAX_CPUS, &n);
    cgf_parse_u64_list(buf, len, list, 2, &n);
    cgf_parse_pressure(buf, len, &psi);
    cgf_parse_line_text(buf, len, text, sizeof(text));
    cgf_parse_line_text(buf, len, text, 4);
    cgf_parse_blkio(buf, len, &io);
    cgf_parse_io_stat(buf, len, &io);
    cgf_parse_proc_stat(buf, len, &ps);
    cgf_parse_loadavg(buf, len, &la);
    cgf_parse_diskstats(buf, len, &ds);
    cgf_parse_net_dev(buf, len, &nd);
    cgf_parse_pid_stat(buf, len, &pst);
    cgf_parse_pid_status(buf, len, &st);
    const char *p = buf;
    uint64_t fixed;
    cgf_parse_fixed(&p, buf + len, 2, &fixed);
    free(buf);
    inputs++;
}

static void mutate_and_parse(const char *data, size_t len, int rounds) {
    char *m = malloc(len + 64);
    if (!m) abort();
    for (int r = 0; r < rounds; r++) {
        size_t mlen = len;
        memcpy(m, data, len);
        switch (rng() % 5) {
        case 0: /* flip bytes */
            for (int k = 0; k < 4 && mlen; k++) m[rng() % mlen] ^= (char)(1u << (rng() % 8));
            break;
        case 1: /* truncate anywhere */
            mlen = mlen ? rng() % mlen : 0;
            break;
        case 2: /* a run of digits past 2^64 */
            if (mlen) {
                size_t at = rng() % mlen;
                size_t run = 25 + rng() % 30;
                if (at + run > len + 64) run = len + 64 - at;
                memset(m + at, '9', run);
                if (at + run > mlen) mlen = at + run;
            }
            break;
        case 3: /* remove newlines */
            for (size_t k = 0; k < mlen; k++) if (m[k] == '\n' && rng() % 2) m[k] = ' ';
            break;
        default: /* random garbage */
            for (size_t k = 0; k < mlen; k++) if (rng() % 8 == 0) m[k] = (char)(rng() & 0xff);
        }
        parse_all(m, mlen);
    }
    free(m);
}

static void walk(const char *dir, int rounds) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, rounds);
        } else if (S_ISREG(st.st_mode) && st.st_size < (1 << 20)) {
            int fd = open(path, O_RDONLY);
            if (fd < 0) continue;
            char *data = malloc((size_t)st.st_size + 1);
            ssize_t got = read(fd, data, (size_t)st.st_size);
            close(fd);
            if (got >= 0) {
                parse_all(data, (size_t)got);
                mutate_and_parse(data, (size_t)got, rounds);
            }
            free(data);
        }
    }
    closedir(d);
}

static int sample_tree(cgf_mode mode, const char *const mounts[CGF_CTRL_COUNT], const char *const *names) {
    static cgf_hierarchy h;
    static cgf_cgroup cg;
    static cgf_sample s;
    static cgf_spec spec;
    static char buf[64 * 1024];
    const uint64_t huge[] = {2048, 1048576};
    int opened = 0;
    if (cgf_hierarchy_open(&h, mode, mounts, huge, 2) != CGF_OK) return 0;
    for (int k = 0; names[k]; k++) {
        for (int keep = 0; keep < 2; keep++) {
            if (cgf_cgroup_open(&cg, &h, names[k], keep) == CGF_OK) {
                opened++;
                cgf_cgroup_read_sample(&cg, &s, buf, sizeof(buf));
                cgf_cgroup_read_sample(&cg, &s, buf, 16); /* a buffer too small for most files */
                cgf_cgroup_read_spec(&cg, &spec, buf, sizeof(buf));
                inputs += 3;
            }
            cgf_cgroup_close(&cg);
        }
    }
    cgf_hierarchy_close(&h);
    return opened;
}

/* -map_code_on_touch (cgf_system.h): with userfaultfd write-protection (Linux 6.7) the read-only
 * mappings are registered and their pages dropped; the code still runs, and a table of pointers —
 * relocated by the loader into RELRO, so a private copy that must not be dropped — reads the same
 * after the drop (dropping it would bring back the file's unrelocated bytes: a wild pointer). On a
 * kernel without it, nothing changes and the reason is one of the documented errors. */
static const char *const relro_names[] = {"cpu", "memory", "blkio"};

static int codepages_check(void) {
    const char *const *volatile names = relro_names;
    char before[64], after[64];
    snprintf(before, sizeof before, "%s/%s/%s", names[0], names[1], names[2]);
    int rc = cgf_map_code_on_touch();
    if (rc < 0) {
        printf("core_check: code pages: userfaultfd not available here (%s)\n", strerror(-rc));
        return rc == -EINVAL || rc == -EPERM || rc == -ENOSYS;
    }
    int dropped = cgf_drop_code_pages();
    snprintf(after, sizeof after, "%s/%s/%s", names[0], names[1], names[2]);
    return dropped > 0 && strcmp(before, "cpu/memory/blkio") == 0 && strcmp(before, after) == 0 &&
           cgf_map_code_on_touch() == -EALREADY && cgf_drop_code_pages() > 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR [MUTATIONS_PER_FILE]\n", argv[0]);
        return 2;
    }
    const char *fx = argv[1];
    int rounds = argc > 2 ? atoi(argv[2]) : 200;
    walk(fx, rounds);

    char v1[7][4096], v2[4096], hy[4096];
    const char *ctrls[] = {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", "hugetlb"};
    const char *m1[CGF_CTRL_COUNT] = {0}, *m2[CGF_CTRL_COUNT] = {0}, *mh[CGF_CTRL_COUNT] = {0};
    for (int c = 0; c < 7; c++) {
        snprintf(v1[c], sizeof(v1[c]), "%s/v1/%s", fx, ctrls[c]);
        m1[c] = mh[c] = v1[c];
    }
    snprintf(v2, sizeof(v2), "%s/v2", fx);
    snprintf(hy, sizeof(hy), "%s/hybrid-unified", fx);
    m2[CGF_CTRL_UNIFIED] = v2;
    mh[CGF_CTRL_UNIFIED] = hy;
    const char *names[] = {"/", "/docker/abc", "/bad", "/flat", "/kubepods/burstable/pod1234/abc", "/nope",
                           "/../x", "relative", "//docker/./abc", NULL};
    int fixture_cgroups = sample_tree(CGF_MODE_V1, m1, names) + sample_tree(CGF_MODE_V2, m2, names) +
                          sample_tree(CGF_MODE_HYBRID, mh, names);

    /* This host's real cgroups (v1 hybrid here) and /proc. */
    const char *live[CGF_CTRL_COUNT] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpuset",
                                        "/sys/fs/cgroup/memory", "/sys/fs/cgroup/blkio", "/sys/fs/cgroup/pids",
                                        "/sys/fs/cgroup/hugetlb", "/sys/fs/cgroup/unified"};
    const char *live_names[] = {"/", NULL};
    int live_cgroups = sample_tree(CGF_MODE_HYBRID, live, live_names);
    static cgf_procfs proc;
    static cgf_proc_stat ps;
    static cgf_kv_list kv;
    static cgf_diskstats ds;
    static cgf_net_dev nd;
    static cgf_pid_status pst;
    static char buf[256 * 1024];
    cgf_loadavg la;
    cgf_pid_stat pid;
    int proc_ok = 0;
    if (cgf_procfs_open(&proc, "/proc") == CGF_OK) {
        proc_ok += cgf_procfs_read_stat(&proc, &ps, buf, sizeof(buf)) == CGF_OK;
        proc_ok += cgf_procfs_read_meminfo(&proc, &kv, buf, sizeof(buf)) == CGF_OK;
        proc_ok += cgf_procfs_read_vmstat(&proc, &kv, buf, sizeof(buf)) == CGF_OK;
        proc_ok += cgf_procfs_read_loadavg(&proc, &la, buf, sizeof(buf)) == CGF_OK;
        proc_ok += cgf_procfs_read_diskstats(&proc, &ds, buf, sizeof(buf)) == CGF_OK;
        proc_ok += cgf_procfs_read_net_dev(&proc, 1, &nd, buf, sizeof(buf)) == CGF_OK;
        proc_ok += cgf_procfs_read_pid_stat(&proc, getpid(), &pid, buf, sizeof(buf)) == CGF_OK;
        proc_ok += cgf_procfs_read_pid_status(&proc, getpid(), &pst, buf, sizeof(buf)) == CGF_OK;
        cgf_procfs_read_stat(&proc, &ps, buf, 8); /* too small: CGF_ETOOBIG, never an overflow */
        cgf_procfs_close(&proc);
    }
    /* inotify batches: a burst of directories, read with a roomy and a minimal buffer. */
    int inotify_events = 0;
    char tmpl[] = "/tmp/nm-core-check-XXXXXX";
    if (mkdtemp(tmpl) != NULL) {
        int ifd = cgf_inotify_open();
        static cgf_dir_batch batch;
        if (ifd >= 0 && cgf_inotify_watch(ifd, tmpl) >= 0) {
            char path[256];
            for (int k = 0; k < 300; k++) {
                snprintf(path, sizeof(path), "%s/d%d", tmpl, k);
                mkdir(path, 0755);
                if (k % 3 == 0) rmdir(path);
            }
            int n;
            while ((n = cgf_inotify_read_batch(ifd, 100, &batch, buf, 300)) > 0) inotify_events += n;
            for (int k = 0; k < 300; k++) {
                snprintf(path, sizeof(path), "%s/d%d", tmpl, k);
                rmdir(path);
            }
            while ((n = cgf_inotify_read_batch(ifd, 100, &batch, buf, sizeof(buf))) > 0) inotify_events += n;
        }
        if (ifd >= 0) close(ifd);
        rmdir(tmpl);
    }
    printf("core_check: %d inotify events\n", inotify_events);

    /* Auth hashing under the sanitizers: hashes as htpasswd writes them, and inputs of every length
       around the MD5/SHA-1 block boundaries. */
    int auth_ok = cgf_password_matches("p", "$apr1$FUOpHdFT$e2lX1LGe0cLp1Qrm7d7bD/") == 0
        && cgf_password_matches("sha-pass", "{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=") == 1
        && cgf_password_matches("x", "") == 0 && cgf_password_matches("x", "$2y$bad") == 0;
    char apr[64], text[200];
    cgf_apr1("apr1-pass", "FUOpHdFT", apr);
    auth_ok = auth_ok && strcmp(apr, "$apr1$FUOpHdFT$Af9ngW6rDFlkjwuv.ygnx.") == 0;
    for (int len = 0; len < (int)sizeof(text); len++) {
        uint8_t d[20];
        memset(text, 'a' + len % 26, (size_t)len);
        cgf_md5(text, (size_t)len, d);
        cgf_sha1(text, (size_t)len, d);
        text[len] = 0;
        cgf_apr1(text, "saltsalt", apr);
    }
    printf("core_check: auth hashing %s\n", auth_ok ? "ok" : "WRONG");
    if (!auth_ok) return 1;
    int grpc_ok = grpc_check();
    printf("core_check: grpc client %s\n", grpc_ok ? "ok" : "WRONG");
    if (!grpc_ok) return 1;
    int datagram_ok = datagram_check();
    printf("core_check: datagrams through sendmmsg %s\n", datagram_ok ? "ok" : "WRONG");
    if (!datagram_ok) return 1;
    int dl_ok = dl_check();
    printf("core_check: libraries loaded on first use %s\n", dl_ok ? "ok" : "WRONG");
    if (!dl_ok) return 1;
    int sign_ok = sign_check();
    printf("core_check: RS256 signing %s\n", sign_ok ? "ok" : "WRONG");
    if (!sign_ok) return 1;
    int crash_ok = crash_check();
    printf("core_check: crash report %s\n", crash_ok ? "ok" : "WRONG");
    if (!crash_ok) return 1;
    int codepages_ok = codepages_check(); /* last: it changes how this process's code is mapped */
    printf("core_check: code mapped page by page %s\n", codepages_ok ? "ok" : "WRONG");
    if (!codepages_ok) return 1;
    printf("core_check: %lu parser inputs, %d fixture cgroup opens, %d live cgroup opens, %d/8 procfs reads ok\n",
           inputs, fixture_cgroups, live_cgroups, proc_ok);
    if (fixture_cgroups < 10 || proc_ok != 8 || inotify_events < 200) {
        fprintf(stderr, "core_check: expected the fixture cgroups and /proc to be readable\n");
        return 1;
    }
    return 0;
}
