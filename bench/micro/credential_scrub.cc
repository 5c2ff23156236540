// What masking a provider's key costs per relayed read: the byte scrubber on a whole JSON
// answer (the no-copy path) and the event scrubber on a stream of chat deltas. Prints ns per
// read and per event; `bench/micro/credential_scrub [rounds]`. Not a test: it asserts nothing.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "upstream/credential_scrubber.h"
#include "upstream/sse_credential_scrubber.h"

namespace {

using aigw::upstream::CredentialScrubber;
using aigw::upstream::SseCredentialScrubber;
// CPU time of this thread: the machine is shared, wall time would count the neighbours.
struct Clock {
  using duration = std::chrono::nanoseconds;
  static std::chrono::nanoseconds now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::nanoseconds(ts.tv_sec * 1000000000LL + ts.tv_nsec);
  }
};

std::string answer() {
  std::string content(900, 'a');
  for (size_t i = 0; i < content.size(); i += 7) content[i] = ' ';
  return R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":")" +
         content +
         R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":200,"total_tokens":208}})";
}

std::string delta(const char* word) {
  return R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":")" +
         std::string(word) + R"("},"finish_reason":null}]})" + "\n\n";
}

double nsPer(Clock::duration d, long n) { return std::chrono::duration<double, std::nano>(d).count() / n; }

}  // namespace

int main(int argc, char** argv) {
  const long rounds = argc > 1 ? std::atol(argv[1]) : 200000;
  CredentialScrubber keyed("sk-bench-3f9a1c7e5b2d4a6c8e0f1a3b5c7d9e1f", {});
  size_t sink = 0;

  const std::string body = answer();
  auto t0 = Clock::now();
  for (long r = 0; r < rounds; ++r) {
    CredentialScrubber::Stream s(keyed);
    sink += s.feed(body).size();
  }
  const double whole = nsPer(Clock::now() - t0, rounds);

  // Chat deltas of English-like text. In the second list 3 in 8 end in 's', the key's first
  // letter, and go the careful way (held until the next event shows it is no key).
  const char* plain[] = {" the", " gateway", " relay", " each", " token", " when", " it", " arrive"};
  const char* mixed[] = {" the", " gateway", " relays", " each", " token", " as", " it", " arrives"};
  double per_event[2];
  for (int list = 0; list < 2; ++list) {
    std::string events[64];
    for (int i = 0; i < 64; ++i) events[i] = delta((list == 0 ? plain : mixed)[i % 8]);
    const long streams = rounds / 64 + 1;
    t0 = Clock::now();
    for (long r = 0; r < streams; ++r) {
      SseCredentialScrubber s(keyed);
      for (const auto& e : events) sink += s.feed(e).size();
      sink += s.finish().size();
    }
    per_event[list] = nsPer(Clock::now() - t0, streams * 64);
  }

  std::printf("whole answer (%zu B), byte scrubber: %.0f ns per answer\n", body.size(), whole);
  std::printf("stream of chat deltas, event scrubber: %.0f ns per event (no delta ends in 's'), %.0f ns (3 in 8 do)\n",
              per_event[0], per_event[1]);
  return sink == 0;  // keeps the work from being optimized away
}
