#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/node.h"

namespace tiercache::engine {

// The memory of one shard's nodes. Small nodes live in 16 KiB pages cut into
// slots of one size class (8-byte steps up to 256 bytes, then 16 classes per
// doubling up to 2 KiB), so a node costs its rounded size and nothing more: no
// allocator header and a 32-bit Handle instead of a pointer. A page that
// empties goes back to the system, so memory follows the live entries even
// when their sizes change. Larger nodes get an allocation of their own.
//
// Not thread-safe: the owning shard calls it under its lock. A Handle stays
// valid until Free(); Get() on a freed handle is undefined.
class NodeArena {
 public:
  // 16 bytes under 16 KiB, so that malloc's header rounds the page to 16 KiB.
  static constexpr std::size_t kPageBytes = 16 * 1024 - 16;
  static constexpr std::size_t kMaxSmallBytes = 2048;

  NodeArena() = default;
  ~NodeArena();
  NodeArena(const NodeArena&) = delete;
  NodeArena& operator=(const NodeArena&) = delete;

  // A slot of at least `bytes`; kNoHandle when the shard's 2^21 pages are used
  // up or the system refuses memory. The slot's contents are unspecified.
  Handle Allocate(std::size_t bytes);
  void Free(Handle h);
  // Whether h's slot is of the size Allocate(bytes) hands out, so that a node
  // of `bytes` may take it over rather than h be freed and a slot allocated.
  bool SameSize(Handle h, std::size_t bytes) const;

  Node* Get(Handle h) const {
    return reinterpret_cast<Node*>(page_data_[h >> kOffsetBits] +
                                   (std::size_t{h & kOffsetMask} << 3));
  }

  // What Allocate(bytes) really takes from memory: the charge of a node.
  static std::size_t SlotBytes(std::size_t bytes);

 private:
  static constexpr int kOffsetBits = 11;  // 8-byte units inside a page
  static constexpr Handle kOffsetMask = (Handle{1} << kOffsetBits) - 1;
  static constexpr std::uint32_t kMaxPages = (std::uint32_t{1} << (32 - kOffsetBits)) - 1;
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  static constexpr std::uint16_t kLargeClass = 0xFFFF;

  struct Page {
    std::uint16_t size_class = kLargeClass;
    std::uint32_t live = 0;      // slots in use
    std::uint32_t free = kNone;  // offset of the first freed slot
    std::uint32_t bump = 0;      // offset of the first never-used slot
    std::uint32_t prev = kNone;  // in its class's list of pages with room
    std::uint32_t next = kNone;
  };

  static std::size_t ClassIndex(std::size_t bytes);
  static std::size_t ClassBytes(std::size_t index);

  std::uint32_t NewPage(std::size_t bytes, std::uint16_t size_class);
  void ReleasePage(std::uint32_t page);
  bool PageFull(const Page& p) const;
  void LinkPartial(std::uint32_t page);
  void UnlinkPartial(std::uint32_t page);
  Handle AllocateSmall(std::size_t size_class);

  std::vector<char*> page_data_;  // by page index; nullptr when released
  std::vector<Page> pages_;
  std::vector<std::uint32_t> free_pages_;  // released page indices to reuse
  std::vector<std::uint32_t> partial_;     // by class: first page with room
};

}  // namespace tiercache::engine
