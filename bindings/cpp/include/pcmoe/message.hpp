// pcmoe::Message: an envelope the library allocated, freed by its destructor.
#ifndef PCMOE_CPP_MESSAGE_HPP
#define PCMOE_CPP_MESSAGE_HPP

#include <pcmoe.h>

#include "bytes.hpp"
#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace pcmoe {

// Owns a pcmoe_message and releases it with pcmoe_message_free. Move-only.
class Message {
public:
    Message() noexcept = default;
    ~Message() { ::pcmoe_message_free(&message_); }

    Message(Message &&other) noexcept : message_(other.message_) { other.message_ = empty_message(); }
    Message &operator=(Message &&other) noexcept {
        if (this != &other) {
            ::pcmoe_message_free(&message_);
            message_ = other.message_;
            other.message_ = empty_message();
        }
        return *this;
    }
    Message(const Message &) = delete;
    Message &operator=(const Message &) = delete;

    // The party it goes to, or -1 when the incoming bytes named no valid sender.
    std::int32_t destination() const noexcept { return message_.destination; }
    // True when there is nothing to send.
    bool empty() const noexcept { return message_.bytes == nullptr; }
    // The serialized envelope, valid while this object owns it.
    ByteView bytes() const noexcept { return ByteView(message_.bytes, message_.size); }

    // The C struct, for the library to fill; it must hold no bytes then.
    pcmoe_message *native() noexcept { return &message_; }

private:
    static pcmoe_message empty_message() noexcept { return pcmoe_message{-1, nullptr, 0}; }

    pcmoe_message message_ = empty_message();
};

// The result of Party::handle_message. A rejected message (status
// PCMOE_ERROR_BAD_MESSAGE) throws no exception, because the transport must
// still deliver the error reply it may carry.
struct HandledMessage {
    // The reply to send; empty when there is none.
    Message reply;
    // PCMOE_OK, or PCMOE_ERROR_BAD_MESSAGE when the party rejected the message.
    Status status = PCMOE_OK;
    // The library's reason for a rejection; empty when accepted.
    std::string error;

    bool accepted() const noexcept { return status == PCMOE_OK; }
};

}  // namespace pcmoe

#endif
