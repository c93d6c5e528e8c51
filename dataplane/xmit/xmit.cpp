// SPDX-License-Identifier: Apache-2.0
#include "xmit/xmit.hpp"

namespace fulcrum {

void xmit_in(WorkerCtx& ctx, Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  switch (c.fwd) {
    case FwdMode::kNat: return nat_xmit_in(ctx, c, m, meta);
    case FwdMode::kDr: return dr_xmit_in(ctx, c, m);
    case FwdMode::kTun: return tun_xmit_in(ctx, c, m, meta);
    case FwdMode::kFullnat: return fullnat_xmit_in(ctx, c, m, meta);
    case FwdMode::kSnat: return snat_xmit_in(ctx, c, m, meta);
  }
  ctx.drop(m, Counter::drop_fwd_mode);
}

void xmit_out(WorkerCtx& ctx, const Conn& c, rte_mbuf* m, const PacketMeta& meta) {
  // Only NAT, FULLNAT and SNAT index replies, so only they see them here.
  if (c.fwd == FwdMode::kNat) return nat_xmit_out(ctx, c, m, meta);
  if (c.fwd == FwdMode::kFullnat) return fullnat_xmit_out(ctx, c, m, meta);
  if (c.fwd == FwdMode::kSnat) return snat_xmit_out(ctx, c, m, meta);
  ctx.drop(m, Counter::drop_fwd_mode);
}

}  // namespace fulcrum
