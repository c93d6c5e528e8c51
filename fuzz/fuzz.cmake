# SPDX-License-Identifier: Apache-2.0
#
# The fuzz build (FULCRUM_FUZZ=ON, its own build directory, clang): every
# target of the tree is compiled with libFuzzer's coverage instrumentation
# and checked by AddressSanitizer and UndefinedBehaviorSanitizer, so the
# dataplane code the fuzzers drive is both guided and checked. Any
# sanitizer report aborts (no recovery), which libFuzzer records as a crash.
# Included from the top-level CMakeLists.txt before any target exists.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "FULCRUM_FUZZ=ON needs clang: configure with CC=clang CXX=clang++ "
                      "(scripts/fuzz.sh does)")
endif()
add_compile_options(-fsanitize=address,undefined -fsanitize=fuzzer-no-link
                    -fno-sanitize-recover=all -fno-omit-frame-pointer -g
                    -Wno-unknown-warning-option)  # GCC-only pragmas in the dataplane
add_link_options(-fsanitize=address,undefined)
