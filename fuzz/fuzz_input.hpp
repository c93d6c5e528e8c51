// SPDX-License-Identifier: Apache-2.0
//
// The input formats of the fuzz targets.
//
// parse_fuzz.cpp: split:u8 frame. split as below.
//
// ipvs_fuzz.cpp: a sequence of records, each one received frame plus what
// the harness does around it.
//
//   record := ctl:u8 flow:u8 clock:u8 split:u8 len:u16be frame[len]
//
//   ctl bit 0  receiving port (0 wan, 1 lan)
//   ctl bit 1  the burst ends after this frame (a burst also ends at 32
//              frames, at a change of port and at the end of the input)
//   ctl bit 2  recompute the IPv4 header checksum before feeding
//   ctl bit 3  recompute the TCP/UDP/ICMP checksum before feeding
//   ctl bit 4  after the burst, the configuration changes (once per input:
//              a new snapshot in which two dests are quiesced), as a
//              reload does under traffic
//   flow       0: the frame's addresses and ports as they are; n: rewritten
//              to known flow (n - 1) mod the harness's table, in the
//              direction the port implies (client -> VIP on wan, dest ->
//              client on lan), so that mutated frames still hit the
//              connections the harness opened
//   clock      0: no time passes; n: 2^(n mod 25) ms pass after the burst,
//              then expiry and neighbour timers run
//   split      0: one segment; n < len: the first n bytes in a first
//              segment, the rest chained behind it
//
// The checksum bits let mutated frames past validation, which otherwise
// rejects nearly all of them. A record cut short by the end of the input
// keeps the bytes that are there.
//
// Seeds (test/support/seed_dump.cpp) are written in these formats from the
// golden tests' bursts; this one header decodes and encodes, so the two
// cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fulcrum::fuzz {

inline constexpr uint8_t kCtlPort = 0x01, kCtlEndBurst = 0x02, kCtlFixIp = 0x04, kCtlFixL4 = 0x08,
                          kCtlReconfigure = 0x10;
inline constexpr size_t kRecordHeader = 6;
// Frames longer than this are cut: an mbuf of the test pools holds 2048
// bytes, and every frame the ports could deliver (MTU 1500) fits.
inline constexpr size_t kMaxFrame = 2048;

struct Record {
  uint8_t ctl = 0, flow = 0, clock = 0, split = 0;
  const uint8_t* frame = nullptr;
  size_t len = 0;

  uint16_t port() const { return ctl & kCtlPort; }
};

// Reads the record at data[pos]; false at the end of the input.
inline bool next_record(const uint8_t* data, size_t size, size_t& pos, Record& r) {
  if (size - pos < kRecordHeader) return false;
  const uint8_t* h = data + pos;
  r.ctl = h[0];
  r.flow = h[1];
  r.clock = h[2];
  r.split = h[3];
  size_t want = size_t(h[4]) << 8 | h[5];
  pos += kRecordHeader;
  r.frame = data + pos;
  r.len = want < size - pos ? want : size - pos;
  pos += r.len;
  if (r.len > kMaxFrame) r.len = kMaxFrame;
  return true;
}

// The parse target's input for frame, in one segment.
inline std::vector<uint8_t> parse_input(const uint8_t* frame, size_t len) {
  std::vector<uint8_t> out{0};
  out.insert(out.end(), frame, frame + len);
  return out;
}

inline void append_record(std::vector<uint8_t>& out, const Record& r) {
  out.insert(out.end(), {r.ctl, r.flow, r.clock, r.split, uint8_t(r.len >> 8), uint8_t(r.len)});
  out.insert(out.end(), r.frame, r.frame + r.len);
}

}  // namespace fulcrum::fuzz
