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

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
// thrown by the byte handler stops the generation after that byte. An
// exception thrown by the send handler makes that send fail. The first such
// exception is kept and rethrown by the next of join, train_turn, evaluate,
// evaluate_bytes, run_session, generate and export_model to return (the one
// it interrupted when it ran during one), in place of the call's own result
// or error.
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

    // Makes the running turn, evaluation, session, generation or export stop
    // soon with PCMOE_ERROR_CANCELLED. Thread-safe.
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

    // Continues `prompt` by up to `max_bytes` bytes with this party's model,
    // drawn as set by `sampling`, and passes each byte to `on_byte` on this
    // thread as soon as it is drawn. NextByte::stop from the handler ends the
    // call after that byte, and cancel() from another thread ends it before
    // the next byte with PCMOE_ERROR_CANCELLED. Returns the number of bytes
    // passed to the handler. In a session of more than one party the party
    // must have joined. The handler may call metrics() and cancel() of this
    // party and no other function of it.
    std::size_t generate(ByteView prompt, std::size_t max_bytes, const SamplingParams &sampling,
                         ByteHandler on_byte);

    // Continues `prompt` as the generate above does and returns the bytes
    // drawn. On a failure it throws, and the bytes drawn before are lost.
    std::vector<std::uint8_t> generate(ByteView prompt, std::size_t max_bytes,
                                       const SamplingParams &sampling = SamplingParams());

    // Sets the parties this party sends its experts to when they export the
    // whole model, replacing the earlier list. A party on the list receives
    // experts trained on every party's data and may use them with no peer,
    // so the list starts empty, which rejects every export request. An empty
    // list restores that. Thread-safe; takes effect at the next request.
    void allow_export(const std::vector<std::uint32_t> &party_ids) {
        detail::call([&] { return ::pcmoe_party_allow_export(native_handle(), party_ids.data(), party_ids.size()); });
    }

    // Asks every other party for its experts and writes the whole model to
    // `path`, mode 0600, as a checkpoint that runs in one process with no
    // peer. The file contains this party's backbone, so keep it private. The
    // party must have joined. Throws PCMOE_ERROR_PEER naming every owner
    // that refused, did not reply or is at another step, and then writes nothing.
    void export_model(const std::string &path) {
        detail::call([&] { return ::pcmoe_party_export_model(native_handle(), path.c_str()); }, errors());
    }

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

inline std::size_t Party::generate(ByteView prompt, std::size_t max_bytes, const SamplingParams &sampling,
                                   ByteHandler on_byte) {
    pcmoe_sampling_params c = sampling.to_c();
    detail::GenerateContext context{state_.get(), &on_byte};
    pcmoe_byte_fn callback = on_byte ? detail::byte_trampoline : nullptr;
    std::size_t produced = 0;
    detail::call(
        [&] {
            return ::pcmoe_party_generate(native_handle(), prompt.data(), prompt.size(), max_bytes, &c, callback,
                                          &context, &produced);
        },
        errors());
    return produced;
}

inline std::vector<std::uint8_t> Party::generate(ByteView prompt, std::size_t max_bytes,
                                                 const SamplingParams &sampling) {
    std::vector<std::uint8_t> bytes;
    generate(prompt, max_bytes, sampling, [&bytes](std::uint8_t byte) {
        bytes.push_back(byte);
        return NextByte::draw;
    });
    return bytes;
}

}  // namespace pcmoe

#endif
