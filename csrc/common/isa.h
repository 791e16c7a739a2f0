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
