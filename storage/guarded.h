#pragma once

// Where exceptions stop (STYLE.md): the storage edge, and the catch handlers
// of the layers above, which must not throw either.

#include <fmt/format.h>

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "tiercache/status.h"

namespace tiercache::storage {

// The status `make` returns (a catch handler's, with a message it formats),
// or Status::OutOfMemory() when there is no memory for that message.
template <typename Make>
Status OrOutOfMemory(Make&& make) noexcept {
  try {
    return make();
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory();
  }
}

// Runs fn (which returns a Status); an exception that escapes it becomes an
// IOError naming the operation and the store's path (NoSpace for a refused
// allocation).
template <typename Fn>
Status Guarded(std::string_view what, const std::string& path, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return OrOutOfMemory([&] {
      return Status::NoSpace(
          fmt::format("{} on the store at {} failed: out of memory", what, path));
    });
  } catch (const std::exception& e) {
    return OrOutOfMemory([&] {
      return Status::IOError(
          fmt::format("{} on the store at {} failed: {}", what, path, e.what()));
    });
  } catch (...) {
    return OrOutOfMemory([&] {
      return Status::IOError(
          fmt::format("{} on the store at {} failed: unknown exception", what, path));
    });
  }
}

}  // namespace tiercache::storage
