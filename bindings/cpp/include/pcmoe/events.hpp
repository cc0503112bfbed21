// The reports of a party (results, metrics, progress and session events)
// and the handler types that receive them.
#ifndef PCMOE_CPP_EVENTS_HPP
#define PCMOE_CPP_EVENTS_HPP

#include <pcmoe.h>

#include "bytes.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>

namespace pcmoe {

// Structs the library fills, as pcmoe.h declares them.
using TurnResult = pcmoe_turn_result;
using Evaluation = pcmoe_evaluation;
using Metrics = pcmoe_metrics;
using NetworkCounters = pcmoe_network_counters;

// The kinds of long work progress is reported for.
enum class Stage : std::int32_t {
    train_turn = PCMOE_STAGE_TRAIN_TURN,
    evaluate = PCMOE_STAGE_EVALUATE,
};

// One progress report: units done so far out of total (turns, or windows scored).
struct Progress {
    Stage stage;
    std::uint64_t done;
    std::uint64_t total;
};

// The event kinds of a coordinated session; pcmoe.h describes each kind.
enum class SessionEventKind : std::int32_t {
    joined = PCMOE_SESSION_JOINED,
    turn = PCMOE_SESSION_TURN,
    saved = PCMOE_SESSION_SAVED,
    fault = PCMOE_SESSION_FAULT,
    evaluated = PCMOE_SESSION_EVALUATED,
};

// One session event. `message` points into the library's event and is
// valid only during the handler call: copy it to keep it.
struct SessionEvent {
    SessionEventKind kind;
    // JOINED: the party resumed from a checkpoint.
    bool resumed = false;
    // JOINED and SAVED: turns complete in the checkpoint; TURN: the turn number.
    std::uint64_t turn = 0;
    // TURN: the training loss; EVALUATED: the validation loss in nats; NaN otherwise.
    double loss = std::numeric_limits<double>::quiet_NaN();
    // FAULT: why the session broke; empty otherwise.
    std::string_view message;
};

// Receives progress on the thread running the reported call.
using ProgressHandler = std::function<void(const Progress &progress)>;
// Receives session events; see Party::run_session for the threads.
using SessionHandler = std::function<void(const SessionEvent &event)>;
// Carries one message to party `destination` and returns true when it was
// queued. The bytes are valid only during the call.
using SendHandler = std::function<bool(std::uint32_t destination, ByteView bytes)>;

namespace detail {

// True when the library filled `field` of `event`, whose struct_size
// counts the bytes it filled.
template <class Field>
bool event_has(const pcmoe_session_event &event, const Field &field) noexcept {
    auto offset = reinterpret_cast<const char *>(&field) - reinterpret_cast<const char *>(&event);
    return event.struct_size >= static_cast<std::size_t>(offset) + sizeof(Field);
}

inline SessionEvent to_event(const pcmoe_session_event &c) noexcept {
    SessionEvent event{};
    event.kind = static_cast<SessionEventKind>(c.kind);
    if (event_has(c, c.resumed)) event.resumed = c.resumed != 0;
    if (event_has(c, c.turn)) event.turn = c.turn;
    if (event_has(c, c.loss)) event.loss = c.loss;
    if (event_has(c, c.message) && c.message != nullptr) event.message = c.message;
    return event;
}

}  // namespace detail
}  // namespace pcmoe

#endif
