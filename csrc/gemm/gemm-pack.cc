// Packing, apart from compute: copies strided A/B blocks into the panel layout the
// micro-kernels stream through. Zero padding makes edge panels safe to read in full.
#include <algorithm>

#include "gemm/gemm.h"

namespace fc {

namespace {

// dst[k * mr + r] = src[k * cs + r] for r < rows, k < kc. A memcpy per k step (32 bytes) was a
// libc call each; with MR a constant each step is a couple of vector moves (1x1 layers at 7x7
// and 14x14 as transposed products 1.04-1.08x, one process, alternating).
template <size_t MR>
void copy_columns_fixed(const float* src, ptrdiff_t cs, size_t kc, float* dst) {
  for (size_t k = 0; k < kc; ++k, src += cs, dst += MR)
    for (size_t r = 0; r < MR; ++r) dst[r] = src[r];
}

void copy_columns(const float* src, ptrdiff_t cs, size_t rows, size_t mr, size_t kc, float* dst) {
  if (rows == mr && mr == 8) return copy_columns_fixed<8>(src, cs, kc, dst);
  if (rows == mr && mr == 7) return copy_columns_fixed<7>(src, cs, kc, dst);
  if (rows == mr && mr == 6) return copy_columns_fixed<6>(src, cs, kc, dst);
  for (size_t k = 0; k < kc; ++k, src += cs, dst += mr)
    for (size_t r = 0; r < rows; ++r) dst[r] = src[r];
}

}  // namespace

void pack_a_strided(const GemmConfig& cfg, StridedMatrix a, size_t mc, size_t kc, float* dst) {
  const size_t mr = cfg.mr;
  for (size_t i0 = 0; i0 < mc; i0 += mr) {
    const size_t rows = std::min(mr, mc - i0);
    if (a.cs == 1) {  // row-major A (weights, a dense layer's input): the ISA's packer, zero rows too
      cfg.pack_a_rows(a.data + i0 * a.rs, static_cast<size_t>(a.rs), rows, kc, dst);
      dst += kc * mr;
      continue;
    }
    if (a.rs == 1) {
      // Column-major A (activations as rows of a transposed product): MR floats per k.
      copy_columns(a.data + i0, a.cs, rows, mr, kc, dst);
    } else {
      for (size_t k = 0; k < kc; ++k)
        for (size_t r = 0; r < rows; ++r) dst[k * mr + r] = a.data[(i0 + r) * a.rs + k * a.cs];
    }
    for (size_t r = rows; r < mr; ++r)
      for (size_t k = 0; k < kc; ++k) dst[k * mr + r] = 0.f;
    dst += kc * mr;
  }
}

void pack_b_strided(const GemmConfig& cfg, StridedMatrix b, size_t kc, size_t nc, float* dst) {
  const size_t nr = cfg.nr;
  for (size_t j0 = 0; j0 < nc; j0 += nr) {
    const size_t cols = std::min(nr, nc - j0);
    if (b.cs == 1) {  // row-major B (an image's channels x positions): the ISA's packer
      cfg.pack_b_rows(b.data + j0, static_cast<size_t>(b.rs), cols, kc, dst);
      dst += kc * nr;
      continue;
    }
    for (size_t k = 0; k < kc; ++k) {
      float* d = dst + k * nr;
      const float* src = b.data + k * b.rs + j0 * b.cs;
      for (size_t j = 0; j < cols; ++j) d[j] = src[j * b.cs];
      std::fill(d + cols, d + nr, 0.f);
    }
    dst += kc * nr;
  }
}

const float* StridedA::block(const GemmConfig& cfg, size_t i0, size_t mc, size_t k0, size_t kc, float* buf) const {
  pack_a_strided(cfg, {a_.data + i0 * a_.rs + k0 * a_.cs, a_.rs, a_.cs}, mc, kc, buf);
  return buf;
}

void StridedB::pack(const GemmConfig& cfg, size_t k0, size_t kc, size_t j0, size_t nc, float* buf) const {
  pack_b_strided(cfg, {b_.data + k0 * b_.rs + j0 * b_.cs, b_.rs, b_.cs}, kc, nc, buf);
}

// Layout: for each k block [k0, k0+kc): all ceil(m/MR) panels of kc x MR, so the
// block for rows [i0, i0+mc) is one contiguous run starting at panel i0/MR.
PackedA::PackedA(const GemmConfig& cfg, size_t m, size_t k, StridedMatrix a)
    : m_(m), k_(k), m_padded_((m + cfg.mr - 1) / cfg.mr * cfg.mr), data_(m_padded_ * std::max<size_t>(k, 1)) {
  const size_t kblk = gemm_block_k(cfg, k);
  for (size_t k0 = 0; k0 < k; k0 += kblk) {
    const size_t kc = std::min(kblk, k - k0);
    pack_a_strided(cfg, {a.data + k0 * a.cs, a.rs, a.cs}, m, kc, data_.data() + k0 * m_padded_);
  }
}

const float* PackedA::block(const GemmConfig& cfg, size_t i0, size_t, size_t k0, size_t kc, float*) const {
  return data_.data() + k0 * m_padded_ + i0 * kc;  // i0 is a multiple of MR
}

PackedB::PackedB(const GemmConfig& cfg, size_t k, size_t n, StridedMatrix b)
    : n_padded_((n + cfg.nr - 1) / cfg.nr * cfg.nr), data_(n_padded_ * std::max<size_t>(k, 1)) {
  const size_t kblk = gemm_block_k(cfg, k);
  for (size_t k0 = 0; k0 < k; k0 += kblk) {
    const size_t kc = std::min(kblk, k - k0);
    pack_b_strided(cfg, {b.data + k0 * b.rs, b.rs, b.cs}, kc, n, data_.data() + k0 * n_padded_);
  }
}

void PackedB::pack(const GemmConfig& cfg, size_t k0, size_t kc, size_t j0, size_t nc, float* buf) const {
  const float* src = data_.data() + k0 * n_padded_ + j0 * kc;  // j0 is a multiple of NR
  std::copy(src, src + (nc + cfg.nr - 1) / cfg.nr * cfg.nr * kc, buf);
}

}  // namespace fc
