// SPDX-License-Identifier: Apache-2.0
//
// A protobufjs message encoded in two passes: every nested message's size
// first, then the bytes, written once into one Buffer. protobufjs's own
// encode keeps a list of operations (one object per field, a fork and a
// splice per nested message) and copies it out at the end: an
// ApplyRequest of 10,000 services x 8 dests, ~90,000 messages, took it
// 200-490 ms, every one of them before the call left the client.
//
// The bytes are protobufjs's own, field for field (fast-encode.test.ts
// compares them): fields in id order, a field written when its message
// has it as an own property (what fromObject set) and it is not null, a
// repeated field when it has elements.
// The input is a message as fromObject makes it (enums as numbers,
// 64-bit integers as Longs or numbers). Types with a field this file does
// not write (maps, packed repeated scalars, fixed-width and zigzag
// integers: fulcrum.v1 has none of them) keep protobufjs's encode
// (encoderOf returns it).

import type { Field, Type } from 'protobufjs';

type Kind = 'varint' | 'varint64' | 'bool' | 'string' | 'bytes' | 'double' | 'message';

interface FieldPlan {
  name: string;
  /** The field's key (id and wire type), as a varint's bytes. */
  key: number[];
  kind: Kind;
  repeated: boolean;
  sub?: Plan;
}

type Plan = FieldPlan[];

const KINDS: Record<string, Kind> = {
  int32: 'varint', uint32: 'varint', enum: 'varint', int64: 'varint64', uint64: 'varint64',
  bool: 'bool', string: 'string', bytes: 'bytes', double: 'double',
};

const WIRE: Record<Kind, number> = { varint: 0, varint64: 0, bool: 0, double: 1, string: 2, bytes: 2, message: 2 };

function kindOf(f: Field): Kind | undefined {
  if (f.resolvedType !== null && 'fields' in f.resolvedType) return 'message';
  if (f.resolvedType !== null) return 'varint';  // an enum
  return KINDS[f.type];
}

function keyBytes(id: number, wire: number): number[] {
  const out: number[] = [];
  for (let v = (id << 3) | wire; ; v >>>= 7) {
    if (v < 0x80) return out.push(v), out;
    out.push((v & 0x7f) | 0x80);
  }
}

function planOf(type: Type, plans: Map<Type, Plan | undefined>): Plan | undefined {
  if (plans.has(type)) return plans.get(type);
  const plan: Plan = [];
  plans.set(type, plan);  // recursive types reach it while it is being made
  for (const f of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    const kind = kindOf(f.resolve());
    const packed = f.repeated && f.packed && kind !== 'message' && kind !== 'string' && kind !== 'bytes';
    if (kind === undefined || f.map || packed) return plans.set(type, undefined), undefined;
    const sub = kind === 'message' ? planOf(f.resolvedType as Type, plans) : undefined;
    if (kind === 'message' && sub === undefined) return plans.set(type, undefined), undefined;
    plan.push({ name: f.name, key: keyBytes(f.id, WIRE[kind]), kind, repeated: f.repeated, sub });
  }
  return plan;
}

const hasOwn = Object.prototype.hasOwnProperty;

function present(m: Record<string, unknown>, f: FieldPlan): boolean {
  const v = m[f.name];
  if (v === null || v === undefined) return false;
  return f.repeated ? (v as unknown[]).length > 0 : hasOwn.call(m, f.name);
}

function varintSize(v: number): number {
  if (v < 0) return 10;  // a negative int32 is sign-extended to 64 bits
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

// The halves of the last 64-bit value split64 read. Module state rather
// than an object a value: GetStats writes ~800,000 counters, each sized
// and then written.
let lo64 = 0;
let hi64 = 0;

/** Splits a 64-bit integer as protobufjs takes it (a number, a Long, a decimal string) into lo64 and hi64. */
function split64(v: unknown): void {
  // Counters are plain numbers below 2^53 (stats.ts): no BigInt for them.
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) {
    lo64 = v >>> 0;
    hi64 = Math.floor(v / 0x100000000);
  } else if (typeof v === 'object' && v !== null && 'low' in v) {
    const l = v as { low: number; high: number };
    lo64 = l.low >>> 0;
    hi64 = l.high >>> 0;
  } else {
    const n = BigInt.asUintN(64, BigInt(v as number | string));
    lo64 = Number(n & 0xffffffffn);
    hi64 = Number(n >> 32n);
  }
}

/** The varint size of the value split64 read last. */
function varint64Size(): number {
  if (hi64 === 0) return varintSize(lo64);
  let n = 5;
  for (let hi = hi64 >>> 3; hi !== 0; hi >>>= 7) n++;  // 35 bits in the first five bytes
  return n;
}

/** The bytes of one value of kind k, without its key (a message's: its length prefix and contents). */
function valueSize(f: FieldPlan, v: unknown, sizes: number[]): number {
  switch (f.kind) {
    case 'varint': return varintSize(v as number);
    case 'varint64': return split64(v), varint64Size();
    case 'bool': return 1;
    case 'double': return 8;
    case 'string': { const n = Buffer.byteLength(v as string); return varintSize(n) + n; }
    case 'bytes': { const n = (v as Uint8Array).length; return varintSize(n) + n; }
    case 'message': { const n = messageSize(f.sub as Plan, v as Record<string, unknown>, sizes); return varintSize(n) + n; }
  }
}

/** The message's size; the sizes of it and of every message in it, in the order they are written, go into sizes. */
function messageSize(plan: Plan, m: Record<string, unknown>, sizes: number[]): number {
  const at = sizes.length;
  sizes.push(0);
  let n = 0;
  for (const f of plan) {
    if (!present(m, f)) continue;
    const v = m[f.name];
    if (!f.repeated) {
      n += f.key.length + valueSize(f, v, sizes);
    } else {
      for (const x of v as unknown[]) n += f.key.length + valueSize(f, x, sizes);
    }
  }
  sizes[at] = n;
  return n;
}

class Out {
  at = 0;
  next = 0;  // the next entry of sizes
  constructor(
    readonly buf: Buffer,
    readonly sizes: number[],
  ) {}

  byte(b: number): void {
    this.buf[this.at++] = b;
  }
  varint(v: number): void {
    if (v < 0) return (lo64 = v >>> 0), (hi64 = 0xffffffff), this.varint64();
    while (v >= 0x80) this.byte((v & 0x7f) | 0x80), (v >>>= 7);
    this.byte(v);
  }
  /** The value split64 read last. */
  varint64(): void {
    let lo = lo64;
    let hi = hi64;
    while (hi !== 0 || lo >= 0x80) {
      this.byte((lo & 0x7f) | 0x80);
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.byte(lo);
  }
  value(f: FieldPlan, v: unknown): void {
    switch (f.kind) {
      case 'varint': return this.varint(v as number);
      case 'varint64': return split64(v), this.varint64();
      case 'bool': return this.byte(v ? 1 : 0);
      case 'double': this.buf.writeDoubleLE(v as number, this.at); this.at += 8; return;
      case 'string': {
        const s = v as string;
        this.varint(Buffer.byteLength(s));
        this.at += this.buf.write(s, this.at, 'utf8');
        return;
      }
      case 'bytes': {
        const b = v as Uint8Array;
        this.varint(b.length);
        this.buf.set(b, this.at);
        this.at += b.length;
        return;
      }
      case 'message': return this.message(f.sub as Plan, v as Record<string, unknown>, true);
    }
  }
  message(plan: Plan, m: Record<string, unknown>, prefixed: boolean): void {
    const size = this.sizes[this.next++];
    if (prefixed) this.varint(size);
    for (const f of plan) {
      if (!present(m, f)) continue;
      const v = m[f.name];
      if (!f.repeated) {
        this.key(f), this.value(f, v);
      } else {
        for (const x of v as unknown[]) this.key(f), this.value(f, x);
      }
    }
  }
  key(f: FieldPlan): void {
    for (const b of f.key) this.byte(b);
  }
}

const plans = new Map<Type, Plan | undefined>();

/** The encoder of messages of this type (protobufjs's own where the type has a field kind not written here). */
export function encoderOf(type: Type): (message: object) => Buffer {
  const plan = planOf(type, plans);
  if (plan === undefined) {
    return (m) => {
      const bytes = type.encode(m).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };
  }
  return (m) => {
    const sizes: number[] = [];
    const n = messageSize(plan, m as Record<string, unknown>, sizes);
    const out = new Out(Buffer.allocUnsafe(n), sizes);
    out.message(plan, m as Record<string, unknown>, false);
    return out.buf;
  };
}
