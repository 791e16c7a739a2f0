// Winograd F(2x2, 3x3) for stride-1, dilation-1 3x3 convolutions (Lavin & Gray 2016):
// each 2x2 output tile is A^T [ (G g G^T) . (B^T d B) ] A over a 4x4 input tile d.
//   filter:  U[e][k][c] = (G g G^T)[e], computed once per plan (fastconv/gpu/_math.py);
//   input:   V[e][c][t] = (B^T d B)[e] for every tile t = (n, th, tw)      (fc_winograd_f2x3_input);
//   product: M[e] = U[e] @ V[e], 16 GEMMs batched through cuBLAS (cupy.matmul);
//   output:  y = act(A^T M A + bias + residual), cropped to OH x OW    (fc_winograd_f2x3_output).
// 4 multiplies per output instead of 9; the transforms use only adds (and halves in G).
#include "common.cuh"

extern "C" __global__ void fc_winograd_f2x3_input(const float* __restrict__ x,
                                                  float* __restrict__ v, int images, int channels,
                                                  int height, int width, int pad_top,
                                                  int pad_left, int tiles_h, int tiles_w) {
  const idx_t tiles = (idx_t)images * tiles_h * tiles_w;
  const idx_t total = (idx_t)channels * tiles;  // = the stride between the 16 planes of V
  FC_GRID_STRIDE_LOOP(i, total) {
    idx_t t = i % tiles;
    int c = (int)(i / tiles);
    int tw = (int)(t % tiles_w), th = (int)((t / tiles_w) % tiles_h);
    idx_t n = t / ((idx_t)tiles_w * tiles_h);
    const float* src = x + (n * channels + c) * (idx_t)height * width;
    int h0 = th * 2 - pad_top, w0 = tw * 2 - pad_left;
    float d[4][4];
#pragma unroll
    for (int a = 0; a < 4; ++a)
#pragma unroll
      for (int b = 0; b < 4; ++b) {
        int ih = h0 + a, iw = w0 + b;
        d[a][b] = (ih >= 0 && ih < height && iw >= 0 && iw < width) ? src[(idx_t)ih * width + iw] : 0.f;
      }
    // B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]: rows first, then columns.
    float u[4][4];
#pragma unroll
    for (int b = 0; b < 4; ++b) {
      u[0][b] = d[0][b] - d[2][b];
      u[1][b] = d[1][b] + d[2][b];
      u[2][b] = d[2][b] - d[1][b];
      u[3][b] = d[1][b] - d[3][b];
    }
#pragma unroll
    for (int a = 0; a < 4; ++a) {
      v[(a * 4 + 0) * total + i] = u[a][0] - u[a][2];
      v[(a * 4 + 1) * total + i] = u[a][1] + u[a][2];
      v[(a * 4 + 2) * total + i] = u[a][2] - u[a][1];
      v[(a * 4 + 3) * total + i] = u[a][1] - u[a][3];
    }
  }
}

extern "C" __global__ void fc_winograd_f2x3_output(const float* __restrict__ m, float* __restrict__ y,
                                                   const float* __restrict__ bias,
                                                   const float* __restrict__ residual, int images,
                                                   int out_channels, int out_h, int out_w,
                                                   int tiles_h, int tiles_w, int act, float alpha,
                                                   float beta) {
  const idx_t tiles = (idx_t)images * tiles_h * tiles_w;
  const idx_t total = (idx_t)out_channels * tiles;  // the stride between the 16 planes of M
  FC_GRID_STRIDE_LOOP(i, total) {
    idx_t t = i % tiles;
    int k = (int)(i / tiles);
    int tw = (int)(t % tiles_w), th = (int)((t / tiles_w) % tiles_h);
    idx_t n = t / ((idx_t)tiles_w * tiles_h);
    float e[4][4];
#pragma unroll
    for (int a = 0; a < 4; ++a)
#pragma unroll
      for (int b = 0; b < 4; ++b) e[a][b] = m[(a * 4 + b) * total + i];
    // A^T = [[1,1,1,0],[0,1,-1,-1]].
    float r[2][4];
#pragma unroll
    for (int b = 0; b < 4; ++b) {
      r[0][b] = e[0][b] + e[1][b] + e[2][b];
      r[1][b] = e[1][b] - e[2][b] - e[3][b];
    }
    const float add = bias ? bias[k] : 0.f;
    const idx_t base = (n * out_channels + k) * (idx_t)out_h * out_w;
#pragma unroll
    for (int a = 0; a < 2; ++a) {
      float o[2] = {r[a][0] + r[a][1] + r[a][2] + add, r[a][1] - r[a][2] - r[a][3] + add};
#pragma unroll
      for (int b = 0; b < 2; ++b) {
        int oh = th * 2 + a, ow = tw * 2 + b;
        if (oh < out_h && ow < out_w) {
          idx_t at = base + (idx_t)oh * out_w + ow;
          float val = o[b] + (residual ? residual[at] : 0.f);
          y[at] = fc_activate(val, act, alpha, beta);
        }
      }
    }
  }
}
