// The table of convolution algorithms: which layers each can run, how to build it, and
// the "auto" choice. New algorithms (Winograd, ...) register here and nowhere else.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "conv/conv-algo.h"

namespace fc {

struct ConvAlgoInfo {
  const char* name;
  // Empty when the algorithm can run this layer, else the reason it cannot.
  std::string (*cannot_run)(const ConvParams& p);
  std::unique_ptr<ConvAlgorithm> (*create)(const ConvLayer& layer);
};

const std::vector<ConvAlgoInfo>& conv_algorithms();
const ConvAlgoInfo& conv_algorithm(const std::string& name);  // throws, listing the names

// The algorithm "auto" runs for this layer on an h x w input (cost model, conv-cost.cc).
std::string choose_conv_algo(const ConvParams& p, size_t h, size_t w, Isa isa);
// The registered algorithm a plan preference means for an h x w input: "auto" and
// "winograd" (the best Winograd variant) are resolved, other names stand for themselves.
std::string resolve_conv_algo(const std::string& algo, const ConvParams& p, size_t h, size_t w, Isa isa);

// The registered algorithms auto may run this layer with (can run it, and within the
// accuracy rule below); fastconv.autotune measures these.
std::vector<std::string> auto_candidates(const ConvParams& p);

// Empty when Winograd F(m x m, 3x3) can run the layer, else why not.
std::string winograd_cannot_run(const ConvParams& p);
// The Winograd variant ("winograd_2x2" / "_3x3" / "_4x4" / "_6x6") with the lowest modelled time
// among those whose error stays within the F(4x4, 3x3) bound for this layer.
bool winograd_variant_accurate(const std::string& algo, const ConvParams& p);
std::string choose_winograd_variant(const ConvParams& p, size_t h, size_t w, Isa isa);
// The cost model's terms (conv-cost.cc): each is seconds per unit of one work count, fitted
// per ISA level by bench/fit_cost_model.py (whose NAMES list is this one, in this order).
#define FC_COST_TERMS(X)                                                                                        \
  X(kIm2colPerGemmFlop) X(kIm2colPerElem) X(kIm2colPerCall)                                                     \
  X(kImplicitPerGemmFlop) X(kImplicitPerTile) X(kImplicitPerElem) X(kImplicitPerCall)                           \
  X(kImplicitTPerGemmFlop) X(kImplicitTPerTile) X(kImplicitTPerElem) X(kImplicitTPerCall)                       \
  X(kWino2PerGemmFlop) X(kWino3PerGemmFlop) X(kWino4PerGemmFlop) X(kWino6PerGemmFlop)                           \
  X(kWino2PerInOp) X(kWino3PerInOp) X(kWino4PerInOp) X(kWino6PerInOp)                                           \
  X(kWino2PerOutOp) X(kWino3PerOutOp) X(kWino4PerOutOp) X(kWino6PerOutOp)                                       \
  X(kWinoPerGemmCall) X(kWinoNarrowPerGemmFlop)                                                                \
  X(kDirectPerFlop) X(kDirectPerTileStep) X(kDirectPerElem) X(kDirectPerCall)
#define FC_COST_TERM_ENUM(name) name,
enum CostTerm : int { FC_COST_TERMS(FC_COST_TERM_ENUM) kCostTermCount };
#undef FC_COST_TERM_ENUM
// (name, fitted value) of every term for an ISA level, in the order above.
std::vector<std::pair<std::string, double>> cost_coefficients(Isa isa);
// Modelled seconds of one run of a registered algorithm on a 1 x C x h x w input (conv-cost.cc).
double conv_cost(const std::string& algo, const ConvParams& p, size_t h, size_t w, Isa isa);

}  // namespace fc
