// A host transport written with Party::set_transport and handle_message:
// one inbox thread per party, replies sent on from the inbox threads.
#include "check.hpp"
#include "fixtures.hpp"

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {

// The inbox of one party and the thread that hands its messages to it.
class Inbox {
public:
    void push(std::vector<std::uint8_t> bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(bytes));
        ready_.notify_one();
    }

    // Waits for the next message; returns false once stopping.
    bool pop(std::vector<std::uint8_t> &bytes) {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return false;
        bytes = std::move(queue_.front());
        queue_.pop_front();
        return true;
    }

    void stop() {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        ready_.notify_one();
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::vector<std::uint8_t>> queue_;
    bool stopping_ = false;
};

// Carries messages between the parties of this process. The parties must
// outlive it; stop() it before destroying them.
class QueueTransport {
public:
    explicit QueueTransport(std::vector<pcmoe::Party> &parties) : inboxes_(parties.size()) {
        for (std::size_t i = 0; i < parties.size(); i++) {
            parties[i].set_transport([this](std::uint32_t destination, pcmoe::ByteView bytes) {
                return send(destination, bytes);
            });
        }
        for (std::size_t i = 0; i < parties.size(); i++) {
            threads_.emplace_back([this, &party = parties[i], &inbox = inboxes_[i]] { deliver(party, inbox); });
        }
    }

    ~QueueTransport() { stop(); }

    bool send(std::uint32_t destination, pcmoe::ByteView bytes) {
        if (destination >= inboxes_.size()) return false;
        inboxes_[destination].push(bytes.to_vector());
        return true;
    }

    void stop() {
        for (Inbox &inbox : inboxes_) inbox.stop();
        for (std::thread &thread : threads_) thread.join();
        threads_.clear();
    }

    std::atomic<int> delivered{0};
    std::atomic<int> rejected{0};
    std::atomic<int> replies{0};
    std::atomic<int> failed{0};

private:
    void deliver(pcmoe::Party &party, Inbox &inbox) {
        std::vector<std::uint8_t> bytes;
        while (inbox.pop(bytes)) {
            try {
                pcmoe::HandledMessage handled = party.handle_message(bytes);
                delivered++;
                if (!handled.accepted()) rejected++;
                if (!handled.reply.empty() && handled.reply.destination() >= 0) {
                    replies++;
                    send(static_cast<std::uint32_t>(handled.reply.destination()), handled.reply.bytes());
                }
            } catch (const std::exception &) {
                failed++;
            }
        }
    }

    std::vector<Inbox> inboxes_;
    std::vector<std::thread> threads_;
};

}  // namespace

void test_host_transport() {
    check::section("host transport");
    std::vector<pcmoe::Party> parties;
    for (std::uint32_t i = 0; i < fixtures::parties; i++) parties.push_back(fixtures::tiny_party(i, 3));
    QueueTransport transport(parties);
    for (pcmoe::Party &party : parties) CHECK_NOTHROW(party.join());
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        pcmoe::TurnResult result = parties[i].train_turn(i + 1);
        CHECK(std::isfinite(result.loss));
    }
    CHECK(std::isfinite(parties[1].evaluate(2).loss));
    transport.stop();
    CHECK(transport.delivered > 0);
    CHECK(transport.replies > 0);
    CHECK(transport.rejected == 0);
    CHECK(transport.failed == 0);
    CHECK(parties[0].metrics().bytes_sent > 0);
}
