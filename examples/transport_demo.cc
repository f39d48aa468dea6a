// examples/transport_demo: the transport layer on its own.
//
// Every shard (a thread that owns an io_uring ring) sends a stream of
// checksummed envelopes to every shard through the lanes, while plain
// std::threads with no ring inject into the shards' foreign inboxes. Then it
// prints what arrived and what it cost: doorbells rung vs suppressed, sleeps,
// backpressure. Exits non-zero if anything was lost, duplicated or reordered.
//
//   bazel run //examples:transport_demo -- --shards=2 --per_pair=1000000

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "io/ring.h"
#include "transport/mesh.h"

ABSL_FLAG(uint32_t, shards, 2, "shards (threads with a ring each)");
ABSL_FLAG(uint64_t, per_pair, 1'000'000, "envelopes per (source, target)");
ABSL_FLAG(uint32_t, foreign_threads, 2, "ringless threads injecting");
ABSL_FLAG(uint64_t, per_foreign, 100'000, "envelopes per foreign thread");

namespace {

using ringactor::transport::Endpoint;
using ringactor::transport::Envelope;
using ringactor::transport::kForeignShard;
using ringactor::transport::Mesh;
using ringactor::transport::MeshOptions;
using ringactor::transport::Receiver;
using ringactor::transport::ShardId;

uint64_t Checksum(uint64_t src, uint64_t seq) { return (src + 1) * 0x9e3779b97f4a7c15ull ^ seq; }

// Checks that each source's stream arrives complete and in order.
class Checker final : public Receiver {
 public:
  explicit Checker(uint32_t shards, uint32_t foreign)
      : next_(shards, 0), next_foreign_(foreign, 0) {}
  void OnEnvelopes(ShardId from, const Envelope* e, size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      uint64_t& next = from == kForeignShard ? next_foreign_[e[i].tag >> 32]
                                             : next_[from.value()];
      const uint64_t src = from == kForeignShard ? 1000 + (e[i].tag >> 32)
                                                 : from.value();
      if ((e[i].tag & 0xffffffffu) != (next & 0xffffffffu) ||
          e[i].value != Checksum(src, next)) {
        errors_.fetch_add(1);
      }
      ++next;
    }
    received_.fetch_add(n, std::memory_order_relaxed);
  }
  void OnWord(uint32_t, uint64_t) override {}
  uint64_t received() const { return received_.load(); }
  uint64_t errors() const { return errors_.load(); }

 private:
  std::vector<uint64_t> next_, next_foreign_;
  std::atomic<uint64_t> received_{0}, errors_{0};
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const uint32_t shards = absl::GetFlag(FLAGS_shards);
  const uint64_t per_pair = absl::GetFlag(FLAGS_per_pair);
  const uint32_t foreign = absl::GetFlag(FLAGS_foreign_threads);
  const uint64_t per_foreign = absl::GetFlag(FLAGS_per_foreign);

  MeshOptions options;
  options.num_shards = shards;
  auto mesh_or = Mesh::Create(options);
  if (!mesh_or.ok()) {
    std::fprintf(stderr, "%s\n", mesh_or.status().ToString().c_str());
    return 2;
  }
  Mesh& mesh = **mesh_or;
  std::vector<std::unique_ptr<Checker>> checkers;
  for (uint32_t s = 0; s < shards; ++s) {
    checkers.push_back(std::make_unique<Checker>(shards, foreign));
  }
  const uint64_t expected_per_shard =
      shards * per_pair + foreign * per_foreign;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  const absl::Time start = absl::Now();

  std::vector<std::thread> threads;
  for (uint32_t s = 0; s < shards; ++s) {
    threads.emplace_back([&, s] {
      auto ring = ringactor::io::Ring::Create();  // on its owner thread
      if (!ring.ok()) {
        std::fprintf(stderr, "shard %u: %s\n", s,
                     ring.status().ToString().c_str());
        failures.fetch_add(1);
        return;
      }
      Endpoint& ep = mesh.endpoint(ShardId(s));
      if (!ep.Attach(ring->get()).ok()) {
        failures.fetch_add(1);
        return;
      }
      std::vector<uint64_t> sent(shards, 0);
      while (!stop.load(std::memory_order_acquire)) {
        // Send what the lanes accept; a full lane (ResourceExhausted) just
        // means "poll first, then retry": nothing is dropped.
        for (uint32_t t = 0; t < shards; ++t) {
          while (sent[t] < per_pair &&
                 ep.Send(ShardId(t), {sent[t], Checksum(s, sent[t])}).ok()) {
            ++sent[t];
          }
        }
        const size_t handled = ep.Poll(*checkers[s], 4096);
        (void)ep.Flush();
        if (handled == 0) (void)ep.Park();  // sleeps once everything is done
      }
      if (!ep.Detach().ok()) failures.fetch_add(1);
    });
  }
  for (uint32_t f = 0; f < foreign; ++f) {
    threads.emplace_back([&, f] {
      for (uint64_t i = 0; i < per_foreign; ++i) {
        for (uint32_t s = 0; s < shards; ++s) {
          const Envelope e{(uint64_t{f} << 32) | i, Checksum(1000 + f, i)};
          while (!mesh.Inject(ShardId(s), e).ok()) std::this_thread::yield();
        }
      }
    });
  }

  // Progress until every shard has everything (or a generous hang guard).
  const absl::Time guard = start + absl::Minutes(5);
  for (;;) {
    uint64_t total = 0;
    for (const auto& c : checkers) total += c->received();
    if (total == shards * expected_per_shard || absl::Now() > guard) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  stop = true;
  for (uint32_t s = 0; s < shards; ++s) (void)mesh.Wake(ShardId(s));
  for (auto& t : threads) t.join();

  uint64_t received = 0, errors = 0;
  for (const auto& c : checkers) {
    received += c->received();
    errors += c->errors();
  }
  const auto stats = mesh.TotalStats();
  std::printf("shards=%u envelopes=%llu in %.2f s (%.1f M/s), order or "
              "checksum errors=%llu\n",
              shards, static_cast<unsigned long long>(received), seconds,
              received / seconds / 1e6,
              static_cast<unsigned long long>(errors));
  std::printf("stats: %s\n", stats.DebugString().c_str());
  const bool ok = failures.load() == 0 && errors == 0 &&
                  received == shards * expected_per_shard;
  std::printf("%s\n", ok ? "OK: nothing lost, duplicated or reordered"
                         : "FAILED");
  return ok ? 0 : 1;
}
