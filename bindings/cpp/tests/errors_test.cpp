// Bad configuration files, params, data and call orders reach the caller
// as pcmoe::Error with the status and the library's message.
#include "check.hpp"
#include "fixtures.hpp"

#include <string>

using fixtures::temp_path;

static void test_config_files() {
    std::string missing = temp_path("missing.json");
    CHECK_ERROR(pcmoe::Party::from_config(missing), PCMOE_ERROR_INVALID_CONFIG, missing);

    std::string unknown_key = temp_path("unknown-key.json");
    fixtures::write_file(unknown_key, R"({"party": {"id": 0, "party_count": 1, "session": 3, "colour": 2}})");
    CHECK_ERROR(pcmoe::Party::from_config(unknown_key), PCMOE_ERROR_INVALID_CONFIG, "colour");

    std::string not_json = temp_path("not-json.json");
    fixtures::write_file(not_json, "party: 0\n");
    CHECK_ERROR(pcmoe::Party::from_config(not_json), PCMOE_ERROR_INVALID_CONFIG, "not-json.json");

    try {
        pcmoe::Party::from_config(unknown_key);
        CHECK_FAIL("from_config with an unknown key threw nothing");
    } catch (const pcmoe::Error &error) {
        CHECK(error.status() == PCMOE_ERROR_INVALID_CONFIG);
        CHECK(error.status_name() == "invalid configuration");
        CHECK(std::string(error.what()) == "invalid configuration: " + error.message());
    }

    // A good file creates the party and loads the text it names, relative to the file.
    fixtures::write_file(temp_path("config-text.txt"), std::string(3000, 'a'));
    std::string good = temp_path("good.json");
    fixtures::write_file(good, R"({"party": {"id": 1, "party_count": 3, "session": 42},
        "model": {"d_model": 32, "n_heads": 2, "n_layers": 1, "n_experts": 6, "seq_len": 16},
        "data": ["config-text.txt"]})");
    pcmoe::Party party = pcmoe::Party::from_config(good);
    pcmoe::Metrics m = party.metrics();
    CHECK(m.party_id == 1);
    CHECK(m.party_count == 3);
    CHECK(m.train_bytes == 2700);
    CHECK(m.validation_bytes == 300);
}

static void test_party_params() {
    pcmoe::PartyParams defaults;
    CHECK(defaults.party_count == 1);
    CHECK(defaults.d_model == 256);
    CHECK(defaults.steps == 1000);
    CHECK(defaults.wire_type == pcmoe::WireType::f32);
    CHECK(!defaults.use_backbone_seed);
    CHECK(defaults.call_retries == 2);
    CHECK(defaults.row_clip_norm == 0);
    CHECK(defaults.row_noise_sigma == 0);
    CHECK(defaults.own_expert_layers == 0);
    CHECK(defaults.to_c().struct_size == sizeof(pcmoe_party_params));

    pcmoe::PartyParams p = fixtures::tiny_params(0, 3);
    p.d_model = 0;
    CHECK_ERROR(pcmoe::Party party(p), PCMOE_ERROR_INVALID_ARGUMENT, "d_model is 0");
    p = fixtures::tiny_params(0, 3);
    p.top_k = 7;
    CHECK_ERROR(pcmoe::Party party(p), PCMOE_ERROR_INVALID_ARGUMENT, "top_k 7");
    p = fixtures::tiny_params(0, 3);
    p.party_id = 3;
    CHECK_ERROR(pcmoe::Party party(p), PCMOE_ERROR_INVALID_ARGUMENT, "party id is 3");
    p = fixtures::tiny_params(0, 3);
    p.wire_type = static_cast<pcmoe::WireType>(7);
    CHECK_ERROR(pcmoe::Party party(p), PCMOE_ERROR_INVALID_ARGUMENT, "wire_type is 7");
    p = fixtures::tiny_params(0, 3);
    p.row_noise_sigma = 0.5;
    CHECK_ERROR(pcmoe::Party party(p), PCMOE_ERROR_INVALID_ARGUMENT, "row_noise_sigma is 0.5 but row_clip_norm is 0");
    p = fixtures::tiny_params(0, 3);
    p.own_expert_layers = 2;
    CHECK_ERROR(pcmoe::Party party(p), PCMOE_ERROR_INVALID_ARGUMENT, "own_expert_layers is 2");
    p = fixtures::tiny_params(0, 3);
    p.row_clip_norm = 4;
    p.row_noise_sigma = 0.5;
    p.own_expert_layers = 1;
    CHECK_NOTHROW(pcmoe::Party party(p));
}

static void test_data_and_order() {
    pcmoe::Party party(fixtures::tiny_params(0, 3));
    CHECK_ERROR(party.train_turn(1), PCMOE_ERROR_INVALID_ARGUMENT, "has no training data");
    CHECK_ERROR(party.load_data(std::string_view("too short")), PCMOE_ERROR_INVALID_DATA, "too short");
    CHECK_ERROR(party.load_data_file(temp_path("no-such-text")), PCMOE_ERROR_INVALID_DATA, "no-such-text");
    CHECK_ERROR(party.load(temp_path("no-such-checkpoint")), PCMOE_ERROR_IO, "no-such-checkpoint");
    CHECK_ERROR(party.evaluate_bytes(pcmoe::ByteView(nullptr, 5)), PCMOE_ERROR_INVALID_ARGUMENT, "text is NULL");
    CHECK_NOTHROW(party.load_data(fixtures::sample_text(0, 3000)));
    // A party of a three-party session takes no turn before it joined.
    CHECK_ERROR(party.train_turn(1), PCMOE_ERROR_INVALID_ARGUMENT, "has not joined");
    CHECK_ERROR(party.join(), PCMOE_ERROR_INVALID_ARGUMENT, "has no transport");

    pcmoe::SessionParams session;
    CHECK(session.checkpoint_folder.empty());
    CHECK(session.checkpoint_every == 1);
    CHECK(session.max_rejoins == 20);
    CHECK_ERROR(party.run_session(session), PCMOE_ERROR_INVALID_ARGUMENT, "checkpoint folder is empty");
    session.checkpoint_folder = temp_path("unused-checkpoints");
    session.checkpoint_every = 0;
    CHECK_ERROR(party.run_session(session), PCMOE_ERROR_INVALID_ARGUMENT, "checkpoint interval is 0");
    session.checkpoint_every = 1;
    CHECK_ERROR(party.run_session(session), PCMOE_ERROR_INVALID_ARGUMENT, "has no transport");
}

static void test_transport_errors() {
    CHECK_ERROR(pcmoe::Hub hub(0), PCMOE_ERROR_INVALID_ARGUMENT, "0");
    pcmoe::Hub hub(2);
    pcmoe::Party party(fixtures::tiny_params(2, 3));
    CHECK_ERROR(hub.attach(party), PCMOE_ERROR_INVALID_ARGUMENT, "this transport serves 2");

    std::string missing = temp_path("no-deployment.json");
    CHECK_ERROR(pcmoe::Network network(party, missing, temp_path("no.key")), PCMOE_ERROR_INVALID_CONFIG, missing);
    CHECK_ERROR(party.set_transport(pcmoe::SendHandler()), PCMOE_ERROR_INVALID_ARGUMENT, "send is NULL");
}

void test_errors() {
    check::section("errors");
    test_config_files();
    test_party_params();
    test_data_and_order();
    test_transport_errors();
}
