// im2col for the GEMM convolution: cols[n][row][p] with row = (c, r, s) and p = (oh, ow), so
// cols of one image is the (C*KH*KW) x (OH*OW) right operand of W (K x C*KH*KW), and the rows of
// group g are the contiguous block g, ready for a batched matmul. Padding reads as zero.
// One thread per element of cols with p fastest: writes are coalesced, reads nearly so.
// fastconv/gpu/_math.py im2col_source() is this index math in array form (tested on the CPU).
#include "common.cuh"

extern "C" __global__ void fc_im2col(const float* __restrict__ x, float* __restrict__ cols,
                                     int images, int channels, int height, int width, int kh,
                                     int kw, int stride_h, int stride_w, int dil_h, int dil_w,
                                     int pad_top, int pad_left, int out_h, int out_w) {
  const idx_t plane = (idx_t)out_h * out_w;
  const idx_t rows = (idx_t)channels * kh * kw;
  const idx_t total = (idx_t)images * rows * plane;
  FC_GRID_STRIDE_LOOP(i, total) {
    idx_t q = fc_div(i, plane);
    idx_t p = i - q * plane;
    idx_t n = fc_div(q, rows);
    idx_t row = q - n * rows;
    idx_t rc = fc_div(row, kw);
    int s = (int)(row - rc * kw), r = (int)fc_mod(rc, kh), c = (int)fc_div(rc, kh);
    int oh = (int)fc_div(p, out_w), ow = (int)(p - (idx_t)oh * out_w);
    int ih = oh * stride_h - pad_top + r * dil_h;
    int iw = ow * stride_w - pad_left + s * dil_w;
    float v = 0.f;
    if (ih >= 0 && ih < height && iw >= 0 && iw < width)
      v = x[((n * channels + c) * height + ih) * (idx_t)width + iw];
    cols[i] = v;
  }
}
