/* The fatal-signal handler: a crash report on stderr, then death by the same signal (cgf_crash.h).
   Like the sandbox's SIGSYS counters, its state is process-wide by nature (a signal handler has no
   handle): written once by cgf_crash_install, read by the handler. */
#include "cgf_crash.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_FRAMES 64
#define MAX_MODULES 96
#define ALT_STACK_SIZE (256 * 1024)
#define WATCHDOG_SECONDS 3
#define SYM_TYPE(info) ((info) & 0xf) /* ELF32_ST_TYPE and ELF64_ST_TYPE alike */

/* The demanglers, when the binary links them (the Swift runtime always does; libstdc++ usually). */
extern char *swift_demangle(const char *mangled, size_t length, char *out, size_t *out_size, uint32_t flags)
    __attribute__((weak));
extern char *__cxa_demangle(const char *mangled, char *out, size_t *length, int *status) __attribute__((weak));

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGQUIT};

struct module {
    uintptr_t start, end; /* mapped address range of its PT_LOAD segments */
    uintptr_t bias;       /* load bias: address - bias = the address in the file (addr2line's) */
    char path[200];
};

static struct {
    int installed;
    struct module modules[MAX_MODULES];
    int module_count;
    char exe_path[256];
    uintptr_t exe_bias;
    const ElfW(Sym) *syms; /* the executable's .symtab (or .dynsym when stripped), mapped read-only */
    size_t sym_count;
    const char *strtab;
    size_t strtab_size;
    long func_count;
    int complete; /* symbols from .symtab, not .dynsym */
} crash;

static _Atomic long crashing_tid;
static volatile sig_atomic_t crash_signal;
static char demangled[2048];

/* ---- output: write(2) only, no allocation ---- */

struct out {
    char buf[1024];
    size_t len;
};

static void out_flush(struct out *o) {
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = write(STDERR_FILENO, o->buf + off, o->len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += (size_t)n;
    }
    o->len = 0;
}

static void out_char(struct out *o, char c) {
    if (o->len == sizeof o->buf) out_flush(o);
    o->buf[o->len++] = c;
}

static void out_str(struct out *o, const char *s) {
    while (*s) out_char(o, *s++);
}

static void out_strn(struct out *o, const char *s, size_t n) {
    for (size_t i = 0; i < n && s[i]; i++) out_char(o, s[i]);
}

static void out_hex(struct out *o, uintptr_t v) {
    char t[2 * sizeof v];
    int n = 0;
    do {
        t[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    out_str(o, "0x");
    while (n) out_char(o, t[--n]);
}

static void out_dec(struct out *o, long v) {
    char t[24];
    int n = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do {
        t[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) out_char(o, '-');
    while (n) out_char(o, t[--n]);
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGFPE: return "SIGFPE";
    case SIGQUIT: return "SIGQUIT";
    case SIGALRM: return "SIGALRM";
    default: return "signal";
    }
}

static const char *code_name(int sig, int code) {
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TKILL: return "SI_TKILL";
    case SI_TIMER: return "SI_TIMER";
    default: break;
    }
    switch (sig) {
    case SIGSEGV:
        switch (code) {
        case SEGV_MAPERR: return "SEGV_MAPERR";
        case SEGV_ACCERR: return "SEGV_ACCERR";
        default: return "?";
        }
    case SIGBUS:
        switch (code) {
        case BUS_ADRALN: return "BUS_ADRALN";
        case BUS_ADRERR: return "BUS_ADRERR";
        case BUS_OBJERR: return "BUS_OBJERR";
        default: return "?";
        }
    case SIGILL:
        switch (code) {
        case ILL_ILLOPC: return "ILL_ILLOPC";
        case ILL_ILLOPN: return "ILL_ILLOPN";
        case ILL_ILLADR: return "ILL_ILLADR";
        case ILL_ILLTRP: return "ILL_ILLTRP";
        case ILL_PRVOPC: return "ILL_PRVOPC";
        case ILL_PRVREG: return "ILL_PRVREG";
        case ILL_COPROC: return "ILL_COPROC";
        case ILL_BADSTK: return "ILL_BADSTK";
        default: return "?";
        }
    case SIGFPE:
        switch (code) {
        case FPE_INTDIV: return "FPE_INTDIV";
        case FPE_INTOVF: return "FPE_INTOVF";
        case FPE_FLTDIV: return "FPE_FLTDIV";
        case FPE_FLTOVF: return "FPE_FLTOVF";
        case FPE_FLTUND: return "FPE_FLTUND";
        case FPE_FLTRES: return "FPE_FLTRES";
        case FPE_FLTINV: return "FPE_FLTINV";
        case FPE_FLTSUB: return "FPE_FLTSUB";
        default: return "?";
        }
    case SIGTRAP:
        switch (code) {
        case TRAP_BRKPT: return "TRAP_BRKPT";
        case TRAP_TRACE: return "TRAP_TRACE";
        default: return "?";
        }
    default: return "?";
    }
}

static uintptr_t context_pc(const void *context) {
    const ucontext_t *uc = context;
    if (!uc) return 0;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    return 0;
#endif
}

static const struct module *module_of(uintptr_t pc) {
    for (int i = 0; i < crash.module_count; i++)
        if (pc >= crash.modules[i].start && pc < crash.modules[i].end) return &crash.modules[i];
    return NULL;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The executable's function symbol holding file address `vaddr` (sized symbols only), or NULL. */
static const ElfW(Sym) *exe_symbol(uintptr_t vaddr) {
    const ElfW(Sym) *best = NULL;
    for (size_t i = 0; i < crash.sym_count; i++) {
        const ElfW(Sym) *s = &crash.syms[i];
        int type = SYM_TYPE(s->st_info);
        if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
        if (s->st_shndx == SHN_UNDEF || s->st_size == 0 || s->st_value > vaddr) continue;
        if (vaddr - s->st_value >= s->st_size) continue;
        if (!best || s->st_value > best->st_value) best = s;
    }
    return best;
}

/* ---- dying ---- */

/* The default action for `sig`, sent to this thread and unblocked: the process ends by it. */
static void die(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    syscall(SYS_tgkill, (long)getpid(), syscall(SYS_gettid), (long)sig);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    _exit(128 + sig); /* not reached: every handled signal's default action ends the process */
}

/* The best-effort part took too long (a lock held by the crashed code: malloc, the loader). */
static void on_watchdog(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    (void)context;
    struct out o = {.len = 0};
    out_str(&o, "*** node-metrics: symbolizing timed out; dying of ");
    out_str(&o, signal_name(crash_signal));
    out_char(&o, '\n');
    out_flush(&o);
    die(crash_signal);
}

static void arm_watchdog(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_watchdog;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_sec = WATCHDOG_SECONDS;
    setitimer(ITIMER_REAL, &t, NULL);
}

/* A demangled name for `name` (the Swift runtime's or libstdc++'s demangler), or `name` itself. */
static const char *demangle(const char *name) {
    if (swift_demangle && (name[0] == '$' || (name[0] == '_' && name[1] == '$'))) {
        size_t size = sizeof demangled;
        if (swift_demangle(name, strlen(name), demangled, &size, 0)) {
            demangled[sizeof demangled - 1] = 0;
            return demangled;
        }
    }
    if (__cxa_demangle && name[0] == '_' && name[1] == 'Z') {
        int status = -1;
        char *s = __cxa_demangle(name, NULL, NULL, &status); /* leaked: the process is ending */
        if (s && status == 0) return s;
    }
    return name;
}

static void on_fatal(int sig, siginfo_t *info, void *context) {
    long tid = syscall(SYS_gettid);
    long expected = 0;
    if (!atomic_compare_exchange_strong(&crashing_tid, &expected, tid)) {
        if (expected == tid) { /* a fault inside the report itself */
            struct out o = {.len = 0};
            out_str(&o, "*** node-metrics: ");
            out_str(&o, signal_name(sig));
            out_str(&o, " inside the crash report; dying of ");
            out_str(&o, signal_name(crash_signal));
            out_char(&o, '\n');
            out_flush(&o);
            die(crash_signal);
        }
        /* Another thread is reporting; it ends the process. */
        for (;;) {
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
        }
    }
    crash_signal = sig;
    uintptr_t pc = context_pc(context);
    struct out o = {.len = 0};

    /* 1. The header. */
    char thread_name[17] = {0};
    prctl(PR_GET_NAME, thread_name, 0, 0, 0);
    out_str(&o, "*** node-metrics: fatal signal ");
    out_str(&o, signal_name(sig));
    out_str(&o, " (");
    out_dec(&o, sig);
    out_str(&o, "), code ");
    out_str(&o, code_name(sig, info ? info->si_code : 0));
    out_str(&o, " (");
    out_dec(&o, info ? info->si_code : 0);
    out_str(&o, ")");
    if (info && info->si_code <= 0) {
        out_str(&o, ", sent by pid ");
        out_dec(&o, info->si_pid);
    } else if (info) {
        out_str(&o, ", fault address ");
        out_hex(&o, (uintptr_t)info->si_addr);
    }
    out_str(&o, ", pc ");
    out_hex(&o, pc);
    out_str(&o, ", thread ");
    out_dec(&o, tid);
    out_str(&o, " \"");
    out_str(&o, thread_name);
    out_str(&o, "\", pid ");
    out_dec(&o, getpid());
    out_char(&o, '\n');
    out_flush(&o);

    /* 2. The raw frames, from the interrupted pc on (the handler's own frames are skipped). */
    void *frames[MAX_FRAMES];
    int n = backtrace(frames, MAX_FRAMES);
    int first = 0;
    for (int i = 0; i < n; i++)
        if ((uintptr_t)frames[i] == pc) {
            first = i;
            break;
        }
    out_str(&o, "*** backtrace: ");
    out_dec(&o, n - first);
    out_str(&o, " frames; ");
    out_str(&o, base_name(crash.exe_path));
    out_str(&o, " loaded at ");
    out_hex(&o, crash.exe_bias);
    out_str(&o, " (frame = module+file address; return addresses point after the call)\n");
    for (int i = first; i < n; i++) {
        uintptr_t a = (uintptr_t)frames[i];
        const struct module *m = module_of(a);
        out_str(&o, "  #");
        out_dec(&o, i - first);
        out_str(&o, " ");
        out_hex(&o, a);
        out_str(&o, " ");
        if (m) {
            out_str(&o, m == &crash.modules[0] ? base_name(m->path) : m->path);
            out_char(&o, '+');
            out_hex(&o, a - m->bias);
        } else {
            out_str(&o, "?");
        }
        out_char(&o, '\n');
    }
    out_str(&o, "*** addr2line -f -C -i -e ");
    out_str(&o, crash.exe_path);
    for (int i = first; i < n; i++) {
        uintptr_t a = (uintptr_t)frames[i];
        if (crash.module_count > 0 && module_of(a) == &crash.modules[0]) {
            out_char(&o, ' ');
            out_hex(&o, a - crash.exe_bias);
        }
    }
    out_str(&o, "   (with the unstripped binary of this build)\n");
    out_flush(&o);

    /* 3. Names, best effort: from here on the report may take locks (dladdr) and allocate
       (demangling), so a watchdog ends the process if that hangs. */
    arm_watchdog();
    out_str(&o, "*** symbols:\n");
    out_flush(&o);
    for (int i = first; i < n; i++) {
        uintptr_t a = (uintptr_t)frames[i];
        const struct module *m = module_of(a);
        const char *name = NULL;
        uintptr_t offset = 0;
        const char *where = m ? base_name(m->path) : "?";
        if (m == &crash.modules[0] && crash.module_count > 0) {
            const ElfW(Sym) *s = exe_symbol(a - crash.exe_bias);
            if (s && s->st_name < crash.strtab_size) {
                name = crash.strtab + s->st_name;
                offset = a - crash.exe_bias - s->st_value;
            }
        }
        Dl_info dl;
        if (!name && dladdr((void *)a, &dl) && dl.dli_sname) {
            name = dl.dli_sname;
            offset = a - (uintptr_t)dl.dli_saddr;
            if (dl.dli_fname) where = base_name(dl.dli_fname);
        }
        out_str(&o, "  #");
        out_dec(&o, i - first);
        out_char(&o, ' ');
        if (name) {
            out_strn(&o, demangle(name), sizeof demangled);
            out_str(&o, " + ");
            out_hex(&o, offset);
        } else {
            out_str(&o, "?");
        }
        out_str(&o, " (");
        out_str(&o, where);
        out_str(&o, ")\n");
        out_flush(&o);
    }
    out_str(&o, "*** end of crash report; dying of ");
    out_str(&o, signal_name(sig));
    out_char(&o, '\n');
    out_flush(&o);
    die(sig);
}

/* ---- install ---- */

static int collect_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    if (crash.module_count >= MAX_MODULES) return 1;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (start < lo) lo = start;
        if (start + ph->p_memsz > hi) hi = start + ph->p_memsz;
    }
    if (hi == 0) return 0;
    struct module *m = &crash.modules[crash.module_count];
    m->start = lo;
    m->end = hi;
    m->bias = info->dlpi_addr;
    /* The first object is the executable (its name is empty). */
    const char *name = crash.module_count == 0 ? crash.exe_path : (info->dlpi_name ? info->dlpi_name : "");
    if (!name[0]) name = "?";
    size_t k = 0;
    for (; k < sizeof m->path - 1 && name[k]; k++) m->path[k] = name[k];
    m->path[k] = 0;
    crash.module_count++;
    return 0;
}

/* Maps [offset, offset+size) of `fd` read-only; NULL on failure. */
static const void *map_range(int fd, uint64_t offset, uint64_t size) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || size == 0) return NULL;
    uint64_t aligned = offset & ~(uint64_t)(page - 1);
    size_t length = (size_t)(size + (offset - aligned));
    void *p = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, (off_t)aligned);
    if (p == MAP_FAILED) return NULL;
    return (const char *)p + (offset - aligned);
}

/* Maps the executable's symbol and string tables (never unmapped: the handler may need them until
   the end). Not read until a crash, so they cost address space, not memory. */
static int load_symbols(void) {
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = -ENOENT;
    struct stat st;
    ElfW(Ehdr) eh;
    if (fstat(fd, &st) != 0 || pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh) goto done;
    uint64_t file_size = (uint64_t)st.st_size;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0 ||
        eh.e_shoff > file_size || (file_size - eh.e_shoff) / sizeof(ElfW(Shdr)) < eh.e_shnum)
        goto done;
    size_t table_size = (size_t)eh.e_shnum * sizeof(ElfW(Shdr));
    const ElfW(Shdr) *sh = map_range(fd, eh.e_shoff, table_size);
    if (!sh) goto done;
    int pick = -1;
    for (int i = 0; i < eh.e_shnum; i++)
        if (sh[i].sh_type == SHT_SYMTAB) pick = i;
    if (pick < 0)
        for (int i = 0; i < eh.e_shnum; i++)
            if (sh[i].sh_type == SHT_DYNSYM) pick = i;
    if (pick >= 0) {
        const ElfW(Shdr) *sym = &sh[pick];
        const ElfW(Shdr) *str = sym->sh_link < eh.e_shnum ? &sh[sym->sh_link] : NULL;
        if (str && str->sh_type == SHT_STRTAB && sym->sh_entsize == sizeof(ElfW(Sym)) && sym->sh_offset <= file_size &&
            file_size - sym->sh_offset >= sym->sh_size && str->sh_offset <= file_size &&
            file_size - str->sh_offset >= str->sh_size && str->sh_size > 0) {
            const ElfW(Sym) *syms = map_range(fd, sym->sh_offset, sym->sh_size);
            const char *strtab = map_range(fd, str->sh_offset, str->sh_size);
            if (syms && strtab && strtab[str->sh_size - 1] == 0) {
                crash.syms = syms;
                crash.complete = sym->sh_type == SHT_SYMTAB;
                crash.sym_count = sym->sh_size / sizeof(ElfW(Sym));
                crash.strtab = strtab;
                crash.strtab_size = str->sh_size;
                for (size_t i = 0; i < crash.sym_count; i++) {
                    int type = SYM_TYPE(syms[i].st_info);
                    if ((type == STT_FUNC || type == STT_GNU_IFUNC) && syms[i].st_size > 0) crash.func_count++;
                }
                /* Counting touched every page of the table: give them back until a crash. */
                long page = sysconf(_SC_PAGESIZE);
                uintptr_t base = (uintptr_t)syms & ~(uintptr_t)(page - 1);
                madvise((void *)base, sym->sh_size + ((uintptr_t)syms - base), MADV_DONTNEED);
                rc = 0;
            }
        }
    }
    munmap((void *)((uintptr_t)sh & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1)),
           table_size + ((uintptr_t)sh & (uintptr_t)(sysconf(_SC_PAGESIZE) - 1)));
done:
    close(fd);
    return rc;
}

void *cgf_crash_thread_enter(const char *name) {
    if (name) {
        char short_name[16];
        size_t k = 0;
        for (; k < sizeof short_name - 1 && name[k]; k++) short_name[k] = name[k];
        short_name[k] = 0;
        prctl(PR_SET_NAME, short_name, 0, 0, 0);
    }
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE) && old.ss_size >= ALT_STACK_SIZE) return NULL;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return NULL;
    /* A guard page below the stack: overflowing it faults instead of overwriting memory. */
    size_t total = ALT_STACK_SIZE + (size_t)page;
    char *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) return NULL;
    mprotect(p, (size_t)page, PROT_NONE);
    stack_t ss = {.ss_sp = p + page, .ss_size = ALT_STACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(p, total);
        return NULL;
    }
    return p;
}

void cgf_crash_thread_leave(void *stack) {
    if (!stack) return;
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    long page = sysconf(_SC_PAGESIZE);
    munmap(stack, ALT_STACK_SIZE + (size_t)(page > 0 ? page : 4096));
}

int cgf_crash_install(void) {
    if (crash.installed) return 0;
    /* backtrace(3) loads libgcc_s on its first call: not something to do while crashing. */
    void *warm[4];
    backtrace(warm, 4);
    ssize_t len = readlink("/proc/self/exe", crash.exe_path, sizeof crash.exe_path - 1);
    crash.exe_path[len > 0 ? len : 0] = 0;
    if (len <= 0) strcpy(crash.exe_path, "node-metrics");
    crash.module_count = 0;
    dl_iterate_phdr(collect_module, NULL);
    if (crash.module_count > 0) crash.exe_bias = crash.modules[0].bias;
    int rc = load_symbols();
    (void)cgf_crash_thread_enter(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
        if (sigaction(fatal_signals[i], &sa, NULL) != 0) return -errno;
    crash.installed = 1;
    return rc;
}

long cgf_crash_symbol_count(void) { return crash.func_count; }

int cgf_crash_symbols_complete(void) { return crash.complete; }
