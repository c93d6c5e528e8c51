// SPDX-License-Identifier: Apache-2.0
//
// A service as the control plane sends it: one array of 32-bit words
// (control/src/dataplane/spec-table.ts writes it). Read field by field
// from a JavaScript object, 10,000 services of ~30 fields and 80,000 dests
// of 8 were most of what the binding cost an Apply; one array per service
// costs it one call.
//
// The array: the service words, then kExtraWords per further endpoint,
// kLaddrWords per local address and kDestWords per dest, to the end.
// Addresses are host-order numbers; names are indexes into the lists
// below (the scheduler: into scheduler_names()). The addon exports these
// lists (specLayout()), and the control plane refuses to start when its
// own differ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>

#include "ctrl/snapshot_build.hpp"

namespace fulcrum {

inline constexpr const char* kServiceWordNames[] = {
    "id", "proto", "vip", "port", "scheduler", "mhTableSize", "mhHashPort", "mhFallback", "lblcExpireMs",
    "lblcrShrinkMs", "persistMs", "persistMask", "expireNodest", "synproxy", "tcp", "tcpfin", "udp",
    "clientAddress", "extras", "laddrs"};
enum ServiceWord : size_t {
  kSvcId, kSvcProto, kSvcVip, kSvcPort, kSvcScheduler, kSvcMhTableSize, kSvcMhHashPort, kSvcMhFallback,
  kSvcLblcExpireMs, kSvcLblcrShrinkMs, kSvcPersistMs, kSvcPersistMask, kSvcExpireNodest, kSvcSynproxy,
  kSvcTcp, kSvcTcpfin, kSvcUdp, kSvcClientAddress, kSvcExtras, kSvcLaddrs, kServiceWords};
static_assert(std::size(kServiceWordNames) == kServiceWords);

inline constexpr const char* kExtraWordNames[] = {"proto", "vip", "port"};
inline constexpr size_t kExtraWords = std::size(kExtraWordNames);
inline constexpr const char* kLaddrWordNames[] = {"id", "ip"};
inline constexpr size_t kLaddrWords = std::size(kLaddrWordNames);

inline constexpr const char* kDestWordNames[] = {"id", "ip", "port", "fwd", "weight", "upper", "lower", "available"};
enum DestWord : size_t { kDestId, kDestIp, kDestPort, kDestFwd, kDestWeight, kDestUpper, kDestLower, kDestAvailable, kDestWords };
static_assert(std::size(kDestWordNames) == kDestWords);

// What a dest's fwd word and the clientAddress word index.
inline constexpr std::pair<const char*, FwdMode> kFwdModes[] = {
    {"nat", FwdMode::kNat}, {"dr", FwdMode::kDr}, {"tun", FwdMode::kTun},
    {"fullnat", FwdMode::kFullnat}, {"snat", FwdMode::kSnat}};
inline constexpr std::pair<const char*, ClientAddr> kClientAddrs[] = {
    {"none", ClientAddr::kNone}, {"toa", ClientAddr::kToa}, {"proxy_v2", ClientAddr::kProxyV2}};

// The service in words [w, w + n). False, with err naming the word, when
// the array is not one the control plane could have written.
bool read_service_spec(const uint32_t* w, size_t n, ServiceSpec& out, std::string& err);

}  // namespace fulcrum
