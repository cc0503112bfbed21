// Handlers that throw: the exception never reaches C, the call it
// interrupted rethrows it, and the party stays usable.
#include "check.hpp"
#include "fixtures.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace {

// A party alone in its session: it needs no transport and no join.
pcmoe::Party lone_party(std::uint64_t steps) {
    pcmoe::PartyParams params = fixtures::tiny_params(0, steps);
    params.party_count = 1;
    pcmoe::Party party(params);
    party.load_data(fixtures::sample_text(0, 3000));
    return party;
}

void test_throwing_progress_handler() {
    pcmoe::Party party = lone_party(4);
    int calls = 0;
    party.set_progress_handler([&](const pcmoe::Progress &) {
        calls++;
        throw std::runtime_error("progress handler failed");
    });
    // The turn reports progress once it is complete, so the cancel comes too late to stop it.
    CHECK_RETHROWS(std::runtime_error, party.train_turn(1), "progress handler failed");
    CHECK(party.metrics().turns == 1);
    // An evaluation reports after each batch and stops at the first.
    CHECK_RETHROWS(std::runtime_error, party.evaluate(), "progress handler failed");
    CHECK(calls == 2);
    party.set_progress_handler(pcmoe::ProgressHandler());
    CHECK(std::isfinite(party.evaluate(2).loss));
    CHECK(std::isfinite(party.train_turn(2).loss));
}

void test_throwing_session_handler() {
    pcmoe::Party party = lone_party(2);
    pcmoe::SessionParams params;
    params.checkpoint_folder = fixtures::temp_path("throwing-session");
    params.evaluation_windows = 4;
    int turns = 0;
    CHECK_RETHROWS(std::runtime_error, party.run_session(params,
                                                         [&](const pcmoe::SessionEvent &event) {
                                                             if (event.kind != pcmoe::SessionEventKind::turn) return;
                                                             turns++;
                                                             throw std::runtime_error("session handler failed");
                                                         }),
                   "session handler failed");
    CHECK(turns == 1);

    // The next call resumes from the checkpoints and finishes.
    std::vector<pcmoe::SessionEvent> events;
    pcmoe::Evaluation result = party.run_session(params, [&](const pcmoe::SessionEvent &event) {
        events.push_back(event);
        events.back().message = std::string_view();
    });
    CHECK(events.size() >= 2);
    if (events.size() < 2) return;
    CHECK(events.front().kind == pcmoe::SessionEventKind::joined);
    CHECK(events.back().kind == pcmoe::SessionEventKind::evaluated);
    CHECK(events.back().loss == result.loss);
    CHECK(result.tokens == 4 * fixtures::seq_len);
    CHECK(party.metrics().turns == 2);
}

void test_throwing_send_handler() {
    pcmoe::PartyParams params = fixtures::tiny_params(0, 3);
    params.call_timeout_seconds = 0.5;
    params.call_retries = 0;
    pcmoe::Party party(params);
    party.load_data(fixtures::sample_text(0, 3000));
    int sends = 0;
    party.set_transport([&](std::uint32_t, pcmoe::ByteView) -> bool {
        sends++;
        throw std::runtime_error("send handler failed");
    });
    CHECK_RETHROWS(std::runtime_error, party.join(), "send handler failed");
    CHECK(sends >= 1);
    // A handler that reports failure without throwing gives the library's own error.
    party.set_transport([](std::uint32_t, pcmoe::ByteView) { return false; });
    CHECK_ERROR(party.join(), PCMOE_ERROR_PEER, "party 1");
}

void test_throwing_log_handler_during_turn() {
    pcmoe::Party party = lone_party(2);
    pcmoe::set_log_handler(pcmoe::LogLevel::info, [](pcmoe::LogLevel, std::string_view) {
        throw std::runtime_error("log handler failed");
    });
    CHECK_RETHROWS(std::runtime_error, party.train_turn(1), "log handler failed");
    pcmoe::clear_log_handler();
    CHECK(party.metrics().turns == 1);
    CHECK(std::isfinite(party.train_turn(2).loss));
}

}  // namespace

void test_callbacks() {
    check::section("throwing handlers");
    test_throwing_progress_handler();
    test_throwing_session_handler();
    test_throwing_send_handler();
    test_throwing_log_handler_during_turn();
}
