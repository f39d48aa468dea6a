// File: tests/transport/mesh_test_util.h
//
// Helpers shared by the transport tests (mesh_test.cc, wake_test.cc).

#ifndef RINGACTOR_TESTS_TRANSPORT_MESH_TEST_UTIL_H_
#define RINGACTOR_TESTS_TRANSPORT_MESH_TEST_UTIL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "gtest/gtest.h"
#include "transport/mesh.h"

namespace ringactor::transport::testing {

// Counts what a shard receives; safe to read from other threads.
class CountingReceiver final : public Receiver {
 public:
  void OnEnvelopes(ShardId from, const Envelope* e, size_t n) override {
    for (size_t i = 0; i < n; ++i) last_value.store(e[i].value);
    received.fetch_add(n);
  }
  void OnWord(uint32_t tag, uint64_t value) override {
    last_word_tag.store(tag);
    last_word_value.store(value);
    words.fetch_add(1);
  }
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> last_value{0};
  std::atomic<uint64_t> words{0};
  std::atomic<uint32_t> last_word_tag{0};
  std::atomic<uint64_t> last_word_value{0};
};

inline std::unique_ptr<Mesh> MakeMesh(MeshOptions o = {}) {
  auto mesh = Mesh::Create(o);
  EXPECT_TRUE(mesh.ok()) << mesh.status();
  return mesh.ok() ? std::move(*mesh) : nullptr;
}

}  // namespace ringactor::transport::testing

#endif  // RINGACTOR_TESTS_TRANSPORT_MESH_TEST_UTIL_H_
