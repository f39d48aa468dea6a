// File: bench/peers/caf_actors.cc

#include "bench/peers/caf_actors.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "bench/bench_messages.pb.h"
#include "bench/bench_util.h"
#include "caf/all.hpp"

// CAF carries the same protobuf types as ringactor, by value, in-process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::Ping)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::Pong)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::Small)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::Work)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::WorkDone)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::Increment)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::Alert)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ringactor::bench::AlertReply)

namespace ringactor::bench {
namespace {

class Config : public caf::actor_system_config {
 public:
  explicit Config(const std::string& policy) {
    set("scheduler.max-threads", 2);
    set("scheduler.policy", caf::atom_from_string(policy));
    set("logger.verbosity", caf::atom("quiet"));
  }
};

// Which thread ran the Ponger's last handler: a thread-local's address,
// compared by the Pinger when the reply arrives (the message hand-off orders
// the store before the load).
thread_local char thread_marker;
std::atomic<const void*> ponger_thread{nullptr};

caf::behavior Ponger(caf::event_based_actor*) {
  return {[](const Ping& p) {
    ponger_thread.store(&thread_marker, std::memory_order_relaxed);
    Pong r;
    r.set_seq(p.seq());
    return r;
  }};
}

// Sends the next Ping when the previous Pong arrives.
class Pinger : public caf::event_based_actor {
 public:
  Pinger(caf::actor_config& cfg, caf::actor pong, int64_t n,
         std::promise<void>* done, int64_t* crossed)
      : caf::event_based_actor(cfg),
        pong_(std::move(pong)),
        n_(n),
        done_(done),
        crossed_(crossed) {}
  caf::behavior make_behavior() override {
    Step(0);
    return {[](int) {}};
  }

 private:
  void Step(int64_t i) {
    if (i == n_) {
      done_->set_value();
      quit();
      return;
    }
    Ping p;
    p.set_seq(i);
    request(pong_, caf::infinite, p).then([this, i](const Pong&) {
      if (ponger_thread.load(std::memory_order_relaxed) != &thread_marker) {
        ++*crossed_;
      }
      Step(i + 1);
    });
  }
  caf::actor pong_;
  int64_t n_;
  std::promise<void>* done_;
  int64_t* crossed_;  // round trips whose two handlers ran on two threads
};

// Tell: the thread each of the two senders runs its send loop on, stored
// before its first send (so the message hand-off orders it before the
// receiver's loads). A message's value is 2 * i + sender.
std::atomic<const void*> sender_thread[2];

class Receiver : public caf::event_based_actor {
 public:
  Receiver(caf::actor_config& cfg, int64_t expected, std::promise<void>* done,
           int64_t* crossed)
      : caf::event_based_actor(cfg),
        expected_(expected),
        done_(done),
        crossed_(crossed) {}
  caf::behavior make_behavior() override {
    return {[this](const Small& m) {
      sum_ += m.value();
      if (sender_thread[m.value() & 1].load(std::memory_order_relaxed) !=
          &thread_marker) {
        ++*crossed_;
      }
      if (++count_ == expected_) {
        done_->set_value();
        quit();
      }
    }};
  }

 private:
  int64_t expected_;
  int64_t count_ = 0;
  int64_t sum_ = 0;
  std::promise<void>* done_;
  int64_t* crossed_;  // messages handled on another thread than their sender's
};

caf::behavior Worker(caf::event_based_actor*, int iterations) {
  return {[iterations](const Work& w) {
    WorkDone d;
    d.set_value(HashWork(w.seed(), iterations));
    return d;
  }};
}

// Issues one request at a time; each fans out to every worker and completes
// when all replied.
class Coordinator : public caf::event_based_actor {
 public:
  Coordinator(caf::actor_config& cfg, std::vector<caf::actor> workers,
              int64_t requests, std::promise<void>* done)
      : caf::event_based_actor(cfg),
        workers_(std::move(workers)),
        requests_(requests),
        done_(done) {}
  caf::behavior make_behavior() override {
    Next();
    return {[](int) {}};
  }

 private:
  void Next() {
    if (issued_ == requests_) {
      done_->set_value();
      quit();
      return;
    }
    ++issued_;
    pending_ = workers_.size();
    Work w;
    w.set_seed(issued_);
    for (const caf::actor& worker : workers_) {
      request(worker, caf::infinite, w).then([this](const WorkDone&) {
        if (--pending_ == 0) Next();
      });
    }
  }
  std::vector<caf::actor> workers_;
  int64_t requests_;
  int64_t issued_ = 0;
  size_t pending_ = 0;
  std::promise<void>* done_;
};

}  // namespace

CafPingPongResult CafPingPong(const std::string& policy, int64_t iters) {
  Config cfg(policy);
  caf::actor_system sys{cfg};
  auto pong = sys.spawn(Ponger);
  std::promise<void> done;
  int64_t crossed = 0;  // written by the Pinger, read after `done`
  const Clock::time_point start = Clock::now();
  sys.spawn<Pinger>(pong, iters, &done, &crossed);
  done.get_future().wait();
  const double s = Seconds(Clock::now() - start);
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  return {s * 1e9 / iters, iters > 0 ? double(crossed) / iters : 0.0};
}

CafTellResult CafTell(const std::string& policy, int64_t per_sender) {
  Config cfg(policy);
  caf::actor_system sys{cfg};
  std::promise<void> done;
  int64_t crossed = 0;  // written by the Receiver, read after `done`
  auto receiver = sys.spawn<Receiver>(2 * per_sender, &done, &crossed);
  const Clock::time_point start = Clock::now();
  for (int s = 0; s < 2; ++s) {
    sys.spawn([receiver, per_sender, s](caf::event_based_actor* self) {
      sender_thread[s].store(&thread_marker, std::memory_order_relaxed);
      Small m;
      for (int64_t i = 0; i < per_sender; ++i) {
        m.set_value(2 * i + s);
        self->send(receiver, m);
      }
    });
  }
  done.get_future().wait();
  const double secs = Seconds(Clock::now() - start);
  return {2.0 * per_sender / secs,
          per_sender > 0 ? double(crossed) / (2.0 * per_sender) : 0.0};
}

double CafFanout(const std::string& policy, const FanoutParams& p) {
  Config cfg(policy);
  caf::actor_system sys{cfg};
  std::vector<caf::actor> workers;
  for (int i = 0; i < p.workers; ++i) {
    workers.push_back(sys.spawn(Worker, p.WorkerIterations(i)));
  }
  std::promise<void> done;
  const Clock::time_point start = Clock::now();
  sys.spawn<Coordinator>(workers, p.requests, &done);
  done.get_future().wait();
  const double s = Seconds(Clock::now() - start);
  for (auto& w : workers) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  return p.requests / s;
}

double CafSpawnMemory(int64_t n) {
  Config cfg("stealing");
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;
  actors.reserve(n);
  const uint64_t before = ResidentBytes();
  for (int64_t i = 0; i < n; ++i) {
    actors.push_back(sys.spawn([]() -> caf::behavior { return {[](int) {}}; }));
  }
  const uint64_t after = ResidentBytes();
  const double per_actor = static_cast<double>(after - before) / n;
  for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return per_actor;
}

CallStats CafForeignCalls(const std::string& policy, int threads,
                          int64_t per_thread) {
  Config cfg(policy);
  caf::actor_system sys{cfg};
  std::vector<caf::actor> echo = {sys.spawn(Ponger), sys.spawn(Ponger)};
  const CallStats stats = RunClosedLoop(threads, per_thread, [&](int t) {
    return [target = echo[t % 2],
            self = std::make_shared<caf::scoped_actor>(sys),
            p = Ping()](int64_t i) mutable {
      p.set_seq(i);
      (*self)->request(target, caf::infinite, p)
          .receive([](const Pong&) {}, [](caf::error&) {});
    };
  });
  for (auto& e : echo) caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
  return stats;
}

namespace {
class CountingOwner : public caf::event_based_actor {
 public:
  CountingOwner(caf::actor_config& cfg, int64_t expected,
                std::atomic<int>* remaining, std::promise<void>* done,
                std::atomic<int64_t>* runs)
      : caf::event_based_actor(cfg),
        expected_(expected),
        remaining_(remaining),
        done_(done),
        runs_(runs) {}
  caf::behavior make_behavior() override {
    return {[this](const Increment& m) {
      runs_->fetch_add(1, std::memory_order_relaxed);
      total_ += m.by();
      if (total_ == expected_ && remaining_->fetch_sub(1) == 1) {
        done_->set_value();
      }
    }};
  }

 private:
  int64_t expected_;
  int64_t total_ = 0;
  std::atomic<int>* remaining_;
  std::promise<void>* done_;
  std::atomic<int64_t>* runs_;
};
}  // namespace

std::pair<double, double> CafHotspot(const std::string& policy, int senders,
                                     int64_t per_sender, int owners) {
  Config cfg(policy);
  caf::actor_system sys{cfg};
  std::promise<void> done;
  std::atomic<int> remaining{owners};
  std::atomic<int64_t> runs{0};
  const int64_t expected = senders * per_sender / owners;
  std::vector<caf::actor> targets;
  for (int i = 0; i < owners; ++i) {
    targets.push_back(
        sys.spawn<CountingOwner>(expected, &remaining, &done, &runs));
  }
  const Clock::time_point start = Clock::now();
  for (int s = 0; s < senders; ++s) {
    sys.spawn([targets, per_sender](caf::event_based_actor* self) {
      Increment one;
      one.set_by(1);
      size_t next = 0;
      for (int64_t i = 0; i < per_sender; ++i) {
        self->send(targets[next], one);
        if (++next == targets.size()) next = 0;
      }
    });
  }
  done.get_future().wait();
  const double s = Seconds(Clock::now() - start);
  for (auto& t : targets) caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
  return {senders * per_sender / s, runs.load() / s};
}

namespace {

// hot_latency's owner: ordinary Pings, the hot Alert, and the Small request
// the caller queues behind the backlog to learn when it has drained.
caf::behavior HotOwner(caf::event_based_actor*, PaddedCounter* started) {
  struct State {
    uint64_t sink = 0;
    HotLatencyOwner owner;
  };
  auto st = std::make_shared<State>();
  return {
      [=](const Ping& p) {
        st->sink += HashWork(static_cast<uint64_t>(p.seq()), kHotLatencyWork);
        st->owner.Ordinary(p.seq(), *started);
      },
      [=](const Alert& a) {
        AlertReply r;
        r.set_seq(a.seq());
        r.set_ran_ticks(StampTicks());
        r.set_handled(st->owner.handled());
        return r;
      },
      [](const Small&) { return Pong(); },
  };
}

// Runs the samples one after another (actors_workload.h); while it waits
// for the owner to start on the backlog it sends itself a poll message.
class HotCaller : public caf::event_based_actor {
 public:
  HotCaller(caf::actor_config& cfg, caf::actor owner, int backlog,
            int samples, const PaddedCounter* started, HotLatencySamples* out,
            std::promise<void>* done)
      : caf::event_based_actor(cfg),
        owner_(std::move(owner)),
        backlog_(backlog),
        samples_(samples),
        started_(started),
        out_(out),
        done_(done) {}
  caf::behavior make_behavior() override {
    Start();
    return {[this](int) { Poll(); }};
  }

 private:
  void Start() {
    if (sample_ == samples_) {
      done_->set_value();
      quit();
      return;
    }
    started_seen_ = started_->n.load(std::memory_order_acquire);
    Ping p;
    for (int k = 0; k < backlog_; ++k) {
      p.set_seq(k);
      send(owner_, p);
    }
    Poll();
  }
  void Poll() {
    if (backlog_ > 0 &&
        started_->n.load(std::memory_order_acquire) == started_seen_) {
      send(caf::actor_cast<caf::actor>(this), 0);
      return;
    }
    Alert a;
    a.set_seq(sample_);
    const int64_t t0 = StampTicks();
    request<caf::message_priority::high>(owner_, caf::infinite, a)
        .then([this, t0](const AlertReply& r) {
          const int64_t t1 = StampTicks();
          out_->Add(t0, r.ran_ticks(), t1, backlog_, r.handled());
          ++sample_;
          if (backlog_ == 0) {
            Start();
            return;
          }
          request(owner_, caf::infinite, Small()).then([this](const Pong&) {
            Start();
          });
        });
  }

  caf::actor owner_;
  const int backlog_;
  const int samples_;
  const PaddedCounter* started_;
  HotLatencySamples* out_;
  std::promise<void>* done_;
  int sample_ = 0;
  int64_t started_seen_ = 0;
};

}  // namespace

HotLatency CafHotLatency(const std::string& policy, int backlog,
                         int samples) {
  Config cfg(policy);
  caf::actor_system sys{cfg};
  PaddedCounter started;
  HotLatencySamples out;
  std::promise<void> done;
  caf::actor owner = sys.spawn(HotOwner, &started);
  sys.spawn<HotCaller>(owner, backlog, samples, &started, &out, &done);
  done.get_future().wait();
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  return out.Result();
}

}  // namespace ringactor::bench
