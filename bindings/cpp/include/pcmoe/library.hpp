// Process-wide functions: versions, the math thread count, memory, and the log handler.
#ifndef PCMOE_CPP_LIBRARY_HPP
#define PCMOE_CPP_LIBRARY_HPP

#include <pcmoe.h>

#include "detail/call.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

namespace pcmoe {

// Returns the version of the loaded library, "MAJOR.MINOR.PATCH"; the
// header's version is PCMOE_VERSION_STRING.
inline std::string_view version() noexcept { return ::pcmoe_version(); }

// Sets how many threads the math of every party in this process uses, 1 ... 1024.
inline void set_threads(std::uint32_t count) {
    detail::call([&] { return ::pcmoe_set_threads(count); });
}

// Returns the thread count the math uses now.
inline std::uint32_t threads() noexcept { return ::pcmoe_threads(); }

// Returns the peak resident set size of this process in bytes (VmHWM), or 0
// where the operating system reports none.
inline std::uint64_t peak_resident_bytes() noexcept { return ::pcmoe_peak_resident_bytes(); }

// Severity of a log message; lower is more severe.
enum class LogLevel : std::int32_t {
    error = PCMOE_LOG_ERROR,
    warning = PCMOE_LOG_WARNING,
    info = PCMOE_LOG_INFO,
    debug = PCMOE_LOG_DEBUG,
};

// Receives one log message; the view is valid only during the call.
using LogHandler = std::function<void(LogLevel level, std::string_view message)>;

namespace detail {

// The installed log handler. The C callback's context points here; the
// state is never freed, because the library may log from its own threads
// until the process ends.
struct LogState {
    std::mutex mutex;
    std::shared_ptr<const LogHandler> handler;
};

inline LogState &log_state() {
    static LogState *state = new LogState();
    return *state;
}

inline void log_trampoline(void *context, std::int32_t level, const char *message) noexcept {
    LogState *state = static_cast<LogState *>(context);
    std::shared_ptr<const LogHandler> handler;
    {
        std::lock_guard<std::mutex> lock(state->mutex);
        handler = state->handler;
    }
    if (!handler) return;
    try {
        (*handler)(static_cast<LogLevel>(level), message);
    } catch (...) {
        std::exception_ptr &slot = log_exception_slot();
        if (!slot) slot = std::current_exception();
    }
}

}  // namespace detail

// Sends every log message of `level` or more severe to `handler`; an empty
// handler makes the library silent again. The handler runs on the thread
// that logs, which may be a thread of the library, one message at a time,
// and must not call set_log_handler. An exception it throws is caught at
// the C boundary. If the handler ran inside a call of this binding on the
// same thread, that call rethrows the exception once the C function has
// returned. An exception thrown on a thread of the library, or inside a
// destructor, is dropped.
inline void set_log_handler(LogLevel level, LogHandler handler) {
    detail::LogState &state = detail::log_state();
    auto next = handler ? std::make_shared<const LogHandler>(std::move(handler)) : nullptr;
    pcmoe_log_fn callback = next ? detail::log_trampoline : nullptr;
    detail::call([&] { return ::pcmoe_set_log_callback(static_cast<std::int32_t>(level), callback, &state); });
    std::lock_guard<std::mutex> lock(state.mutex);
    state.handler = std::move(next);
}

// Removes the log handler; the library is silent again.
inline void clear_log_handler() { set_log_handler(LogLevel::error, LogHandler()); }

}  // namespace pcmoe

#endif
