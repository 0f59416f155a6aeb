/* Libraries loaded on first use: see dl.h. */
#include "dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int cgf_dl_load(const char *soname, const char *const *names, void **slots, size_t count,
                char *err, size_t errlen) {
    pthread_mutex_lock(&lock);
    int rc = 0;
    if (count > 0 && slots[count - 1] == NULL) { /* not yet loaded (the last slot is set last) */
        void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char *why = dlerror();
            if (errlen > 0) snprintf(err, errlen, "cannot load %s: %s", soname, why ? why : "unknown error");
            rc = -1;
        }
        for (size_t i = 0; rc == 0 && i < count; i++) {
            void *symbol = dlsym(handle, names[i]);
            if (!symbol) {
                if (errlen > 0) snprintf(err, errlen, "%s has no %s", soname, names[i]);
                for (size_t j = 0; j < i; j++) slots[j] = NULL;
                rc = -1;
            } else {
                slots[i] = symbol;
            }
        }
        /* A failed load keeps the library mapped when it opened (dlclose of a library that started
         * threads is not safe); the next call tries again and fails the same way. */
    }
    pthread_mutex_unlock(&lock);
    return rc;
}
