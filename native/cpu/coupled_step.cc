// Coupled Adam step on the CPU, in two passes: (1) the vocabulary sum of grad^2 per hidden
// unit, in double; (2) one fused update per element. Memory traffic per element: pass 1
// reads grad (4 bytes), pass 2 reads param, grad, expAvg and writes param, expAvg (20 bytes).
// Formula: shared/COUPLED_ADAM.md "The update"; per-element math in native/common/adam_math.h.
#include <math.h>

#include <algorithm>
#include <vector>

#include "../common/adam_math.h"
#include "cpu_internal.h"

namespace {

using ca::share_begin;

// Calls f(j, k, length) for each piece of elements [begin, end) of a [cols, rows] matrix
// that lies in one hidden unit j's contiguous run of `rows` elements.
template <typename F>
void for_each_run(int64_t begin, int64_t end, int64_t rows, F f) {
  for (int64_t k = begin; k < end;) {
    const int64_t j = k / rows, runEnd = std::min(end, (j + 1) * rows);
    f(j, k, runEnd - k);
    k = runEnd;
  }
}

// Sum of squares of a contiguous run, in double with four independent accumulators.
double sum_squares(const float* __restrict x, int64_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += (double)x[i] * x[i];
    a1 += (double)x[i + 1] * x[i + 1];
    a2 += (double)x[i + 2] * x[i + 2];
    a3 += (double)x[i + 3] * x[i + 3];
  }
  for (; i < n; ++i) a0 += (double)x[i] * x[i];
  return (a0 + a1) + (a2 + a3);
}

// grad^2 of rows [begin, end) of a [rows, cols] matrix added into acc: [cols]. Four rows go
// through acc per pass, each added in turn, so the sums are those of one row at a time, bit
// for bit; but acc is loaded and stored once per four rows, not once per row, and four rows
// stream at once. One row at a time, this pass ran at a third of pass 2's bandwidth.
void add_rows_sq(const float* __restrict grad, int64_t begin, int64_t end, int64_t cols,
                 double* __restrict acc) {
  int64_t i = begin;
  for (; i + 4 <= end; i += 4) {
    const float* __restrict g0 = grad + i * cols;
    const float* __restrict g1 = g0 + cols;
    const float* __restrict g2 = g1 + cols;
    const float* __restrict g3 = g2 + cols;
    for (int64_t j = 0; j < cols; ++j) {
      double a = acc[j];
      a += (double)g0[j] * g0[j];
      a += (double)g1[j] * g1[j];
      a += (double)g2[j] * g2[j];
      a += (double)g3[j] * g3[j];
      acc[j] = a;
    }
  }
  for (; i < end; ++i) {
    const float* __restrict g = grad + i * cols;
    for (int64_t j = 0; j < cols; ++j) acc[j] += (double)g[j] * g[j];
  }
}

// Pass 1. partial: [threads, cols], each thread's sums of its share of the vocabulary;
// sumSq: [cols], their total added in thread order.
void reduce_grad_sq(const float* grad, int64_t rows, int64_t cols, int vocabAxis,
                    int threads, std::vector<double>& partial, std::vector<double>& sumSq) {
  partial.assign((size_t)threads * cols, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = ca::thread_index();
    double* __restrict acc = partial.data() + (size_t)t * cols;
    if (vocabAxis == 0) {
      // [rows, cols]: tokens' rows, accumulated column-wise.
      add_rows_sq(grad, share_begin(rows, t, threads), share_begin(rows, t + 1, threads), cols,
                  acc);
    } else {
      // [cols, rows]: each hidden unit is one contiguous run; threads split the elements.
      const int64_t n = rows * cols;
      for_each_run(share_begin(n, t, threads), share_begin(n, t + 1, threads), rows,
                   [&](int64_t j, int64_t k, int64_t len) { acc[j] += sum_squares(grad + k, len); });
    }
  }
  sumSq.assign((size_t)cols, 0.0);
  for (int t = 0; t < threads; ++t) {
    const double* acc = partial.data() + (size_t)t * cols;
    for (int64_t j = 0; j < cols; ++j) sumSq[j] += acc[j];
  }
}

// Pass 2 for one contiguous run that shares one column factor ([cols, rows] layout).
void update_run(float* __restrict param, const float* __restrict grad,
                float* __restrict expAvg, int64_t n, float scale, const ca_step_scalars* s) {
  for (int64_t i = 0; i < n; ++i) ca_coupled_element(param + i, expAvg + i, grad[i], scale, s);
}

// Pass 2 for one token's row, each element with its own column's factor ([rows, cols]).
void update_row(float* __restrict param, const float* __restrict grad,
                float* __restrict expAvg, const float* __restrict scale, int64_t cols,
                const ca_step_scalars* s) {
  for (int64_t j = 0; j < cols; ++j) {
    ca_coupled_element(param + j, expAvg + j, grad[j], scale[j], s);
  }
}

}  // namespace

extern "C" ca_status ca_coupled_step_cpu(float* param, const float* grad, float* expAvg,
                                         float* expAvgSq, int64_t rows, int64_t cols,
                                         int vocabAxis, const ca_hyper* hyper,
                                         int checkFinite) {
  if (ca_status st = ca::check_coupled_shape(param, grad, expAvg, expAvgSq, rows, cols,
                                             vocabAxis)) {
    return st;
  }
  if (ca_status st = ca::check_hyper(hyper, true)) return st;

  const int64_t n = rows * cols;
  const int threads = ca::threads_for(n);
  const ca_step_scalars s = ca_make_step_scalars(hyper->lr, hyper->beta1, hyper->beta2,
                                                 hyper->eps, hyper->weight_decay, hyper->step);

  // pass 1: vocabulary reduction. Nothing is written before the finiteness verdict: a sum of
  // squares of float32 values cannot overflow a double, so it is finite iff every grad is.
  std::vector<double> partial, sumSq;
  reduce_grad_sq(grad, rows, cols, vocabAxis, threads, partial, sumSq);
  if (checkFinite) {
    for (int64_t j = 0; j < cols; ++j) {
      if (!isfinite(sumSq[j])) return CA_SKIPPED_NON_FINITE;
    }
  }

  // per hidden unit: the coupled second moment and the factor its whole column steps by
  std::vector<float> scale((size_t)cols);
  for (int64_t j = 0; j < cols; ++j) {
    expAvgSq[j] = ca_coupled_exp_avg_sq(expAvgSq[j], sumSq[j] / (double)rows, hyper->beta2);
    scale[j] = ca_coupled_column_scale(expAvgSq[j], hyper->avg_scale, hyper->eps, &s);
  }

  // pass 2: fused update of param and expAvg
  if (vocabAxis == 0) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t o = i * cols;
      update_row(param + o, grad + o, expAvg + o, scale.data(), cols, &s);
    }
  } else {
#pragma omp parallel num_threads(threads)
    {
      const int t = ca::thread_index();
      for_each_run(share_begin(n, t, threads), share_begin(n, t + 1, threads), rows,
                   [&](int64_t j, int64_t k, int64_t len) {
                     update_run(param + k, grad + k, expAvg + k, len, scale[j], &s);
                   });
    }
  }
  return CA_OK;
}
