#pragma once

// The two stream buffers that Boost archives run over in the record codec, in
// place of a std::stringstream: no locale, no sentry, no buffer of their own.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <streambuf>
#include <string>
#include <string_view>

namespace tiercache::storage {

// Appends whatever is written to a string the caller owns, so that a reused
// string (with its capacity) takes an encoding without allocating.
//
// Thread-safety: not thread-safe. Borrows the string until the next Reset.
class StringSink final : public std::streambuf {
 public:
  // REQUIRES: *out lives until the last write before the next Reset.
  void Reset(std::string* out) { out_ = out; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_->append(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    out_->push_back(traits_type::to_char_type(c));
    return c;
  }

 private:
  std::string* out_ = nullptr;
};

// Reads a span of memory the caller owns. Knows how much is left, so that the
// payload loader can bound every length before it allocates, and hands out
// views of its bytes so that lz4 reads a compressed value in place.
//
// Thread-safety: not thread-safe. Borrows the span until the next Reset.
class SpanSource final : public std::streambuf {
 public:
  // REQUIRES: `in` lives until the last read before the next Reset.
  void Reset(std::string_view in) {
    // The get area is char* by the streambuf interface; nothing writes to it.
    char* begin = const_cast<char*>(in.data());
    setg(begin, begin, begin + in.size());
  }

  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }

  // The next n bytes, consumed. REQUIRES: n <= remaining().
  std::string_view Take(std::size_t n) {
    std::string_view taken(gptr(), n);
    Advance(n);
    return taken;
  }

 protected:
  // An archive reads each number on its own: copies of 1, 4 and 8 bytes
  // become moves rather than calls.
  std::streamsize xsgetn(char* s, std::streamsize n) override {
    const std::size_t count = std::min(static_cast<std::size_t>(n), remaining());
    switch (count) {
      case 0:
        break;
      case 1:
        *s = *gptr();
        break;
      case 4:
        std::memcpy(s, gptr(), 4);
        break;
      case 8:
        std::memcpy(s, gptr(), 8);
        break;
      default:
        std::memcpy(s, gptr(), count);
    }
    Advance(count);
    return static_cast<std::streamsize>(count);
  }

 private:
  // setg rather than gbump, whose int argument would narrow n.
  void Advance(std::size_t n) { setg(eback(), gptr() + n, egptr()); }
};

}  // namespace tiercache::storage
