/* The seccomp sandbox: allow-list, EPERM for the rest through a SIGSYS handler, per-call counts. */
#include "cgf_sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

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

int cgf_sandbox_confine(const char *const *names, int count, int *unknown) {
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
