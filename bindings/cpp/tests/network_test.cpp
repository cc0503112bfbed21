// Three parties of one coordinated session over Network: ZeroMQ with CURVE
// on 127.0.0.1, with the key pairs `pcmoe keygen` wrote to the keys folder.
#include "check.hpp"
#include "fixtures.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::uint32_t rounds = 2;

// One party's session on its own thread, with the events it reported.
struct SessionRun {
    std::uint32_t id = 0;
    std::atomic<int> sent_before_gate{0};
    std::mutex mutex;
    std::vector<pcmoe::SessionEvent> events;
    std::vector<std::string> faults;
    pcmoe::Evaluation evaluation{};
    std::string error;
    std::thread thread;

    void start(pcmoe::Party &party, const pcmoe::SessionParams &params) {
        thread = std::thread([this, &party, params] {
            try {
                evaluation = party.run_session(params, [this](const pcmoe::SessionEvent &event) { record(event); });
            } catch (const std::exception &failure) {
                error = failure.what();
            }
        });
    }

    void record(const pcmoe::SessionEvent &event) {
        std::lock_guard<std::mutex> lock(mutex);
        if (event.kind == pcmoe::SessionEventKind::fault) faults.emplace_back(event.message);
        events.push_back(event);
        events.back().message = std::string_view();
    }
};

std::string key_path(const std::string &keys_folder, std::uint32_t id) {
    return keys_folder + "/party" + std::to_string(id) + ".key";
}

// Writes the deployment file with new free ports and returns its path.
std::string write_deployment(const std::string &keys_folder) {
    std::vector<std::uint16_t> ports = fixtures::free_ports(fixtures::parties);
    std::string text = "{\"session\": 77, \"parties\": [";
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        if (i > 0) text += ", ";
        text += "{\"id\": " + std::to_string(i) + ", \"endpoint\": \"tcp://127.0.0.1:" + std::to_string(ports[i]) +
                "\", \"public_key_file\": \"party" + std::to_string(i) + ".pub\"}";
    }
    std::string path = keys_folder + "/deployment.json";
    fixtures::write_file(path, text + "]}\n");
    return path;
}

// Creates every party's network. A port taken meanwhile by another program
// makes it pick new ports, up to five times.
std::vector<pcmoe::Network> connect(std::vector<pcmoe::Party> &parties, const std::string &keys_folder) {
    for (int attempt = 0;; attempt++) {
        std::string deployment = write_deployment(keys_folder);
        std::vector<pcmoe::Network> networks;
        try {
            for (std::uint32_t i = 0; i < fixtures::parties; i++) {
                networks.emplace_back(parties[i], deployment, key_path(keys_folder, i));
            }
            return networks;
        } catch (const pcmoe::Error &error) {
            if (error.status() != PCMOE_ERROR_IO || attempt == 4) throw;
        }
    }
}

// Waits until every party sent its first greeting into the dropping transport.
bool wait_for_gate(std::vector<SessionRun> &runs) {
    for (int waited = 0; waited < 6000; waited++) {
        bool all = true;
        for (SessionRun &run : runs) all = all && run.sent_before_gate > 0;
        if (all) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

void check_run(SessionRun &run) {
    CHECK(run.error.empty());
    if (!run.error.empty()) std::printf("      party %u: %s\n", run.id, run.error.c_str());
    CHECK(run.faults.empty());
    for (const std::string &fault : run.faults) std::printf("      party %u fault: %s\n", run.id, fault.c_str());
    CHECK(run.events.size() >= 2);
    if (run.events.size() < 2) return;
    CHECK(run.events.front().kind == pcmoe::SessionEventKind::joined);
    CHECK(!run.events.front().resumed);
    CHECK(run.events.back().kind == pcmoe::SessionEventKind::evaluated);
    CHECK(run.events.back().loss == run.evaluation.loss);
    CHECK(run.evaluation.tokens == 4 * fixtures::seq_len);
    int turns = 0;
    for (const pcmoe::SessionEvent &event : run.events) {
        if (event.kind != pcmoe::SessionEventKind::turn) continue;
        turns++;
        CHECK((event.turn - 1) % fixtures::parties == run.id);
        CHECK(std::isfinite(event.loss));
    }
    CHECK(turns == int(rounds));
}

}  // namespace

void test_network_session(const std::string &keys_folder) {
    check::section("session over the network with CURVE");
    std::vector<pcmoe::Party> parties;
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        parties.push_back(fixtures::tiny_party(i, rounds * fixtures::parties));
    }
    // Every session starts behind a transport that drops what it sends, and
    // the networks replace it once every party greeted: then no party hears
    // from a peer whose session has not begun (pcmoe.h explains why).
    std::vector<SessionRun> runs(fixtures::parties);
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        SessionRun &run = runs[i];
        run.id = i;
        parties[i].set_transport([&run](std::uint32_t, pcmoe::ByteView) {
            run.sent_before_gate++;
            return true;
        });
        pcmoe::SessionParams params;
        params.checkpoint_folder = fixtures::temp_path("network-session-" + std::to_string(i));
        params.evaluation_windows = 4;
        params.join_timeout_seconds = 120;
        params.wait_timeout_seconds = 120;
        run.start(parties[i], params);
    }
    bool opened = wait_for_gate(runs);
    CHECK(opened);
    std::vector<pcmoe::Network> networks;
    try {
        if (opened) networks = connect(parties, keys_folder);
    } catch (const pcmoe::Error &error) {
        CHECK_FAIL(std::string("creating the networks failed: ") + error.what());
        for (pcmoe::Party &party : parties) party.cancel();
    }
    for (SessionRun &run : runs) run.thread.join();
    CHECK(networks.size() == fixtures::parties);
    if (networks.size() != fixtures::parties) return;

    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        check_run(runs[i]);
        pcmoe::Metrics m = parties[i].metrics();
        CHECK(m.bytes_sent > 0);
        CHECK(m.bytes_received > 0);
        CHECK(m.messages_sent > 0);
        CHECK(m.messages_received > 0);
        CHECK(m.turns == rounds);
        CHECK(networks[i].stats().rejected_connections == 0);
    }

    // A network moved to another object still serves its party. Assigning
    // an empty one over it destroys it, which leaves the party without a
    // transport.
    pcmoe::Network moved(std::move(networks[0]));
    CHECK(networks[0].native_handle() == nullptr);
    CHECK_ERROR(networks[0].stats(), PCMOE_ERROR_INVALID_ARGUMENT, "network is NULL");
    CHECK(moved.stats().rejected_connections == 0);
    moved = std::move(networks[0]);
    CHECK(moved.native_handle() == nullptr);
    CHECK_ERROR(parties[0].join(), PCMOE_ERROR_INVALID_ARGUMENT, "no transport");
}
