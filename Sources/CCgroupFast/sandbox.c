/* The seccomp sandbox: allow-list, EPERM for the rest through a SIGSYS handler, per-call counts. */
#include "cgf_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static _Atomic uint64_t denied[CGF_SANDBOX_MAX_SYSCALL + 1];

/* Runs on the thread whose call was refused: count it and make the call return -EPERM. Only
   async-signal-safe work here. */
static void on_sigsys(int sig, siginfo_t *info, void *context) {
    (void)sig;
    int nr = info->si_syscall;
    if (nr < 0 || nr > CGF_SANDBOX_MAX_SYSCALL) nr = CGF_SANDBOX_MAX_SYSCALL;
    atomic_fetch_add_explicit(&denied[nr], 1, memory_order_relaxed);
    ucontext_t *uc = context;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
    uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#else
    (void)uc;
#endif
}

/* Namespace flags: never with a thread (the kernel refuses most such mixes anyway). */
#define NAMESPACE_FLAGS                                                                                          \
    ((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |     \
                CLONE_NEWNET))
/* The open(2) flag bits that make an open more than a read. (O_TMPFILE needs a write access mode.) */
#define WRITE_OPEN_FLAGS ((uint64_t)(O_ACCMODE | O_CREAT | O_TRUNC))

/* The calls allowed only with checked arguments, and the two answered "not implemented". */
static int add_checked_rules(scmp_filter_ctx ctx, unsigned options) {
    int rc = 0;
    /* Opens read-only: the access mode O_RDONLY, no O_CREAT, no O_TRUNC. With
       CGF_SANDBOX_WRITE_OPENS also O_WRONLY of an existing file (still no O_CREAT, O_TRUNC, O_RDWR). */
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, WRITE_OPEN_FLAGS, 0));
    if (rc == 0 && (options & CGF_SANDBOX_WRITE_OPENS))
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, WRITE_OPEN_FLAGS, (uint64_t)O_WRONLY));
#ifdef __NR_open
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, WRITE_OPEN_FLAGS, 0));
    if (rc == 0 && (options & CGF_SANDBOX_WRITE_OPENS))
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, WRITE_OPEN_FLAGS, (uint64_t)O_WRONLY));
#endif
    /* openat2 keeps its flags in a struct the filter cannot read; glibc never calls it for open(). */
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0);
    /* Threads only: clone with CLONE_THREAD and no namespace flag (fork is a clone without it). */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, (uint64_t)CLONE_THREAD | NAMESPACE_FLAGS, (uint64_t)CLONE_THREAD));
    /* clone3's flags are in a struct too: ENOSYS makes glibc's pthread_create fall back to clone. */
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    /* Signals only to this process (raise, the crash handler's re-raise). tkill names a thread of
       any process and is not allowed (glibc uses tgkill). */
    uint64_t self = (uint64_t)getpid();
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, self));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, self));
    /* Resource limits read, never set (glibc's getrlimit is prlimit64 with no new limit). */
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, SCMP_A2(SCMP_CMP_EQ, 0, 0));
    return rc;
}

int cgf_sandbox_confine(const char *const *names, int count, unsigned options, int *unknown) {
#if defined(__x86_64__) || defined(__aarch64__)
    /* A trap whose handler turns the call into EPERM, so the agent learns which call was refused. */
    uint32_t deny = SCMP_ACT_TRAP;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0) return -errno;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
#else
    uint32_t deny = SCMP_ACT_ERRNO(EPERM); /* no handler for this architecture: plain EPERM */
#endif
    scmp_filter_ctx ctx = seccomp_init(deny);
    if (!ctx) return -ENOMEM;
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    int skipped = 0;
    for (int i = 0; rc == 0 && i < count; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR) {
            skipped++;
            continue;
        }
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (rc == -EDOM || rc == -EINVAL) { /* a pseudo call this architecture lacks */
            skipped++;
            rc = 0;
        }
    }
    if (rc == 0) rc = add_checked_rules(ctx, options);
    /* The signal return path must always work. */
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigreturn), 0);
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (unknown) *unknown = skipped;
    return rc;
}

uint64_t cgf_sandbox_denied(int nr) {
    if (nr < 0 || nr > CGF_SANDBOX_MAX_SYSCALL) return 0;
    return atomic_load_explicit(&denied[nr], memory_order_relaxed);
}

void cgf_sandbox_syscall_name(int nr, char *out, int cap) {
    if (cap <= 0) return;
    out[0] = 0;
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (name) {
        strncpy(out, name, (size_t)cap - 1);
        out[cap - 1] = 0;
        free(name);
    }
}

/* ---- probes (the test hook): each forbidden kind of call tried for real ---- */

static void probe_record(struct cgf_sandbox_probe *out, int cap, int *n, const char *name, long rc, int err,
                         int expected) {
    if (*n >= cap) return;
    struct cgf_sandbox_probe *p = &out[(*n)++];
    memset(p, 0, sizeof *p);
    size_t k = 0;
    for (; k < sizeof p->name - 1 && name[k]; k++) p->name[k] = name[k];
    p->name[k] = 0;
    p->result = rc;
    p->error = rc < 0 ? err : 0;
    p->expected_error = expected;
}

static void *probe_thread(void *arg) { return arg; }

/* A process created by a probe the sandbox should have refused: leave at once. */
static void probe_child_exit(void) { syscall(SYS_exit_group, 0); }

int cgf_sandbox_run_probes(const char *scratch_path, unsigned options, struct cgf_sandbox_probe *out, int cap) {
    int n = 0;
    long rc;
    pid_t self = getpid();

    rc = syscall(SYS_openat, AT_FDCWD, scratch_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    probe_record(out, cap, &n, "openat O_WRONLY|O_CREAT", rc, errno, EPERM);
    if (rc >= 0) close((int)rc);
    rc = syscall(SYS_openat, AT_FDCWD, "/proc/self/comm", O_RDWR | O_CLOEXEC);
    probe_record(out, cap, &n, "openat O_RDWR", rc, errno, EPERM);
    if (rc >= 0) close((int)rc);
    rc = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_TRUNC | O_CLOEXEC);
    probe_record(out, cap, &n, "openat O_RDONLY|O_TRUNC", rc, errno, EPERM);
    if (rc >= 0) close((int)rc);
    /* The one file the agent writes (referenced_memory's reset), allowed only with the option. */
    rc = syscall(SYS_openat, AT_FDCWD, "/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    probe_record(out, cap, &n, "openat O_WRONLY clear_refs", rc, errno, (options & CGF_SANDBOX_WRITE_OPENS) ? 0 : EPERM);
    if (rc >= 0) close((int)rc);
#ifdef SYS_open
    rc = syscall(SYS_open, scratch_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    probe_record(out, cap, &n, "open O_WRONLY|O_CREAT", rc, errno, EPERM);
    if (rc >= 0) close((int)rc);
#endif
    rc = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
    probe_record(out, cap, &n, "openat O_RDONLY", rc, errno, 0);
    if (rc >= 0) close((int)rc);
#ifdef SYS_openat2
    struct {
        uint64_t flags, mode, resolve;
    } how = {O_RDONLY | O_CLOEXEC, 0, 0};
    rc = syscall(SYS_openat2, AT_FDCWD, "/proc/self/status", &how, sizeof how);
    probe_record(out, cap, &n, "openat2", rc, errno, ENOSYS);
    if (rc >= 0) close((int)rc);
#endif

    rc = fork(); /* glibc: clone(SIGCHLD | CLONE_CHILD_*), no CLONE_THREAD */
    if (rc == 0) probe_child_exit();
    probe_record(out, cap, &n, "fork (clone without CLONE_THREAD)", rc, errno, EPERM);
#ifdef SYS_fork
    rc = syscall(SYS_fork);
    if (rc == 0) probe_child_exit();
    probe_record(out, cap, &n, "fork", rc, errno, EPERM);
#endif
    rc = syscall(SYS_clone, (unsigned long)(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWNET), NULL, NULL, NULL,
                 NULL);
    if (rc == 0) probe_child_exit();
    probe_record(out, cap, &n, "clone CLONE_THREAD|CLONE_NEWNET", rc, errno, EPERM);
#ifdef SYS_clone3
    struct {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    } args = {0, 0, 0, 0, SIGCHLD, 0, 0, 0};
    rc = syscall(SYS_clone3, &args, sizeof args);
    if (rc == 0) probe_child_exit();
    probe_record(out, cap, &n, "clone3", rc, errno, ENOSYS);
#endif
    pthread_t thread;
    int prc = pthread_create(&thread, NULL, probe_thread, NULL);
    if (prc == 0) pthread_join(thread, NULL);
    probe_record(out, cap, &n, "pthread_create", prc == 0 ? 0 : -1, prc, 0);

    rc = syscall(SYS_kill, 1, 0);
    probe_record(out, cap, &n, "kill(1, 0)", rc, errno, EPERM);
    rc = syscall(SYS_kill, getppid(), 0);
    probe_record(out, cap, &n, "kill(parent, 0)", rc, errno, EPERM);
    rc = syscall(SYS_kill, 0, 0);
    probe_record(out, cap, &n, "kill(0, 0)", rc, errno, EPERM);
    rc = syscall(SYS_kill, self, 0);
    probe_record(out, cap, &n, "kill(self, 0)", rc, errno, 0);
    rc = syscall(SYS_tgkill, 1, 1, 0);
    probe_record(out, cap, &n, "tgkill(1, 1, 0)", rc, errno, EPERM);
    rc = syscall(SYS_tgkill, self, syscall(SYS_gettid), 0);
    probe_record(out, cap, &n, "tgkill(self, self, 0)", rc, errno, 0);
    rc = syscall(SYS_tkill, syscall(SYS_gettid), 0);
    probe_record(out, cap, &n, "tkill(self, 0)", rc, errno, EPERM);

    /* A path that does not exist: outside the sandbox this is ENOENT, never a new program. */
    char *const argv[] = {"node-metrics-probe", NULL};
    struct rlimit limit;
    rc = getrlimit(RLIMIT_NOFILE, &limit);
    probe_record(out, cap, &n, "getrlimit", rc, errno, 0);
    if (rc == 0) {
        rc = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &limit, NULL); /* the same limit: harmless if allowed */
        probe_record(out, cap, &n, "prlimit64 set", rc, errno, EPERM);
    }

    rc = syscall(SYS_execve, "/nonexistent/node-metrics-probe", argv, argv + 1);
    probe_record(out, cap, &n, "execve", rc, errno, EPERM);
#ifdef SYS_execveat
    rc = syscall(SYS_execveat, AT_FDCWD, "/nonexistent/node-metrics-probe", argv, argv + 1, 0);
    probe_record(out, cap, &n, "execveat", rc, errno, EPERM);
#endif
    return n;
}
