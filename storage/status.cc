#include "tiercache/status.h"

#include <new>

namespace tiercache {

const std::string& Status::OutOfMemoryMessage() noexcept {
  // Short enough to be held in the string itself: made without memory, in
  // storage that outlives every status, however late one is destroyed.
  alignas(std::string) static unsigned char storage[sizeof(std::string)];
  static const std::string* const message = new (storage) std::string("out of memory");
  return *message;
}

}  // namespace tiercache
