// Trains three parties of one process over a pcmoe::Hub, in round-robin
// turns, and prints each round's mean loss and party 0's validation loss.
//
//   train [ROUNDS]        (default 8)
#include <pcmoe.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// A repetitive text for party `id`, so that the loss falls within a few rounds.
static std::string sample_text(std::uint32_t id) {
    const char *phrases[] = {"the cat sat on the mat. ", "one two three four. ", "abc abd abe abf. "};
    std::string text;
    while (text.size() < 4000) text += phrases[id % 3];
    return text;
}

static pcmoe::PartyParams small_model(std::uint32_t id, std::uint32_t rounds) {
    pcmoe::PartyParams p;  // the library's defaults
    p.party_id = id;
    p.party_count = 3;
    p.session = 42;
    p.d_model = 32;
    p.n_heads = 2;
    p.n_layers = 1;
    p.n_experts = 6;
    p.expert_hidden = 32;
    p.seq_len = 16;
    p.batch = 4;
    p.steps = 3 * rounds;  // turns of all parties together
    p.learning_rate = 1e-2;
    return p;
}

int main(int argc, char **argv) {
    std::uint32_t rounds = argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 8;
    try {
        pcmoe::set_log_handler(pcmoe::LogLevel::warning, [](pcmoe::LogLevel, std::string_view message) {
            std::fprintf(stderr, "pcmoe: %.*s\n", static_cast<int>(message.size()), message.data());
        });

        std::vector<pcmoe::Party> parties;
        pcmoe::Hub hub(3);
        for (std::uint32_t id = 0; id < 3; id++) {
            parties.emplace_back(small_model(id, rounds));
            parties.back().load_data(sample_text(id));  // copied by the library
            hub.attach(parties.back());
        }
        for (pcmoe::Party &party : parties) party.join();

        for (std::uint32_t round = 0; round < rounds; round++) {
            double sum = 0;
            for (std::uint32_t id = 0; id < 3; id++) {
                sum += parties[id].train_turn(round * 3 + id + 1).loss;
            }
            std::printf("round %u: mean loss %.4f\n", round + 1, sum / 3);
        }
        pcmoe::Evaluation e = parties[0].evaluate();
        std::printf("party 0: validation loss %.4f nats, %.3f bits per byte\n", e.loss, e.bits_per_byte);
        pcmoe::clear_log_handler();
        // The hub and the parties are released here, in reverse order of creation.
    } catch (const pcmoe::Error &error) {
        std::fprintf(stderr, "error: %s\n", error.what());
        return 1;
    }
    return 0;
}
