#include "support/fixture.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cachecar::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::uint64_t resident_bytes(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;  // "VmRSS:   1234 kB"
  }
  return 0;
}

std::uint16_t free_port() {
  // Each port at most once per test process: the kernel may offer a port it
  // just released again at once, and one cachecar's two listeners on one
  // port is a config error (it failed a CI run that way).
  static std::mutex mutex;
  static std::set<std::uint16_t> handed_out;
  asio::io_context context;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    std::lock_guard lock(mutex);
    if (handed_out.insert(port).second) return port;
  }
  throw std::runtime_error("free_port: no loopback port left that this test has not used");
}

TempDir::TempDir() {
  char path_template[] = "/tmp/cachecar-test-XXXXXX";
  if (::mkdtemp(path_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = path_template;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string file = path_ + "/" + name;
  std::ofstream(file) << content;
  return file;
}

Origin::Origin(std::vector<std::string> extra_args) {
  ChildProcess::Options options;
  options.argv = {DEMO_ORIGIN_BINARY, "--listen", "127.0.0.1:0"};
  options.argv.insert(options.argv.end(), extra_args.begin(), extra_args.end());
  options.capture_stdout = true;
  process_ = std::make_unique<ChildProcess>(options);
  auto line = process_->read_line(std::chrono::seconds(10));
  constexpr std::string_view kPrefix = "listening on 127.0.0.1:";
  if (!line || line->rfind(kPrefix, 0) != 0) throw std::runtime_error("demo_origin did not start");
  port_ = static_cast<std::uint16_t>(std::stoi(line->substr(kPrefix.size())));
}

nlohmann::json Origin::stats() {
  auto response = http_request(port_, "GET", "/__stats");
  if (response.status != 200) throw std::runtime_error("origin /__stats failed: " + response.error);
  return nlohmann::json::parse(response.body);
}

std::uint64_t Origin::count(const std::string& path) {
  auto s = stats();
  return s["paths"].contains(path) ? s["paths"][path].get<std::uint64_t>() : 0;
}

std::uint64_t Origin::count_target(const std::string& target) {
  auto s = stats();
  return s["targets"].contains(target) ? s["targets"][target].get<std::uint64_t>() : 0;
}

std::uint64_t Origin::connections() {
  // /__stats itself arrives on a connection of its own: leave it out.
  return stats()["connections"].get<std::uint64_t>() - 1;
}

void Origin::reset() { http_request(port_, "POST", "/__reset"); }

std::string Cachecar::compose_config(const std::string& yaml) const {
  std::ostringstream config;
  config << "listen: 127.0.0.1:" << port_ << "\n"
         << "origin: http://127.0.0.1:" << origin_port_ << "\n";
  // A test's own "admin: { ... }" line gets the listen address added.
  std::string body = yaml;
  const std::string own_admin = "admin: { ";
  if (auto at = body.find("\n" + own_admin); at != std::string::npos) {
    body.insert(at + 1 + own_admin.size(),
                "listen: 127.0.0.1:" + std::to_string(admin_port_) + ", ");
  } else {
    config << "admin: { listen: 127.0.0.1:" << admin_port_ << " }\n";
  }
  config << body;
  return config.str();
}

void Cachecar::rewrite_config(const std::string& yaml) {
  namespace fs = std::filesystem;
  const std::string content = compose_config(yaml);
  const fs::path dir = dir_.path();
  ++config_version_;
  if (!configmap_layout_) {
    dir_.write("cachecar.yaml.tmp", content);
    fs::rename(dir / "cachecar.yaml.tmp", dir / "cachecar.yaml");
    return;
  }
  // What the kubelet does: a new timestamped directory, a temporary
  // ..data link to it renamed over ..data, the old directory removed.
  const std::string next = "..v" + std::to_string(config_version_);
  fs::create_directory(dir / next);
  dir_.write(next + "/cachecar.yaml", content);
  const std::string previous = fs::read_symlink(dir / "..data").string();
  fs::create_symlink(next, dir / "..data_tmp");
  fs::rename(dir / "..data_tmp", dir / "..data");
  fs::remove_all(dir / previous);
}

Cachecar::Cachecar(std::uint16_t origin_port, const std::string& yaml,
                   std::map<std::string, std::string> env, bool configmap_layout)
    : origin_port_(origin_port), configmap_layout_(configmap_layout) {
  namespace fs = std::filesystem;
  // A port found free can be taken before cachecar binds it (by another
  // test's outgoing connection, say): then start again on other ports.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    admin_port_ = free_port();
    const std::string content = compose_config(yaml);
    const fs::path dir = dir_.path();
    if (configmap_layout_) {
      fs::remove_all(dir / "..v1");
      fs::remove(dir / "..data");
      fs::remove(dir / "cachecar.yaml");
      fs::create_directory(dir / "..v1");
      dir_.write("..v1/cachecar.yaml", content);
      fs::create_symlink("..v1", dir / "..data");
      fs::create_symlink("..data/cachecar.yaml", dir / "cachecar.yaml");
      config_version_ = 1;
      config_path_ = (dir / "cachecar.yaml").string();
    } else {
      config_path_ = dir_.write("cachecar.yaml", content);
    }
    const std::string& path = config_path_;
    ChildProcess::Options options;
    options.argv = {CACHECAR_BINARY, "--config", path};
    options.env = env;
    options.stderr_path = dir_.path() + "/stderr.log";
    process_ = std::make_unique<ChildProcess>(options);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    bool port_taken = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_->running()) {
        if (log().find("Address already in use") != std::string::npos) {
          port_taken = true;
          break;
        }
        throw std::runtime_error("cachecar exited at start:\n" + log());
      }
      if (http_request(admin_port_, "GET", "/healthz").status == 200) {
        wait_for_startup(deadline);
        return;
      }
      // Not up yet: the listener binds within milliseconds of exec.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!port_taken) throw std::runtime_error("cachecar did not answer /healthz:\n" + log());
  }
  throw std::runtime_error("cachecar found no free port in 5 attempts:\n" + log());
}

std::uint64_t Cachecar::metric(const std::string& series) {
  const std::string text = "\n" + admin("GET", "/metrics").body;
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(text.substr(at + series.size() + 2));
}

void Cachecar::wait_for_startup(std::chrono::steady_clock::time_point deadline) {
  // Up, but perhaps still subscribing to the bus or warming: /readyz lists
  // what is pending. Tests start from a finished start-up.
  while (std::chrono::steady_clock::now() < deadline) {
    auto ready =
        nlohmann::json::parse(http_request(admin_port_, "GET", "/readyz").body, nullptr, false);
    if (ready.is_object() && ready.contains("starting") && ready["starting"].empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("cachecar did not finish starting:\n" + log());
}

HttpResponse Cachecar::get(const std::string& target, const Headers& headers) {
  return http_request(port_, "GET", target, headers);
}

HttpResponse Cachecar::admin(const std::string& method, const std::string& target,
                             const std::string& body, const Headers& headers) {
  return http_request(admin_port_, method, target, headers, body);
}

std::string Cachecar::log() const {
  std::ifstream file(dir_.path() + "/stderr.log");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace cachecar::testing
