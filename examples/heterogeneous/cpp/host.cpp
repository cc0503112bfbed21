// One party of a coordinated pcmoe session over ZeroMQ with CURVE, hosted
// by C++ through the binding in bindings/cpp.
//
//   host-cpp DEPLOYMENT_FILE PARTY_ID KEY_FILE DATA_FILE CHECKPOINT_DIR STEPS SESSION_ID
//
// Prints one line per JOINED, TURN and FAULT event, then one result line.
// On an error it prints "party ID (cpp): error STATUS: MESSAGE" to stderr
// and exits 1.
#include <pcmoe.hpp>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const char *const runtime = "cpp";

struct Arguments {
    std::string deployment;
    std::string party_id;
    std::string key;
    std::string data;
    std::string checkpoints;
    std::uint64_t steps = 0;
    std::uint64_t session = 0;
};

// Parses a decimal unsigned integer that fills the whole argument.
bool parse_unsigned(const char *text, std::uint64_t &value) {
    if (text[0] < '0' || text[0] > '9') return false;
    char *end = nullptr;
    errno = 0;
    unsigned long long parsed = std::strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') return false;
    value = parsed;
    return true;
}

// The losses of this party's TURN events and their count.
struct TurnLosses {
    double first = std::nan("");
    double last = std::nan("");
    std::uint64_t count = 0;
};

void print_event(const Arguments &args, const pcmoe::SessionEvent &event, TurnLosses &losses) {
    const char *id = args.party_id.c_str();
    switch (event.kind) {
    case pcmoe::SessionEventKind::joined:
        std::printf("party %s (%s): joined turn=%llu resumed=%d\n", id, runtime,
                    static_cast<unsigned long long>(event.turn), event.resumed ? 1 : 0);
        break;
    case pcmoe::SessionEventKind::turn:
        if (losses.count == 0) losses.first = event.loss;
        losses.last = event.loss;
        losses.count++;
        std::printf("party %s (%s): turn %llu loss %.6f\n", id, runtime, static_cast<unsigned long long>(event.turn),
                    event.loss);
        break;
    case pcmoe::SessionEventKind::fault:
        std::printf("party %s (%s): fault %.*s\n", id, runtime, static_cast<int>(event.message.size()),
                    event.message.data());
        break;
    default:
        return;
    }
    std::fflush(stdout);
}

pcmoe::PartyParams party_params(std::uint32_t party_id, const Arguments &args) {
    pcmoe::PartyParams p;
    p.party_id = party_id;
    p.party_count = 3;
    p.session = args.session;
    p.d_model = 64;
    p.n_heads = 4;
    p.n_layers = 2;
    p.n_experts = 6;
    p.top_k = 2;
    p.expert_hidden = 128;
    p.seq_len = 64;
    p.steps = args.steps;
    p.batch = 8;
    p.learning_rate = 2e-3;
    p.call_timeout_seconds = 30;
    p.use_backbone_seed = true;
    p.backbone_seed = 1000 + std::uint64_t(party_id);
    return p;
}

pcmoe::SessionParams session_params(const Arguments &args) {
    pcmoe::SessionParams s;
    s.checkpoint_folder = args.checkpoints;
    s.evaluation_windows = 64;
    s.wait_timeout_seconds = 120;
    s.join_timeout_seconds = 120;
    return s;
}

// Runs the session; the party and the network are released before it returns.
void run(std::uint32_t party_id, const Arguments &args) {
    pcmoe::Party party(party_params(party_id, args));
    party.load_data_file(args.data);
    pcmoe::Network network(party, args.deployment, args.key);

    TurnLosses losses;
    pcmoe::Evaluation evaluation = party.run_session(
        session_params(args), [&](const pcmoe::SessionEvent &event) { print_event(args, event, losses); });

    // The byte and message counts come from the party's metrics, read after
    // the session; the network's own two counters follow as extra keys.
    pcmoe::Metrics metrics = party.metrics();
    pcmoe::NetworkCounters counters = network.stats();
    std::printf(
        "party %s (%s): result runtime=%s version=%s val_loss=%.6f bits_per_byte=%.6f first_loss=%.6f "
        "last_loss=%.6f turns=%llu sent_bytes=%llu received_bytes=%llu messages_sent=%llu messages_received=%llu "
        "rejected_connections=%llu dropped_messages=%llu\n",
        args.party_id.c_str(), runtime, runtime, std::string(pcmoe::version()).c_str(), evaluation.loss,
        evaluation.bits_per_byte, losses.first, losses.last, static_cast<unsigned long long>(losses.count),
        static_cast<unsigned long long>(metrics.bytes_sent), static_cast<unsigned long long>(metrics.bytes_received),
        static_cast<unsigned long long>(metrics.messages_sent),
        static_cast<unsigned long long>(metrics.messages_received),
        static_cast<unsigned long long>(counters.rejected_connections),
        static_cast<unsigned long long>(counters.dropped_messages));
    std::fflush(stdout);
}

// Prints the error line of the host contract to stderr.
void print_error(const std::string &party_id, const std::string &status, const std::string &message) {
    std::fprintf(stderr, "party %s (%s): error %s: %s\n", party_id.c_str(), runtime, status.c_str(), message.c_str());
}

// Reads the arguments; a number that does not parse is a usage error,
// reported with the status name of the library's argument errors.
bool parse_arguments(char **argv, Arguments &args, std::uint32_t &party_id) {
    args.deployment = argv[1];
    args.party_id = argv[2];
    args.key = argv[3];
    args.data = argv[4];
    args.checkpoints = argv[5];
    std::string invalid = pcmoe::status_string(PCMOE_ERROR_INVALID_ARGUMENT);
    std::uint64_t id = 0;
    if (!parse_unsigned(argv[2], id) || id > UINT32_MAX) {
        print_error(args.party_id, invalid, "PARTY_ID \"" + args.party_id + "\" is not a party id.");
        return false;
    }
    if (!parse_unsigned(argv[6], args.steps)) {
        print_error(args.party_id, invalid, "STEPS \"" + std::string(argv[6]) + "\" is not a step count.");
        return false;
    }
    if (!parse_unsigned(argv[7], args.session)) {
        print_error(args.party_id, invalid, "SESSION_ID \"" + std::string(argv[7]) + "\" is not a session id.");
        return false;
    }
    party_id = static_cast<std::uint32_t>(id);
    return true;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 8) {
        std::fprintf(stderr, "usage: %s DEPLOYMENT_FILE PARTY_ID KEY_FILE DATA_FILE CHECKPOINT_DIR STEPS SESSION_ID\n",
                     argv[0]);
        return 2;
    }
    Arguments args;
    std::uint32_t party_id = 0;
    if (!parse_arguments(argv, args, party_id)) return 1;

    try {
        run(party_id, args);
    } catch (const pcmoe::Error &error) {
        print_error(args.party_id, error.status_name(), error.message());
        return 1;
    } catch (const std::exception &error) {
        print_error(args.party_id, pcmoe::status_string(PCMOE_ERROR_INTERNAL), error.what());
        return 1;
    }
    return 0;
}
