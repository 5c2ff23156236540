// aigw._core: the thin pybind11 layer over GatewayServer. The only file that includes pybind11.
// Every call that can block (start, stop) releases the GIL; loop threads never take it.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "gateway/gateway_server.h"
#include "guardrails/patterns.h"

namespace py = pybind11;

namespace {

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

  bool running() const { return server_->running(); }
  int port() const { return server_->port(); }
  int workers() const { return server_->workerCount(); }
  std::string stats() const { return server_->statsJson(); }

 private:
  std::unique_ptr<aigw::GatewayServer> server_;
};

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
  py::class_<Server>(m, "Server")
      .def(py::init<const std::string&>(), py::arg("config_json"))
      .def("start", &Server::start, "Bind and start the workers; returns the port once every worker listens.")
      .def("stop", &Server::stop, py::arg("drain_timeout") = -1.0,
           "Drain for up to drain_timeout seconds (< 0: the configured default), then close and join.")
      .def_property_readonly("running", &Server::running)
      .def_property_readonly("port", &Server::port)
      .def_property_readonly("workers", &Server::workers)
      .def("stats_json", &Server::stats);
}
