// What the request log needs from the config: where the journal goes, its bounds, the
// overflow mode, body capture, and the secrets that must never appear in a record.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace aigw::log {

struct LogSettings {
  // false: no records (a document straight from Config.to_core_dict, C++ tests); the Python
  // Gateway turns them on once it opened the journal.
  bool enabled = false;
  std::string dir;  // journal directory (created by Python)
  std::string run;  // file name prefix of this run's journals: <dir>/<run>-w<NN>-<seq>.jsonl
  uint64_t rotate_bytes = 16ull << 20;
  // Journal bytes not yet consumed by every sink before the bound counts as reached.
  uint64_t max_pending_bytes = 256ull << 20;
  enum class Overflow { Spill, Backpressure } overflow = Overflow::Spill;
  // "handoff": "memory": records go to the log thread through memory (RecordHandoff) while
  // the pending bytes are under max_pending_bytes, and only the rest to journal files. For a
  // log whose sinks are all in memory (no `log:` section), where a file buys no durability.
  bool memory = false;
  bool bodies = false;
  size_t max_body_bytes = 4096;
  // Exact strings redacted from every record (provider keys, configured header values), each
  // also in its JSON-escaped spelling.
  std::vector<std::string> secrets;

  // Reads doc["log"] and the providers' keys and headers. Throws std::exception on a missing
  // field or a malformed section.
  static LogSettings fromJson(const nlohmann::json& doc);
};

}  // namespace aigw::log
