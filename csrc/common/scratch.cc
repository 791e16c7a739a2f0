#include "common/scratch.h"

#include "common/aligned.h"

namespace fc {
namespace {

struct Buffers {
  float* ptr[kScratchSlots] = {};
  size_t size[kScratchSlots] = {};
  ~Buffers() {
    for (float* p : ptr) free_floats(p);
  }
};

}  // namespace

float* thread_scratch(ScratchSlot slot, size_t floats) {
  thread_local Buffers buffers;
  if (buffers.size[slot] < floats) {
    free_floats(buffers.ptr[slot]);
    buffers.ptr[slot] = nullptr;  // if the allocation throws, the slot is empty, not dangling
    buffers.size[slot] = 0;
    buffers.ptr[slot] = allocate_floats(floats);
    buffers.size[slot] = floats;
  }
  return buffers.ptr[slot];
}

}  // namespace fc
