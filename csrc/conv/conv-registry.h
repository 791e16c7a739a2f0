// The table of convolution algorithms: which layers each can run, how to build it, and
// the "auto" choice. New algorithms (Winograd, ...) register here and nowhere else.
#pragma once
#include <memory>
#include <string>
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

// The algorithm "auto" runs for this layer on an h x w input.
std::string choose_conv_algo(const ConvParams& p, size_t h, size_t w, Isa isa);

}  // namespace fc
