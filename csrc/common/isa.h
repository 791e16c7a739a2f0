// Instruction-set levels the engine ships kernels for, and the one in use.
#pragma once
#include <string>

namespace fc {

enum class Isa : int { generic = 0, avx2 = 1, avx512 = 2 };
constexpr int kIsaCount = 3;

const char* isa_name(Isa isa);
Isa isa_from_name(const std::string& name);  // throws std::invalid_argument

// Highest level this CPU (and OS, via XGETBV) supports, and this build has kernels for.
Isa best_supported_isa();

// Level in use: FASTCONV_ISA if set (never above best_supported_isa()), else the best.
// Kernel tables of every op family are filled for it once, at import.
Isa active_isa();
// Switches the level for plans created from now on (tests use this to cover every path).
void set_active_isa(Isa isa);

}  // namespace fc

// The kernel of a family for an ISA: name##__avx512f, name##__avx2 or name##__scalar (the x86
// ones exist only in x86 builds). Each op family's dispatch is this one expression.
#if defined(FASTCONV_NO_X86_KERNELS)
#define FC_KERNEL_FOR_ISA(isa, name) ((void)(isa), name##__scalar)
#else
#define FC_KERNEL_FOR_ISA(isa, name) \
  ((isa) == ::fc::Isa::avx512 ? name##__avx512f : (isa) == ::fc::Isa::avx2 ? name##__avx2 : name##__scalar)
#endif
