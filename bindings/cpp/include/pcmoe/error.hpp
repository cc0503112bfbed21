// pcmoe::Error: a failed pcmoe call, with its status and the library's message.
#ifndef PCMOE_CPP_ERROR_HPP
#define PCMOE_CPP_ERROR_HPP

#include <pcmoe.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace pcmoe {

// The status of a C call; PCMOE_OK and the PCMOE_ERROR_* values of pcmoe.h.
using Status = pcmoe_status;

// Returns the library's short English name of `status`, such as "invalid argument".
inline std::string status_string(Status status) { return ::pcmoe_status_string(status); }

// Thrown when a pcmoe call returns a status other than PCMOE_OK.
// what() is "STATUS NAME: library message"; message() is the library's
// sentence alone, as pcmoe_last_error() returned it right after the call.
class Error : public std::runtime_error {
public:
    Error(Status status, const std::string &message)
        : std::runtime_error(status_string(status) + ": " + message),
          status_(status),
          message_(std::make_shared<const std::string>(message)) {}

    Status status() const noexcept { return status_; }
    const std::string &message() const noexcept { return *message_; }
    std::string status_name() const { return status_string(status_); }

private:
    Status status_;
    // Shared so that copying the exception cannot throw.
    std::shared_ptr<const std::string> message_;
};

// Returns the message of the last status-returning pcmoe call on this thread.
inline std::string last_error() { return ::pcmoe_last_error(); }

}  // namespace pcmoe

#endif
