// Direct convolution on channel-blocked tensors (convc-kernels.h). The weights are packed
// once per output group of cb blocks as [kh][kw][c][cb * 16]; a tile's positions lie in
// one output row (or anywhere in the image for 1x1, stride-1, unpadded layers, whose
// positions are contiguous in input and output alike). Taps that fall into the padding are
// cut from the tile's rectangle of taps: rows per output row, and columns by running the
// positions next to the left and right edges one at a time.
#include "conv/conv-nchwc.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "common/check.h"
#include "common/parallel.h"
#include "common/scratch.h"
#include "gemm/gemm.h"

namespace fc {

namespace {

const ConvcKernels& convc_kernels(Isa isa) { return FC_KERNEL_FOR_ISA(isa, f32_convc_kernels)(); }

// floor(a / b) for b > 0, a of either sign.
ptrdiff_t floor_div(ptrdiff_t a, ptrdiff_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Input rows (or columns) first + i * step for i < count.
struct Positions {
  ptrdiff_t first;
  size_t step, count;
  // [lo, hi): the i whose position lies in [0, extent).
  std::pair<size_t, size_t> inside(size_t extent) const {
    const ptrdiff_t s = static_cast<ptrdiff_t>(step), n = static_cast<ptrdiff_t>(count);
    const ptrdiff_t lo = std::clamp<ptrdiff_t>(first >= 0 ? 0 : (-first + s - 1) / s, 0, n);
    const ptrdiff_t hi = std::clamp<ptrdiff_t>(floor_div(static_cast<ptrdiff_t>(extent) - 1 - first, s) + 1, lo, n);
    return {static_cast<size_t>(lo), static_cast<size_t>(hi)};
  }
};

// A copy of the input that the tiles read instead (this thread's kScratchOp0): of each of
// `planes` planes of h x w positions of L floats, the rows and columns given, zeros where they
// fall outside the plane (a padded layer's border; a strided 1x1 layer's subsample).
const float* copy_positions(const float* x, size_t planes, size_t h, size_t w, size_t L, Positions rows,
                            Positions cols, int nthreads) {
  const size_t row_floats = cols.count * L, plane = rows.count * row_floats;
  float* xs = thread_scratch(kScratchOp0, planes * plane);
  const auto [r_lo, r_hi] = rows.inside(h);
  const auto [c_lo, c_hi] = cols.inside(w);
  parallel_for_items(planes, plane, nthreads, [&, r_lo = r_lo, r_hi = r_hi, c_lo = c_lo, c_hi = c_hi](size_t i) {
    const float* src = x + i * h * w * L;
    float* dst = xs + i * plane;
    std::fill(dst, dst + r_lo * row_floats, 0.f);
    for (size_t r = r_lo; r < r_hi; ++r) {
      float* row = dst + r * row_floats;
      const float* in = src + (rows.first + static_cast<ptrdiff_t>(r * rows.step)) * static_cast<ptrdiff_t>(w * L);
      std::fill(row, row + c_lo * L, 0.f);
      if (cols.step == 1) {
        std::copy(in + (cols.first + static_cast<ptrdiff_t>(c_lo)) * static_cast<ptrdiff_t>(L),
                  in + (cols.first + static_cast<ptrdiff_t>(c_hi)) * static_cast<ptrdiff_t>(L), row + c_lo * L);
      } else {
        for (size_t c = c_lo; c < c_hi; ++c) {
          const float* at = in + (cols.first + static_cast<ptrdiff_t>(c * cols.step)) * static_cast<ptrdiff_t>(L);
          std::copy(at, at + L, row + c * L);
        }
      }
      std::fill(row + c_hi * L, row + row_floats, 0.f);
    }
    std::fill(dst + r_hi * row_floats, dst + plane, 0.f);
  });
  return xs;
}

}  // namespace

BlockedEpilogue::BlockedEpilogue(const ConvLayer& l)
    : act(l.act), act_fn(act_kernel(l.isa)), bias(blocked_channels(l.p.out_channels), 0.f),
      act_after(!act_in_tile(l.act.kind)) {
  if (l.bias) std::copy(l.bias, l.bias + l.p.out_channels, bias.begin());
  Epilogue ep;
  ep.bias = bias.data();
  ep.act = act;
  params = final_tile_params(ep);
}

GemmTileParams BlockedEpilogue::tile_params(bool residual) const {
  GemmTileParams p = params;
  if (residual) p.flags |= kTileResidual;
  return p;
}

BlockedConv::BlockedConv(const ConvLayer& l, int cb, ConvcInput input)
    : p_(l.p), input_(input), isa_(l.isa), lanes_(input == kConvcBlockedInput ? kChannelBlock : 1),
      kernels_(&convc_kernels(l.isa)),
      weights_(l.p.groups * blocked_channels(l.p.group_out()) * l.p.group_in() * l.p.kernel_h * l.p.kernel_w),
      ep_(l) {
  FC_CHECK(p_.groups == 1 || (input == kConvcBlockedInput && p_.group_in() % kChannelBlock == 0 &&
                                p_.group_out() % kChannelBlock == 0),
           "the blocked convolution takes groups only on blocked input with whole blocks of input and output "
           "channels per group, got ", p_.describe());
  FC_CHECK(p_.in_channels % lanes_ == 0, "the blocked convolution needs an input channel count that is a multiple of ",
           lanes_, ", got ", p_.in_channels);
  // Output groups of cb blocks, within one layer group each (groups > 1: whole blocks per group).
  const size_t cin = p_.group_in(), layer_groups = p_.groups;
  const size_t blocks = blocked_channels(p_.group_out()) / kChannelBlock;
  const size_t kh = p_.kernel_h, kw = p_.kernel_w, taps = kh * kw;
  const size_t pref = static_cast<size_t>(std::clamp(cb > 0 ? cb : kernels_->preferred_cb, 1, kConvcMaxCB));
  float* dst = weights_.data();
  for (size_t lg = 0; lg < layer_groups; ++lg)
    for (size_t b0 = 0; b0 < blocks; b0 += pref) {
      const int cb = static_cast<int>(std::min(pref, blocks - b0));
      const size_t first = lg * blocks + b0;  // the group's first output block in the layer
      groups_.push_back({first, cb, static_cast<size_t>(dst - weights_.data()), lg * cin});
      const size_t lanes = cb * kChannelBlock;
      for (size_t t = 0; t < taps; ++t)
        for (size_t c = 0; c < cin; ++c)
          for (size_t o = 0; o < lanes; ++o) {
            const size_t k = first * kChannelBlock + o;  // past out_channels: a padding lane, weight 0
            *dst++ = k < p_.out_channels ? l.weight[(k * cin + c) * taps + t] : 0.f;
          }
    }
}

void BlockedConv::run_impl(const float* x, size_t n, size_t h, size_t w, float* y, size_t y_image,
                           const float* residual, float* nchw, size_t nchw_image, int nthreads) const {
  const size_t oh = p_.out_h(h), ow = p_.out_w(w), cin = p_.in_channels, cout = blocked_channels(p_.out_channels);
  const size_t cin_g = p_.group_in();  // the input channels a tile reads: its layer group's
  if (n == 0 || oh == 0 || ow == 0) return;
  ptrdiff_t pt = p_.pad_top, pl = p_.pad_left, sh = p_.stride_h, sw = p_.stride_w;
  const bool padded = pt || pl || p_.pad_bottom || p_.pad_right;
  const bool one_tap = p_.kernel_h == 1 && p_.kernel_w == 1;
  const size_t planes = n * cin / lanes_;
  if (padded && !one_tap) {
    // A zero-padded copy of the input, so every position's taps are in bounds: tiles then
    // span whole rows instead of leaving the columns next to the edges to one-position
    // tiles (a 27-wide row of a 3x3 layer: 4 of them). A few percent of the layer's time.
    const size_t hp = h + p_.pad_top + p_.pad_bottom, wp = w + p_.pad_left + p_.pad_right;
    x = copy_positions(x, planes, h, w, lanes_, {-pt, 1, hp}, {-pl, 1, wp}, nthreads);
    h = hp;
    w = wp;
    pt = pl = 0;
  } else if (one_tap && !padded && (sh > 1 || sw > 1)) {
    // A strided 1x1 layer (ResNet's projections) reads every s-th position: a copy of just
    // those lets its tiles run over the whole image as at stride 1 (rows of 14 ran as tiles
    // of 12 + 2 positions). The copy reads a quarter of the input at stride 2.
    x = copy_positions(x, planes, h, w, lanes_, {0, static_cast<size_t>(sh), oh}, {0, static_cast<size_t>(sw), ow},
                       nthreads);
    h = oh;
    w = ow;
    sh = sw = 1;
  }
  const ptrdiff_t B = kChannelBlock, L = static_cast<ptrdiff_t>(lanes_), W = static_cast<ptrdiff_t>(w), KW = static_cast<ptrdiff_t>(p_.kernel_w);
  const ptrdiff_t dh = p_.dilation_h, dw = p_.dilation_w;
  const size_t x_image = cin * h * w, out_plane = oh * ow;
  // 1x1, stride 1, unpadded: one row of oh * ow positions.
  const bool merged = one_tap && sh == 1 && sw == 1 && !padded;
  const size_t rows = merged ? 1 : oh, row_len = merged ? oh * ow : ow;
  // Interior columns [col_lo, col_hi): every tap in bounds.
  const ptrdiff_t reach = (KW - 1) * dw;
  const ptrdiff_t col_lo = merged ? 0 : std::min<ptrdiff_t>((pl + sw - 1) / sw, ow);
  const ptrdiff_t col_hi = merged ? static_cast<ptrdiff_t>(row_len)
                                  : std::clamp<ptrdiff_t>(floor_div(W - 1 + pl - reach, sw) + 1, col_lo, ow);
  const GemmTileParams epi = ep_.tile_params(residual != nullptr);
  const size_t w_tap_w = cin_g * kChannelBlock;  // per cb: floats of one tap in a group's weights

  // Positions [j0, j1) of output row `row` of image b, output group g.
  // next: the weights of the group after g, asked for by g's first full tile (or null).
  auto run_span = [&](size_t b, const Group& g, size_t row, ptrdiff_t j0, ptrdiff_t j1, const float* next) {
    const ptrdiff_t ih0 = merged ? 0 : static_cast<ptrdiff_t>(row) * sh - pt;
    const ptrdiff_t kh_lo = ih0 >= 0 ? 0 : (-ih0 + dh - 1) / dh;
    const ptrdiff_t kh_hi = std::min<ptrdiff_t>(p_.kernel_h, floor_div(static_cast<ptrdiff_t>(h) - 1 - ih0, dh) + 1);
    const ptrdiff_t wt = static_cast<ptrdiff_t>(w_tap_w) * g.cb;
    // Tiles of several positions need an instance for the stride; others run one at a time.
    const int s = merged ? 1 : static_cast<int>(sw);
    const int max_rp = s <= kConvcMaxStride ? kernels_->max_rp[g.cb - 1] : 1;
    const convc_tile_fn* tiles = kernels_->tile[input_][std::min(s, kConvcMaxStride) - 1][g.cb - 1];
    ConvcTileArgs a;
    a.x_block = static_cast<ptrdiff_t>(h * w) * L;
    a.in_blocks = cin_g / lanes_;
    a.taps_h = kh_hi > kh_lo ? kh_hi - kh_lo : 0;
    a.x_tap_h = dh * W * L;
    a.x_tap_w = dw * L;
    a.w_tap_h = KW * wt;
    a.w_tap_w = wt;
    a.y_block = static_cast<ptrdiff_t>(out_plane) * B;
    a.bias = ep_.bias.data() + g.block0 * kChannelBlock;
    a.epilogue = &epi;
    const float* xb = x + b * x_image + g.in0 * h * w;  // in0 / L blocks of h * w * L floats
    float* yb = y + b * y_image + g.block0 * out_plane * kChannelBlock;
    const float* rb = residual ? residual + (b * cout + g.block0 * kChannelBlock) * out_plane : nullptr;
    const float* wg = weights_.data() + g.w_offset;
    const size_t out_row = merged ? 0 : row * ow;
    for (ptrdiff_t j = j0; j < j1;) {
      const bool interior = j >= col_lo && j < col_hi;
      const ptrdiff_t end = interior ? std::min(j1, col_hi) : j + 1;
      // A row's interior in tiles of equal width (a 14-wide row as 7 + 7, not 12 + 2, whose
      // 4 accumulators wait on the FMA latency: 1.15-1.23x on 14x14 3x3 layers, SqueezeNet
      // 1.02-1.03x; a 7x7 1x1 layer's 49 positions as 13 + 3 x 12, not 3 x 14 + 7: 1.08x).
      const ptrdiff_t left = end - j, ntiles = (left + max_rp - 1) / max_rp;
      // Only a widest tile can ask for the next group's weights (tile_prefetch): where equal tiles
      // would all be narrower (a 7x7 1x1 layer's 49 positions as 10+10+10+10+9 of at most 12), the
      // group's first tile takes the widest width and the rest share what is left (12+10+9+9+9:
      // ResNet-50's 7x7 1x1 layers 0.68-0.85x -> 0.85-1.11x onnxruntime in the model, 2 threads);
      // only in spans over twice the widest, so the rest never shrink to a latency-bound sliver.
      const int even = static_cast<int>((left + ntiles - 1) / ntiles);
      const int rp = next && interior && even < max_rp && left > 2 * max_rp ? max_rp : even;
      const ptrdiff_t iw0 = merged ? j : j * sw - pl;  // input column of tap 0
      ptrdiff_t kw_lo = 0, kw_hi = KW;
      if (!interior) {
        kw_lo = iw0 >= 0 ? 0 : (-iw0 + dw - 1) / dw;
        kw_hi = std::min<ptrdiff_t>(KW, floor_div(W - 1 - iw0, dw) + 1);
      }
      a.taps_w = kw_hi > kw_lo && a.taps_h > 0 ? kw_hi - kw_lo : 0;
      const ptrdiff_t first = merged ? j : (ih0 + kh_lo * dh) * W + iw0 + kw_lo * dw;
      a.x = a.taps_w ? xb + first * L : xb;  // not read without taps
      a.w = wg + (kh_lo * KW + kw_lo) * wt;
      const size_t at = (out_row + j) * kChannelBlock;
      a.y = yb + at;
      a.residual = rb ? rb + at : nullptr;
      a.prefetch = next;
      // The prefetching instance is the table's widest tile: only for strides with instances.
      if (next && s <= kConvcMaxStride && rp == max_rp && a.taps_h == p_.kernel_h &&
          a.taps_w == static_cast<size_t>(KW)) {
        kernels_->tile_prefetch[input_][std::min(s, kConvcMaxStride) - 1][g.cb - 1](a);
        next = nullptr;
      } else {
        tiles[rp - 1](a);
      }
      for (int q = 0; q < g.cb; ++q) ep_.finish(a.y + q * a.y_block, rp * kChannelBlock);
      j += rp;
    }
  };

  // Split by positions (each core keeps the same part of every layer's image, which the
  // next layer reads) unless the weights outweigh the activations (late layers on small
  // images), then by output groups so each weight is read by one core.
  const size_t weight_floats = cout * cin_g * p_.kernel_h * p_.kernel_w;
  const bool by_group = weight_floats > x_image + cout * out_plane;
  const size_t nt = std::max(1, nthreads);
  if (by_group) {
    // Each thread one run of consecutive groups, so the group after this one, whose weights
    // the first tile asks for, is the thread's next (with tasks claimed from both ends of one
    // range, the second thread's next group was one already done: ResNet-50 1.02-1.03x).
    const size_t ng = groups_.size(), runs = std::min(ng, nt);
    parallel_for(n * runs, static_cast<int>(nt), [&](size_t t) {
      const size_t b = t / runs, g0 = t % runs * ng / runs, g1 = (t % runs + 1) * ng / runs;
      for (size_t gi = g0; gi < g1; ++gi) {
        const float* next = gi + 1 < g1 ? weights_.data() + groups_[gi + 1].w_offset : nullptr;
        for (size_t r = 0; r < rows; ++r)
          run_span(b, groups_[gi], r, 0, static_cast<ptrdiff_t>(row_len), r == 0 ? next : nullptr);
      }
    });
    if (nchw) blocked_to_nchw(y, n, p_.out_channels, out_plane, y_image, nchw, nchw_image, nthreads, isa_);
    return;
  }
  // Tasks of whole rows (merged: runs of whole tiles), about 4 per thread and the same count for
  // each; copying to NCHW, also at most ~64K floats of output each, so that what a task copies
  // is still in its L2.
  size_t want = std::max<size_t>(1, 4 * nt / n);
  if (nchw) want = std::max(want, cout * out_plane / (size_t{1} << 16));
  const size_t grain = merged ? static_cast<size_t>(kernels_->max_rp[groups_[0].cb - 1]) : 1;
  const EvenSplit split(merged ? row_len : rows, want, nt / std::gcd(n, nt), grain);
  parallel_for(n * split.tasks, static_cast<int>(nt), [&](size_t t) {
    const size_t b = t / split.tasks, u0 = split.begin(t % split.tasks), u1 = split.begin(t % split.tasks + 1);
    if (u0 == u1) return;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const Group& g = groups_[gi];
      const float* next = gi + 1 < groups_.size() ? weights_.data() + groups_[gi + 1].w_offset : nullptr;
      if (merged) {
        run_span(b, g, 0, static_cast<ptrdiff_t>(u0), static_cast<ptrdiff_t>(u1), next);
      } else {
        for (size_t r = u0; r < u1; ++r) run_span(b, g, r, 0, static_cast<ptrdiff_t>(row_len), r == u0 ? next : nullptr);
      }
    }
    if (nchw) {
      const size_t p0 = merged ? u0 : u0 * ow, p1 = merged ? u1 : u1 * ow;
      blocked_to_nchw_positions(y + b * y_image, p_.out_channels, out_plane, p0, p1, nchw + b * nchw_image, isa_);
    }
  });
}

}  // namespace fc
