/* Parameters, configuration files, data and hubs: every refusal. */
#include "check.h"
#include "fixtures.h"

#include <stddef.h>
#include <stdlib.h>

/* Creating a party from `params` fails with INVALID_ARGUMENT naming `field`. */
static void check_refused(pcmoe_party_params params, const char *field) {
    pcmoe_party *party = (pcmoe_party *)&params; /* must be reset to NULL */
    CHECK_STATUS(pcmoe_party_create(&params, &party), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE(field);
    CHECK(party == NULL);
}

static void test_params(void) {
    pcmoe_party_params params;
    CHECK_STATUS(pcmoe_party_default_params(NULL, sizeof params), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_default_params(&params, 4), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_default_params(&params, sizeof params), PCMOE_OK);
    CHECK(params.struct_size == sizeof params);
    CHECK(params.d_model == 256);
    CHECK(params.n_experts == 8);
    CHECK(params.top_k == 2);
    CHECK(params.batch == 16);
    CHECK(params.party_count == 1);
    CHECK(params.session == 1);
    CHECK(params.wire_type == PCMOE_WIRE_F32);
    CHECK(params.use_backbone_seed == 0);
    CHECK(params.call_timeout_seconds == 120);
    CHECK(params.call_retries == 2);

    /* call_retries was appended: a struct that ends before it is the first
     * version, whose fields stay valid and which leaves it at its default. */
    size_t first_version = offsetof(pcmoe_party_params, call_retries);
    pcmoe_party_params older;
    memset(&older, 0, sizeof older);
    older.call_retries = 77;
    CHECK_STATUS(pcmoe_party_default_params(&older, first_version), PCMOE_OK);
    CHECK(older.struct_size == first_version);
    CHECK(older.d_model == 256);
    CHECK(older.call_retries == 77);
    CHECK_STATUS(pcmoe_party_default_params(&older, first_version - 1), PCMOE_ERROR_INVALID_ARGUMENT);
    older = tiny_params(0, 4);
    older.struct_size = first_version;
    older.call_retries = 1000; /* beyond struct_size: not read */
    pcmoe_party *old_party = NULL;
    CHECK_STATUS(pcmoe_party_create(&older, &old_party), PCMOE_OK);
    pcmoe_party_destroy(old_party);

    pcmoe_party *party = NULL;
    CHECK_STATUS(pcmoe_party_create(NULL, &party), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_create(&params, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    pcmoe_party_params zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    check_refused(zeroed, "pcmoe_party_default_params");
    pcmoe_party_params garbage = tiny_params(0, 4);
    garbage.struct_size = (size_t)0xdeadbeefcafeull;
    check_refused(garbage, "pcmoe_party_default_params");

    pcmoe_party_params p = tiny_params(0, 4);
    p.session = 0;
    check_refused(p, "session id is 0");
    p = tiny_params(3, 4);
    check_refused(p, "party id is 3");
    p = tiny_params(0, 4);
    p.party_count = 0;
    check_refused(p, "party count is 0");
    p = tiny_params(0, 4);
    p.n_heads = 3;
    check_refused(p, "n_heads");
    p = tiny_params(0, 4);
    p.top_k = 7;
    check_refused(p, "top_k");
    p = tiny_params(0, 4);
    p.wire_type = 7;
    check_refused(p, "wire_type");
    p = tiny_params(0, 4);
    p.learning_rate = -1;
    check_refused(p, "learning rate");
    p = tiny_params(0, 4);
    p.call_timeout_seconds = 0;
    check_refused(p, "call timeout");
    p = tiny_params(0, 4);
    p.call_retries = 101;
    check_refused(p, "call retries are 101");
    p = tiny_params(0, 4);
    p.steps = UINT64_MAX;
    check_refused(p, "steps is 18446744073709551615");
    p = tiny_params(0, 4);
    p.d_model = 1u << 20;
    p.expert_hidden = 1u << 20;
    check_refused(p, "smaller sizes");
}

static void test_config_files(void) {
    pcmoe_party *party = NULL;
    CHECK_STATUS(pcmoe_party_create_from_config(NULL, &party), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_create_from_config(temp_path(0, "none.json"), NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_create_from_config(temp_path(0, "none.json"), &party), PCMOE_ERROR_INVALID_CONFIG);
    CHECK_MESSAGE("none.json");

    const char *path = temp_path(0, "party.json");
    const char *cases[][2] = {
        {"{not json", "not valid JSON"},
        {"{\"party\": {\"id\": 0, \"party_count\": 3}}", "session"},
        {"{\"party\": {\"id\": 0, \"party_count\": 3, \"session\": 5, \"colour\": 1}}", "colour"},
        {"{\"party\": {\"id\": 0, \"party_count\": 3, \"session\": 5}, \"model\": {\"top_k\": 9}}", "top_k"},
        {"{\"party\": {\"id\": 0, \"party_count\": 3, \"session\": 5}, \"training\": {\"batch\": \"big\"}}", "batch"},
        {"{\"party\": {\"id\": 0, \"party_count\": 3, \"session\": 5, \"wire_type\": \"f8\"}}", "wire_type"},
        {"[1, 2]", "top level"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(write_file(path, cases[i][0]) == 0);
        party = (pcmoe_party *)path;
        CHECK_STATUS(pcmoe_party_create_from_config(path, &party), PCMOE_ERROR_INVALID_CONFIG);
        CHECK_MESSAGE(cases[i][1]);
        CHECK(party == NULL);
    }

    const char *sizes = "\"model\": {\"d_model\": 16, \"n_heads\": 2, \"n_layers\": 1, \"n_experts\": 6, "
                        "\"expert_hidden\": 32, \"seq_len\": 16}, \"training\": {\"batch\": 2, \"steps\": 10}";
    char text[600];
    snprintf(text, sizeof text, "{\"party\": {\"id\": 1, \"party_count\": 3, \"session\": 5}, %s, "
             "\"data\": [\"missing.txt\"]}", sizes);
    CHECK(write_file(path, text) == 0);
    CHECK_STATUS(pcmoe_party_create_from_config(path, &party), PCMOE_ERROR_INVALID_DATA);
    CHECK_MESSAGE("missing.txt");

    uint8_t *sample = sample_text(1, 2000);
    char corpus[2001];
    memcpy(corpus, sample, 2000);
    corpus[2000] = '\0';
    free(sample);
    CHECK(write_file(temp_path(1, "corpus.txt"), corpus) == 0);
    snprintf(text, sizeof text, "{\"party\": {\"id\": 1, \"party_count\": 3, \"session\": 5, \"wire_type\": \"bf16\"}, "
             "%s, \"data\": [\"corpus.txt\"]}", sizes);
    CHECK(write_file(path, text) == 0);
    CHECK_STATUS(pcmoe_party_create_from_config(path, &party), PCMOE_OK);
    pcmoe_metrics m;
    CHECK_STATUS(pcmoe_party_metrics(party, &m, sizeof m), PCMOE_OK);
    CHECK(m.party_id == 1);
    CHECK(m.party_count == 3);
    CHECK(m.train_bytes + m.validation_bytes == 2000);
    pcmoe_party_destroy(party);
}

static void test_data(void) {
    pcmoe_party *party = NULL;
    pcmoe_party_params params = tiny_params(0, 4);
    CHECK_STATUS(pcmoe_party_create(&params, &party), PCMOE_OK);
    const uint8_t few[5] = {1, 2, 3, 4, 5};
    CHECK_STATUS(pcmoe_party_load_data(NULL, few, 5), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_load_data(party, NULL, 5), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_load_data(party, NULL, 0), PCMOE_ERROR_INVALID_DATA);
    CHECK_STATUS(pcmoe_party_load_data(party, few, 5), PCMOE_ERROR_INVALID_DATA);
    CHECK_MESSAGE("loaded from memory is too short");
    /* Sizes beyond the limit are refused before the buffer is read. */
    CHECK_STATUS(pcmoe_party_load_data(party, few, (size_t)1 << 40), PCMOE_ERROR_INVALID_DATA);
    CHECK_MESSAGE("1099511627776 bytes; the limit is");
    CHECK_STATUS(pcmoe_party_load_data(party, few, SIZE_MAX), PCMOE_ERROR_INVALID_DATA);
    CHECK_MESSAGE("18446744073709551615 bytes");
    pcmoe_evaluation e;
    CHECK_STATUS(pcmoe_party_evaluate_bytes(party, few, (size_t)1 << 40, 0, &e, sizeof e), PCMOE_ERROR_INVALID_DATA);
    CHECK_STATUS(pcmoe_party_load_data_file(NULL, "x"), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_load_data_file(party, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_load_data_file(party, temp_path(0, "absent.txt")), PCMOE_ERROR_INVALID_DATA);
    CHECK_MESSAGE("absent.txt");

    /* Turns and evaluations need data; nothing was loaded. */
    pcmoe_turn_result result;
    pcmoe_evaluation evaluation;
    CHECK_STATUS(pcmoe_party_train_turn(party, 1, &result, sizeof result), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("no training data");
    CHECK_STATUS(pcmoe_party_evaluate(party, 0, &evaluation, sizeof evaluation), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_join(party), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("no transport");
    pcmoe_party_destroy(party);
    pcmoe_party_destroy(NULL);
}

static void test_hub_errors(void) {
    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(0, &hub), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_hub_create(1025, &hub), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_hub_create(2, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_hub_create(2, &hub), PCMOE_OK);
    pcmoe_party *party = tiny_party(0, 4);
    CHECK(party != NULL);
    CHECK_STATUS(pcmoe_hub_attach(NULL, party), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_hub_attach(hub, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_hub_attach(hub, party), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("3 parties");
    CHECK_STATUS(pcmoe_party_set_transport(party, NULL, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_set_transport(NULL, NULL, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    pcmoe_hub_destroy(hub);
    pcmoe_hub_destroy(NULL);
    pcmoe_party_destroy(party);
}

void test_party_errors(void) {
    test_params();
    test_config_files();
    test_data();
    test_hub_errors();
}
