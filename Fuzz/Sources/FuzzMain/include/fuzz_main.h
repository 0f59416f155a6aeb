/* libFuzzer's driver, started from the entry point SwiftPM gives an executable target. */
#ifndef FUZZ_MAIN_H
#define FUZZ_MAIN_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
