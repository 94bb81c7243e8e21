// Helpers shared by the CPU kernels: argument checks that record a message for
// ca_last_error(), and the thread count a kernel should use for a given amount of work.
#pragma once

#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../../include/coupled_adam.h"

namespace ca {

// Records the message for ca_last_error() and returns CA_ERR_INVALID_ARGUMENT.
ca_status invalid(const char* fmt, ...);

// Checks the hyperparameters that every step takes; `coupled` also checks avg_scale.
ca_status check_hyper(const ca_hyper* hyper, bool coupled);

// Checks a coupled step's pointers, shape and vocabulary axis (CPU and CUDA alike).
ca_status check_coupled_shape(const void* param, const void* grad, const void* expAvg,
                              const void* expAvgSq, int64_t rows, int64_t cols, int vocabAxis);

// Threads for `n` elements, at least 256k elements (1 MB a stream) per thread: below that a
// step takes well under a millisecond on one core, and on a busy machine a fork-join can wait
// far longer for a descheduled thread (measured: 4096 x 64 took 15 ms on two threads under
// load, against 2.5 ms for the single-threaded js backend).
int threads_for(int64_t n);

// This thread's index inside an OpenMP parallel region (0 without OpenMP).
inline int thread_index() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Thread t of `threads` owns [share_begin(t), share_begin(t + 1)) of `total` items: fixed by
// the thread count alone, so reductions add in the same order run to run.
inline int64_t share_begin(int64_t total, int t, int threads) {
  return (int64_t)((__int128)total * t / threads);
}

}  // namespace ca
