#include "hooks/hook_queue.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace aigw::hooks {

HookQueue::HookQueue() = default;

int HookQueue::notifyFd() {
  std::lock_guard<std::mutex> lock(mu_);
  if (event_fd_ < 0) {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    event_fd_.store(fd, std::memory_order_release);
    if (fd >= 0 && !queue_.empty()) {
      notified_ = true;  // jobs came before the reader: wake it at once
      notify(fd);
    }
  }
  return event_fd_;
}

HookQueue::~HookQueue() {
  if (event_fd_ >= 0) ::close(event_fd_.load());
}

void HookQueue::deliver(const TicketPtr& ticket, bool ok, std::string result) {
  // The ticket travels with the task: `done` runs on the submitter's loop, where cancel() also
  // runs, so the flag needs no lock. A stopped loop drops the task (its requests are gone).
  ticket->loop_->post([ticket, ok, result = std::move(result)]() mutable {
    if (ticket->cancelled_) return;
    ticket->cancelled_ = true;  // at most once
    Done done = std::move(ticket->done_);
    done(ok, std::move(result));
  });
}

HookQueue::TicketPtr HookQueue::submit(EventLoop& loop, std::string kind, std::string payload, Done done) {
  auto ticket = std::make_shared<Ticket>();
  ticket->loop_ = &loop;
  ticket->done_ = std::move(done);
  int wake;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ticket->id_ = next_id_++;
    if (closed_) {
      lock.unlock();
      deliver(ticket, false, "the hook layer is stopped");
      return ticket;
    }
    queue_.push_back(Job{ticket->id_, std::move(kind), std::move(payload)});
    waiting_.emplace(ticket->id_, ticket);
    wake = claimNotifyLocked();
  }
  notify(wake);
  return ticket;
}

int HookQueue::claimNotifyLocked() {
  if (notified_ || event_fd_ < 0) return -1;
  notified_ = true;  // one write until the reader drains: the loop wakes once per batch
  return event_fd_;
}

void HookQueue::notify(int fd) {
  if (fd < 0) return;  // the reader is awake already (or there is none yet)
  // Outside the lock: the reader we wake may run at once (on this CPU) and take the lock in
  // drain(); woken while we still held it, it would sleep on the mutex and switch back.
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof(one));
}

void HookQueue::cancel(const TicketPtr& ticket) {
  if (!ticket) return;
  ticket->cancelled_ = true;
  int wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waiting_.find(ticket->id_);
    if (it == waiting_.end()) return;
    waiting_.erase(it);
    // Still queued: take it out so the hook thread never runs it. Taken: complete() ignores it.
    for (auto q = queue_.begin(); q != queue_.end(); ++q) {
      if (q->id == ticket->id_) {
        queue_.erase(q);
        return;
      }
    }
    --taken_;
    cancelled_.push_back(ticket->id_);
    wake = claimNotifyLocked();
  }
  notify(wake);
}

std::vector<uint64_t> HookQueue::drainCancelled() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> out;
  out.swap(cancelled_);
  return out;
}

std::vector<Job> HookQueue::drain() {
  // Reset the eventfd before taking the queue (a job queued after the read is either taken
  // below or writes again), and outside the lock, which submitters take.
  const int fd = event_fd_.load(std::memory_order_acquire);
  if (fd >= 0) {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(fd, &count, sizeof(count));
  }
  std::lock_guard<std::mutex> lock(mu_);
  notified_ = false;  // a job submitted from here on writes the eventfd again
  std::vector<Job> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  taken_ += out.size();
  return out;
}

HookQueue::Wake HookQueue::wait(int other_fd, int timeout_ms) {
  Wake wake;
  pollfd fds[2] = {{notifyFd(), POLLIN, 0}, {other_fd, POLLIN, 0}};
  const nfds_t count = other_fd >= 0 ? 2 : 1;
  if (::poll(fds, count, timeout_ms) <= 0) return wake;  // timed out, or a signal (EINTR)
  wake.other_ready = count == 2 && fds[1].revents != 0;
  if (fds[0].revents != 0) {
    wake.jobs = drain();
    wake.cancelled = drainCancelled();
  }
  return wake;
}

void HookQueue::complete(uint64_t id, bool ok, std::string result) {
  TicketPtr ticket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    ticket = std::move(it->second);
    waiting_.erase(it);
    --taken_;
  }
  deliver(ticket, ok, std::move(result));
}

void HookQueue::close() {
  std::unordered_map<uint64_t, TicketPtr> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    waiting.swap(waiting_);
    queue_.clear();
    cancelled_.clear();
    taken_ = 0;
    if (event_fd_ >= 0) {
      const uint64_t one = 1;  // wake a reader so it sees the end
      [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof(one));
    }
  }
  for (auto& [id, ticket] : waiting) deliver(ticket, false, "the hook layer stopped");
}

bool HookQueue::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

size_t HookQueue::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t HookQueue::inFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return taken_;
}

}  // namespace aigw::hooks
