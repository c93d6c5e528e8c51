// SPDX-License-Identifier: Apache-2.0
//
// The shape of the control plane's watchers of dataplane statistics (the
// pool watch, the passive health checks): a check() over zero-copy
// counters, run once a second by an unref'd timer so a watcher never keeps
// the process alive, and callable directly by tests.

export abstract class Watcher {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 1000) {}

  start(): void {
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One look at the counters; now is the wall clock in ms. */
  abstract check(now?: number): void;
}
