// The implicit convolutions' padded input layouts (conv-implicit.cc, conv-implicit-t.cc),
// shared with the cost model (conv-cost.cc): the taps' phases, the plane size and the widened
// output columns; the transposed product's channels-last copy.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

#include "conv/conv-params.h"

namespace fc {

// Where each tap reads: the phases the taps use (row phase (r * dh) % sh, and likewise for
// columns) get planes of hq x wq per channel; a tap is a phase plane and a shift within it.
// Column b of a phase row holds input column b * sw + phase - lead (0 outside the image).
struct ImplicitGeometry {
  size_t oh, ow, hq, wq, lead;
  std::vector<size_t> row_phases, col_phases;  // phase values used, ascending
  std::vector<size_t> row_plane, col_plane;    // per tap r (s): index of its phase in the lists above
  std::vector<size_t> row_shift, col_shift;    // per tap r (s): rows (columns) it starts below (right of) 0

  ImplicitGeometry(const ConvParams& p, size_t h, size_t w) : oh(p.out_h(h)), ow(p.out_w(w)) {
    hq = oh + (p.kernel_h - 1) * p.dilation_h / p.stride_h;
    wq = ow + (p.kernel_w - 1) * p.dilation_w / p.stride_w;
    lead = p.pad_left;
    // At column stride 1 a row's right padding can be the next row's left padding (zeros
    // both): rows of W + max(pl, pr) instead of pl + W + pr, fewer widened columns to
    // compute and drop (3x3, pad 1: 15 instead of 16 for 14 outputs). The last row's
    // overhang reads the next plane's leading zeros, or the zeros after the last plane.
    const size_t shared = std::max(p.pad_left, p.pad_right);
    if (p.stride_w == 1 && std::min(p.pad_left, p.pad_right) <= (p.kernel_w - 1) * p.dilation_w) {
      lead = shared;
      wq = w + shared;
    }
    taps(p.kernel_h, p.dilation_h, p.stride_h, 0, row_phases, row_plane, row_shift);
    taps(p.kernel_w, p.dilation_w, p.stride_w, lead - p.pad_left, col_phases, col_plane, col_shift);
  }
  size_t planes_per_channel() const { return row_phases.size() * col_phases.size(); }
  size_t plane() const { return hq * wq; }
  // Widened output columns: OH rows of wq, the last one ending at its OW-th column.
  size_t columns() const { return (oh - 1) * wq + ow; }

 private:
  static void taps(size_t kernel, size_t dilation, size_t stride, size_t extra_shift, std::vector<size_t>& phases,
                   std::vector<size_t>& plane, std::vector<size_t>& shift) {
    for (size_t r = 0; r < kernel; ++r) phases.push_back(r * dilation % stride);
    std::sort(phases.begin(), phases.end());
    phases.erase(std::unique(phases.begin(), phases.end()), phases.end());
    for (size_t r = 0; r < kernel; ++r) {
      plane.push_back(static_cast<size_t>(std::find(phases.begin(), phases.end(), r * dilation % stride) - phases.begin()));
      shift.push_back(r * dilation / stride + extra_shift);
    }
  }
};

// The transposed implicit GEMM's channels-last copy P: hp x wp positions of every channel,
// exactly the rows and columns the taps read. P's row y is padded-input row y * row_step and
// its column x column x * col_step: a kernel one tap wide in a strided dimension (ResNet's
// 1x1/2 projections) reads only every stride-th row or column, so P keeps only those.
struct ChannelsLastCopy {
  size_t hp, wp, row_step, col_step;

  ChannelsLastCopy(const ConvParams& p, size_t oh, size_t ow)
      : row_step(p.kernel_h == 1 ? p.stride_h : 1), col_step(p.kernel_w == 1 ? p.stride_w : 1) {
    hp = (oh - 1) * (p.stride_h / row_step) + (p.kernel_h - 1) * p.dilation_h + 1;
    wp = (ow - 1) * (p.stride_w / col_step) + (p.kernel_w - 1) * p.dilation_w + 1;
  }
};

}  // namespace fc
