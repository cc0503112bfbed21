// pcmoe::Party: one participant of a session, owning a pcmoe_party handle.
#ifndef PCMOE_CPP_PARTY_HPP
#define PCMOE_CPP_PARTY_HPP

#include <pcmoe.h>

#include "bytes.hpp"
#include "detail/call.hpp"
#include "detail/party_state.hpp"
#include "events.hpp"
#include "message.hpp"
#include "params.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace pcmoe {

// Owns a pcmoe_party and releases it with pcmoe_party_destroy. Move-only.
// A moved-from Party has no handle, and the library rejects calls on it
// with PCMOE_ERROR_INVALID_ARGUMENT.
//
// Threads follow pcmoe.h: handle_message, cancel and metrics may run on any
// thread at any time; the other functions run one at a time per party. The
// Party object itself must not be moved or destroyed while another thread
// uses it.
//
// Handler exceptions: an exception thrown by the progress or session
// handler cancels the running call with pcmoe_party_cancel. An exception
// thrown by the send handler makes that send fail. The first such exception
// is kept and rethrown by the next of join, train_turn, evaluate,
// evaluate_bytes and run_session to return (the one it interrupted when it
// ran during one), in place of the call's own result or error.
class Party {
public:
    // Creates a party from `params` (pcmoe_party_create).
    explicit Party(const PartyParams &params) : state_(std::make_unique<detail::PartyState>()) {
        pcmoe_party_params c = params.to_c();
        detail::call([&] { return ::pcmoe_party_create(&c, &state_->handle); });
    }

    // Creates a party from a JSON configuration file and loads the data it
    // names (pcmoe_party_create_from_config).
    static Party from_config(const std::string &path) {
        Party party;
        party.state_ = std::make_unique<detail::PartyState>();
        detail::call([&] { return ::pcmoe_party_create_from_config(path.c_str(), &party.state_->handle); });
        return party;
    }

    ~Party() { reset(); }
    Party(Party &&other) noexcept = default;
    Party &operator=(Party &&other) noexcept {
        if (this != &other) {
            reset();
            state_ = std::move(other.state_);
        }
        return *this;
    }
    Party(const Party &) = delete;
    Party &operator=(const Party &) = delete;

    // The C handle, or nullptr after a move. The Party still owns it.
    pcmoe_party *native_handle() const noexcept { return state_ ? state_->handle : nullptr; }
    explicit operator bool() const noexcept { return native_handle() != nullptr; }

    // Loads training text from a file or folder; the last tenth is held out.
    void load_data_file(const std::string &path) {
        detail::call([&] { return ::pcmoe_party_load_data_file(native_handle(), path.c_str()); });
    }

    // Uses `text` as training text; the library copies it during the call.
    void load_data(ByteView text) {
        detail::call([&] { return ::pcmoe_party_load_data(native_handle(), text.data(), text.size()); });
    }

    // Makes `send` carry this party's requests and replies, replacing any
    // transport. `send` may run on several threads at once; deliver what it
    // queued to the destination's handle_message later, from another thread.
    void set_transport(SendHandler send);

    // Handles bytes that arrived for this party and returns the reply to
    // send. Throws pcmoe::Error for an invalid argument, but a rejected
    // message comes back with status PCMOE_ERROR_BAD_MESSAGE instead.
    HandledMessage handle_message(ByteView bytes);

    // Greets every other party and checks that they run the same session.
    void join() {
        detail::call([&] { return ::pcmoe_party_join(native_handle()); }, errors());
    }

    // Takes training turn `turn` (from 1, above every completed turn).
    TurnResult train_turn(std::uint64_t turn) {
        TurnResult result{};
        detail::call([&] { return ::pcmoe_party_train_turn(native_handle(), turn, &result, sizeof result); },
                     errors());
        return result;
    }

    // Scores at most `max_windows` windows of the held-out text (0: all).
    Evaluation evaluate(std::uint64_t max_windows = 0) {
        Evaluation result{};
        detail::call([&] { return ::pcmoe_party_evaluate(native_handle(), max_windows, &result, sizeof result); },
                     errors());
        return result;
    }

    // Scores `text` as evaluate does.
    Evaluation evaluate_bytes(ByteView text, std::uint64_t max_windows = 0) {
        Evaluation result{};
        detail::call(
            [&] {
                return ::pcmoe_party_evaluate_bytes(native_handle(), text.data(), text.size(), max_windows, &result,
                                                    sizeof result);
            },
            errors());
        return result;
    }

    // Makes the running turn, evaluation or session stop soon with
    // PCMOE_ERROR_CANCELLED. Thread-safe.
    void cancel() {
        detail::call([&] { return ::pcmoe_party_cancel(native_handle()); });
    }

    // Sends progress reports to `handler`; an empty handler stops them.
    // Not during a turn or evaluation of this party.
    void set_progress_handler(ProgressHandler handler);

    // Writes this party's checkpoint to `path`, atomically. Between turns only.
    void save(const std::string &path) {
        detail::call([&] { return ::pcmoe_party_save(native_handle(), path.c_str()); });
    }

    // Loads a checkpoint written by save; join again before the next turn.
    void load(const std::string &path) {
        detail::call([&] { return ::pcmoe_party_load(native_handle(), path.c_str()); });
    }

    // Runs this party through a whole coordinated session and returns its
    // final evaluation. `on_event` runs on this thread, except SAVED after
    // another party's turn, which runs on the thread delivering this
    // party's messages. Its calls never overlap, and none comes after the return.
    Evaluation run_session(const SessionParams &params, SessionHandler on_event = SessionHandler());

    // Returns a snapshot of this party's counters. Thread-safe.
    Metrics metrics() const {
        Metrics result{};
        detail::call([&] { return ::pcmoe_party_metrics(native_handle(), &result, sizeof result); });
        return result;
    }

private:
    Party() = default;

    detail::CallbackErrors *errors() noexcept { return state_ ? &state_->errors : nullptr; }

    void reset() noexcept {
        if (!state_) return;
        detail::DropLogExceptions drop;
        ::pcmoe_party_destroy(state_->handle);
        state_.reset();
    }

    std::unique_ptr<detail::PartyState> state_;
};

inline void Party::set_transport(SendHandler send) {
    auto context = std::make_unique<detail::TransportContext>(detail::TransportContext{state_.get(), std::move(send)});
    pcmoe_send_fn callback = context->send ? detail::send_trampoline : nullptr;
    detail::call([&] { return ::pcmoe_party_set_transport(native_handle(), callback, context.get()); });
    state_->transports.push_back(std::move(context));
}

inline HandledMessage Party::handle_message(ByteView bytes) {
    HandledMessage handled;
    Status status = ::pcmoe_party_handle_message(native_handle(), bytes.data(), bytes.size(), handled.reply.native());
    if (status == PCMOE_ERROR_BAD_MESSAGE) {
        handled.status = status;
        handled.error = ::pcmoe_last_error();
        status = PCMOE_OK;
    }
    detail::finish(status);
    return handled;
}

inline void Party::set_progress_handler(ProgressHandler handler) {
    pcmoe_progress_fn callback = handler ? detail::progress_trampoline : nullptr;
    detail::call([&] { return ::pcmoe_party_set_progress_callback(native_handle(), callback, state_.get()); });
    state_->progress = std::move(handler);
}

inline Evaluation Party::run_session(const SessionParams &params, SessionHandler on_event) {
    pcmoe_session_params c = params.to_c();
    detail::SessionContext context{state_.get(), &on_event};
    pcmoe_session_fn callback = on_event ? detail::session_trampoline : nullptr;
    Evaluation result{};
    detail::call(
        [&] { return ::pcmoe_party_run_session(native_handle(), &c, callback, &context, &result, sizeof result); },
        errors());
    return result;
}

}  // namespace pcmoe

#endif
