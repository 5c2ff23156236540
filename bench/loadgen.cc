// aigw-loadgen: the project's open-loop load generator (also a closed-loop max-throughput
// driver and the SSE time-to-first-event meter). See bench/README.md.
#include <signal.h>
#include <sys/resource.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "loadgen/load_driver.h"
#include "loadgen/options.h"
#include "loadgen/report.h"

int main(int argc, char** argv) {
  using namespace aigw::bench;
  Options options;
  std::string error;
  bool help = false;
  if (!parseOptions(argc, argv, &options, &error, &help)) {
    if (help) {
      std::fputs(usageText(), stdout);
      return 0;
    }
    std::fprintf(stderr, "aigw-loadgen: %s\n\n%s", error.c_str(), usageText());
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  // Thousands of connections need thousands of descriptors: take the hard limit.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  uv_loop_t* loop = uv_default_loop();
  LoadDriver driver(loop, options);
  const bool ran = driver.run(&error);
  if (options.json) {
    writeJsonReport(stdout, options, driver);
  } else {
    writeTextReport(stdout, options, driver);
  }
  uv_loop_close(loop);
  if (!ran) {
    std::fprintf(stderr, "aigw-loadgen: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
