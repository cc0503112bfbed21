// The calling convention of the wrappers: exceptions of callbacks are kept
// while C runs and rethrown once the C call has returned, before its
// status is checked.
#ifndef PCMOE_CPP_DETAIL_CALL_HPP
#define PCMOE_CPP_DETAIL_CALL_HPP

#include <pcmoe.h>

#include "../error.hpp"

#include <exception>
#include <mutex>
#include <string>
#include <utility>

namespace pcmoe {
namespace detail {

// The first exception thrown by the callbacks of one owner, which may run
// on any thread. Later exceptions are dropped until it is taken.
class CallbackErrors {
public:
    void store(std::exception_ptr error) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!first_) first_ = std::move(error);
    }

    std::exception_ptr take() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        return std::exchange(first_, nullptr);
    }

private:
    std::mutex mutex_;
    std::exception_ptr first_;
};

// The exception the log handler threw on this thread during the current call.
inline std::exception_ptr &log_exception_slot() noexcept {
    thread_local std::exception_ptr slot;
    return slot;
}

// Ends a C call that returned `status`: copies the library's message first,
// then rethrows an exception a callback threw during the call (one of
// `errors` before one of the log handler), and otherwise throws
// pcmoe::Error for a failure.
inline void finish(Status status, CallbackErrors *errors = nullptr) {
    std::string message;
    if (status != PCMOE_OK) message = ::pcmoe_last_error();
    std::exception_ptr callback_error = errors != nullptr ? errors->take() : nullptr;
    std::exception_ptr log_error = std::exchange(log_exception_slot(), nullptr);
    if (callback_error) std::rethrow_exception(callback_error);
    if (log_error) std::rethrow_exception(log_error);
    if (status != PCMOE_OK) throw Error(status, message);
}

// Runs `c_call`, a callable returning a pcmoe_status, and finishes it.
template <class CCall>
void call(CCall &&c_call, CallbackErrors *errors = nullptr) {
    Status status = c_call();
    finish(status, errors);
}

// Drops what the log handler throws during a call that cannot rethrow,
// such as a destroy function inside a destructor.
class DropLogExceptions {
public:
    DropLogExceptions() noexcept : saved_(log_exception_slot()) {}
    ~DropLogExceptions() { log_exception_slot() = std::move(saved_); }
    DropLogExceptions(const DropLogExceptions &) = delete;
    DropLogExceptions &operator=(const DropLogExceptions &) = delete;

private:
    std::exception_ptr saved_;
};

}  // namespace detail
}  // namespace pcmoe

#endif
