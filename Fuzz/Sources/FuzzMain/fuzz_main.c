/*
 * SwiftPM links an executable target with its entry point renamed to `<product>_main` (so tests can
 * import the module) and defines `main` as that symbol; a fuzz target has no main of its own
 * (-parse-as-library), so this one runs libFuzzer's driver on the Swift LLVMFuzzerTestOneInput.
 * Where SwiftPM does not rename, libFuzzer's own main is used and this function is unused.
 */
#include "fuzz_main.h"

int fuzz_router_main(int argc, char **argv);

int fuzz_router_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }
