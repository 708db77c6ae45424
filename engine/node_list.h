#pragma once

#include <cstddef>

#include "engine/node_arena.h"

namespace tiercache::engine {

// A doubly linked list threaded through the nodes' prev/next handles: front()
// is the oldest end, PushBack() adds at the newest. A node is in at most one
// list at a time. O(1) everything.
//
// Not thread-safe; borrows the arena, which must outlive the list.
class NodeList {
 public:
  Handle front() const { return head_; }
  Handle back() const { return tail_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void PushBack(const NodeArena& arena, Handle h) {
    Node* n = arena.Get(h);
    n->set_prev(tail_);
    n->set_next(kNoHandle);
    if (tail_ != kNoHandle) {
      arena.Get(tail_)->set_next(h);
    } else {
      head_ = h;
    }
    tail_ = h;
    ++size_;
  }

  void Remove(const NodeArena& arena, Handle h) {
    Node* n = arena.Get(h);
    const Handle prev = n->prev();
    const Handle next = n->next();
    if (prev != kNoHandle) {
      arena.Get(prev)->set_next(next);
    } else {
      head_ = next;
    }
    if (next != kNoHandle) {
      arena.Get(next)->set_prev(prev);
    } else {
      tail_ = prev;
    }
    --size_;
  }

  // The hot path of LRU: one lookup of each node it touches.
  void MoveToBack(const NodeArena& arena, Handle h) {
    if (h == tail_) return;
    Node* n = arena.Get(h);
    const Handle prev = n->prev();
    const Handle next = n->next();  // not kNoHandle: h is not the tail
    if (prev != kNoHandle) {
      arena.Get(prev)->set_next(next);
    } else {
      head_ = next;
    }
    arena.Get(next)->set_prev(prev);
    arena.Get(tail_)->set_next(h);
    n->set_prev(tail_);
    n->set_next(kNoHandle);
    tail_ = h;
  }

 private:
  Handle head_ = kNoHandle;
  Handle tail_ = kNoHandle;
  std::size_t size_ = 0;
};

}  // namespace tiercache::engine
