// SPDX-License-Identifier: Apache-2.0
//
// writeFileDurable(path, parts, append): creates (or truncates; with
// append, adds to the end of) path with mode 0600, writes the Uint8Arrays
// of parts in order, fsyncs and closes it,
// all as one job on libuv's thread pool; returns a promise that settles
// when the bytes are on disk, rejected with "open PATH: REASON" (or
// write, fsync, close) on failure.
//
// Why one job: the state file's save (control/src/state/file.ts) starts
// before the dataplane's snapshot is built and published, which holds the
// JavaScript thread for hundreds of milliseconds at 10,000 services. A
// chain of fs promises (open, writev, fsync, close) advances one step per
// turn of the event loop, so it would wait for the build; one job runs
// beside it. The job freezes the array of parts and holds it (so their
// memory lives until it is done); the caller does not write into their
// bytes until the promise settles.
#pragma once

#include <napi.h>

namespace fulcrum {

Napi::Value write_file_durable(const Napi::CallbackInfo& info);

}  // namespace fulcrum
