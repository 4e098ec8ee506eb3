#ifndef CFUZZER_DRIVER_H
#define CFUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): parses libFuzzer's flags
/// from argv and fuzzes `callback`. SwiftPM links each executable with `main` bound to
/// `<Module>_main`, so every fuzz target defines that and calls this, instead of relying on
/// libFuzzer's own `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*callback)(const uint8_t *data, size_t size));

#endif
