// SPDX-License-Identifier: Apache-2.0
//
// Zero-copy views of the workers' statistics: the per-lcore counters and
// the per-service and per-dest rows. Each is one ArrayBuffer over the
// engine's memory: for every worker, `rows` rows of `stride` 64-bit words,
// whose first words are named (names and order come from the addon, which
// takes them from the C++ X-macro lists, so no layout is written twice).

import { endianness } from 'node:os';

export type CounterSet = Record<string, bigint>;

/**
 * A counter's value: a number while it is exact (below 2^53, which a sum
 * of doubles tells apart), a bigint above. Numbers cost no allocation, and
 * nearly every counter is one; bytes pass 2^53 after days at 100 Gbit/s.
 */
export type U64 = number | bigint;

/** Every field of some rows, each summed over the workers, read at one instant. */
export class RowSums {
  constructor(
    private readonly stride: number,
    private readonly values: Float64Array,
    /** The sums above 2^53, exact, by index into values. */
    private readonly large: ReadonlyMap<number, bigint>,
  ) {}

  /** Field `field` of the `row`th row sampled. */
  get(row: number, field: number): U64 {
    const i = row * this.stride + field;
    // Nearly always empty: no lookup per value then.
    return this.large.size === 0 ? this.values[i] : (this.large.get(i) ?? this.values[i]);
  }
}

export interface StatLayout {
  names: string[];
  /** 64-bit words per row. */
  stride: number;
}

export class StatView {
  private readonly words: BigUint64Array;
  // The same words as 32-bit halves, low half first (the dataplane runs on
  // little-endian CPUs only): sumNumber() reads them without a BigInt each.
  private readonly halves: Uint32Array;
  readonly workers: number;

  constructor(
    buffer: ArrayBuffer,
    private readonly layout: StatLayout,
    /** Rows per worker (1 for counters, max ids for services and dests). */
    readonly rows: number,
  ) {
    if (endianness() !== 'LE') throw new Error('statistics views need a little-endian CPU');
    this.words = new BigUint64Array(buffer);
    this.halves = new Uint32Array(buffer);
    this.workers = this.words.length / (layout.stride * rows);
  }

  names(): readonly string[] {
    return this.layout.names;
  }

  /** One worker's row, read now. */
  row(worker: number, row = 0): CounterSet {
    const base = (worker * this.rows + row) * this.layout.stride;
    const out: CounterSet = {};
    this.layout.names.forEach((name, i) => (out[name] = this.words[base + i]));
    return out;
  }

  /** The position of a named field in a row. */
  field(name: string): number {
    const i = this.layout.names.indexOf(name);
    if (i < 0) throw new Error(`no statistic '${name}'`);
    return i;
  }

  /** One field of a row summed over the workers, without building objects. */
  sum(row: number, field: number): bigint {
    let total = 0n;
    for (let w = 0; w < this.workers; w++) total += this.words[(w * this.rows + row) * this.layout.stride + field];
    return total;
  }

  /**
   * sum() as a double, as Prometheus keeps every value: exact below 2^53,
   * and several times faster than BigInt arithmetic (a /metrics scrape
   * reads 700,000 of them at 10,000 services x 8 dests).
   */
  sumNumber(row: number, field: number): number {
    let total = 0;
    const step = this.rows * this.layout.stride * 2;
    for (let w = 0, i = (row * this.layout.stride + field) * 2; w < this.workers; w++, i += step) total += this.double(i);
    return total;
  }

  /**
   * One field summed over every row of one worker (e.g. a worker's
   * connections over all dest ids), as a double like sumNumber(): it runs
   * on every scrape, over every dest id the dataplane has room for.
   */
  columnSum(worker: number, field: number): number {
    let total = 0;
    const stride = this.layout.stride * 2;
    const end = (worker + 1) * this.rows * stride;
    for (let i = (worker * this.rows * this.layout.stride + field) * 2; i < end; i += stride) total += this.double(i);
    return total;
  }

  /**
   * The word whose low half is halves[i], as a double. A worker may carry
   * into the high half between the two reads (a value 2^32 short): when
   * the high half read again differs, the low half is read again with it.
   */
  private double(i: number): number {
    const high = this.halves[i + 1];
    const low = this.halves[i];
    const again = this.halves[i + 1];
    return again === high ? high * 4294967296 + low : again * 4294967296 + this.halves[i];
  }

  /**
   * Every named field of these rows summed over the workers, in one pass
   * with no object per value: what GetStats reads of 80,000 dests. A sum
   * that passes 2^53 is summed again as a bigint, exactly.
   */
  sums(rows: readonly number[]): RowSums {
    const fields = this.layout.names.length;
    const values = new Float64Array(rows.length * fields);
    const large = new Map<number, bigint>();
    rows.forEach((row, r) => {
      for (let f = 0; f < fields; f++) {
        const total = this.sumNumber(row, f);
        values[r * fields + f] = total;
        if (total > Number.MAX_SAFE_INTEGER) large.set(r * fields + f, this.sum(row, f));
      }
    });
    return new RowSums(fields, values, large);
  }

  /** A row summed over all workers. */
  total(row = 0): CounterSet {
    const out: CounterSet = {};
    this.layout.names.forEach((name, i) => (out[name] = this.sum(row, i)));
    return out;
  }
}
