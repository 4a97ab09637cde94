/* DeskLab's probe reductions for the CPU, fused: each layer's activation, dL/dh and
 * weight is read in one or two passes instead of the ten or so that separate tensor
 * operations make (on bench-mlp those passes, not the arithmetic, were the probe's
 * cost). Built at first use and loaded with ctypes by desklab/engine/cpu_kernel.py;
 * single-threaded, vectorised by the compiler (omp simd: no OpenMP runtime, so none
 * beside PyTorch's own). The statistics are those of probe_reduce.py; the tests
 * compare both paths against numpy.
 *
 * Shapes: an activation is (B, C, S) float32, contiguous: B batch rows, C units,
 * S positions per unit. Sums are taken per row in float and added in double. */
#include <math.h>
#include <stdint.h>

typedef int64_t i64;

/* One pass over row b's values: their sum, zeros, saturated values and each unit's
   largest |x| (peak, (C,)). NaN is not looked for here: it shows in the sum, and then
   `nan_pass` redoes the peaks (keeps the hot loop at a few vector operations). */
#define ROW_LOOP(SAT)                                                          \
  if (S == 1) {                                                                \
    _Pragma("omp simd reduction(+ : s, z, sat)")                               \
    for (i64 c = 0; c < C; c++) {                                              \
      const float v = row[c], a = fabsf(v);                                    \
      s += v;                                                                  \
      z += v == 0.f;                                                           \
      SAT;                                                                     \
      peak[c] = a > peak[c] ? a : peak[c];                                     \
    }                                                                          \
  } else {                                                                     \
    for (i64 c = 0; c < C; c++) {                                              \
      const float *u = row + c * S;                                            \
      float p = peak[c];                                                       \
      _Pragma("omp simd reduction(+ : s, z, sat) reduction(max : p)")          \
      for (i64 k = 0; k < S; k++) {                                            \
        const float v = u[k], a = fabsf(v);                                    \
        s += v;                                                                \
        z += v == 0.f;                                                         \
        SAT;                                                                   \
        p = a > p ? a : p;                                                     \
      }                                                                        \
      peak[c] = p;                                                             \
    }                                                                          \
  }

/* A layer with NaN: count them, and make a unit's peak NaN where it saw one (such a
   unit is not dead), as the tensor operations' amax does. Rare: a diverged run. */
static i64 nan_pass(const float *x, i64 B, i64 C, i64 S, float *peak) {
  i64 nans = 0;
  for (i64 b = 0; b < B; b++)
    for (i64 c = 0; c < C; c++)
      for (i64 k = 0; k < S; k++)
        if (x[(b * C + c) * S + k] != x[(b * C + c) * S + k]) {
          nans++;
          peak[c] = NAN;
        }
  return nans;
}

/* stats row of an activation: mean, std, frac_zero, frac_dead, frac_saturated, spread;
   a value is saturated when |x - centre| >= limit (limit +inf: an unbounded layer) */
static void activation(const float *x, i64 B, i64 C, i64 S, i64 rows, float centre,
                       float limit, float *scratch, float *stats) {
  const i64 row_size = C * S, n = B * row_size;
  const int bounded = !isinf(limit);
  double sum = 0.0;
  i64 zeros = 0, nans = 0, saturated = 0;
  float *peak = scratch; /* (C,) largest |x| of each unit */
  for (i64 c = 0; c < C; c++) peak[c] = 0.f;
  /* the squares are taken around K, the first row's mean, while each row is still in
     the L1 cache: Q = sum (x - K)^2, D = sum (x - K), M2 = Q - D^2 / n. With K within
     a few std of the mean there is no cancellation; otherwise (a first row unlike the
     rest) a second pass around the mean is taken instead. */
  float shift = 0.f;
  double q_sum = 0.0, d_sum = 0.0;
  for (i64 b = 0; b < B; b++) {
    const float *row = x + b * row_size;
    float s = 0.f, q = 0.f, d = 0.f;
    int z = 0, sat = 0;
    if (bounded) {
      ROW_LOOP(sat += fabsf(v - centre) >= limit)
    } else {
      ROW_LOOP((void)0)
    }
    if (b == 0) shift = s / (float)row_size;
#pragma omp simd reduction(+ : q, d)
    for (i64 i = 0; i < row_size; i++) {
      const float e = row[i] - shift;
      q += e * e;
      d += e;
    }
    sum += s;
    zeros += z;
    saturated += sat;
    q_sum += q;
    d_sum += d;
  }
  if (sum != sum) nans = nan_pass(x, B, C, S, peak);
  const double mean = sum / (double)n;
  double m2 = q_sum - d_sum * d_sum / (double)n;
  if (d_sum * d_sum / (double)n > 0.5 * q_sum) { /* K far from the mean: two passes */
    const float mean_f = (float)mean;
    m2 = 0.0;
    for (i64 b = 0; b < B; b++) {
      const float *row = x + b * row_size;
      float t = 0.f;
#pragma omp simd reduction(+ : t)
      for (i64 i = 0; i < row_size; i++) t += (row[i] - mean_f) * (row[i] - mean_f);
      m2 += t;
    }
  }
  if (m2 < 0.0) m2 = 0.0; /* rounding; NaN stays NaN */
  i64 dead = 0;
  for (i64 c = 0; c < C; c++) dead += peak[c] == 0.f;
  /* spread: std across units at each (row, position), averaged over the sample rows */
  double spread = 0.0;
  if (C > 1 && S == 1) { /* dense: each row's C values are contiguous */
    for (i64 b = 0; b < rows; b++) {
      const float *row = x + b * C;
      float total = 0.f, squares = 0.f;
#pragma omp simd reduction(+ : total)
      for (i64 c = 0; c < C; c++) total += row[c];
      const float centre_of = total / (float)C;
#pragma omp simd reduction(+ : squares)
      for (i64 c = 0; c < C; c++) squares += (row[c] - centre_of) * (row[c] - centre_of);
      spread += sqrt(squares / (float)C);
    }
    spread /= (double)rows;
  } else if (C > 1) {
    /* scratch reused: the unit mean at each position (S,), then the squares (S,) */
    float *centre_of = scratch, *squares = scratch + S;
    for (i64 b = 0; b < rows; b++) {
      const float *row = x + b * row_size;
      for (i64 k = 0; k < S; k++) centre_of[k] = squares[k] = 0.f;
      for (i64 c = 0; c < C; c++)
#pragma omp simd
        for (i64 k = 0; k < S; k++) centre_of[k] += row[c * S + k];
      for (i64 k = 0; k < S; k++) centre_of[k] /= (float)C;
      for (i64 c = 0; c < C; c++)
#pragma omp simd
        for (i64 k = 0; k < S; k++) {
          float d = row[c * S + k] - centre_of[k];
          squares[k] += d * d;
        }
      for (i64 k = 0; k < S; k++) spread += sqrt(squares[k] / (float)C);
    }
    spread /= (double)(rows * S);
  }
  stats[0] = (float)mean;
  stats[1] = (float)sqrt(m2 / (double)n);
  stats[2] = nans ? NAN : (float)((double)zeros / (double)n);
  stats[3] = (float)((double)dead / (double)C);
  stats[4] = bounded ? (float)((double)saturated / (double)n) : 0.f;
  stats[5] = (float)spread;
}

/* counts (n_bins + 2,) of the first `count` values over [lo, hi], as numpy bins them:
   bin k + 1 holds [lo + k w, lo + (k + 1) w), the last also hi; NaN is underflow.
   Bin numbers are computed a chunk at a time (vectorised), then counted into four
   interleaved integer tables: one table makes every count wait for the previous one. */
#define CHUNK 1024
#define MAX_COUNTS 1024
static void histogram(const float *x, i64 count, float lo, float hi, i64 n_bins,
                      float weight, float *counts) {
  const float scale = (float)n_bins / (hi - lo), offset = 1.f - lo * scale;
  const float top = (float)n_bins + 1.f, at_hi = (float)n_bins + 0.5f;
  int32_t bins[CHUNK];
  int32_t tables[4][MAX_COUNTS]; /* on the stack: two threads may probe at once */
  const i64 n_counts = n_bins + 2;
  for (int t = 0; t < 4; t++)
    for (i64 i = 0; i < n_counts; i++) tables[t][i] = 0;
  for (i64 start = 0; start < count; start += CHUNK) {
    const i64 len = start + CHUNK < count ? CHUNK : count - start;
    const float *v = x + start;
#pragma omp simd
    for (i64 i = 0; i < len; i++) {
      /* selects only, each its own compare: gcc vectorises this form (a NaN test
         of its own made it give up, "control flow in loop": 2x slower) */
      const float x = v[i];
      float pos = x * scale;
      pos = pos + offset;
      pos = pos > 0.f ? pos : 0.f; /* NaN fails the compare: the underflow bin */
      pos = pos < top ? pos : top;
      pos = x == hi ? at_hi : pos;
      bins[i] = (int32_t)pos;
    }
    i64 i = 0;
    for (; i + 4 <= len; i += 4) {
      tables[0][bins[i]]++;
      tables[1][bins[i + 1]]++;
      tables[2][bins[i + 2]]++;
      tables[3][bins[i + 3]]++;
    }
    for (; i < len; i++) tables[0][bins[i]]++;
  }
  for (i64 i = 0; i < n_counts; i++)
    counts[i] = (float)(tables[0][i] + tables[1][i] + tables[2][i] + tables[3][i]) * weight;
}

/* L activations: xs[l] of dims[3l : 3l + 3] = (B, C, S); params[l] -> lo, hi, centre,
   limit (limit +inf: unbounded); rows[l] rows for spread and histogram;
   stats[l] -> 6 floats, counts[l] -> n_bins + 2 floats; scratch >= max(C, 2 S) floats */
void desklab_activations(i64 L, const float **xs, const i64 *dims, const float **params,
                         const i64 *rows, i64 n_bins, float **stats, float **counts,
                         float *scratch) {
  for (i64 l = 0; l < L; l++) {
    const i64 B = dims[3 * l], C = dims[3 * l + 1], S = dims[3 * l + 2];
    const float *p = params[l];
    activation(xs[l], B, C, S, rows[l], p[2], p[3], scratch, stats[l]);
    histogram(xs[l], rows[l] * C * S, p[0], p[1], n_bins, (float)B / (float)rows[l],
              counts[l]);
  }
}

/* L gradients: gs[l] of sizes[l] floats -> out[l][0] = L2 norm, out[l][1] = mean |g| */
void desklab_gradients(i64 L, const float **gs, const i64 *sizes, float **out) {
  for (i64 l = 0; l < L; l++) {
    const float *g = gs[l];
    double sq = 0.0, ab = 0.0;
    for (i64 i = 0; i < sizes[l]; i += 4096) {
      const i64 end = i + 4096 < sizes[l] ? i + 4096 : sizes[l];
      float s = 0.f, a = 0.f;
#pragma omp simd reduction(+ : s, a)
      for (i64 j = i; j < end; j++) {
        s += g[j] * g[j];
        a += fabsf(g[j]);
      }
      sq += s;
      ab += a;
    }
    out[l][0] = (float)sqrt(sq);
    out[l][1] = (float)(ab / (double)sizes[l]);
  }
}

/* L weights of sizes[l] floats: out[l] = std, gradient norm, |W - W_before| / |W_before|;
   a NULL gradient or earlier copy gives NaN. One pass reads W, its gradient and W_before
   together; a second pass over W (in cache by then) takes the exact two-pass std. */
void desklab_weights(i64 L, const float **ws, const float **grads, const float **before,
                     const i64 *sizes, float **out) {
  static const float zero_chunk[4096];
  for (i64 l = 0; l < L; l++) {
    const float *w = ws[l], *g = grads[l], *b = before[l];
    const i64 n = sizes[l];
    double sum = 0.0, m2 = 0.0, gg = 0.0, bb = 0.0, dd = 0.0;
    for (i64 i = 0; i < n; i += 4096) {
      const i64 len = i + 4096 < n ? 4096 : n - i;
      const float *wc = w + i, *gc = g ? g + i : zero_chunk, *bc = b ? b + i : wc;
      float s = 0.f, s_gg = 0.f, s_bb = 0.f, s_dd = 0.f;
#pragma omp simd reduction(+ : s, s_gg, s_bb, s_dd)
      for (i64 j = 0; j < len; j++) {
        s += wc[j];
        s_gg += gc[j] * gc[j];
        s_bb += bc[j] * bc[j];
        s_dd += (wc[j] - bc[j]) * (wc[j] - bc[j]);
      }
      sum += s, gg += s_gg, bb += s_bb, dd += s_dd;
    }
    const float mean = (float)(sum / (double)n);
    for (i64 i = 0; i < n; i += 4096) {
      const i64 len = i + 4096 < n ? 4096 : n - i;
      const float *wc = w + i;
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (i64 j = 0; j < len; j++) s += (wc[j] - mean) * (wc[j] - mean);
      m2 += s;
    }
    const double old = sqrt(bb) > 1e-12 ? sqrt(bb) : 1e-12;
    out[l][0] = (float)sqrt(m2 / (double)n);
    out[l][1] = g ? (float)sqrt(gg) : NAN;
    out[l][2] = b ? (float)(sqrt(dd) / old) : NAN;
  }
}
