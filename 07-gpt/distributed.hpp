#pragma once
// 07-gpt/distributed.hpp — data-parallel training over MPI, the few calls it needs (docs/mpi.md).
//
//   mpirun -np 2 build/release/bin/07-gpt --config gpt     two processes ("ranks"), one model each
//
// Every rank holds the whole model, trains on its own rows of the batch, and before every AdamW step
// the ranks average their gradients (allreduce_average): all of them then take the same step and
// hold the same weights. Built without MPI (CMake did not find it), or started without mpirun, the
// program is one rank and every function here is a no-op or a copy.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace stage07::dist {

// MPI_Init when the program was started by mpirun/mpiexec (their environment variables say so),
// MPI_Finalize at the end; a plain run never touches MPI. Ranks other than 0 write nothing to
// stdout and stderr: their errors reach the person through rank 0 (first_error) or abort().
struct Session {
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

bool with_mpi();  // built with MPI support
int rank();       // 0 .. size() - 1
int size();       // the number of ranks (1 without mpirun)

// Each buffer becomes the mean of that buffer over the ranks: the buffers are packed into one
// flat float32 buffer, summed across the ranks with one MPI_Allreduce, scaled by 1/size() and
// unpacked. Every rank gets the same bits.
void allreduce_average(const std::vector<std::span<float>>& buffers);
// x becomes the sum of x over the ranks.
void allreduce_sum(std::span<float> x);
// Seconds spent in allreduce_average so far (packing, the all-reduce and unpacking).
double allreduce_seconds();

// Rank 0's numbers (or text) to every rank.
void broadcast(std::span<float> x);
void broadcast(std::string& s);
// Every rank's value, in rank order, on every rank.
std::vector<uint64_t> allgather(uint64_t x);
std::vector<double> allgather(double x);

// The first error of any rank ("" if none: every rank passes its own, "" when it has none),
// on every rank — a rank's message other than rank 0's starts with "rank N: ".
std::string first_error(const std::string& mine);

// The line rank 0 prints on stderr if mpirun stops it (SIGTERM: another rank died, or the job was
// interrupted), e.g. where the last checkpoint is. Without MPI, or on one rank: nothing.
void last_words(const std::string& line);

// Ends every rank of the job: prints "error: <message>" (ranks other than 0: "error: rank N:
// <message>") on stderr and calls MPI_Abort with `code`. Without MPI: prints and exits.
[[noreturn]] void abort(const std::string& message, int code);

}  // namespace stage07::dist
