// Precondition checks of the C++ side: they throw std::invalid_argument, which the
// binding turns into ValueError. Used at plan creation, never inside kernels.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

#define FC_CHECK(cond, ...)                                     \
  do {                                                          \
    if (!(cond)) throw std::invalid_argument(::fc::cat(__VA_ARGS__)); \
  } while (0)

namespace fc {

template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace fc
