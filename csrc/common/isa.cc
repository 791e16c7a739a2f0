#include "common/isa.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace fc {
namespace {

std::atomic<int> g_active{-1};

Isa detect() {
#if defined(FASTCONV_NO_X86_KERNELS)
  return Isa::generic;
#else
  // libgcc's cpu model checks XGETBV too, so an OS that does not save zmm state reads as no AVX-512.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
    return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
  return Isa::generic;
#endif
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "generic";
  }
}

Isa isa_from_name(const std::string& name) {
  if (name == "avx512") return Isa::avx512;
  if (name == "avx2") return Isa::avx2;
  if (name == "generic") return Isa::generic;
  throw std::invalid_argument("unknown ISA '" + name + "': expected one of avx512, avx2, generic");
}

Isa best_supported_isa() {
  static const Isa best = detect();
  return best;
}

void set_active_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(best_supported_isa()))
    throw std::invalid_argument(std::string("ISA '") + isa_name(isa) + "' is not supported by this CPU; the highest is '" +
                                isa_name(best_supported_isa()) + "'");
  g_active.store(static_cast<int>(isa));
}

Isa active_isa() {
  int v = g_active.load();
  if (v < 0) {
    const char* env = std::getenv("FASTCONV_ISA");
    Isa isa = (env && *env) ? isa_from_name(env) : best_supported_isa();
    set_active_isa(isa);  // validates FASTCONV_ISA against the CPU
    v = static_cast<int>(isa);
  }
  return static_cast<Isa>(v);
}

}  // namespace fc
