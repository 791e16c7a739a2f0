// Packed SGEMM: C[M x N] = epilogue(A[M x K] * B[K x N]), BLIS-style.
//
// A and B reach the driver through "sources" that pack one block at a time, so the
// same five loops serve a plain strided matrix, weights packed once in a plan, and
// an image whose im2col matrix is formed on the fly while packing (csrc/conv/).
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "act/act-params.h"
#include "common/aligned.h"
#include "gemm/gemm-config.h"

namespace fc {

// Element (i, j) of a strided matrix lives at data[i * rs + j * cs].
struct StridedMatrix {
  const float* data;
  ptrdiff_t rs, cs;
};

// An A that is never packed: element (i, k) is base[rows[i] + offsets[k]] (read in place by
// the implicit-A micro-kernel): the transposed implicit convolution (conv-implicit-t.cc),
// whose rows are output positions and whose row i reads the input around position i.
struct ImplicitA {
  const float* base;
  const ptrdiff_t* rows;     // one per row of A (i)
  const ptrdiff_t* offsets;  // one per column of A (k)
};

// Produces packed A blocks: ceil(mc / MR) panels, each kc rows of MR floats, zero-padded.
class ASource {
 public:
  virtual ~ASource() = default;
  // Returns the packed block for rows [i0, i0+mc), depth [k0, k0+kc); may pack into buf.
  virtual const float* block(const GemmConfig& cfg, size_t i0, size_t mc, size_t k0, size_t kc, float* buf) const = 0;
  // True when block() only returns a pointer (nothing is packed per call): the driver
  // then lets every thread read the same A; otherwise it packs A once per call up front.
  virtual bool prepacked() const { return false; }
  // A read in place by the implicit-A micro-kernel (block() is then never called), or null.
  virtual const ImplicitA* implicit() const { return nullptr; }
};

// A view of A already packed in PackedA's layout (for each k block of KC, every MR panel).
class PackedAView final : public ASource {
 public:
  PackedAView(const float* data, size_t m_padded) : data_(data), m_padded_(m_padded) {}
  const float* block(const GemmConfig&, size_t i0, size_t, size_t k0, size_t kc, float*) const override {
    return data_ + k0 * m_padded_ + i0 * kc;
  }
  bool prepacked() const override { return true; }

 private:
  const float* data_;
  size_t m_padded_;
};

// A B that is never packed: row k of B is base + offsets[k] (read in place by the implicit
// micro-kernel). Its columns are positions in rows `width` apart, of which the first `valid`
// are real: C's column j is stored at (j / width) * valid + j % width when j % width < valid
// (the implicit convolution, conv-implicit.cc: output rows widened by the kernel's overhang).
struct ImplicitB {
  const float* base;
  const ptrdiff_t* offsets;  // one per row of B (k); any alignment
  size_t width, valid;
};

// Produces packed B blocks: ceil(nc / NR) panels, each kc rows of NR floats, zero-padded.
class BSource {
 public:
  virtual ~BSource() = default;
  virtual void pack(const GemmConfig& cfg, size_t k0, size_t kc, size_t j0, size_t nc, float* buf) const = 0;
  // All of B already packed in PackedB's layout (the driver reads it in place), or null.
  virtual const float* packed() const { return nullptr; }
  // B read in place by the implicit micro-kernel (pack() is then never called), or null.
  virtual const ImplicitB* implicit() const { return nullptr; }
};

class StridedA final : public ASource {
 public:
  explicit StridedA(StridedMatrix a) : a_(a) {}
  const float* block(const GemmConfig& cfg, size_t i0, size_t mc, size_t k0, size_t kc, float* buf) const override;

 private:
  StridedMatrix a_;
};

class StridedB final : public BSource {
 public:
  explicit StridedB(StridedMatrix b) : b_(b) {}
  void pack(const GemmConfig& cfg, size_t k0, size_t kc, size_t j0, size_t nc, float* buf) const override;

 private:
  StridedMatrix b_;
};

// A packed once (a plan's weights) in the exact block layout the driver walks.
class PackedA final : public ASource {
 public:
  PackedA(const GemmConfig& cfg, size_t m, size_t k, StridedMatrix a);
  const float* block(const GemmConfig& cfg, size_t i0, size_t mc, size_t k0, size_t kc, float* buf) const override;
  bool prepacked() const override { return true; }
  size_t rows() const { return m_; }
  size_t depth() const { return k_; }

 private:
  size_t m_, k_, m_padded_;
  AlignedFloats data_;
};

// B packed once (a plan's weights when the activations are A): for each k block of KC,
// every NR panel of kc x NR floats.
class PackedB final : public BSource {
 public:
  PackedB(const GemmConfig& cfg, size_t k, size_t n, StridedMatrix b);
  void pack(const GemmConfig& cfg, size_t k0, size_t kc, size_t j0, size_t nc, float* buf) const override;
  const float* packed() const override { return data_.data(); }

 private:
  size_t n_padded_;
  AlignedFloats data_;  // read with full-vector loads
};

// A BSource read as the A operand: its columns become A's rows, packed MR wide. An
// im2col source so yields output positions as rows (the transposed product, conv-gemm.cc).
class ASourceFromB final : public ASource {
 public:
  explicit ASourceFromB(const BSource& b) : b_(b) {}
  const float* block(const GemmConfig& cfg, size_t i0, size_t mc, size_t k0, size_t kc, float* buf) const override {
    GemmConfig rows = cfg;
    rows.nr = cfg.mr;
    b_.pack(rows, k0, kc, i0, mc, buf);
    return buf;
  }

 private:
  const BSource& b_;
};

struct Epilogue {
  const float* bias = nullptr;  // length M (bias_per_column false) or N (true)
  bool bias_per_column = false;
  const float* residual = nullptr;  // M x N, row stride ld_residual
  ptrdiff_t ld_residual = 0;
  Activation act;
  // C (and residual) stored transposed: element (i, j) at c[j * ldc + i].
  bool transposed = false;
};

// The micro-kernel flags of the last k block for this epilogue (bias, residual, and relu,
// clip or leaky relu in registers; other activations run over finished tiles).
GemmTileParams final_tile_params(const Epilogue& ep);
// Whether those flags apply the activation (else it runs over the finished tile).
inline bool act_in_tile(ActKind k) {
  return k == ActKind::none || k == ActKind::relu || k == ActKind::clip || k == ActKind::leaky_relu;
}

// C = epilogue(A * B); C has row stride ldc (columns contiguous). Uses up to nthreads threads.
void gemm(const GemmConfig& cfg, size_t m, size_t n, size_t k, const ASource& a, const BSource& b, float* c,
          ptrdiff_t ldc, const Epilogue& ep, int nthreads);

// Packing primitives, shared by the sources above and by conv's im2col source.
void pack_a_strided(const GemmConfig& cfg, StridedMatrix a, size_t mc, size_t kc, float* dst);
void pack_b_strided(const GemmConfig& cfg, StridedMatrix b, size_t kc, size_t nc, float* dst);

}  // namespace fc
