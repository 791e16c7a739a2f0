// y = act(x * scale[c] + shift[c] + residual) over an NCHW tensor, c = (i / plane) % channels.
// One kernel serves the convolution epilogue (in place on the GEMM output, shift = bias),
// inference batch norm (scale/shift folded from mean/var on the host) and plain activations.
// scale, shift and residual may each be null; x may equal y (in place), hence no __restrict__ on them.
#include "common.cuh"

extern "C" __global__ void fc_channel_epilogue(const float* x, float* y,
                                               const float* __restrict__ scale,
                                               const float* __restrict__ shift,
                                               const float* __restrict__ residual, idx_t total,
                                               int channels, idx_t plane, int act, float alpha,
                                               float beta) {
  FC_GRID_STRIDE_LOOP(i, total) {
    int c = (int)fc_mod(fc_div(i, plane), channels);
    float v = x[i];
    if (scale) v *= scale[c];
    if (shift) v += shift[c];
    if (residual) v += residual[i];
    y[i] = fc_activate(v, act, alpha, beta);
  }
}

// The same with 16-byte accesses, for plane % 4 == 0 and 16-byte aligned pointers (the host
// checks both): four neighbours share a channel, and wide loads reach the copy bandwidth.
extern "C" __global__ void fc_channel_epilogue_vec4(const float4* x, float4* y,
                                                    const float* __restrict__ scale,
                                                    const float* __restrict__ shift,
                                                    const float4* __restrict__ residual,
                                                    idx_t total4, int channels, idx_t plane4,
                                                    int act, float alpha, float beta) {
  FC_GRID_STRIDE_LOOP(i, total4) {
    int c = (int)fc_mod(fc_div(i, plane4), channels);
    float s = scale ? scale[c] : 1.f, t = shift ? shift[c] : 0.f;
    float4 v = x[i];
    float4 r = residual ? residual[i] : make_float4(0.f, 0.f, 0.f, 0.f);
    v.x = fc_activate(fmaf(v.x, s, t) + r.x, act, alpha, beta);
    v.y = fc_activate(fmaf(v.y, s, t) + r.y, act, alpha, beta);
    v.z = fc_activate(fmaf(v.z, s, t) + r.z, act, alpha, beta);
    v.w = fc_activate(fmaf(v.w, s, t) + r.w, act, alpha, beta);
    y[i] = v;
  }
}
