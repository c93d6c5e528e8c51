// SPDX-License-Identifier: Apache-2.0
#include "engine/port.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "engine/flow_probe.hpp"

namespace fulcrum {
namespace {

bool fail(std::string& err, const PortSpec& spec, const std::string& what, int rc = 0) {
  err = "port " + spec.name + " (" + spec.device_name + "): " + what;
  if (rc != 0) err += ": " + std::string(rte_strerror(-rc));
  return false;
}

// A Toeplitz key of repeated 0x6d5a hashes <a, b> and <b, a> alike: both
// directions of a flow land on one queue, so a NAT connection's replies
// come back to the worker that made it (FULLNAT and SNAT replies, which
// carry other addresses, are steered by port, engine/steer.hpp). Sized for
// the largest key a NIC asks for; the device takes hash_key_size bytes.
uint8_t* symmetric_rss_key() {
  static uint8_t key[64];
  for (size_t i = 0; i < sizeof(key); i += 2) key[i] = 0x6d, key[i + 1] = 0x5a;
  return key;
}

// RSS on the IP/TCP/UDP fields the device can hash, when there are several
// workers to spread over and the device hashes at all, with a symmetric
// key when the device takes one.
rte_eth_conf port_conf(const rte_eth_dev_info& info, uint16_t queues, bool& rss) {
  rte_eth_conf conf{};
  uint64_t hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
  rss = queues > 1 && hf != 0;
  if (rss) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = hf;
    if (info.hash_key_size != 0 && info.hash_key_size <= 64) {
      conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key();
      conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
    }
  }
  return conf;
}

bool setup_queues(const PortSpec& spec, const PortSetup& setup, Port& out, std::string& err) {
  uint16_t rxd = setup.rx_desc, txd = setup.tx_desc;
  int rc = rte_eth_dev_adjust_nb_rx_tx_desc(out.port_id, &rxd, &txd);
  if (rc < 0) return fail(err, spec, "cannot size descriptor rings", rc);
  int socket = rte_eth_dev_socket_id(out.port_id);
  for (uint16_t q = 0; q < setup.queues; q++) {
    rc = rte_eth_rx_queue_setup(out.port_id, q, rxd, socket, nullptr, out.pool);
    if (rc < 0) return fail(err, spec, "rx queue " + std::to_string(q) + " setup failed", rc);
    rc = rte_eth_tx_queue_setup(out.port_id, q, txd, socket, nullptr);
    if (rc < 0) return fail(err, spec, "tx queue " + std::to_string(q) + " setup failed", rc);
  }
  return true;
}

bool configure(const PortSpec& spec, const PortSetup& setup, Port& out, std::string& err) {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(out.port_id, &info);
  if (rc < 0) return fail(err, spec, "cannot read device info", rc);
  out.driver = info.driver_name ? info.driver_name : "?";
  if (info.max_rx_queues < setup.queues || info.max_tx_queues < setup.queues)
    return fail(err, spec, "device has " + std::to_string(info.max_rx_queues) +
                               " rx queues, need one per worker (" +
                               std::to_string(setup.queues) + ")");
  rte_eth_conf conf = port_conf(info, setup.queues, out.rss);
  rc = rte_eth_dev_configure(out.port_id, setup.queues, setup.queues, &conf);
  if (rc < 0) return fail(err, spec, "configure failed", rc);
  // Virtual devices may not let us set the MTU; the frame size they carry
  // is then the device's, which is what the operator gets either way.
  rte_eth_dev_set_mtu(out.port_id, spec.mtu);
  return setup_queues(spec, setup, out, err);
}

}  // namespace

bool port_open(const PortSpec& spec, const PortSetup& setup, uint16_t index, Port& out,
               std::string& err) {
  out.name = spec.name;
  out.device_name = spec.device_name;
  out.index = index;
  if (rte_eth_dev_get_port_by_name(spec.device_name.c_str(), &out.port_id) != 0)
    return fail(err, spec, "no such DPDK device (was it probed? check the device string)");
  uint32_t frame_max = uint32_t(RTE_PKTMBUF_HEADROOM) + RTE_ETHER_HDR_LEN + spec.mtu;
  if (setup.mbuf_size < frame_max)
    return fail(err, spec, "mbufs of " + std::to_string(setup.mbuf_size) + " bytes cannot hold a frame of MTU " +
                               std::to_string(spec.mtu) + " after the headroom (need " + std::to_string(frame_max) + ")");
  std::string pool_name = "mb_" + std::to_string(index);
  out.pool = rte_pktmbuf_pool_create(pool_name.c_str(), setup.mbufs, setup.mbuf_cache, 0,
                                     setup.mbuf_size, rte_eth_dev_socket_id(out.port_id));
  if (out.pool == nullptr)
    return fail(err, spec, "cannot allocate " + std::to_string(setup.mbufs) + " mbufs: " +
                               rte_strerror(rte_errno));
  if (!configure(spec, setup, out, err)) return false;
  int rc = rte_eth_dev_start(out.port_id);
  if (rc < 0) return fail(err, spec, "start failed", rc);
  out.started = true;
  rte_eth_promiscuous_enable(out.port_id);  // not every vdev supports it; harmless then
  rte_eth_macaddr_get(out.port_id, &out.mac);
  out.flow_rules = flow_rule_probe(out.port_id, setup.queues);
  return true;
}

void port_close(Port& port) {
  if (port.started) rte_eth_dev_stop(port.port_id);
  port.started = false;
  if (port.pool != nullptr) rte_eth_dev_close(port.port_id);
  rte_mempool_free(port.pool);
  port.pool = nullptr;
}

}  // namespace fulcrum
