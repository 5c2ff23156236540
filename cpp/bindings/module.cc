// aigw._core: the thin pybind11 layer over GatewayServer. The only file that includes pybind11.
// Every call that can block (start, stop) releases the GIL; loop threads never take it.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/gateway_server.h"
#include "guardrails/patterns.h"
#include "hooks/hook_runner.h"
#include "hooks/hook_scheduler.h"
#include "net/tls_server_context.h"
#include "upstream/rs256.h"

namespace py = pybind11;

namespace {

// The Python HookRunner's start and cancel as the HookScheduler sees them. The hook thread
// holds the GIL while it runs jobs and lets go of it only while it sleeps.
class PythonHookRunner final : public aigw::hooks::HookRunner {
 public:
  PythonHookRunner(const py::object& start, const py::object& cancel) : start_(start), cancel_(cancel) {}

  // start() answers the verdict of a check that finished at once, else None (a task answers
  // later). A runner that raises or answers something else than a str or None (a bug of ours)
  // fails this job alone.
  aigw::hooks::JobStart start(const aigw::hooks::Job& job) override {
    try {
      py::object verdict = start_(job.id, text(job.kind), text(job.payload));
      if (verdict.is_none()) return aigw::hooks::JobStart::running();
      return aigw::hooks::JobStart::answered(verdict.cast<std::string>());
    } catch (py::error_already_set& e) {
      std::string why = e.what();
      e.discard_as_unraisable("aigw hook job");
      return aigw::hooks::JobStart::failed(std::move(why));
    } catch (const py::cast_error&) {
      return aigw::hooks::JobStart::failed("the hook runner answered something else than a verdict");
    }
  }

  // cancel() answers true when a task was cancelled.
  bool cancel(uint64_t id) override {
    try {
      return PyObject_IsTrue(cancel_(id).ptr()) == 1;
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("aigw hook cancel");
      return false;
    }
  }

  void beforeSleep() override { released_.emplace(); }
  void afterSleep() override { released_.reset(); }

 private:
  // A job's text never fails to convert (and so never loses the batch): bytes that are not
  // UTF-8 (a client's body may hold any) become U+FFFD.
  static py::object text(const std::string& s) {
    PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
    if (o == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(o);
  }

  const py::object& start_;
  const py::object& cancel_;
  std::optional<py::gil_scoped_release> released_;
};

class Server {
 public:
  explicit Server(const std::string& config_json) {
    std::string error;
    server_ = aigw::GatewayServer::create(config_json, &error);
    if (!server_) throw py::value_error(error);
  }

  int start() {
    std::string error;
    int port;
    {
      py::gil_scoped_release release;
      port = server_->start(&error);
    }
    if (port < 0) {
      PyErr_SetString(PyExc_OSError, error.c_str());
      throw py::error_already_set();
    }
    return port;
  }

  void stop(double drain_timeout) {
    py::gil_scoped_release release;
    server_->stop(drain_timeout < 0 ? -1 : static_cast<int64_t>(drain_timeout * 1000.0));
  }

  void endDrainNow() { server_->endDrainNow(); }
  std::pair<std::string, std::string> reloadTls() {
    aigw::net::TlsLoadError error;
    {
      py::gil_scoped_release release;
      if (server_->reloadTls(&error)) return {};
    }
    return {error.field, error.message};
  }
  bool running() const { return server_->running(); }
  int port() const { return server_->port(); }
  int workers() const { return server_->workerCount(); }
  std::string stats() const { return server_->statsJson(); }
  std::string usage(const std::string& day, const std::string& provider, const std::string& model) const {
    return server_->usageJson({day, provider, model});
  }

  // The Python hook thread's wait (its asyncio loop's selector calls it): the HookScheduler's
  // serve() with the runner's start(id, kind, payload) -> verdict or None and cancel(id) -> bool.
  bool serveHooks(const py::object& start, const py::object& cancel, int loop_fd, int timeout_ms) {
    PythonHookRunner runner(start, cancel);
    return aigw::hooks::HookScheduler(server_->hooks()).serve(runner, loop_fd, timeout_ms);
  }
  // Keeps the GIL: complete() only takes locks that no thread holds while it waits for the GIL.
  void completeHook(uint64_t id, bool ok, std::string result) { server_->hooks().complete(id, ok, std::move(result)); }
  void closeHooks() {
    py::gil_scoped_release release;
    server_->hooks().close();
  }
  void setLogConsumed(uint64_t bytes) { server_->setLogConsumed(bytes); }

  // A refresher's new credentials for the named provider of the live config. The messages never
  // quote `credentials_json` (a JSON parser's error would: it shows what it last read).
  void setProviderCredentials(const std::string& provider, const std::string& credentials_json) {
    const aigw::Provider* target = nullptr;
    for (const auto& p : server_->config().providers()) {
      if (p->name() == provider) target = p.get();
    }
    if (target == nullptr) throw py::value_error("no provider named '" + provider + "' in the gateway's config");
    nlohmann::json pushed = nlohmann::json::parse(credentials_json, nullptr, false);
    if (pushed.is_discarded() || !pushed.is_object()) {
      throw py::value_error("the credentials for provider '" + provider + "' are not a JSON object");
    }
    std::string error;
    if (!target->acceptCredentials(pushed, &error)) throw py::value_error(error);
  }
  py::bytes takeLogLines() {
    std::string lines;
    {
      py::gil_scoped_release release;
      lines = server_->takeLogLines();
    }
    return py::bytes(lines);
  }

 private:
  std::unique_ptr<aigw::GatewayServer> server_;
};

// The config check of `server.tls`: builds the context the server would build, so what
// check-config accepts is exactly what starts.
std::pair<std::string, std::string> tlsCheck(const std::string& tls_json) {
  aigw::net::TlsServerOptions opts;
  try {
    opts = aigw::net::tlsServerOptionsFromJson(nlohmann::json::parse(tls_json));
  } catch (const std::exception& ex) {
    return {"", ex.what()};
  }
  aigw::net::TlsLoadError error;
  py::gil_scoped_release release;
  if (aigw::net::TlsServerContext::create(opts, &error) != nullptr) return {};
  return {error.field, error.message};
}

// The RS256 signature of a JWT's signing input (Vertex's service account grant). Errors never
// quote the key.
py::bytes signRs256(const std::string& private_key_pem, const py::bytes& data) {
  const std::string input = data;
  std::string signature, error;
  bool ok;
  {
    py::gil_scoped_release release;
    ok = aigw::upstream::signRs256(private_key_pem, input, &signature, &error);
  }
  if (!ok) throw py::value_error(error);
  return py::bytes(signature);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "aigw data plane (C++): HTTP server, pipeline, providers";
  m.attr("__version__") = AIGW_VERSION;
  m.def("default_workers", &aigw::defaultWorkerCount, "Worker threads used when the config says 0.");
  m.def(
      "re2_errors",
      [](const std::vector<std::string>& patterns) {
        std::vector<std::string> errors;
        errors.reserve(patterns.size());
        for (const auto& p : patterns) errors.push_back(aigw::guardrails::re2Error(p));
        return errors;
      },
      py::arg("patterns"), "RE2's syntax error for each pattern (\"\" when it compiles).");
  m.def("sign_rs256", &signRs256, py::arg("private_key_pem"), py::arg("data"),
        "RS256 (RSASSA-PKCS1-v1_5, SHA-256) signature of data with a PEM private key.");
  m.def("tls_check", &tlsCheck, py::arg("tls_json"),
        "Builds the server TLS context of a core `server.tls` object: (field, problem), or (\"\", \"\").");
  py::class_<Server>(m, "Server")
      .def(py::init<const std::string&>(), py::arg("config_json"))
      .def("start", &Server::start, "Bind and start the workers; returns the port once every worker listens.")
      .def("stop", &Server::stop, py::arg("drain_timeout") = -1.0,
           "Drain for up to drain_timeout seconds (< 0: the configured default), then close and join.")
      .def("end_drain_now", &Server::endDrainNow,
           "A stop() in progress closes the remaining requests now instead of waiting.")
      .def_property_readonly("running", &Server::running)
      .def_property_readonly("port", &Server::port)
      .def_property_readonly("workers", &Server::workers)
      .def("stats_json", &Server::stats)
      .def("reload_tls", &Server::reloadTls,
           "Rebuild the HTTPS certificate from its files for new connections: (field, problem), or (\"\", \"\").")
      .def("serve_hooks", &Server::serveHooks, py::arg("start"), py::arg("cancel"), py::arg("loop_fd"),
           py::arg("timeout_ms"),
           "The hook thread's wait: runs hook jobs with start(id, kind, payload) -> verdict or None and "
           "cancellations with cancel(id) -> bool until loop_fd is readable (True), a task was made or "
           "cancelled, or timeout_ms passed (-1: no limit).")
      .def("complete_hook", &Server::completeHook, py::arg("id"), py::arg("ok"), py::arg("result"),
           "Deliver a hook's result (JSON) to the request waiting for it.")
      .def("close_hooks", &Server::closeHooks, "Fail every waiting hook job and wake the hook thread's serve_hooks().")
      .def("usage_json", &Server::usage, py::arg("day") = "", py::arg("provider") = "", py::arg("model") = "",
           "Usage and cost totals (JSON); empty filters match everything.")
      .def("set_log_consumed", &Server::setLogConsumed, py::arg("bytes"),
           "The log thread: journal bytes of this run that every sink has consumed.")
      .def("take_log_lines", &Server::takeLogLines,
           "The log thread: record lines handed off in memory since the last call.")
      .def("set_provider_credentials", &Server::setProviderCredentials, py::arg("provider"),
           py::arg("credentials_json"),
           "New credentials (a JSON object of the provider's kind) for the next attempts of the named provider.");
}
