// SPDX-License-Identifier: Apache-2.0
//
// The capture that keeps bench/control's worker busy: net_pcap replays it
// forever (infinite_rx), the worker answers every frame. One ARP reply from
// the peer 10.0.0.1 (so replies need no resolution), then `frames` ICMP
// echo requests to the port's own 10.0.0.2, 60 bytes each: the same
// workload as bench/fastpath's "echo" row, written here so this benchmark
// needs no C++ build.

import { writeFileSync } from 'node:fs';

// net_pcap's first port has MAC 02:70:63:61:70:00 ("\x02pcap" and its index).
const OUR_MAC = [0x02, 0x70, 0x63, 0x61, 0x70, 0x00];
const PEER_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const OUR_IP = [10, 0, 0, 2];
const PEER_IP = [10, 0, 0, 1];
const FRAME = 60;

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(type: number): Buffer {
  const f = Buffer.alloc(FRAME);
  Buffer.from(OUR_MAC).copy(f, 0);
  Buffer.from(PEER_MAC).copy(f, 6);
  f.writeUInt16BE(type, 12);
  return f;
}

function arpReply(): Buffer {
  const f = ethernet(0x0806);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(2, 20);
  Buffer.from([...PEER_MAC, ...PEER_IP, ...OUR_MAC, ...OUR_IP]).copy(f, 22);
  return f;
}

function echoRequest(i: number): Buffer {
  const f = ethernet(0x0800);
  const ip = f.subarray(14, 34);
  ip[0] = 0x45;
  ip.writeUInt16BE(FRAME - 14, 2);
  ip.writeUInt16BE(i & 0xffff, 4);
  ip[8] = 64;
  ip[9] = 1;
  Buffer.from([...PEER_IP, ...OUR_IP]).copy(ip, 12);
  ip.writeUInt16BE(checksum(ip), 10);
  const icmp = f.subarray(34);
  icmp[0] = 8;
  icmp.writeUInt16BE(0x100 + (i >> 6), 4);
  icmp.writeUInt16BE(i & 63, 6);
  icmp.writeUInt16BE(checksum(icmp), 2);
  return f;
}

export function writeEchoPcap(file: string, frames = 1024): void {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // Ethernet
  const records = [arpReply(), ...Array.from({ length: frames }, (_, i) => echoRequest(i))].map((f) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    return Buffer.concat([rec, f]);
  });
  writeFileSync(file, Buffer.concat([header, ...records]));
}
