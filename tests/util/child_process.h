#pragma once

// Runs store_test_helper (built beside the test executables) as a child
// process, with a pipe to its stdin and one from its stdout. A test waits for
// the child by reading its lines: no sleeping.
//
// The child is started with fork and exec, never fork alone: a forked copy of
// a process that has used RocksDB inherits a thread pool whose threads did not
// survive the fork.

#include <gtest/gtest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace tiercache::test_util {

class ChildProcess {
 public:
  // Starts `store_test_helper args...`.
  explicit ChildProcess(const std::vector<std::string>& args) {
    const std::string helper = HelperPath();
    std::vector<std::string> argv_storage = {helper};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], STDIN_FILENO);
      ::dup2(from_child[1], STDOUT_FILENO);
      ::close(to_child[0]);
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::close(from_child[1]);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_fd_ = to_child[1];
    stdout_ = ::fdopen(from_child[0], "r");
  }

  ~ChildProcess() {
    CloseStdin();
    CloseStdout();
    if (pid_ > 0) Wait();
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The child's next line without its newline; "" at end of file.
  std::string ReadLine() {
    std::string line;
    char buffer[256];
    while (stdout_ != nullptr && std::fgets(buffer, sizeof buffer, stdout_) != nullptr) {
      line += buffer;
      if (line.back() == '\n') {
        line.pop_back();
        break;
      }
    }
    return line;
  }

  // Tells the child to finish (it reads its stdin to end of file).
  void CloseStdin() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    stdin_fd_ = -1;
  }

  // The child's next write to stdout fails (EPIPE): it stops then.
  void CloseStdout() {
    if (stdout_ != nullptr) std::fclose(stdout_);
    stdout_ = nullptr;
  }

  // Waits for the child to end; its exit code, or -1 when it did not exit.
  int Wait() {
    int status = 0;
    const pid_t pid = pid_;
    pid_ = -1;
    if (pid <= 0 || ::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  static std::string HelperPath() {
    char self[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return "store_test_helper";
    return (std::filesystem::path(std::string(self, static_cast<std::size_t>(n))).parent_path() /
            "store_test_helper")
        .string();
  }

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  FILE* stdout_ = nullptr;
};

}  // namespace tiercache::test_util
