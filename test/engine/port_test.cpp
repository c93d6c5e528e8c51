// SPDX-License-Identifier: Apache-2.0
//
// port_open's mbuf pool: its data room is what PortSetup asks for, and one
// that cannot hold a frame of the port's MTU (there is no scatter rx) is
// refused with the sizes named, before any device is touched.
#include <string>

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "engine/port.hpp"

namespace fulcrum::test {
namespace {

TEST(PortOpen, MbufDataRoomMustHoldAnMtuFrame) {
  rte_ring* ring = rte_ring_create("mbufsize", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_NE(ring, nullptr);
  int id = rte_eth_from_rings("mbufsize", &ring, 1, &ring, 1, SOCKET_ID_ANY);
  ASSERT_GE(id, 0);
  char dev[RTE_ETH_NAME_MAX_LEN];
  ASSERT_EQ(rte_eth_dev_get_name_by_port(uint16_t(id), dev), 0);
  PortSpec spec{"wan", dev, 1500};
  PortSetup setup;
  setup.mbufs = 1023;
  setup.mbuf_size = 512;
  Port port;
  std::string err;
  EXPECT_FALSE(port_open(spec, setup, 7, port, err));
  EXPECT_EQ(err, std::string("port wan (") + dev +
                     "): mbufs of 512 bytes cannot hold a frame of MTU 1500 after the headroom (need 1642)");
  EXPECT_EQ(port.pool, nullptr);

  spec.mtu = 512 - RTE_PKTMBUF_HEADROOM - RTE_ETHER_HDR_LEN;
  ASSERT_TRUE(port_open(spec, setup, 7, port, err)) << err;
  EXPECT_EQ(rte_pktmbuf_data_room_size(port.pool), 512);
  port_close(port);
  rte_ring_free(ring);
}

}  // namespace
}  // namespace fulcrum::test
