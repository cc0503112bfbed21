// Generation and export over a Hub after a few turns. The tests cover seeded
// and greedy sampling, the byte handler's stop, exception and cancel, and a
// bad sampling value. They also cover an export rejected by default and
// allowed by every other owner, and the message counters of the metrics.
#include "check.hpp"
#include "fixtures.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t rounds = 2;
const std::string prompt = "the cat ";

// Takes `rounds` rounds of turns, party i taking turn round * 3 + i + 1.
void train(std::vector<pcmoe::Party> &parties) {
    for (std::uint32_t round = 0; round < rounds; round++) {
        for (std::uint32_t i = 0; i < fixtures::parties; i++) {
            CHECK(std::isfinite(parties[i].train_turn(std::uint64_t(round) * fixtures::parties + i + 1).loss));
        }
    }
}

void test_sampling_defaults() {
    pcmoe::SamplingParams defaults;
    CHECK(defaults.temperature == 1.0);
    CHECK(defaults.top_k == 0);
    CHECK(defaults.top_p == 1.0);
    CHECK(defaults.seed == 1);
    CHECK(defaults.to_c().struct_size == sizeof(pcmoe_sampling_params));
}

void test_message_counters(std::vector<pcmoe::Party> &parties) {
    for (pcmoe::Party &party : parties) {
        pcmoe::Metrics m = party.metrics();
        CHECK(m.messages_sent > 0);
        CHECK(m.messages_received > 0);
    }
}

// The same seed repeats the bytes, another seed changes them, and the
// generation sends requests for expert forwards to the other owners.
void test_seeded_generation(pcmoe::Party &party) {
    pcmoe::SamplingParams sampling;
    sampling.temperature = 1.2;
    sampling.top_k = 50;
    sampling.seed = 42;
    std::uint64_t sent_before = party.metrics().messages_sent;
    std::vector<std::uint8_t> first = party.generate(prompt, 16, sampling);
    CHECK(first.size() == 16);
    CHECK(party.metrics().messages_sent > sent_before);
    CHECK(party.generate(prompt, 16, sampling) == first);
    sampling.seed = 43;
    CHECK(party.generate(prompt, 16, sampling) != first);
}

// Temperature 0 picks the most likely byte, so the seed does not matter.
void test_greedy_generation(pcmoe::Party &party) {
    pcmoe::SamplingParams greedy;
    greedy.temperature = 0;
    std::vector<std::uint8_t> bytes = party.generate(prompt, 8, greedy);
    CHECK(bytes.size() == 8);
    greedy.seed = 7;
    CHECK(party.generate(prompt, 8, greedy) == bytes);
    CHECK(party.generate(prompt, 4).size() == 4);
}

void test_handler_stop(pcmoe::Party &party) {
    pcmoe::SamplingParams sampling;
    sampling.seed = 42;
    std::vector<std::uint8_t> full = party.generate(prompt, 8, sampling);
    std::vector<std::uint8_t> seen;
    std::size_t produced = party.generate(prompt, 8, sampling, [&](std::uint8_t byte) {
        seen.push_back(byte);
        return seen.size() < 5 ? pcmoe::NextByte::draw : pcmoe::NextByte::stop;
    });
    CHECK(produced == 5);
    CHECK(seen.size() == 5);
    CHECK(full.size() == 8);
    std::vector<std::uint8_t> first_five(full.begin(), full.begin() + std::min<std::size_t>(5, full.size()));
    CHECK(seen == first_five);
}

// A throwing handler stops the call after its byte, and a handler that
// cancels makes the call fail before the next byte.
void test_handler_exception_and_cancel(pcmoe::Party &party) {
    int calls = 0;
    CHECK_RETHROWS(std::runtime_error, party.generate(prompt, 24, pcmoe::SamplingParams(),
                                                      [&](std::uint8_t) -> pcmoe::NextByte {
                                                          calls++;
                                                          throw std::runtime_error("byte handler failed");
                                                      }),
                   "byte handler failed");
    CHECK(calls == 1);

    calls = 0;
    CHECK_ERROR(party.generate(prompt, 24, pcmoe::SamplingParams(),
                               [&](std::uint8_t) {
                                   if (++calls == 3) party.cancel();
                                   return pcmoe::NextByte::draw;
                               }),
                PCMOE_ERROR_CANCELLED, "stopped");
    CHECK(calls == 3);
    CHECK(party.generate(prompt, 4).size() == 4);
}

void test_generation_errors(pcmoe::Party &party) {
    int calls = 0;
    pcmoe::ByteHandler count = [&](std::uint8_t) {
        calls++;
        return pcmoe::NextByte::draw;
    };
    pcmoe::SamplingParams bad;
    bad.top_p = 0;
    CHECK_ERROR(party.generate(prompt, 8, bad, count), PCMOE_ERROR_INVALID_ARGUMENT, "top-p is 0");
    CHECK_ERROR(party.generate(prompt, 8, bad), PCMOE_ERROR_INVALID_ARGUMENT, "top-p is 0");
    bad = pcmoe::SamplingParams();
    bad.temperature = 101;
    CHECK_ERROR(party.generate(prompt, 8, bad), PCMOE_ERROR_INVALID_ARGUMENT, "temperature");
    CHECK_ERROR(party.generate(std::string(), 8), PCMOE_ERROR_INVALID_ARGUMENT, "prompt is empty");
    CHECK_ERROR(party.generate(prompt, 2000000), PCMOE_ERROR_INVALID_ARGUMENT, "max_bytes");
    CHECK_ERROR(party.generate(prompt, 8, pcmoe::SamplingParams(), pcmoe::ByteHandler()),
                PCMOE_ERROR_INVALID_ARGUMENT, "callback is NULL");
    CHECK(calls == 0);
}

bool is_private_file(const std::string &path) {
    namespace fs = std::filesystem;
    if (!fs::exists(path)) return false;
    fs::perms mode = fs::status(path).permissions() & fs::perms::all;
    return mode == (fs::perms::owner_read | fs::perms::owner_write);
}

// Party 1 exports; parties 0 and 2 own the other experts.
void test_export(std::vector<pcmoe::Party> &parties) {
    std::string path = fixtures::temp_path("whole-model.safetensors");
    CHECK_ERROR(parties[1].export_model(path), PCMOE_ERROR_PEER, "party 0 refuses to send its experts to party 1");
    CHECK_ERROR(parties[1].export_model(path), PCMOE_ERROR_PEER, "party 2 refuses to send its experts to party 1");
    CHECK(!std::filesystem::exists(path));

    CHECK_ERROR(parties[0].allow_export({1, 7}), PCMOE_ERROR_INVALID_ARGUMENT, "party 7");
    CHECK_NOTHROW(parties[0].allow_export({1}));
    try {
        parties[1].export_model(path);
        CHECK_FAIL("export_model with only party 0 allowing threw nothing");
    } catch (const pcmoe::Error &error) {
        CHECK(error.status() == PCMOE_ERROR_PEER);
        CHECK(error.message().find("party 2 refuses") != std::string::npos);
        CHECK(error.message().find("party 0 refuses") == std::string::npos);
    }
    CHECK(!std::filesystem::exists(path));

    CHECK_NOTHROW(parties[2].allow_export({1}));
    CHECK_NOTHROW(parties[1].export_model(path));
    CHECK(is_private_file(path));
    CHECK(std::filesystem::file_size(path) > 0);

    // Party 1 is on no list of party 0's, so party 0 cannot export.
    std::string other = fixtures::temp_path("refused-model.safetensors");
    CHECK_ERROR(parties[0].export_model(other), PCMOE_ERROR_PEER, "party 1 refuses to send its experts to party 0");
    CHECK(!std::filesystem::exists(other));

    CHECK_NOTHROW(parties[2].allow_export({}));
    CHECK_ERROR(parties[1].export_model(other), PCMOE_ERROR_PEER, "party 2 refuses");
    CHECK(!std::filesystem::exists(other));
}

}  // namespace

void test_inference() {
    check::section("generation and export over a hub");
    test_sampling_defaults();
    std::vector<pcmoe::Party> parties;
    pcmoe::Hub hub(fixtures::parties);
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        parties.push_back(fixtures::tiny_party(i, rounds * fixtures::parties));
        hub.attach(parties.back());
    }
    for (pcmoe::Party &party : parties) CHECK_NOTHROW(party.join());
    train(parties);

    test_message_counters(parties);
    test_seeded_generation(parties[1]);
    test_greedy_generation(parties[0]);
    test_handler_stop(parties[1]);
    test_handler_exception_and_cancel(parties[2]);
    test_generation_errors(parties[1]);
    test_export(parties);
}
