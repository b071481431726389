// Reloads the config when its file changes. Kubernetes updates a mounted
// ConfigMap by swapping a symlink (..data) in the file's directory, which
// never touches the file's own inode, so the directory is watched
// (inotify), not the file. Events are debounced and the file's content is
// compared with what was last loaded, so a touch or a burst of events
// costs one read and at most one reload. Control thread only.
#pragma once

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <string>

#include "net/beast.hpp"
#include "reload/reloader.hpp"

namespace cachecar::reload {

class ConfigWatcher {
 public:
  ConfigWatcher(net::asio::io_context& context, std::string config_path, Reloader& reloader);
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // False (and a warning logged) when the directory cannot be watched;
  // SIGHUP and POST /admin/reload still work.
  bool start();
  void stop();

 private:
  void read_events();
  void on_change();

  std::string path_;
  Reloader& reloader_;
  net::asio::posix::stream_descriptor events_;
  net::asio::steady_timer debounce_;
  std::array<char, 4096> buffer_{};
  std::string loaded_content_;  // what the file held at the last load
};

}  // namespace cachecar::reload
