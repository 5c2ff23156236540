// What the OpenAI -> Anthropic translation costs in CPU, piece by piece, without sockets: the
// request (parse the client's body, encode Messages, write it), the whole answer (parse the
// Messages answer, write a chat.completion) and a stream (each Anthropic event into a chunk).
// The same bodies as bench figure 10. `bench/micro/translation [rounds]`. Asserts nothing.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/json_parse.h"
#include "providers/anthropic_answer_decoder.h"
#include "translate/anthropic_request_encoder.h"

namespace {

// CPU time of this thread: the machine is shared, wall time would count the neighbours.
long long cpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// bench/harness/stack.py's RESPONSE_TEXT: ~1 KB of completion.
std::string responseText() {
  std::string text;
  for (int i = 0; i < 12; ++i) {
    if (i > 0) text += ' ';
    text += "The gateway relays this answer from the upstream to the client without changing it.";
  }
  return text;
}

std::string messageAnswer() {
  return R"({"id":"msg_bench","type":"message","role":"assistant","model":"bench-anthropic","content":[{"type":"text","text":")" +
         responseText() +
         R"("}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":200}})";
}

std::string messageStream(int deltas) {
  std::string s =
      "event: message_start\ndata: "
      R"({"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"bench-anthropic","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}})"
      "\n\nevent: content_block_start\ndata: "
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n";
  for (int i = 0; i < deltas; ++i) {
    s += "event: content_block_delta\ndata: ";
    s += R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" relays"}})";
    s += "\n\n";
  }
  s += "event: content_block_stop\ndata: " R"({"type":"content_block_stop","index":0})" "\n\n";
  s += "event: message_delta\ndata: "
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":64}})"
       "\n\n";
  s += "event: message_stop\ndata: " R"({"type":"message_stop"})" "\n\n";
  return s;
}

double usPer(long long ns, long n) { return static_cast<double>(ns) / 1000.0 / static_cast<double>(n); }

}  // namespace

int main(int argc, char** argv) {
  const long rounds = argc > 1 ? std::atol(argv[1]) : 100000;
  size_t sink = 0;

  const std::string request = R"({"model":"bench-anthropic","messages":[{"role":"user","content":"Say hello."}]})";
  const aigw::translate::AnthropicRequestEncoder encoder({});
  long long t0 = cpuNs();
  for (long r = 0; r < rounds; ++r) {
    const nlohmann::json doc = aigw::parseJson(request);
    nlohmann::json body;
    sink += encoder.encode(doc, body).ok;
    body["model"] = "bench-anthropic";
    sink += body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  }
  const double encode = usPer(cpuNs() - t0, rounds);

  const std::string answer = messageAnswer();
  t0 = cpuNs();
  for (long r = 0; r < rounds; ++r) {
    aigw::AnthropicAnswerDecoder decoder(1700000000, false);
    std::string out, why;
    sink += decoder.decode(answer, out, &why);
    sink += out.size();
  }
  const double decode = usPer(cpuNs() - t0, rounds);

  constexpr int kDeltas = 64;
  const std::string stream = messageStream(kDeltas);
  const long streams = rounds / 20 + 1;
  t0 = cpuNs();
  for (long r = 0; r < streams; ++r) {
    aigw::AnthropicAnswerDecoder decoder(1700000000, false);
    std::string out;
    // One read per event, as a stream with no delay arrives in practice.
    size_t at = 0;
    while (at < stream.size()) {
      const size_t end = stream.find("\n\n", at) + 2;
      out.clear();
      decoder.feed(std::string_view(stream).substr(at, end - at), out);
      sink += out.size();
      at = end;
    }
  }
  const double per_event = usPer(cpuNs() - t0, streams * (kDeltas + 5));

  std::printf("request: parse + encode + write: %.2f us\n", encode);
  std::printf("whole answer (%zu B): parse + decode: %.2f us\n", answer.size(), decode);
  std::printf("stream (%d deltas): %.3f us per event\n", kDeltas, per_event);
  return sink == 0;
}
