#pragma once
// common/tensor/parallel.hpp — work shared among the program's threads (--threads, OpenBLAS's count).
//
// OpenBLAS runs its own products on its threads; the course's own kernels that share work (the
// products in OpenBLAS's order, 07's attention and evaluation, and through for_shares the row and element-wise
// loops of LayerNorm, softmax, cross-entropy, ReLU, dropout, arithmetic and AdamW) run their parts
// here. Each part must write its own memory only and draw no random numbers, so that the result
// does not depend on the thread count.
#include <algorithm>
#include <functional>

namespace z2h::parallel {

// The threads work may be shared among: OpenBLAS's thread count.
int threads();

// Runs part(0), ..., part(parts - 1) and returns when all are done: part 0 on the calling thread,
// the others on helper threads that wait between calls (starting a thread per call would cost as
// much as a small product). Not re-entrant: a part must not call run itself.
void run(int parts, const std::function<void(int)>& part);

// Whether the calling thread is running a part of run(): a kernel called from a part does its work
// alone.
bool in_part();

// [begin, end) of part p when n items are cut into `parts` contiguous shares, each a multiple of
// `align` items but the last.
inline void share(long n, int parts, int p, long align, long& begin, long& end) {
  const long per = (n + parts - 1) / parts, step = (per + align - 1) / align * align;
  begin = std::min<long>(n, p * step);
  end = std::min<long>(n, begin + step);
}

// Runs f(begin, end) over n items: in threads() contiguous shares (share() with `align`) when there
// are at least min_n items, else (or inside a part) in one call here — for the loops of independent
// items (rows, elements) whose results do not depend on how they are cut. Waking the helpers costs
// some microseconds, so min_n keeps small work on the calling thread.
template <class F>
void for_shares(long n, long min_n, long align, F&& f) {
  const int parts = n < min_n || in_part() ? 1 : static_cast<int>(std::min<long>(threads(), (n + align - 1) / align));
  if (parts <= 1) {
    if (n > 0) f(0L, n);
    return;
  }
  run(parts, [&](int p) {
    long begin, end;
    share(n, parts, p, align, begin, end);
    if (begin < end) f(begin, end);
  });
}

// Elements below which an element-wise loop stays on one thread (a quarter of a MiB of floats).
inline constexpr long kMinElements = long{1} << 16;

// Multiply-adds below which a matrix product stays on one thread (waking a thread costs more than
// it saves: 07's default run, 512×256×64, stays; its CPU config's feed-forward is shared).
inline constexpr long kMinProductMacs = long{1} << 24;

}  // namespace z2h::parallel
