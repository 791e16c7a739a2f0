// Local response normalisation across channels (ONNX LRN, as in AlexNet):
//   y = x / (bias + alpha / size * sum_{c' in window(c)} x[c']^2) ^ beta,
// window(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to the channels.
// One thread per element; the window's reads hit the same plane offset in nearby channels.
#include "common.cuh"

extern "C" __global__ void fc_lrn(const float* __restrict__ x, float* __restrict__ y, int images,
                                  int channels, idx_t plane, int size, float alpha, float beta,
                                  float bias) {
  const idx_t total = (idx_t)images * channels * plane;
  const int before = (size - 1) / 2, after = size - 1 - before;
  FC_GRID_STRIDE_LOOP(i, total) {
    idx_t p = i % plane;
    int c = (int)((i / plane) % channels);
    const float* col = x + (i / (plane * channels)) * channels * plane + p;
    int c0 = max(c - before, 0), c1 = min(c + after, channels - 1);
    float sq = 0.f;
    for (int j = c0; j <= c1; ++j) {
      float v = col[(idx_t)j * plane];
      sq = fmaf(v, v, sq);
    }
    y[i] = x[i] * powf(bias + alpha / (float)size * sq, -beta);
  }
}
