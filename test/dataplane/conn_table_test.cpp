// SPDX-License-Identifier: Apache-2.0
//
// The connection table (ipvs/conn.hpp) and its key-less cuckoo index
// (ipvs/conn_index.hpp), driven directly: full tables (every key in two
// directions, so the index runs at its designed load and displaces
// entries), lookups one by one and in bulk, removal and reuse, the
// template key space, refused duplicates, and the memory bound.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <rte_lcore.h>

#include "ipvs/conn.hpp"

namespace fulcrum {
namespace {

constexpr uint32_t kVip = 0x6400000a;  // 10.0.0.100, network order

// NAT connection i: client 172.16.x.y:port -> VIP:80 -> dest 10.0.1.(i % 8):8080.
void fill_nat(Conn& c, uint32_t i) {
  c.proto = IPPROTO_TCP;
  c.fwd = FwdMode::kNat;
  c.caddr = htonl(0xac100000u + (i & 0xfffff));
  c.cport = htons(uint16_t(1024 + (i >> 20)));
  c.vaddr = kVip;
  c.vport = htons(80);
  c.daddr = htonl(0x0a000100u + (i % 8));
  c.dport = htons(8080);
}

class ConnTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    t_ = ConnTable::create(("ct" + std::to_string(seq_++)).c_str(), kCap, int(rte_socket_id()), err);
    ASSERT_NE(t_, nullptr) << err;
  }
  // Fills the table with NAT connections 0..n-1, both keys each.
  std::vector<Conn*> fill(uint32_t n) {
    std::vector<Conn*> cs;
    for (uint32_t i = 0; i < n; i++) {
      Conn* c = t_->alloc();
      if (c == nullptr) break;
      fill_nat(*c, i);
      EXPECT_EQ(t_->insert(c, true), ConnInsert::kOk) << "connection " << i;
      cs.push_back(c);
    }
    return cs;
  }
  ConnHit in(const Conn& c) const { return t_->lookup(c.proto, c.caddr, c.cport, c.vaddr, c.vport); }
  ConnHit out(const Conn& c) const { return t_->lookup(c.proto, c.daddr, c.dport, c.caddr, c.cport); }

  static constexpr uint32_t kCap = 20000;
  static inline int seq_ = 0;
  std::unique_ptr<ConnTable> t_;
};

TEST_F(ConnTableTest, FullTableFindsEveryConnectionFromBothSides) {
  std::vector<Conn*> cs = fill(kCap);
  ASSERT_EQ(cs.size(), kCap);
  EXPECT_EQ(t_->size(), kCap);
  EXPECT_EQ(t_->alloc(), nullptr) << "every connection is in use";
  for (Conn* c : cs) {
    ConnHit a = in(*c), b = out(*c);
    ASSERT_EQ(a.conn, c);
    EXPECT_FALSE(a.reply);
    ASSERT_EQ(b.conn, c);
    EXPECT_TRUE(b.reply);
  }
  // Tuples of no connection: each field of the key changed alone (each
  // lands in its own part of the two key words), the VIP's side swapped.
  const Conn& c0 = *cs[0];
  EXPECT_EQ(t_->lookup(c0.proto, c0.caddr ^ htonl(1u << 31), c0.cport, c0.vaddr, c0.vport).conn, nullptr);
  EXPECT_EQ(t_->lookup(c0.proto, c0.caddr, c0.cport, c0.vaddr ^ htonl(1u << 31), c0.vport).conn, nullptr);
  EXPECT_EQ(t_->lookup(c0.proto, c0.caddr, htons(9), c0.vaddr, c0.vport).conn, nullptr);
  EXPECT_EQ(t_->lookup(c0.proto, c0.caddr, c0.cport, c0.vaddr, uint16_t(c0.vport ^ 0x8000)).conn, nullptr);
  EXPECT_EQ(t_->lookup(c0.proto, c0.vaddr, c0.vport, c0.caddr, c0.cport).conn, nullptr);
  EXPECT_EQ(t_->lookup(IPPROTO_UDP, c0.caddr, c0.cport, c0.vaddr, c0.vport).conn, nullptr);
}

TEST_F(ConnTableTest, BulkLookupAgreesWithSingleLookups) {
  std::vector<Conn*> cs = fill(kCap / 2);
  for (uint32_t base = 0; base + 64 <= cs.size(); base += 997) {
    ConnTuple tuples[64];
    for (uint32_t k = 0; k < 64; k++) {
      const Conn& c = *cs[base + k];
      // Alternate directions; every 5th a miss (a port nobody uses).
      if (k % 5 == 4) tuples[k] = ConnTuple{c.proto, c.caddr, c.vaddr, htons(7), c.vport};
      else if (k % 2) tuples[k] = ConnTuple{c.proto, c.daddr, c.caddr, c.dport, c.cport};
      else tuples[k] = ConnTuple{c.proto, c.caddr, c.vaddr, c.cport, c.vport};
    }
    ConnHit hits[64];
    t_->lookup_bulk(tuples, 64, hits);
    for (uint32_t k = 0; k < 64; k++) {
      const ConnTuple& u = tuples[k];
      ConnHit one = t_->lookup(u.proto, u.saddr, u.sport, u.daddr, u.dport);
      EXPECT_EQ(hits[k].conn, one.conn) << k;
      EXPECT_EQ(hits[k].reply, one.reply) << k;
      EXPECT_EQ(one.conn == nullptr, k % 5 == 4) << k;
    }
  }
}

TEST_F(ConnTableTest, RemovedConnectionsAreGoneAndTheirRoomIsReused) {
  std::vector<Conn*> cs = fill(kCap);
  std::vector<Conn> removed;
  for (uint32_t i = 0; i < cs.size(); i += 2) {
    removed.push_back(*cs[i]);
    t_->remove(cs[i]);
  }
  EXPECT_EQ(t_->size(), kCap / 2);
  for (const Conn& c : removed) {
    EXPECT_EQ(in(c).conn, nullptr);
    EXPECT_EQ(out(c).conn, nullptr);
  }
  for (uint32_t i = 1; i < cs.size(); i += 2) EXPECT_EQ(in(*cs[i]).conn, cs[i]);
  // The freed room takes new connections, zeroed, up to the capacity again.
  for (uint32_t i = kCap; i < kCap + kCap / 2; i++) {
    Conn* c = t_->alloc();
    ASSERT_NE(c, nullptr) << i;
    EXPECT_EQ(c->flags, 0);
    EXPECT_EQ(t_->ext(*c).tmpl, nullptr);
    fill_nat(*c, i);
    ASSERT_EQ(t_->insert(c, true), ConnInsert::kOk) << i;
    EXPECT_EQ(out(*c).conn, c);
  }
  EXPECT_EQ(t_->alloc(), nullptr);
}

TEST_F(ConnTableTest, ForEachVisitsEveryIndexedConnectionOnce) {
  std::vector<Conn*> cs = fill(5000);
  t_->unindex(cs[7]);
  std::set<const Conn*> seen;
  size_t visits = 0;
  t_->for_each([&](const Conn& c) { seen.insert(&c), visits++; });
  EXPECT_EQ(visits, 4999u);
  EXPECT_EQ(seen.size(), 4999u);
  EXPECT_EQ(seen.count(cs[7]), 0u);
  EXPECT_EQ(in(*cs[7]).conn, nullptr) << "unindexed: kept, but not found";
}

TEST_F(ConnTableTest, TemplatesHaveTheirOwnKeySpace) {
  Conn* c = t_->alloc();
  fill_nat(*c, 1);
  c->cport = 0;  // the tuple a template of this client would have
  ASSERT_EQ(t_->insert(c, false), ConnInsert::kOk);
  Conn* tmpl = t_->alloc();
  *tmpl = *c;
  tmpl->flags = kConnTemplate;
  ASSERT_EQ(t_->insert(tmpl, false), ConnInsert::kOk) << "a template does not clash with a connection";
  EXPECT_EQ(t_->lookup_template(IPPROTO_TCP, c->caddr, c->vaddr, c->vport), tmpl);
  EXPECT_EQ(in(*c).conn, c);
}

TEST_F(ConnTableTest, AKeyThatIsAlreadyIndexedIsRefusedAndNothingIsLeftBehind) {
  Conn* a = t_->alloc();
  fill_nat(*a, 1);
  ASSERT_EQ(t_->insert(a, true), ConnInsert::kOk);
  // Another VIP, the same client port and dest port: the same reply key.
  Conn* b = t_->alloc();
  fill_nat(*b, 1);
  b->vaddr = htonl(0x0a000065);
  EXPECT_EQ(t_->insert(b, true), ConnInsert::kClash);
  EXPECT_EQ(t_->lookup(b->proto, b->caddr, b->cport, b->vaddr, b->vport).conn, nullptr)
      << "b's in key was taken back";
  EXPECT_EQ(out(*a).conn, a);
  EXPECT_EQ(t_->size(), 1u);
  t_->release(b);
  // The same in key again: refused too.
  Conn* c = t_->alloc();
  fill_nat(*c, 1);
  EXPECT_EQ(t_->insert(c, false), ConnInsert::kClash);
}

TEST(ConnTableMemory, AtMost128BytesPerConnectionWithItsIndex) {
  std::string err;
  auto t = ConnTable::create("ct_mem", 1u << 16, int(rte_socket_id()), err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_LE(t->bytes(), size_t(128) << 16);
}

}  // namespace
}  // namespace fulcrum
