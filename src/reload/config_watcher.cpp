#include "reload/config_watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cachecar::reload {
namespace {

constexpr std::chrono::milliseconds kDebounce{200};

std::string file_content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);  // follows the symlinks, as a load does
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

ConfigWatcher::ConfigWatcher(net::asio::io_context& context, std::string config_path,
                             Reloader& reloader)
    : path_(std::move(config_path)), reloader_(reloader), events_(context), debounce_(context) {}

ConfigWatcher::~ConfigWatcher() { stop(); }

bool ConfigWatcher::start() {
  std::filesystem::path directory = std::filesystem::absolute(path_).parent_path();
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("config watch: inotify unavailable ({}); reload with SIGHUP or POST /admin/reload",
                 std::strerror(errno));
    return false;
  }
  constexpr std::uint32_t kMask =
      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB;
  if (inotify_add_watch(fd, directory.c_str(), kMask) < 0) {
    spdlog::warn("config watch: cannot watch {} ({}); reload with SIGHUP or POST /admin/reload",
                 directory.string(), std::strerror(errno));
    ::close(fd);
    return false;
  }
  events_.assign(fd);
  loaded_content_ = file_content(path_);
  read_events();
  return true;
}

void ConfigWatcher::stop() {
  boost::system::error_code ignored;
  debounce_.cancel();
  if (events_.is_open()) events_.close(ignored);
}

void ConfigWatcher::read_events() {
  events_.async_read_some(net::asio::buffer(buffer_),
                          [this](const boost::system::error_code& ec, std::size_t) {
                            if (ec) return;  // closed
                            // What changed does not matter (an editor's rename, the ConfigMap's
                            // symlink swap, a write): wait for the burst to settle, then look.
                            debounce_.expires_after(kDebounce);
                            debounce_.async_wait([this](const boost::system::error_code& timer_ec) {
                              if (!timer_ec) on_change();
                            });
                            read_events();
                          });
}

void ConfigWatcher::on_change() {
  // Mid-swap the file may be missing for an instant: wait for its next event.
  std::error_code missing;
  if (!std::filesystem::exists(path_, missing)) return;
  std::string content = file_content(path_);
  if (content == loaded_content_) return;
  loaded_content_ = std::move(content);
  reloader_.reload("file change");
}

}  // namespace cachecar::reload
