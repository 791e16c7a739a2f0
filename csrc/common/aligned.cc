#include "common/aligned.h"

#include <cstdlib>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace fc {
namespace {

constexpr size_t kHugePage = size_t(2) << 20;

bool huge_pages_wanted() {
  const char* e = std::getenv("FASTCONV_HUGE_PAGES");
  return !(e && e[0] == '0');
}

}  // namespace

float* allocate_floats(size_t n) {
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;  // aligned_alloc wants a multiple of the alignment
  if (bytes == 0) bytes = 64;
  size_t align = 64;
#if defined(MADV_HUGEPAGE)
  const bool huge = bytes >= kHugePage && huge_pages_wanted();
  if (huge) align = kHugePage, bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
#endif
  void* p = std::aligned_alloc(align, bytes);
  if (!p) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without THP the pages stay 4 KiB
#endif
  return static_cast<float*>(p);
}

void free_floats(float* p) { std::free(p); }

}  // namespace fc
