// pcmoe::Hub: the in-process transport, owning a pcmoe_hub handle.
#ifndef PCMOE_CPP_HUB_HPP
#define PCMOE_CPP_HUB_HPP

#include <pcmoe.h>

#include "detail/call.hpp"
#include "party.hpp"

#include <cstdint>
#include <utility>

namespace pcmoe {

// Delivers messages between parties of one process, each party with its
// own inbox thread. Owns a pcmoe_hub and releases the caller's reference
// with pcmoe_hub_destroy; attached parties keep using the hub until they
// are destroyed. Move-only.
class Hub {
public:
    // Creates a hub for parties 0 ... party_count - 1.
    explicit Hub(std::uint32_t party_count) {
        detail::call([&] { return ::pcmoe_hub_create(party_count, &hub_); });
    }

    ~Hub() { reset(); }
    Hub(Hub &&other) noexcept : hub_(std::exchange(other.hub_, nullptr)) {}
    Hub &operator=(Hub &&other) noexcept {
        if (this != &other) {
            reset();
            hub_ = std::exchange(other.hub_, nullptr);
        }
        return *this;
    }
    Hub(const Hub &) = delete;
    Hub &operator=(const Hub &) = delete;

    // The C handle, or nullptr after a move. The Hub still owns it.
    pcmoe_hub *native_handle() const noexcept { return hub_; }

    // Makes the hub carry `party`'s messages, replacing its transport. The
    // hub refers to the party without owning it. Thread-safe.
    void attach(Party &party) {
        detail::call([&] { return ::pcmoe_hub_attach(hub_, party.native_handle()); });
    }

private:
    void reset() noexcept {
        detail::DropLogExceptions drop;
        ::pcmoe_hub_destroy(std::exchange(hub_, nullptr));
    }

    pcmoe_hub *hub_ = nullptr;
};

}  // namespace pcmoe

#endif
