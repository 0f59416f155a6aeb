/*
 * CCgroupFast — the fatal-signal handler: on SIGSEGV, SIGBUS, SIGILL, SIGTRAP (Swift's runtime traps),
 * SIGABRT, SIGFPE or SIGQUIT it writes a report to stderr and lets the process die of that signal.
 *
 * It replaces the Swift runtime's backtracer, which cannot run inside the seccomp sandbox (it
 * executes a helper). The report, in the order it is written:
 *   1. a header line: signal name and number, si_code, fault address, pc, thread id and name;
 *   2. the raw frames (backtrace(3)), each as `module+offset`, with the executable's load base and an
 *      addr2line command line — written with write(2) only, from data gathered at install time;
 *   3. best effort, under a 3 s watchdog (setitimer): each frame's symbol, from the executable's own
 *      symbol table (mapped at install time, before the sandbox) or dladdr(3), demangled by the Swift
 *      runtime (swift_demangle) or libstdc++ (__cxa_demangle) when linked in.
 * Then the handler is reset to the default action and the signal re-raised (tgkill to the thread
 * itself), so the process ends by the original signal (exit status 128+n), never by SIGSYS.
 * SIGSYS is not touched: it belongs to the sandbox.
 */
#ifndef CGF_CRASH_H
#define CGF_CRASH_H

#ifdef __cplusplus
extern "C" {
#endif

/** Installs the handler for the fatal signals, after loading what a report needs (the executable's
    symbol table and module list, backtrace(3)'s unwinder) and giving the calling thread an alternate
    signal stack. Call once, early in the daemon's main thread, after the Swift runtime started (its
    handlers are replaced). Returns 0, or a negative errno (the handlers are installed all the same
    when only the symbol table could not be read: `-ENOENT` then means "raw frames only"). */
int cgf_crash_install(void);

/** How many function symbols of the executable the report can name (0: none). */
long cgf_crash_symbol_count(void);

/** 1 when those come from the full symbol table (.symtab): every function is named. 0 when the binary
    is stripped and only its dynamic symbols (.dynsym, the exported functions) are left. */
int cgf_crash_symbols_complete(void);

/** Gives the calling thread an alternate signal stack, so a stack overflow on it is reported too, and
    `name` (NULL: unchanged; at most 15 bytes are kept) as the thread name crash reports show. Returns
    the stack to pass to cgf_crash_thread_leave before the thread ends (NULL: none). */
void *cgf_crash_thread_enter(const char *name);

/** Removes and frees the calling thread's alternate signal stack from cgf_crash_thread_enter. */
void cgf_crash_thread_leave(void *stack);

#ifdef __cplusplus
}
#endif
#endif
