#pragma once

// Running the tiercache command (TIERCACHE_BIN, set by tests/tools/meson.build)
// and the test's own second process (tools_test_store_writer, built beside
// the test executables). Both start with posix_spawn, never a bare fork: a
// forked copy of a process that has used RocksDB inherits a thread pool whose
// threads did not survive the fork. Tests wait on the processes' output and
// exit, never by sleeping.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace tiercache::test_util {

// What a finished run of the command left.
struct ToolRun {
  int exit_code = -1;  // -1: it did not exit normally
  std::string out;
  std::string err;
};

namespace internal {

inline std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

// An unlinked temporary file: it goes when its descriptor is closed.
inline int TempFile() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = std::string(tmpdir != nullptr && tmpdir[0] != '\0' ? tmpdir : "/tmp") +
                        "/tiercache-tool-XXXXXX";
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(pattern.c_str());
  return fd;
}

inline std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  ::close(fd);
  return text;
}

inline int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace internal

// Runs `tiercache args...` to its end, with stdin read from `stdin_path`.
inline ToolRun RunTool(std::vector<std::string> args, const std::string& stdin_path = "/dev/null") {
  const char* bin = std::getenv("TIERCACHE_BIN");
  if (bin == nullptr) {
    ADD_FAILURE() << "TIERCACHE_BIN is not set";
    return {};
  }
  args.insert(args.begin(), bin);
  std::vector<char*> argv = internal::Argv(args);
  const int out = internal::TempFile();
  const int err = internal::TempFile();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err, STDERR_FILENO);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, bin, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ToolRun run;
  if (spawned != 0) ADD_FAILURE() << "cannot start " << bin;
  if (spawned == 0) run.exit_code = internal::WaitExit(pid);
  run.out = internal::ReadAll(out);
  run.err = internal::ReadAll(err);
  return run;
}

// tools_test_store_writer (tests/tools/store_writer.cc) as a child process,
// with a pipe to its stdin and one from its stdout.
class StoreWriter {
 public:
  // Starts `tools_test_store_writer mode path`.
  StoreWriter(const std::string& mode, const std::string& path) {
    std::vector<std::string> args = {HelperPath(), mode, path};
    std::vector<char*> argv = internal::Argv(args);
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
    if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      ADD_FAILURE() << "cannot start " << args[0];
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_fd_ = to_child[1];
    stdout_ = ::fdopen(from_child[0], "r");
  }

  // Closes both pipes (the writer stops at its next line, the holder at the
  // end of its stdin) and waits for it.
  ~StoreWriter() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    if (stdout_ != nullptr) std::fclose(stdout_);
    if (pid_ > 0) internal::WaitExit(pid_);
  }

  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // The child's next line without its newline; "" at end of file.
  std::string ReadLine() {
    char buffer[256];
    if (stdout_ == nullptr || std::fgets(buffer, sizeof buffer, stdout_) == nullptr) return "";
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }

 private:
  static std::string HelperPath() {
    char self[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    const std::filesystem::path dir =
        n > 0 ? std::filesystem::path(std::string(self, static_cast<std::size_t>(n))).parent_path()
              : std::filesystem::path(".");
    return (dir / "tools_test_store_writer").string();
  }

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  FILE* stdout_ = nullptr;
};

}  // namespace tiercache::test_util
