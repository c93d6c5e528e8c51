// SPDX-License-Identifier: Apache-2.0
#include "ctrl/spec_table.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <vector>

#include "sched/scheduler.hpp"

namespace fulcrum {
namespace {

bool fail(std::string& err, const std::string& what) {
  err = "packed service: " + what;
  return false;
}

bool read_proto(uint32_t word, uint8_t& proto) {
  if (word != IPPROTO_TCP && word != IPPROTO_UDP) return false;
  proto = uint8_t(word);
  return true;
}

bool read_dests(const uint32_t* w, size_t n, std::vector<DestSpec>& out, std::string& err) {
  if (n % kDestWords != 0) return fail(err, "the dests are not a whole number of " + std::to_string(kDestWords) + " words");
  out.reserve(n / kDestWords);
  for (const uint32_t* d = w; d < w + n; d += kDestWords) {
    if (d[kDestFwd] >= std::size(kFwdModes)) return fail(err, "unknown forward mode " + std::to_string(d[kDestFwd]));
    out.push_back(DestSpec{d[kDestId], htonl(d[kDestIp]), htons(uint16_t(d[kDestPort])), kFwdModes[d[kDestFwd]].second,
                           d[kDestWeight], d[kDestUpper], d[kDestLower], d[kDestAvailable] != 0});
  }
  return true;
}

// The service words but the counts.
bool read_head(const uint32_t* w, ServiceSpec& out, std::string& err) {
  static const std::vector<std::string> schedulers = scheduler_names();
  out.id = w[kSvcId];
  if (!read_proto(w[kSvcProto], out.proto)) return fail(err, "unknown protocol " + std::to_string(w[kSvcProto]));
  out.vip = htonl(w[kSvcVip]);
  out.vport = htons(uint16_t(w[kSvcPort]));
  if (w[kSvcScheduler] >= schedulers.size()) return fail(err, "unknown scheduler " + std::to_string(w[kSvcScheduler]));
  out.scheduler = schedulers[w[kSvcScheduler]];
  out.sched_opts.mh_table_size = w[kSvcMhTableSize];
  out.sched_opts.mh_hash_port = w[kSvcMhHashPort] != 0;
  out.sched_opts.mh_fallback = w[kSvcMhFallback] != 0;
  out.sched_opts.lblc_expire_ms = w[kSvcLblcExpireMs];
  out.sched_opts.lblcr_shrink_ms = w[kSvcLblcrShrinkMs];
  out.persist_ms = w[kSvcPersistMs];
  out.persist_mask = htonl(w[kSvcPersistMask]);
  out.expire_nodest = w[kSvcExpireNodest] != 0;
  out.synproxy = w[kSvcSynproxy] != 0;
  out.timeouts = TimeoutSet{w[kSvcTcp], w[kSvcTcpfin], w[kSvcUdp]};
  if (w[kSvcClientAddress] >= std::size(kClientAddrs))
    return fail(err, "unknown client address mode " + std::to_string(w[kSvcClientAddress]));
  out.client_addr = kClientAddrs[w[kSvcClientAddress]].second;
  return true;
}

}  // namespace

bool read_service_spec(const uint32_t* w, size_t n, ServiceSpec& out, std::string& err) {
  if (n < kServiceWords) return fail(err, std::to_string(n) + " words, fewer than the " + std::to_string(kServiceWords) + " of its head");
  // 64-bit sums: counts near 2^32 must not wrap into a length that fits.
  uint64_t extras = w[kSvcExtras], laddrs = w[kSvcLaddrs];
  uint64_t body = kServiceWords + extras * kExtraWords + laddrs * kLaddrWords;
  if (body > n) return fail(err, std::to_string(extras) + " endpoints and " + std::to_string(laddrs) + " local addresses do not fit in " + std::to_string(n) + " words");
  if (!read_head(w, out, err)) return false;
  const uint32_t* e = w + kServiceWords;
  for (uint64_t k = 0; k < extras; k++, e += kExtraWords) {
    Endpoint ep{};
    if (!read_proto(e[0], ep.proto)) return fail(err, "endpoint " + std::to_string(k) + ": unknown protocol " + std::to_string(e[0]));
    ep.vip = htonl(e[1]);
    ep.vport = htons(uint16_t(e[2]));
    out.extra.push_back(ep);
  }
  for (uint64_t k = 0; k < laddrs; k++, e += kLaddrWords) out.laddrs.push_back(Laddr{e[0], htonl(e[1])});
  return read_dests(e, n - body, out.dests, err);
}

}  // namespace fulcrum
