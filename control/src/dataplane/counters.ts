// SPDX-License-Identifier: Apache-2.0
//
// Zero-copy view of the workers' counter blocks. The layout (names and
// order) comes from the addon, which takes it from engine/counters.hpp,
// so no counter is listed twice.

import type { NativeAddon } from './addon';

export type CounterSet = Record<string, bigint>;

export class CounterView {
  private readonly words: BigUint64Array;
  private readonly names: string[];
  private readonly stride: number;
  readonly workers: number;

  constructor(addon: NativeAddon) {
    const layout = addon.counterNames();
    this.names = layout.names;
    this.stride = layout.stride;
    this.words = new BigUint64Array(addon.counters());
    this.workers = this.words.length / this.stride;
  }

  /** Counter names in layout order. */
  counterNames(): readonly string[] {
    return this.names;
  }

  /** One worker's counters, read now. */
  worker(index: number): CounterSet {
    const base = index * this.stride;
    const out: CounterSet = {};
    this.names.forEach((name, i) => (out[name] = this.words[base + i]));
    return out;
  }

  /** Sum over all workers. */
  total(): CounterSet {
    const out: CounterSet = {};
    for (let w = 0; w < this.workers; w++) {
      for (const [name, v] of Object.entries(this.worker(w))) out[name] = (out[name] ?? 0n) + v;
    }
    return out;
  }
}
