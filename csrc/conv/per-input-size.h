// What an algorithm derives from one input size (geometry, offset tables): built on the first
// run at that size and kept, so later runs allocate nothing; runs may come from several
// threads at once.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace fc {

template <class T>
class PerInputSize {
 public:
  // The entry for an h x w input, made by make() (returning a T) the first time.
  template <class Make>
  const T& get(size_t h, size_t w, Make make) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<T>& slot = entries_[{h, w}];
    if (!slot) slot = std::make_unique<T>(make());
    return *slot;
  }

 private:
  mutable std::mutex mu_;
  mutable std::map<std::pair<size_t, size_t>, std::unique_ptr<T>> entries_;
};

}  // namespace fc
