#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace tiercache {

// The outcome of a fallible call: OK, or a code and a message that names what
// went wrong. No exception crosses the public API; every fallible call returns
// a Status (or fills an output parameter and returns one).
//
// An OK status, which nearly every call returns, is a code and a null pointer:
// made, moved and dropped without touching memory. An error's message, when
// it has one, lives on the heap, and a copy of the status copies it;
// OutOfMemory()'s is static, so that it is made and copied without memory.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronisation.
class [[nodiscard]] Status {
 public:
  // Written to no disk and no wire: the numbers may change between releases.
  enum class Code {
    kOk,
    kNotFound,
    kInvalidArgument,
    kCorruption,
    kIOError,
    kNoSpace,
    kBusy,
    kConflict,  // the entry's version is not the expected one
    kNotSupported,
    kTimedOut,
  };

  Status() = default;
  Status(const Status& other) : code_(other.code_), message_(CopyOf(other.message_)) {}
  Status& operator=(const Status& other) {
    Message copy = CopyOf(other.message_);  // first: a copy refused leaves *this as it was
    code_ = other.code_;
    message_ = std::move(copy);
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return {Code::kNotFound, msg}; }
  static Status InvalidArgument(std::string_view msg) {
    return {Code::kInvalidArgument, msg};
  }
  static Status Corruption(std::string_view msg) { return {Code::kCorruption, msg}; }
  static Status IOError(std::string_view msg) { return {Code::kIOError, msg}; }
  static Status NoSpace(std::string_view msg) { return {Code::kNoSpace, msg}; }
  static Status Busy(std::string_view msg) { return {Code::kBusy, msg}; }
  static Status Conflict(std::string_view msg) { return {Code::kConflict, msg}; }
  static Status NotSupported(std::string_view msg) { return {Code::kNotSupported, msg}; }
  static Status TimedOut(std::string_view msg) { return {Code::kTimedOut, msg}; }
  // NoSpace "out of memory": what a call answers when the system refused it
  // memory, made and copied without any.
  static Status OutOfMemory() noexcept { return Status(Code::kNoSpace, &OutOfMemoryMessage()); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNoSpace() const { return code_ == Code::kNoSpace; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsTimedOut() const { return code_ == Code::kTimedOut; }

  Code code() const { return code_; }
  const std::string& message() const {
    static const std::string kNone;
    return message_ != nullptr ? *message_ : kNone;
  }

  // "OK", or the code's name, ": " and the message.
  std::string ToString() const {
    if (ok()) return "OK";
    std::string out = CodeName(code_);
    if (!message().empty()) out.append(": ").append(message());
    return out;
  }

  static const char* CodeName(Code code) {
    switch (code) {
      case Code::kOk: return "OK";
      case Code::kNotFound: return "NotFound";
      case Code::kInvalidArgument: return "InvalidArgument";
      case Code::kCorruption: return "Corruption";
      case Code::kIOError: return "IOError";
      case Code::kNoSpace: return "NoSpace";
      case Code::kBusy: return "Busy";
      case Code::kConflict: return "Conflict";
      case Code::kNotSupported: return "NotSupported";
      case Code::kTimedOut: return "TimedOut";
    }
    return "Unknown";
  }

 private:
  // Defined once, in the library, and never destroyed: statuses of every
  // module and of static lifetime share it.
  static const std::string& OutOfMemoryMessage() noexcept;
  // Frees a message unless it is the static one.
  struct FreeMessage {
    void operator()(const std::string* message) const {
      if (message != &OutOfMemoryMessage()) delete message;
    }
  };
  using Message = std::unique_ptr<const std::string, FreeMessage>;

  Status(Code code, std::string_view msg)
      : code_(code), message_(msg.empty() ? nullptr : new std::string(msg)) {}
  Status(Code code, const std::string* fixed) noexcept : code_(code), message_(fixed) {}

  static Message CopyOf(const Message& message) {
    if (message == nullptr || message.get() == &OutOfMemoryMessage()) return Message(message.get());
    return Message(new std::string(*message));
  }

  Code code_ = Code::kOk;
  Message message_;  // nullptr: none (always so when OK)
};

}  // namespace tiercache
