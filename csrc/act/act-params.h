// What an activation is: plain data, safe to include from any kernel file (no std headers).
#pragma once

namespace fc {

enum class ActKind : int {
  none = 0,
  relu,          // max(x, 0)
  clip,          // min(max(x, alpha), beta)
  leaky_relu,    // x >= 0 ? x : alpha * x
  sigmoid,       // 1 / (1 + exp(-x))
  tanh,
  silu,          // x * sigmoid(x)
  hard_sigmoid,  // clip(alpha * x + beta, 0, 1)
  hard_swish,    // x * clip(x / 6 + 1/2, 0, 1)
  elu,           // x >= 0 ? x : alpha * (exp(x) - 1)
  softplus,      // log(1 + exp(x))
};

struct Activation {
  ActKind kind = ActKind::none;
  float alpha = 0.f;
  float beta = 0.f;
};

}  // namespace fc
