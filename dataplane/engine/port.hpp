// SPDX-License-Identifier: Apache-2.0
//
// Ethernet ports: one rx and one tx queue per worker, a mempool per port,
// RSS when the device has it (so client flows spread over workers).
// Devices are found by name: a vdev's name (net_af_packet0) or a PCI
// address, both given to EAL by the control plane.
#pragma once

#include <cstdint>
#include <string>

#include <rte_ether.h>
#include <rte_mbuf_core.h>
#include <rte_mempool.h>

namespace fulcrum {

struct PortSpec {
  std::string name;         // the operator's name ("wan")
  std::string device_name;  // DPDK device name ("net_af_packet0", "0000:3b:00.1")
  uint16_t mtu = 1500;
  // How long a packet may wait in the worker's tx batch for others to join
  // it (0: the batch goes out on every loop iteration). See worker.hpp.
  uint32_t tx_coalesce_us = 0;
};

struct PortSetup {
  uint32_t mbufs = 8191;
  // Bytes of each mbuf's data room, headroom included. It must hold a
  // whole frame of the port's MTU (there is no scatter rx); bench/fastpath
  // shrinks it, with the MTU, to hold a capture of 4M frames.
  uint16_t mbuf_size = RTE_MBUF_DEFAULT_BUF_SIZE;
  uint32_t mbuf_cache = 256;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t queues = 1;  // one rx/tx pair per worker
};

struct Port {
  std::string name;
  std::string device_name;
  std::string driver;
  uint16_t port_id = 0;
  uint16_t index = 0;  // config index, used in snapshots
  rte_ether_addr mac{};
  rte_mempool* pool = nullptr;
  bool rss = false;
  std::string flow_rules;  // "" when the NIC would take reply-steering flow rules; else why not
  bool started = false;
};

// Configures and starts the device. Returns false, err naming the port and
// the problem, on failure (out is then safe to port_close). Control thread.
bool port_open(const PortSpec& spec, const PortSetup& setup, uint16_t index, Port& out,
               std::string& err);

// Stops and closes the device and frees its mempool. Workers must be
// stopped. Control thread.
void port_close(Port& port);

}  // namespace fulcrum
