// The heap state behind a pcmoe::Party and the C callbacks that call its
// handlers. The state's address is the callbacks' context, so it stays put
// when the Party object moves.
#ifndef PCMOE_CPP_DETAIL_PARTY_STATE_HPP
#define PCMOE_CPP_DETAIL_PARTY_STATE_HPP

#include <pcmoe.h>

#include "../events.hpp"
#include "call.hpp"

#include <exception>
#include <memory>
#include <vector>

namespace pcmoe {
namespace detail {

struct PartyState;

// The context of one send callback given to pcmoe_party_set_transport.
struct TransportContext {
    PartyState *state;
    SendHandler send;
};

struct PartyState {
    pcmoe_party *handle = nullptr;
    // Exceptions of this party's handlers, rethrown by its blocking calls.
    CallbackErrors errors;
    ProgressHandler progress;
    // Every send context given to the library, the current one last. The
    // library may still use a replaced one on another thread, so all are
    // kept until the party is destroyed.
    std::vector<std::unique_ptr<TransportContext>> transports;

    // Keeps `error` and stops the party's running turn, evaluation or session.
    void fail(std::exception_ptr error) noexcept {
        errors.store(std::move(error));
        ::pcmoe_party_cancel(handle);
    }
};

// The context of one pcmoe_party_run_session call.
struct SessionContext {
    PartyState *state;
    const SessionHandler *handler;
};

inline void progress_trampoline(void *context, const pcmoe_progress *progress) noexcept {
    PartyState *state = static_cast<PartyState *>(context);
    try {
        state->progress(Progress{static_cast<Stage>(progress->stage), progress->done, progress->total});
    } catch (...) {
        state->fail(std::current_exception());
    }
}

inline void session_trampoline(void *context, const pcmoe_session_event *event) noexcept {
    SessionContext *session = static_cast<SessionContext *>(context);
    try {
        (*session->handler)(to_event(*event));
    } catch (...) {
        session->state->fail(std::current_exception());
    }
}

// The context of one pcmoe_party_generate call.
struct GenerateContext {
    PartyState *state;
    const ByteHandler *handler;
};

// A byte handler runs on the thread of the call, so one that throws stops
// the generation after its byte without a cancel. The call rethrows the exception.
inline int byte_trampoline(void *context, std::uint8_t byte) noexcept {
    GenerateContext *generation = static_cast<GenerateContext *>(context);
    try {
        return (*generation->handler)(byte) == NextByte::stop ? 1 : 0;
    } catch (...) {
        generation->state->errors.store(std::current_exception());
        return 1;
    }
}

// A send handler that throws reports failure to the library, so the call
// waiting for the reply fails after its call timeout and retries. It does
// not cancel, because pcmoe.h forbids a send callback to call back into its
// party on the same thread.
inline int send_trampoline(void *context, std::uint32_t destination, const std::uint8_t *bytes,
                           std::size_t size) noexcept {
    TransportContext *transport = static_cast<TransportContext *>(context);
    try {
        return transport->send(destination, ByteView(bytes, size)) ? 0 : -1;
    } catch (...) {
        transport->state->errors.store(std::current_exception());
        return -1;
    }
}

}  // namespace detail
}  // namespace pcmoe

#endif
