// Depthwise convolution (groups == input channels): output channel k reads only input channel
// k / multiplier, so it is a direct 2-D filter per plane, not a GEMM. One thread per output
// element with ow fastest (coalesced); the kh x kw weights of a channel stay in L1 across threads.
// Bias, residual and activation are fused.
#include "common.cuh"

extern "C" __global__ void fc_dwconv2d(const float* __restrict__ x, const float* __restrict__ w,
                                       const float* __restrict__ bias,
                                       const float* __restrict__ residual, float* __restrict__ y,
                                       int images, int channels, int height, int width,
                                       int out_channels, int kh, int kw, int stride_h,
                                       int stride_w, int dil_h, int dil_w, int pad_top,
                                       int pad_left, int out_h, int out_w, int act, float alpha,
                                       float beta) {
  const int multiplier = out_channels / channels;
  const idx_t total = (idx_t)images * out_channels * out_h * out_w;
  FC_GRID_STRIDE_LOOP(i, total) {
    idx_t row = fc_div(i, out_w);
    int ow = (int)(i - row * out_w), oh = (int)fc_mod(row, out_h);
    idx_t nk = fc_div(row, out_h);
    idx_t n = fc_div(nk, out_channels);
    int k = (int)(nk - n * out_channels);
    const float* src = x + (n * channels + k / multiplier) * (idx_t)height * width;
    const float* wk = w + (idx_t)k * kh * kw;
    float acc = bias ? bias[k] : 0.f;
    int h0 = oh * stride_h - pad_top, w0 = ow * stride_w - pad_left;
    for (int r = 0; r < kh; ++r) {
      int ih = h0 + r * dil_h;
      if (ih < 0 || ih >= height) continue;
      for (int s = 0; s < kw; ++s) {
        int iw = w0 + s * dil_w;
        if (iw >= 0 && iw < width) acc = fmaf(src[(idx_t)ih * width + iw], wk[r * kw + s], acc);
      }
    }
    if (residual) acc += residual[i];
    y[i] = fc_activate(acc, act, alpha, beta);
  }
}
