// Per-thread, grow-only, 64-byte-aligned work buffers: a plan's run asks for the same
// sizes every time, so after the first call nothing is allocated.
#pragma once
#include <cstddef>

namespace fc {

enum ScratchSlot : int { kScratchPackA = 0, kScratchPackB = 1, kScratchTile = 2, kScratchOp0 = 3, kScratchOp1 = 4, kScratchPackAll = 5, kScratchOp2 = 6, kScratchSlots = 7 };

// Valid until the same thread asks for the same slot again.
float* thread_scratch(ScratchSlot slot, size_t floats);

}  // namespace fc
