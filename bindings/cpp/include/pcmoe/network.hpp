// pcmoe::Network: a party's ZeroMQ transport with CURVE, owning a pcmoe_network handle.
#ifndef PCMOE_CPP_NETWORK_HPP
#define PCMOE_CPP_NETWORK_HPP

#include <pcmoe.h>

#include "detail/call.hpp"
#include "events.hpp"
#include "party.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace pcmoe {

// Flags of the Network constructor.
enum class NetworkFlags : std::uint32_t {
    none = 0,
    // Turns CURVE off: plain TCP, neither encrypted nor authenticated. For
    // debugging on a host where every process and user is trusted.
    insecure_plain_tcp = PCMOE_NETWORK_INSECURE_PLAIN_TCP,
};

// Connects one party to the other parties of a deployment over ZeroMQ
// (pcmoe_network_create) and stops the connection with
// pcmoe_network_destroy. Move-only. The network refers to the party without
// keeping it alive, so either may be destroyed first; pcmoe.h describes
// what each order leaves behind.
class Network {
public:
    // Binds the party's endpoint from `deployment_path`, connects to the
    // others, and authenticates with the key pair file at `key_path`
    // (mode 0600, as `pcmoe keygen` writes it). Replaces the party's transport.
    Network(Party &party, const std::string &deployment_path, const std::string &key_path,
            NetworkFlags flags = NetworkFlags::none) {
        detail::call([&] {
            return ::pcmoe_network_create(party.native_handle(), deployment_path.c_str(), key_path.c_str(),
                                          static_cast<std::uint32_t>(flags), &network_);
        });
    }

    ~Network() { reset(); }
    Network(Network &&other) noexcept : network_(std::exchange(other.network_, nullptr)) {}
    Network &operator=(Network &&other) noexcept {
        if (this != &other) {
            reset();
            network_ = std::exchange(other.network_, nullptr);
        }
        return *this;
    }
    Network(const Network &) = delete;
    Network &operator=(const Network &) = delete;

    // The C handle, or nullptr after a move. The Network still owns it.
    pcmoe_network *native_handle() const noexcept { return network_; }

    // Returns the network's counters (rejected connections, dropped
    // messages); bytes sent and received are in Party::metrics. Thread-safe.
    NetworkCounters stats() const {
        NetworkCounters counters{};
        detail::call([&] { return ::pcmoe_network_stats(network_, &counters, sizeof counters); });
        return counters;
    }

private:
    void reset() noexcept {
        detail::DropLogExceptions drop;
        ::pcmoe_network_destroy(std::exchange(network_, nullptr));
    }

    pcmoe_network *network_ = nullptr;
};

}  // namespace pcmoe

#endif
