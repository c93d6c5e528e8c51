// SPDX-License-Identifier: Apache-2.0
#include "seed_dump.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "frame_checksums.hpp"
#include "fuzz_input.hpp"

namespace fulcrum::test {
namespace {

// FNV-1a: a stable name for a seed's content.
std::string content_name(const Bytes& b) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t c : b) h = (h ^ c) * 0x100000001b3ULL;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void write_seed(const std::filesystem::path& dir, const Bytes& content) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / content_name(content), std::ios::binary)
      .write(reinterpret_cast<const char*>(content.data()), std::streamsize(content.size()));
}

// True when fix leaves f as it is: the checksum it recomputes is right.
bool already_right(const Bytes& f, bool (*fix)(uint8_t*, size_t)) {
  Bytes copy = f;
  return fix(copy.data(), copy.size()) && copy == f;
}

}  // namespace

void dump_seeds(uint16_t port, const std::vector<Bytes>& frames) {
  const char* dir = std::getenv("FULCRUM_SEED_DIR");
  if (dir == nullptr || frames.empty()) return;
  const std::filesystem::path root(dir);
  Bytes burst;
  for (size_t i = 0; i < frames.size(); i++) {
    const Bytes& f = frames[i];
    write_seed(root / "parse", fuzz::parse_input(f.data(), f.size()));
    fuzz::Record r;
    r.ctl = uint8_t(port & fuzz::kCtlPort);
    if (i + 1 == frames.size()) r.ctl |= fuzz::kCtlEndBurst;
    if (already_right(f, fix_ip_checksum)) r.ctl |= fuzz::kCtlFixIp;
    if (already_right(f, fix_l4_checksum)) r.ctl |= fuzz::kCtlFixL4;
    r.frame = f.data();
    r.len = f.size();
    fuzz::append_record(burst, r);
  }
  write_seed(root / "ipvs", burst);
}

}  // namespace fulcrum::test
