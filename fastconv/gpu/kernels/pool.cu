// 2-D max and average pooling over NCHW, one thread per output element (ow fastest, coalesced).
// Window of output (oh, ow): rows oh*stride_h - pad_top + r*dil_h, r < kh (same for columns);
// fastconv/gpu/_math.py pool_windows() is this math in array form, tested on the CPU.
#include "common.cuh"

extern "C" __global__ void fc_max_pool2d(const float* __restrict__ x, float* __restrict__ y,
                                         idx_t planes, int height, int width, int kh, int kw,
                                         int stride_h, int stride_w, int dil_h, int dil_w,
                                         int pad_top, int pad_left, int out_h, int out_w) {
  const idx_t total = planes * out_h * out_w;
  FC_GRID_STRIDE_LOOP(i, total) {
    idx_t row = fc_div(i, out_w);
    int ow = (int)(i - row * out_w), oh = (int)fc_mod(row, out_h);
    const float* src = x + fc_div(row, out_h) * height * (idx_t)width;
    int h0 = oh * stride_h - pad_top, w0 = ow * stride_w - pad_left;
    float m = -__int_as_float(0x7f800000);  // -inf: the identity of max (padding never wins)
    for (int r = 0; r < kh; ++r) {
      int ih = h0 + r * dil_h;
      if (ih < 0 || ih >= height) continue;
      for (int s = 0; s < kw; ++s) {
        int iw = w0 + s * dil_w;
        if (iw >= 0 && iw < width) {
          float v = src[(idx_t)ih * width + iw];
          m = (v > m || v != v) ? v : m;  // NaN propagates, as in numpy and onnxruntime
        }
      }
    }
    y[i] = m;
  }
}

// count_include_pad: divide by the window clipped to the padded input (PyTorch/ONNX), else by
// the number of input elements the window covers.
extern "C" __global__ void fc_avg_pool2d(const float* __restrict__ x, float* __restrict__ y,
                                         idx_t planes, int height, int width, int kh, int kw,
                                         int stride_h, int stride_w, int pad_top, int pad_left,
                                         int pad_bottom, int pad_right, int out_h, int out_w,
                                         int count_include_pad) {
  const idx_t total = planes * out_h * out_w;
  FC_GRID_STRIDE_LOOP(i, total) {
    idx_t row = fc_div(i, out_w);
    int ow = (int)(i - row * out_w), oh = (int)fc_mod(row, out_h);
    const float* src = x + fc_div(row, out_h) * height * (idx_t)width;
    int h0 = oh * stride_h - pad_top, w0 = ow * stride_w - pad_left;
    int h1 = min(h0 + kh, height + pad_bottom), w1 = min(w0 + kw, width + pad_right);
    int pool_size = (h1 - h0) * (w1 - w0);
    int hs = max(h0, 0), ws = max(w0, 0), he = min(h1, height), we = min(w1, width);
    float sum = 0.f;
    for (int ih = hs; ih < he; ++ih)
      for (int iw = ws; iw < we; ++iw) sum += src[(idx_t)ih * width + iw];
    int count = count_include_pad ? pool_size : (he - hs) * (we - ws);
    y[i] = count > 0 ? sum / (float)count : 0.f;
  }
}

// Mean (take_max = 0) or maximum (take_max = 1) of each of `planes` contiguous rows of length
// `plane`: one warp per row, lanes stride the row (coalesced), then a shuffle reduction. Launch
// with a multiple of 32 threads (the host uses 256: 8 rows per block). Blocks narrower than a warp
// use blockDim.x lanes per row, which lets the one-thread CPU emulation in tests run it too.
extern "C" __global__ void fc_global_pool(const float* __restrict__ x, float* __restrict__ y,
                                          idx_t planes, idx_t plane, int take_max) {
  const int lanes = blockDim.x < 32 ? (int)blockDim.x : 32;
  const int lane = threadIdx.x % lanes;
  const idx_t rows_per_block = blockDim.x / lanes;
  for (idx_t row = (idx_t)blockIdx.x * rows_per_block + threadIdx.x / lanes; row < planes;
       row += (idx_t)gridDim.x * rows_per_block) {
    const float* src = x + row * plane;
    float acc = take_max ? -__int_as_float(0x7f800000) : 0.f;
    for (idx_t j = lane; j < plane; j += lanes) {
      float v = src[j];
      acc = take_max ? ((v > acc || v != v) ? v : acc) : acc + v;
    }
    for (int off = lanes / 2; off > 0; off >>= 1) {
      float other = __shfl_xor_sync(0xffffffffu, acc, off);
      acc = take_max ? ((other > acc || other != other) ? other : acc) : acc + other;
    }
    if (lane == 0) y[row] = take_max ? acc : acc / (float)plane;
  }
}
