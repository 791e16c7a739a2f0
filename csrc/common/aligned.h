// A float array on a 64-byte boundary (a cache line, one AVX-512 vector): packed panels
// that kernels read with full-vector loads would otherwise straddle two lines per load.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace fc {

class AlignedFloats {
 public:
  explicit AlignedFloats(size_t n) : n_(n), data_(allocate(n)) {}
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  size_t size() const { return n_; }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  static float* allocate(size_t n) {
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;  // aligned_alloc wants a multiple
    void* p = std::aligned_alloc(64, bytes ? bytes : 64);
    if (!p) throw std::bad_alloc();
    return static_cast<float*>(p);
  }
  size_t n_;
  std::unique_ptr<float, Free> data_;
};

}  // namespace fc
