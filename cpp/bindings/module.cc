// aigw._core: the thin pybind11 layer over GatewayServer. The only file that includes pybind11.
// Every call that can block (start, stop) releases the GIL; loop threads never take it.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

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

  void endDrainNow() { server_->endDrainNow(); }
  bool running() const { return server_->running(); }
  int port() const { return server_->port(); }
  int workers() const { return server_->workerCount(); }
  std::string stats() const { return server_->statsJson(); }
  std::string usage(const std::string& day, const std::string& provider, const std::string& model) const {
    return server_->usageJson({day, provider, model});
  }

  // The Python hook thread's side of the HookQueue. One call per wake-up: deliver the verdicts
  // of the last batch, sleep (GIL released) until jobs come or `loop_fd` is readable, return
  // (jobs as (id, kind, payload) tuples, cancelled ids, loop_fd readable).
  py::tuple waitHooks(py::list done, int loop_fd, int timeout_ms) {
    completeAll(done);
    aigw::hooks::HookQueue::Wake wake;
    {
      py::gil_scoped_release release;
      wake = server_->hooks().wait(loop_fd, timeout_ms);
    }
    py::list jobs(wake.jobs.size());
    for (size_t i = 0; i < wake.jobs.size(); ++i) {
      aigw::hooks::Job& j = wake.jobs[i];
      jobs[i] = py::make_tuple(j.id, text(j.kind), text(j.payload));
    }
    py::list cancelled(wake.cancelled.size());
    for (size_t i = 0; i < wake.cancelled.size(); ++i) cancelled[i] = py::int_(wake.cancelled[i]);
    return py::make_tuple(std::move(jobs), std::move(cancelled), wake.other_ready);
  }
  // These keep the GIL: complete() only takes locks that no thread holds while it waits for
  // the GIL, and releasing it would hand the interpreter to any thread waiting for it (the log
  // thread) in the middle of a batch.
  void completeHook(uint64_t id, bool ok, std::string result) { server_->hooks().complete(id, ok, std::move(result)); }
  void completeHooks(py::list results) { completeAll(results); }
  void closeHooks() {
    py::gil_scoped_release release;
    server_->hooks().close();
  }
  void setLogConsumed(uint64_t bytes) { server_->setLogConsumed(bytes); }

 private:
  // (id, ok, result) tuples, read without building C++ containers first.
  void completeAll(const py::list& results) {
    for (py::handle item : results) {
      if (!PyTuple_Check(item.ptr()) || PyTuple_GET_SIZE(item.ptr()) != 3) {
        throw py::type_error("a hook result is a tuple (id, ok, result)");
      }
      auto t = py::reinterpret_borrow<py::tuple>(item);
      server_->hooks().complete(t[0].cast<uint64_t>(), t[1].cast<bool>(), t[2].cast<std::string>());
    }
  }
  // A job's text never fails to convert (and so never loses the batch): bytes that are not
  // UTF-8 (a client's body may hold any) become U+FFFD.
  static py::object text(const std::string& s) {
    PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
    if (o == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(o);
  }

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
      .def("end_drain_now", &Server::endDrainNow,
           "A stop() in progress closes the remaining requests now instead of waiting.")
      .def_property_readonly("running", &Server::running)
      .def_property_readonly("port", &Server::port)
      .def_property_readonly("workers", &Server::workers)
      .def("stats_json", &Server::stats)
      .def("wait_hooks", &Server::waitHooks, py::arg("done"), py::arg("loop_fd"), py::arg("timeout_ms"),
           "The hook thread's wait: deliver `done` ((id, ok, result) each), sleep until hook jobs come, "
           "loop_fd is readable or timeout_ms passes (-1: no limit); returns (jobs, cancelled ids, loop_fd readable).")
      .def("complete_hook", &Server::completeHook, py::arg("id"), py::arg("ok"), py::arg("result"),
           "Deliver a hook's result (JSON) to the request waiting for it.")
      .def("complete_hooks", &Server::completeHooks, py::arg("results"),
           "Deliver several hook results at once: (id, ok, result) each.")
      .def("close_hooks", &Server::closeHooks, "Fail every waiting hook job and wake the hook thread's wait_hooks().")
      .def("usage_json", &Server::usage, py::arg("day") = "", py::arg("provider") = "", py::arg("model") = "",
           "Usage and cost totals (JSON); empty filters match everything.")
      .def("set_log_consumed", &Server::setLogConsumed, py::arg("bytes"),
           "The log thread: journal bytes of this run that every sink has consumed.");
}
