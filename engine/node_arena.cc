#include "engine/node_arena.h"

#include <algorithm>
#include <bit>
#include <new>

namespace tiercache::engine {
namespace {

// Classes: 8-byte steps up to 256 bytes (32 classes), then 16 per doubling up
// to 2 KiB (48 classes): at most 6.25 % rounding above 256 bytes.
constexpr std::size_t kLinearLimit = 256;
constexpr std::size_t kLinearClasses = kLinearLimit / 8;
constexpr std::size_t kStepsPerDoubling = 16;
constexpr std::size_t kClassCount = kLinearClasses + 3 * kStepsPerDoubling;

}  // namespace

std::size_t NodeArena::ClassIndex(std::size_t bytes) {
  if (bytes <= kLinearLimit) return bytes == 0 ? 0 : (bytes - 1) / 8;
  const int doubling = std::bit_width(bytes - 1) - 9;  // 257..512 -> 0
  const std::size_t base = std::size_t{256} << doubling;
  const std::size_t step = base / kStepsPerDoubling;
  return kLinearClasses + doubling * kStepsPerDoubling + (bytes - base - 1) / step;
}

std::size_t NodeArena::ClassBytes(std::size_t index) {
  if (index < kLinearClasses) return (index + 1) * 8;
  const std::size_t rest = index - kLinearClasses;
  const std::size_t base = std::size_t{256} << (rest / kStepsPerDoubling);
  return base + (rest % kStepsPerDoubling + 1) * (base / kStepsPerDoubling);
}

std::size_t NodeArena::SlotBytes(std::size_t bytes) {
  if (bytes > kMaxSmallBytes) return bytes;
  return ClassBytes(ClassIndex(bytes));
}

NodeArena::~NodeArena() {
  for (std::size_t i = 0; i < page_data_.size(); ++i) {
    ::operator delete(page_data_[i]);
  }
}

Handle NodeArena::Allocate(std::size_t bytes) {
  if (bytes <= kMaxSmallBytes) return AllocateSmall(ClassIndex(bytes));
  const std::uint32_t page = NewPage(bytes, kLargeClass);
  if (page == kNone) return kNoHandle;
  pages_[page].live = 1;
  return page << kOffsetBits;
}

Handle NodeArena::AllocateSmall(std::size_t size_class) {
  if (partial_.empty()) {
    try {
      partial_.assign(kClassCount, kNone);
    } catch (const std::bad_alloc&) {
      return kNoHandle;
    }
  }
  std::uint32_t page = partial_[size_class];
  if (page == kNone) {
    page = NewPage(kPageBytes, static_cast<std::uint16_t>(size_class));
    if (page == kNone) return kNoHandle;
    LinkPartial(page);
  }
  Page& p = pages_[page];
  std::uint32_t offset = p.free;
  if (offset != kNone) {
    std::memcpy(&p.free, page_data_[page] + (std::size_t{offset} << 3), sizeof p.free);
  } else {
    offset = p.bump;
    p.bump += static_cast<std::uint32_t>(ClassBytes(size_class) / 8);
  }
  ++p.live;
  if (PageFull(p)) UnlinkPartial(page);
  return (page << kOffsetBits) | offset;
}

void NodeArena::Free(Handle h) {
  const std::uint32_t page = h >> kOffsetBits;
  Page& p = pages_[page];
  if (p.size_class == kLargeClass) {
    ReleasePage(page);
    return;
  }
  const bool was_full = PageFull(p);
  const std::uint32_t offset = h & kOffsetMask;
  std::memcpy(page_data_[page] + (std::size_t{offset} << 3), &p.free, sizeof p.free);
  p.free = offset;
  --p.live;
  if (was_full) LinkPartial(page);
  // The class's only page with room stays, so that one entry coming and going
  // does not allocate and free a page each time.
  if (p.live == 0 && (p.prev != kNone || p.next != kNone)) {
    UnlinkPartial(page);
    ReleasePage(page);
  }
}

bool NodeArena::SameSize(Handle h, std::size_t bytes) const {
  return bytes <= kMaxSmallBytes && pages_[h >> kOffsetBits].size_class == ClassIndex(bytes);
}

bool NodeArena::PageFull(const Page& p) const {
  if (p.free != kNone) return false;
  const std::size_t units = ClassBytes(p.size_class) / 8;
  return p.bump + units > kPageBytes / 8;
}

std::uint32_t NodeArena::NewPage(std::size_t bytes, std::uint16_t size_class) {
  char* data = static_cast<char*>(::operator new(bytes, std::nothrow));
  if (data == nullptr) return kNone;
  std::uint32_t page;
  if (!free_pages_.empty()) {
    page = free_pages_.back();
    free_pages_.pop_back();
  } else if (pages_.size() < kMaxPages) {
    page = static_cast<std::uint32_t>(pages_.size());
    // The two arrays grow together or not at all, and the free list has room
    // for every page, so that releasing one (on a removal) never allocates.
    try {
      if (free_pages_.capacity() <= pages_.size()) {
        free_pages_.reserve(std::max<std::size_t>(2 * pages_.size(), 16));
      }
      page_data_.push_back(nullptr);
      pages_.emplace_back();
    } catch (const std::bad_alloc&) {
      page_data_.resize(pages_.size());
      ::operator delete(data);
      return kNone;
    }
  } else {
    ::operator delete(data);
    return kNone;
  }
  pages_[page] = Page{};
  pages_[page].size_class = size_class;
  page_data_[page] = data;
  return page;
}

void NodeArena::ReleasePage(std::uint32_t page) {
  ::operator delete(page_data_[page]);
  page_data_[page] = nullptr;
  pages_[page] = Page{};
  free_pages_.push_back(page);
}

void NodeArena::LinkPartial(std::uint32_t page) {
  Page& p = pages_[page];
  const std::uint32_t head = partial_[p.size_class];
  p.prev = kNone;
  p.next = head;
  if (head != kNone) pages_[head].prev = page;
  partial_[p.size_class] = page;
}

void NodeArena::UnlinkPartial(std::uint32_t page) {
  Page& p = pages_[page];
  if (p.prev != kNone) {
    pages_[p.prev].next = p.next;
  } else {
    partial_[p.size_class] = p.next;
  }
  if (p.next != kNone) pages_[p.next].prev = p.prev;
  p.prev = p.next = kNone;
}

}  // namespace tiercache::engine
