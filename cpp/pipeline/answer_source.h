// What a response stage may ask of whatever produces the answer (the attempt loop): the narrow
// way back up the chain, for a stage that replaced the answer, held the producer back, or waits
// for something of its own once the answer is complete.
#pragma once

#include <string_view>

#include "providers/provider.h"
#include "router/route_table.h"

namespace aigw {

class AnswerSource {
 public:
  // A stage replaced the answer (a guardrail blocked it): the call stops, its attempt counts as
  // answered, nothing more is produced; the stage writes the replacement itself.
  virtual void stopAnswer() = 0;
  // The during checks blocked: the call in flight (if any) is cancelled and its attempt ends
  // with `why`; nothing more is produced. Returns whether a call was in flight.
  virtual bool abandonAnswer(std::string_view why) = 0;
  // A stage that held the producer back (a full queue, a closed gate) can take bytes again.
  virtual void resumeAnswer() = 0;
  // The answer is complete and waits only on a stage (the cost hook): the deadline is over.
  virtual void answerComplete() = 0;
  // Who answered: the last attempt's model and provider, else the request's.
  virtual void answeredBy(std::string_view* model, const Provider** provider) const = 0;
  // The API the answer being written is in: OpenAI's, or the client's own for a same-API
  // attempt (which only happens when no stage reads the answer).
  virtual ApiShape answerShape() const = 0;
  // The route the request is on now (fallbacks change it); null for an unrouted request.
  virtual const router::Route* currentRoute() const = 0;

 protected:
  ~AnswerSource() = default;
};

}  // namespace aigw
