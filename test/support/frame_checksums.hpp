// SPDX-License-Identifier: Apache-2.0
//
// Recomputes the checksums of a raw Ethernet/IPv4 frame in place, however
// malformed it is: only fields that lie inside the frame are read or
// written, and a frame whose headers do not hold together is left alone.
// The fuzz harness uses it to let mutated frames past validation; the seed
// writer, to tell which golden frames have correct checksums.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fulcrum::test {

// Recomputes the IPv4 header checksum. False when there is no whole IPv4
// header (ethertype, version 4, IHL >= 5, header inside the frame).
bool fix_ip_checksum(uint8_t* frame, size_t len);

// Recomputes the TCP, UDP or ICMP checksum over the L4 bytes that are both
// inside the IP total length and inside the frame (UDP: 0 becomes 0xffff).
// False when there is no whole IPv4 header or no room for the field.
bool fix_l4_checksum(uint8_t* frame, size_t len);

}  // namespace fulcrum::test
