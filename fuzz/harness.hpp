// SPDX-License-Identifier: Apache-2.0
//
// What every fuzz target needs: EAL, started once from LLVMFuzzerInitialize
// as the tests start it (test/support/test_eal.hpp), or the process ends
// with a clear message, since no input can run without it; and a way to
// stop on a broken invariant.
#pragma once

namespace fulcrum::fuzz {

void init_or_exit(const char* program);

// Prints what went wrong and aborts, which libFuzzer records as a crash
// with the input that caused it. For broken invariants, not bad input.
[[noreturn]] void fail(const char* what);

}  // namespace fulcrum::fuzz
