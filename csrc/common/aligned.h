// Float arrays on a 64-byte boundary (a cache line, one AVX-512 vector): packed panels
// that kernels read with full-vector loads would otherwise straddle two lines per load.
// Large ones (packed weights, scratch) sit on 2 MiB huge pages where the kernel allows
// it: a model's weights are streamed once per inference, and with 4 KiB pages every page
// costs a TLB walk and restarts the hardware prefetcher (bench/RESULTS.md).
#pragma once
#include <cstddef>
#include <memory>

namespace fc {

// n floats, 64-byte aligned (2 MiB-aligned and advised for huge pages from 2 MiB); never
// null (throws std::bad_alloc). Release with free_floats.
float* allocate_floats(size_t n);
void free_floats(float* p);

class AlignedFloats {
 public:
  explicit AlignedFloats(size_t n) : n_(n), data_(allocate_floats(n)) {}
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  size_t size() const { return n_; }

 private:
  struct Free {
    void operator()(float* p) const { free_floats(p); }
  };
  size_t n_;
  std::unique_ptr<float, Free> data_;
};

}  // namespace fc
