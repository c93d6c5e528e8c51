// SPDX-License-Identifier: Apache-2.0
#include "engine/flow_probe.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_flow.h>

namespace fulcrum {

std::string flow_rule_probe(uint16_t port_id, uint16_t queues) {
  if (queues < 2) return "one queue: nothing to steer";
  rte_flow_attr attr{};
  attr.ingress = 1;
  rte_flow_item_ipv4 ip_spec{}, ip_mask{};
  ip_spec.hdr.dst_addr = RTE_BE32(0x0a000001);  // an example local address
  ip_mask.hdr.dst_addr = RTE_BE32(0xffffffff);
  rte_flow_item_tcp tcp_spec{}, tcp_mask{};
  tcp_spec.hdr.dst_port = RTE_BE16(1);  // ports of worker 1 of 2: port % 2 == 1
  tcp_mask.hdr.dst_port = RTE_BE16(1);
  rte_flow_item pattern[] = {
      {RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr},
      {RTE_FLOW_ITEM_TYPE_IPV4, &ip_spec, nullptr, &ip_mask},
      {RTE_FLOW_ITEM_TYPE_TCP, &tcp_spec, nullptr, &tcp_mask},
      {RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr},
  };
  rte_flow_action_queue queue{1};
  rte_flow_action actions[] = {{RTE_FLOW_ACTION_TYPE_QUEUE, &queue}, {RTE_FLOW_ACTION_TYPE_END, nullptr}};
  rte_flow_error error{};
  if (rte_flow_validate(port_id, &attr, pattern, actions, &error) == 0) return "";
  return error.message != nullptr ? error.message : rte_strerror(rte_errno);
}

}  // namespace fulcrum
