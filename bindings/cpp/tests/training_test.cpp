// Three parties training over a Hub: the loss falls; results, progress,
// metrics, cancellation, and checkpoints saved and loaded.
#include "check.hpp"
#include "fixtures.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t rounds = 8;
// The rounds above, one more, and one after the checkpoints.
constexpr std::uint64_t steps = (rounds + 2) * fixtures::parties;

struct ProgressRecord {
    int turns = 0;
    int evaluations = 0;
    pcmoe::Progress last{pcmoe::Stage::train_turn, 0, 0};
};

// Takes one round of turns, party i taking turn round * 3 + i + 1, and
// returns the mean loss.
double train_round(std::vector<pcmoe::Party> &parties, std::uint32_t round) {
    double sum = 0;
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        std::uint64_t turn = std::uint64_t(round) * fixtures::parties + i + 1;
        pcmoe::TurnResult r = parties[i].train_turn(turn);
        CHECK(r.turn == turn);
        CHECK(r.global_step == turn);
        CHECK(std::isfinite(r.loss));
        CHECK(r.learning_rate > 0);
        sum += r.loss;
    }
    return sum / fixtures::parties;
}

void test_loss_falls(std::vector<pcmoe::Party> &parties, ProgressRecord &record) {
    double first = train_round(parties, 0);
    double last = first;
    for (std::uint32_t round = 1; round < rounds; round++) last = train_round(parties, round);
    std::printf("      mean loss of round 1 %.4f, of round %u %.4f\n", first, rounds, last);
    CHECK(last < 0.8 * first);
    CHECK(record.turns == int(rounds));
    CHECK(record.last.stage == pcmoe::Stage::train_turn);
}

void test_results_and_metrics(std::vector<pcmoe::Party> &parties, ProgressRecord &record) {
    CHECK_ERROR(parties[0].train_turn(1), PCMOE_ERROR_INVALID_ARGUMENT, "turn 1");

    pcmoe::Evaluation e = parties[0].evaluate(3);
    CHECK(e.tokens == 3 * fixtures::seq_len);
    CHECK(std::isfinite(e.loss));
    CHECK(std::fabs(e.bits_per_byte - e.loss / std::log(2.0)) < 1e-9);
    CHECK(record.evaluations == 1);
    CHECK(record.last.stage == pcmoe::Stage::evaluate);
    CHECK(record.last.done == 3);
    CHECK(record.last.total == 3);

    std::string text = "the cat sat on the mat. the cat sat on.";
    pcmoe::Evaluation scored = parties[1].evaluate_bytes(text);
    CHECK(scored.tokens == 32);
    CHECK(std::isfinite(scored.loss));
    CHECK_ERROR(parties[1].evaluate_bytes(std::string_view("short")), PCMOE_ERROR_INVALID_DATA, "has 5 bytes");

    pcmoe::Metrics m = parties[0].metrics();
    CHECK(m.turns == rounds);
    CHECK(m.expert_steps == rounds * fixtures::parties);
    CHECK(std::isfinite(m.last_loss));
    CHECK(m.bytes_sent > 0);
    CHECK(m.bytes_received > 0);
    CHECK(m.messages_rejected == 0);
    CHECK(m.peak_total_bytes >= m.peak_parameter_bytes + m.peak_optimizer_bytes);
    CHECK(m.train_bytes == 2700);
}

// The progress handler cancels the evaluation after its first batch.
void test_cancel(pcmoe::Party &party) {
    CHECK_NOTHROW(party.cancel());
    CHECK(std::isfinite(party.evaluate(2).loss));
    int batches = 0;
    party.set_progress_handler([&](const pcmoe::Progress &) {
        batches++;
        party.cancel();
    });
    CHECK_ERROR(party.evaluate(), PCMOE_ERROR_CANCELLED, "stopped");
    CHECK(batches == 1);
    party.set_progress_handler(pcmoe::ProgressHandler());
    CHECK(std::isfinite(party.evaluate(2).loss));
    CHECK(batches == 1);
}

// Every party saves, trains another round, then loads its file and joins
// again. The evaluation then equals that of the saved state, bit for bit.
void test_save_and_load(std::vector<pcmoe::Party> &parties) {
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        parties[i].save(fixtures::temp_path("party-" + std::to_string(i) + ".safetensors"));
    }
    pcmoe::Evaluation saved = parties[0].evaluate(4);
    train_round(parties, rounds);
    pcmoe::Evaluation trained = parties[0].evaluate(4);
    CHECK(trained.loss != saved.loss);

    CHECK_ERROR(parties[0].load(fixtures::temp_path("party-1.safetensors")), PCMOE_ERROR_INVALID_CHECKPOINT,
                "party");
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        CHECK_NOTHROW(parties[i].load(fixtures::temp_path("party-" + std::to_string(i) + ".safetensors")));
    }
    for (pcmoe::Party &party : parties) CHECK_NOTHROW(party.join());
    pcmoe::Evaluation loaded = parties[0].evaluate(4);
    CHECK(loaded.loss == saved.loss);
    CHECK(loaded.tokens == saved.tokens);
    CHECK(parties[0].metrics().turns == rounds);
}

}  // namespace

void test_training() {
    check::section("training over a hub");
    std::vector<pcmoe::Party> parties;
    pcmoe::Hub hub(fixtures::parties);
    for (std::uint32_t i = 0; i < fixtures::parties; i++) {
        parties.push_back(fixtures::tiny_party(i, steps));
        hub.attach(parties.back());
    }
    for (pcmoe::Party &party : parties) CHECK_NOTHROW(party.join());

    ProgressRecord record;
    parties[0].set_progress_handler([&](const pcmoe::Progress &progress) {
        if (progress.stage == pcmoe::Stage::train_turn) record.turns++;
        if (progress.stage == pcmoe::Stage::evaluate) record.evaluations++;
        record.last = progress;
    });
    test_loss_falls(parties, record);
    test_results_and_metrics(parties, record);
    parties[0].set_progress_handler(pcmoe::ProgressHandler());
    test_cancel(parties[2]);
    test_save_and_load(parties);
}
