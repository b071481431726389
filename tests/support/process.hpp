// A child process for end-to-end tests: started with fork/exec, stopped by
// PID (SIGKILL in the destructor if it is still running), stdout optionally
// captured line by line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cachecar::testing {

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // added to the parent's environment
    bool capture_stdout = false;
    std::string stderr_path;  // empty: inherit
    std::string stdout_path;  // empty: inherit (ignored when capturing)
    std::string cwd;          // empty: the parent's
  };

  explicit ChildProcess(const Options& options);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The next line of captured stdout, or nullopt when none came in time.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void send_signal(int signal) const;
  // The exit code (128 + signal when killed), or nullopt if still running at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string pending_;
  std::optional<int> exit_code_;
};

// Runs a command to completion; returns its exit code and captured stdout+stderr.
struct CommandResult {
  int exit_code;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::string& cwd = {});

}  // namespace cachecar::testing
