#include "conv/conv-registry.h"

#include "common/check.h"

namespace fc {
namespace {

std::string any_layer(const ConvParams&) { return {}; }

std::string pointwise_only(const ConvParams& p) {
  return p.is_pointwise() ? std::string() : "pointwise needs a 1x1 kernel, stride 1 and no padding";
}

std::string depthwise_only(const ConvParams& p) {
  return p.is_depthwise() ? std::string() : "depthwise needs groups == input channels (> 1)";
}

std::string ungrouped_only(const ConvParams& p) {
  return p.groups == 1 ? std::string() : "direct needs groups 1 (got groups=" + std::to_string(p.groups) + ")";
}

std::unique_ptr<ConvAlgorithm> make_im2col(const ConvLayer& l) { return make_im2col_conv(l, false); }
std::unique_ptr<ConvAlgorithm> make_im2col_t(const ConvLayer& l) { return make_im2col_conv(l, true); }
std::unique_ptr<ConvAlgorithm> make_pointwise(const ConvLayer& l) { return make_pointwise_conv(l, false); }
std::unique_ptr<ConvAlgorithm> make_pointwise_t(const ConvLayer& l) { return make_pointwise_conv(l, true); }
std::unique_ptr<ConvAlgorithm> make_winograd_2x2(const ConvLayer& l) { return make_winograd_conv(l, 2); }
std::unique_ptr<ConvAlgorithm> make_winograd_3x3(const ConvLayer& l) { return make_winograd_conv(l, 3); }
std::unique_ptr<ConvAlgorithm> make_winograd_4x4(const ConvLayer& l) { return make_winograd_conv(l, 4); }
std::unique_ptr<ConvAlgorithm> make_winograd_6x6(const ConvLayer& l) { return make_winograd_conv(l, 6); }

}  // namespace

const std::vector<ConvAlgoInfo>& conv_algorithms() {
  static const std::vector<ConvAlgoInfo> table = {
      {"im2col", any_layer, make_im2col},
      {"pointwise", pointwise_only, make_pointwise},
      // The same GEMMs transposed: output positions as rows (few positions pad less).
      {"im2col_t", any_layer, make_im2col_t},
      {"pointwise_t", pointwise_only, make_pointwise_t},
      // im2col rows read in place from a padded copy of the input (no packing).
      {"implicit", any_layer, make_implicit_conv},
      // ... and transposed: positions as rows, read in place from a channels-last copy.
      {"implicit_t", any_layer, make_implicit_t_conv},
      {"depthwise", depthwise_only, make_depthwise_conv},
      // The blocked direct kernel, reading NCHW input, its output copied back to NCHW.
      {"direct", ungrouped_only, make_direct_conv},
      // "winograd" resolves per input size to the variant choose_winograd_variant picks.
      {"winograd", winograd_cannot_run, make_winograd_4x4},
      {"winograd_2x2", winograd_cannot_run, make_winograd_2x2},
      {"winograd_3x3", winograd_cannot_run, make_winograd_3x3},
      {"winograd_4x4", winograd_cannot_run, make_winograd_4x4},
      {"winograd_6x6", winograd_cannot_run, make_winograd_6x6},
  };
  return table;
}

const ConvAlgoInfo& conv_algorithm(const std::string& name) {
  std::string known;
  for (const auto& a : conv_algorithms()) {
    if (name == a.name) return a;
    known += std::string(known.empty() ? "" : ", ") + a.name;
  }
  FC_CHECK(false, "unknown convolution algorithm '", name, "': expected auto or one of ", known);
  throw;  // unreachable
}

std::string choose_conv_algo(const ConvParams& p, size_t h, size_t w, Isa isa) {
  if (p.is_depthwise()) return "depthwise";
  auto cheaper = [&](const std::string& a, const std::string& b) {
    return conv_cost(b, p, h, w, isa) < conv_cost(a, p, h, w, isa) ? b : a;
  };
  if (p.is_pointwise()) {
    // Direct only where the output is no larger than the input or fits one core's L2 (1 MiB):
    // it writes the output twice (blocked scratch, then NCHW), which the fit's hot, repeated
    // runs hide; beside another engine's calls (caches cold) 64 -> 256 at 56x56 (3.2 MB out)
    // ran 0.90x onnxruntime direct, 0.99x pointwise, 128 -> 512 at 28x28 (1.6 MB) 0.96x vs
    // 0.98x, while 256 -> 64 and 1024 -> 256 ran direct 1.1x pointwise, and 512 -> 2048 at 7x7
    // (0.4 MB) 1.00x vs 0.95x, 256 -> 1024 at 14x14 (0.8 MB) 0.98x vs 0.91x (bench/RESULTS.md).
    constexpr size_t kCachedOutputFloats = size_t{1} << 18;
    const bool narrows = p.out_channels <= p.in_channels;
    const bool cached = p.out_channels * p.out_h(h) * p.out_w(w) <= kCachedOutputFloats;
    const std::string gemm = cheaper("pointwise", "pointwise_t");
    return p.groups == 1 && (narrows || cached) ? cheaper(gemm, "direct") : gemm;
  }
  std::string gemm = cheaper(cheaper(cheaper("im2col", "im2col_t"), "implicit"), "implicit_t");
  // Not for strided 1x1 layers: the direct kernel's copy of every other NCHW position goes
  // element by element there (1.2-1.7x slower than the GEMM paths).
  if (p.groups == 1 && (p.kernel_h > 1 || p.kernel_w > 1)) gemm = cheaper(gemm, "direct");
  if (winograd_cannot_run(p).empty()) return cheaper(gemm, choose_winograd_variant(p, h, w, isa));
  return gemm;
}

std::vector<std::string> auto_candidates(const ConvParams& p) {
  std::vector<std::string> names;
  for (const auto& a : conv_algorithms()) {
    const std::string name = a.name;
    if (name == "winograd" || !a.cannot_run(p).empty()) continue;  // "winograd" is one of its variants
    if (name.rfind("winograd_", 0) == 0 && !winograd_variant_accurate(name, p)) continue;
    names.push_back(name);
  }
  return names;
}

std::string resolve_conv_algo(const std::string& algo, const ConvParams& p, size_t h, size_t w, Isa isa) {
  if (algo == "auto") return choose_conv_algo(p, h, w, isa);
  if (algo == "winograd") return choose_winograd_variant(p, h, w, isa);
  return algo;
}

}  // namespace fc
