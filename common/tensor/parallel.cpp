// common/tensor/parallel.cpp — see parallel.hpp.
#include "common/tensor/parallel.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "common/tensor/blas.hpp"

namespace z2h::parallel {

namespace {

thread_local bool t_in_part = false;

// Runs one part with in_part() set.
void run_part(const std::function<void(int)>& part, int p) {
  t_in_part = true;
  part(p);
  t_in_part = false;
}

class Workers {
 public:
  void run(int n, const std::function<void(int)>& part) {
    while (static_cast<int>(threads_.size()) < n - 1) {
      const int id = static_cast<int>(threads_.size()) + 1;
      threads_.emplace_back([this, id] { loop(id); });
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      job_ = &part;
      parts_ = n;
      pending_ = n - 1;
      ++generation_;
    }
    wake_.notify_all();
    run_part(part, 0);
    std::unique_lock<std::mutex> l(mu_);
    done_.wait(l, [&] { return pending_ == 0; });
    job_ = nullptr;
  }
  ~Workers() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void loop(int id) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      wake_.wait(l, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (id >= parts_) continue;
      const std::function<void(int)>* job = job_;
      l.unlock();
      run_part(*job, id);
      l.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* job_ = nullptr;
  int parts_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace

int threads() { return blas::num_threads(); }
bool in_part() { return t_in_part; }

void run(int parts, const std::function<void(int)>& part) {
  if (parts <= 1 || t_in_part) {  // one part, or called from a part: all here, one after the other
    for (int p = 0; p < parts; ++p) part(p);
    return;
  }
  static Workers workers;
  workers.run(parts, part);
}

}  // namespace z2h::parallel
