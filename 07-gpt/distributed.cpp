// 07-gpt/distributed.cpp — see distributed.hpp. With Z2H_MPI (CMake found MPI) the functions call
// MPI; without it they are the single-rank versions.
#include "distributed.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#ifdef Z2H_MPI
#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#endif

namespace stage07::dist {

namespace {
int g_rank = 0, g_size = 1;
double g_allreduce_s = 0;
#ifdef Z2H_MPI
bool g_mpi = false;          // MPI_Init was called
int g_stderr = 2;            // the real stderr (ranks other than 0 point fd 2 at /dev/null)
std::vector<float> g_flat;   // allreduce_average's buffer, kept between steps

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
#endif

void write_line(const std::string& line) {
  std::fflush(stdout);
  const std::string s = line + "\n";
#ifdef Z2H_MPI
  if (::write(g_stderr, s.data(), s.size()) < 0) return;
#else
  std::fputs(s.c_str(), stderr);
#endif
}

#ifdef Z2H_MPI
// mpirun (Open MPI), mpiexec (MPICH's Hydra) and srun (PMIx) leave these in a rank's environment.
bool started_by_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}
void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) abort(std::string("internal: ") + what + " failed", 1);
}

// last_words(): two buffers, so the handler never reads the one being written.
constexpr size_t kWordsMax = 2048;
char g_words[2][kWordsMax];
size_t g_words_len[2] = {0, 0};
std::atomic<int> g_words_at{-1};

extern "C" void on_sigterm(int) {
  const int k = g_words_at.load();
  if (k >= 0 && ::write(g_stderr, g_words[k], g_words_len[k]) < 0) _exit(1);
  _exit(1);
}
#endif
}  // namespace

Session::Session(int& argc, char**& argv) {
#ifdef Z2H_MPI
  if (!started_by_launcher()) return;
  MPI_Init(&argc, &argv);
  g_mpi = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  if (g_rank != 0) {  // one voice: rank 0's
    g_stderr = ::dup(2);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::close(null);
  } else if (g_size > 1) {
    std::signal(SIGTERM, on_sigterm);
  }
#else
  (void)argc;
  (void)argv;
#endif
}

Session::~Session() {
#ifdef Z2H_MPI
  if (g_mpi) MPI_Finalize();
#endif
}

bool with_mpi() {
#ifdef Z2H_MPI
  return true;
#else
  return false;
#endif
}
int rank() { return g_rank; }
int size() { return g_size; }
double allreduce_seconds() { return g_allreduce_s; }

void allreduce_average([[maybe_unused]] const std::vector<std::span<float>>& buffers) {
  if (g_size == 1) return;
#ifdef Z2H_MPI
  const double t0 = now();
  size_t n = 0;
  for (const auto& b : buffers) n += b.size();
  g_flat.resize(n);
  float* at = g_flat.data();
  for (const auto& b : buffers) at = std::copy(b.begin(), b.end(), at);
  check(MPI_Allreduce(MPI_IN_PLACE, g_flat.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  const float scale = 1.0f / static_cast<float>(g_size);
  const float* sum = g_flat.data();
  for (const auto& b : buffers)
    for (float& x : b) x = *sum++ * scale;
  g_allreduce_s += now() - t0;
#endif
}

void allreduce_sum([[maybe_unused]] std::span<float> x) {
  if (g_size == 1) return;
#ifdef Z2H_MPI
  check(MPI_Allreduce(MPI_IN_PLACE, x.data(), static_cast<int>(x.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
#endif
}

void broadcast([[maybe_unused]] std::span<float> x) {
  if (g_size == 1) return;
#ifdef Z2H_MPI
  check(MPI_Bcast(x.data(), static_cast<int>(x.size()), MPI_FLOAT, 0, MPI_COMM_WORLD), "MPI_Bcast");
#endif
}

void broadcast([[maybe_unused]] std::string& s) {
  if (g_size == 1) return;
#ifdef Z2H_MPI
  unsigned long long n = s.size();
  check(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  s.resize(n);
  check(MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
#endif
}

std::vector<uint64_t> allgather(uint64_t x) {
  std::vector<uint64_t> all(static_cast<size_t>(g_size), x);
#ifdef Z2H_MPI
  if (g_size > 1) check(MPI_Allgather(&x, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
#endif
  return all;
}

std::vector<double> allgather(double x) {
  std::vector<double> all(static_cast<size_t>(g_size), x);
#ifdef Z2H_MPI
  if (g_size > 1) check(MPI_Allgather(&x, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, MPI_COMM_WORLD), "MPI_Allgather");
#endif
  return all;
}

std::string first_error(const std::string& mine) {
  if (g_size == 1) return mine;
#ifdef Z2H_MPI
  constexpr size_t kMax = 1024;  // an error is one line, cut at 1000 bytes (common/app/cli.cpp)
  std::vector<char> all(kMax * static_cast<size_t>(g_size)), own(kMax, '\0');
  std::memcpy(own.data(), mine.data(), std::min(mine.size(), kMax - 1));
  check(MPI_Allgather(own.data(), static_cast<int>(kMax), MPI_CHAR, all.data(), static_cast<int>(kMax), MPI_CHAR, MPI_COMM_WORLD),
        "MPI_Allgather");
  for (int r = 0; r < g_size; ++r) {
    const std::string e(all.data() + static_cast<size_t>(r) * kMax);
    if (!e.empty()) return r == 0 ? e : "rank " + std::to_string(r) + ": " + e;
  }
#endif
  return "";
}

void last_words(const std::string& line) {
#ifdef Z2H_MPI
  if (g_size == 1 || g_rank != 0) return;
  const int k = g_words_at.load() == 0 ? 1 : 0;
  const std::string s = line.substr(0, kWordsMax - 2) + "\n";
  std::memcpy(g_words[k], s.data(), s.size());
  g_words_len[k] = s.size();
  g_words_at.store(k);
#else
  (void)line;
#endif
}

void abort(const std::string& message, int code) {
  write_line("error: " + (g_rank == 0 ? message : "rank " + std::to_string(g_rank) + ": " + message));
#ifdef Z2H_MPI
  if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace stage07::dist
