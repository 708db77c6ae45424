#pragma once

// Storage-internal: the storage edge, where exceptions stop (STYLE.md).

#include <fmt/format.h>

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "tiercache/status.h"

namespace tiercache::storage {

// Runs fn (which returns a Status); an exception that escapes it becomes an
// IOError naming the operation and the store's path.
template <typename Fn>
Status Guarded(std::string_view what, const std::string& path, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::NoSpace(fmt::format("{} on the store at {} failed: out of memory", what, path));
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("{} on the store at {} failed: {}", what, path, e.what()));
  } catch (...) {
    return Status::IOError(
        fmt::format("{} on the store at {} failed: unknown exception", what, path));
  }
}

}  // namespace tiercache::storage
