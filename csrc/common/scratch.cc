#include "common/scratch.h"

#include <cstdlib>
#include <new>

namespace fc {
namespace {

struct Buffers {
  float* ptr[kScratchSlots] = {};
  size_t size[kScratchSlots] = {};
  ~Buffers() {
    for (float* p : ptr) std::free(p);
  }
};

}  // namespace

float* thread_scratch(ScratchSlot slot, size_t floats) {
  thread_local Buffers buffers;
  if (buffers.size[slot] < floats) {
    std::free(buffers.ptr[slot]);
    size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
    buffers.ptr[slot] = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!buffers.ptr[slot]) {
      buffers.size[slot] = 0;
      throw std::bad_alloc();
    }
    buffers.size[slot] = floats;
  }
  return buffers.ptr[slot];
}

}  // namespace fc
