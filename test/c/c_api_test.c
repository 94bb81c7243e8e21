/* c_api_test.c: links libcoupled_adam through include/coupled_adam.h alone, as a framework
 * would, and checks the CPU kernels against expected values derived by hand (written out
 * below) and against a float64 evaluation of the update formulas of COUPLED_ADAM.md, written
 * here independently of the kernels. Also checks the error paths and the CUDA entry points'
 * answer on this machine (compiled or not; a device or the CUDA error's name).
 * Run by `npm run test:c` through CTest. Exit status 0 when every check passes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coupled_adam.h"

static int failures = 0;

static void check(int ok, const char* what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) failures++;
}

/* max_k |a_k - b_k| / max_k |b_k|, the norm-wise relative error of the JS test suite. */
static double rel_error(const float* a, const double* b, long n) {
  double diff = 0, scale = 0;
  for (long k = 0; k < n; ++k) {
    const double d = fabs((double)a[k] - b[k]);
    if (d > diff || d != d) diff = d != d ? INFINITY : d;
    if (fabs(b[k]) > scale) scale = fabs(b[k]);
  }
  return scale == 0 ? diff : diff / scale;
}

static int near_all(const float* got, const double* want, long n, double tol) {
  for (long k = 0; k < n; ++k) {
    if (!(fabs((double)got[k] - want[k]) <= tol * (fabs(want[k]) > 1 ? fabs(want[k]) : 1))) {
      printf("     element %ld: got %.9g, want %.9g\n", k, (double)got[k], want[k]);
      return 0;
    }
  }
  return 1;
}

/* ---- hand-derived values ----
 * Coupled step 1 from zero state: m = (1 - beta1) g, vbar_j = (1 - beta2) mean_i g_ij^2, and
 * the bias corrections (1 - beta1), (1 - beta2) cancel, so the step is
 * lr * g_ij / (sqrt(mean_i g_ij^2) + eps). Column 0 has g = (1, -1, 1): rms 1; column 1 has
 * g = (2, 2, -2): rms 2. With lr = 0.1 every element moves by 0.1 * sign(g) (to within eps).
 */
static void test_coupled_by_hand(int vocab_axis) {
  const float p0[6] = {1, 2, 3, 4, 5, 6};         /* [3 rows, 2 cols] */
  const float g0[6] = {1, 2, -1, 2, 1, -2};
  const double want_param[6] = {0.9, 1.9, 3.1, 3.9, 4.9, 6.1};
  const double want_m[6] = {0.1, 0.2, -0.1, 0.2, 0.1, -0.2};
  const double want_v[2] = {0.01, 0.04};
  float param[6], grad[6], m[6] = {0}, v[2] = {0};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      const int k = vocab_axis == 0 ? i * 2 + j : j * 3 + i;
      param[k] = p0[i * 2 + j];
      grad[k] = g0[i * 2 + j];
    }
  }
  const ca_hyper h = {0.1, 0.9, 0.99, 1e-8, 0.0, 1.0, 1};
  const ca_status st = ca_coupled_step_cpu(param, grad, m, v, 3, 2, vocab_axis, &h, 1);
  double wp[6], wm[6];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      const int k = vocab_axis == 0 ? i * 2 + j : j * 3 + i;
      wp[k] = want_param[i * 2 + j];
      wm[k] = want_m[i * 2 + j];
    }
  }
  char what[96];
  snprintf(what, sizeof what, "coupled step by hand, vocab_axis %d", vocab_axis);
  check(st == CA_OK && near_all(param, wp, 6, 1e-6) && near_all(m, wm, 6, 1e-6) &&
            near_all(v, want_v, 2, 1e-6),
        what);
}

/* AdamW step 1 from zero state moves each element by lr * g / (|g| + eps) = lr * sign(g)
 * after the decay param * (1 - lr * weight_decay) = param * 0.999; a zero grad only decays. */
static void test_adamw_by_hand(void) {
  float param[3] = {1, -2, 3}, grad[3] = {0.5f, -4, 0}, m[3] = {0}, v[3] = {0};
  const double want[3] = {0.999 - 0.01, -1.998 + 0.01, 2.997};
  const ca_hyper h = {0.01, 0.9, 0.999, 1e-8, 0.1, 1.0, 1};
  const ca_status st = ca_adamw_step_cpu(param, grad, m, v, 3, &h, 1);
  check(st == CA_OK && near_all(param, want, 3, 1e-6), "AdamW step by hand");
}

/* ---- float64 formulas, several steps ---- */

static float* random_floats(long n, unsigned seed, double scale) {
  float* x = malloc(sizeof(float) * (size_t)n);
  for (long k = 0; k < n; ++k) {
    seed = seed * 1664525u + 1013904223u;
    x[k] = (float)(scale * ((double)(seed >> 8) / 16777216.0 * 2.0 - 1.0));
  }
  return x;
}

static void test_coupled_float64(int vocab_axis) {
  const long rows = 37, cols = 19, n = rows * cols;
  const int steps = 5;
  float* param = random_floats(n, 7, 1.0);
  float *m = calloc((size_t)n, sizeof(float)), *v = calloc((size_t)cols, sizeof(float));
  double *rp = malloc(sizeof(double) * (size_t)n), *rm = calloc((size_t)n, sizeof(double));
  double* rv = calloc((size_t)cols, sizeof(double));
  for (long k = 0; k < n; ++k) rp[k] = param[k];
  const ca_hyper h = {3e-3, 0.9, 0.95, 1e-8, 0.1, 0.5, 0};
  int ok = 1;
  for (int t = 1; t <= steps; ++t) {
    float* grad = random_floats(n, 100u + (unsigned)t, 1.0 / t);
    ca_hyper ht = h;
    ht.step = t;
    ok &= ca_coupled_step_cpu(param, grad, m, v, rows, cols, vocab_axis, &ht, 1) == CA_OK;
    const double bc1 = 1 - pow(h.beta1, t), bc2 = 1 - pow(h.beta2, t);
    for (long j = 0; j < cols; ++j) {
      double sum = 0;
      for (long i = 0; i < rows; ++i) {
        const double g = grad[vocab_axis == 0 ? i * cols + j : j * rows + i];
        sum += g * g;
      }
      rv[j] = h.beta2 * rv[j] + (1 - h.beta2) * sum / rows;
      const double denom = sqrt(h.avg_scale * rv[j] / bc2) + h.eps;
      for (long i = 0; i < rows; ++i) {
        const long k = vocab_axis == 0 ? i * cols + j : j * rows + i;
        rm[k] = h.beta1 * rm[k] + (1 - h.beta1) * grad[k];
        rp[k] = rp[k] * (1 - h.lr * h.weight_decay) - h.lr / bc1 * rm[k] / denom;
      }
    }
    free(grad);
  }
  const double ep = rel_error(param, rp, n), em = rel_error(m, rm, n), ev = rel_error(v, rv, cols);
  char what[128];
  snprintf(what, sizeof what,
           "coupled %ldx%ld vocab_axis %d, %d steps vs float64: rel. errors %.1e %.1e %.1e",
           rows, cols, vocab_axis, steps, ep, em, ev);
  check(ok && ep < 1e-5 && em < 1e-5 && ev < 1e-5, what);
  free(param); free(m); free(v); free(rp); free(rm); free(rv);
}

static void test_adamw_float64(void) {
  const long n = 1003;
  const int steps = 5;
  float* param = random_floats(n, 11, 1.0);
  float *m = calloc((size_t)n, sizeof(float)), *v = calloc((size_t)n, sizeof(float));
  double *rp = malloc(sizeof(double) * (size_t)n), *rm = calloc((size_t)n, sizeof(double));
  double* rv = calloc((size_t)n, sizeof(double));
  for (long k = 0; k < n; ++k) rp[k] = param[k];
  const ca_hyper h = {1e-3, 0.9, 0.999, 1e-8, 0.01, 1.0, 0};
  int ok = 1;
  for (int t = 1; t <= steps; ++t) {
    float* grad = random_floats(n, 200u + (unsigned)t, 0.1);
    ca_hyper ht = h;
    ht.step = t;
    ok &= ca_adamw_step_cpu(param, grad, m, v, n, &ht, 1) == CA_OK;
    const double bc1 = 1 - pow(h.beta1, t), bc2 = 1 - pow(h.beta2, t);
    for (long k = 0; k < n; ++k) {
      rm[k] = h.beta1 * rm[k] + (1 - h.beta1) * grad[k];
      rv[k] = h.beta2 * rv[k] + (1 - h.beta2) * (double)grad[k] * grad[k];
      const double denom = sqrt(rv[k] / bc2) + h.eps;
      rp[k] = rp[k] * (1 - h.lr * h.weight_decay) - h.lr / bc1 * rm[k] / denom;
    }
    free(grad);
  }
  const double ep = rel_error(param, rp, n);
  char what[96];
  snprintf(what, sizeof what, "AdamW %ld elements, %d steps vs float64: rel. error %.1e", n,
           steps, ep);
  check(ok && ep < 1e-5 && rel_error(m, rm, n) < 1e-5 && rel_error(v, rv, n) < 1e-5, what);
  free(param); free(m); free(v); free(rp); free(rm); free(rv);
}

/* ---- skips, errors, the CUDA entry points ---- */

static void test_non_finite_skips(void) {
  float param[4] = {1, 2, 3, 4}, grad[4] = {0.1f, NAN, 0.3f, 0.4f}, m[4] = {1, 1, 1, 1};
  float v[2] = {1, 1};
  float before[10];
  memcpy(before, param, sizeof param);
  memcpy(before + 4, m, sizeof m);
  memcpy(before + 8, v, sizeof v);
  const ca_hyper h = {0.1, 0.9, 0.99, 1e-8, 0.1, 1.0, 3};
  const ca_status st = ca_coupled_step_cpu(param, grad, m, v, 2, 2, 0, &h, 1);
  check(st == CA_SKIPPED_NON_FINITE && memcmp(before, param, sizeof param) == 0 &&
            memcmp(before + 4, m, sizeof m) == 0 && memcmp(before + 8, v, sizeof v) == 0,
        "a NaN gradient skips the coupled step and modifies nothing");
  check(ca_all_finite_cpu(grad, 4) == 0 && ca_all_finite_cpu(param, 4) == 1,
        "ca_all_finite_cpu tells NaN from finite");
}

static void test_invalid_arguments(void) {
  float x[4] = {0};
  ca_hyper h = {0.1, 0.9, 0.99, 1e-8, 0.0, 1.0, 0};  /* step 0: invalid */
  ca_status st = ca_coupled_step_cpu(x, x, x, x, 2, 2, 0, &h, 1);
  check(st == CA_ERR_INVALID_ARGUMENT && strstr(ca_last_error(), "step") != NULL,
        "step 0 is an invalid argument, and ca_last_error() names it");
  h.step = 1;
  st = ca_adamw_step_cpu(NULL, x, x, x, 4, &h, 1);
  check(st == CA_ERR_INVALID_ARGUMENT, "a NULL tensor is an invalid argument");
  st = ca_coupled_step_cuda(NULL, x, CA_FLOAT32, x, x, 2, 2, 0, &h, 0, NULL, NULL, 0, NULL);
  check(st == CA_ERR_INVALID_ARGUMENT || st == CA_ERR_NOT_COMPILED,
        "the CUDA coupled step checks its arguments before touching the device");
}

static void test_cuda_entry_points(void) {
  int count = -1;
  const ca_status st = ca_cuda_device_count(&count);
  if (!ca_cuda_compiled()) {
    check(st == CA_ERR_NOT_COMPILED && count == 0,
          "CPU-only build: the CUDA entry points answer CA_ERR_NOT_COMPILED");
    return;
  }
  if (st == CA_OK) {
    printf("     CUDA devices: %d\n", count);
    check(count >= 0, "ca_cuda_device_count succeeds");
  } else {
    printf("     no CUDA device here: %s\n", ca_last_error());
    check(st == CA_ERR_CUDA && strncmp(ca_cuda_last_error_name(), "cudaError", 9) == 0 &&
              strncmp(ca_last_error(), ca_cuda_last_error_name(),
                      strlen(ca_cuda_last_error_name())) == 0,
          "without a device, CA_ERR_CUDA with the CUDA error's name");
  }
  check(ca_coupled_workspace_bytes(50304, 768, 0) > 0 &&
            ca_coupled_workspace_bytes(0, 768, 0) == 0,
        "ca_coupled_workspace_bytes sizes a shape and rejects an empty one");
}

int main(void) {
  test_coupled_by_hand(0);
  test_coupled_by_hand(1);
  test_adamw_by_hand();
  test_coupled_float64(0);
  test_coupled_float64(1);
  test_adamw_float64();
  test_non_finite_skips();
  test_invalid_arguments();
  test_cuda_entry_points();
  printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
  return failures ? 1 : 0;
}
