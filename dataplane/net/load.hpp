// SPDX-License-Identifier: Apache-2.0
//
// Header fields as they sit in a packet (network order), from any
// alignment: IPv4 and TCP fields are often only 2-byte aligned. A memcpy
// of a constant size is one load, read where the field is rather than
// through a copy of the header.
#pragma once

#include <cstdint>
#include <cstring>

namespace fulcrum {

inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace fulcrum
