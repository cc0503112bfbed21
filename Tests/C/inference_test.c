/* Generation and export over a hub: sampling params, the byte callback and
 * its stop, seeded repeats, inference leaving owners unchanged, and an
 * export that each owner may refuse. */
#include "check.h"
#include "fixtures.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROUNDS 4

typedef struct byte_sink {
    uint8_t bytes[64];
    size_t count;
    size_t stop_after; /* 0: never stop */
} byte_sink;

/* A byte callback that calls its own party again, which the header forbids. */
typedef struct reentry {
    pcmoe_party *party;
    pcmoe_status status;
} reentry;

static int call_again(void *context, uint8_t byte) {
    (void)byte;
    reentry *r = context;
    uint8_t *text = sample_text(1, 200);
    pcmoe_evaluation e;
    r->status = pcmoe_party_evaluate_bytes(r->party, text, 200, 0, &e, sizeof e);
    free(text);
    return 1;
}

static int collect_byte(void *context, uint8_t byte) {
    byte_sink *sink = context;
    if (sink->count < sizeof sink->bytes) sink->bytes[sink->count] = byte;
    sink->count++;
    return sink->stop_after != 0 && sink->count >= sink->stop_after;
}

static pcmoe_hub *trained_session(pcmoe_party **parties) {
    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &hub), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        parties[i] = tiny_party(i, ROUNDS);
        CHECK_STATUS(pcmoe_hub_attach(hub, parties[i]), PCMOE_OK);
    }
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_join(parties[i]), PCMOE_OK);
    for (uint64_t turn = 1; turn <= 2 * TEST_PARTIES; turn++) {
        CHECK_STATUS(pcmoe_party_train_turn(parties[(turn - 1) % TEST_PARTIES], turn, NULL, 0), PCMOE_OK);
    }
    return hub;
}

static void test_sampling_params(void) {
    pcmoe_sampling_params s;
    CHECK_STATUS(pcmoe_sampling_default_params(NULL, sizeof s), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_sampling_default_params(&s, 4), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_sampling_default_params(&s, sizeof s), PCMOE_OK);
    CHECK(s.struct_size == sizeof s);
    CHECK(s.temperature == 1.0);
    CHECK(s.top_k == 0);
    CHECK(s.top_p == 1.0);
    CHECK(s.seed == 1);
}

static void test_generate_errors(pcmoe_party *party) {
    const uint8_t prompt[] = "the ";
    byte_sink sink = {0};
    pcmoe_sampling_params s;
    pcmoe_sampling_default_params(&s, sizeof s);
    size_t produced = 99;
    CHECK_STATUS(pcmoe_party_generate(NULL, prompt, 4, 8, &s, collect_byte, &sink, &produced),
                 PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK(produced == 0);
    CHECK_STATUS(pcmoe_party_generate(party, prompt, 0, 8, &s, collect_byte, &sink, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("prompt is empty");
    CHECK_STATUS(pcmoe_party_generate(party, prompt, 4, 8, &s, NULL, NULL, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("callback is NULL");
    CHECK_STATUS(pcmoe_party_generate(party, prompt, 4, 2000000, &s, collect_byte, &sink, NULL),
                 PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("max_bytes");
    s.top_p = 0;
    CHECK_STATUS(pcmoe_party_generate(party, prompt, 4, 8, &s, collect_byte, &sink, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("top-p is 0");
    pcmoe_sampling_default_params(&s, sizeof s);
    s.struct_size = 3;
    CHECK_STATUS(pcmoe_party_generate(party, prompt, 4, 8, &s, collect_byte, &sink, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("pcmoe_sampling_default_params");
    CHECK(sink.count == 0);
}

static void test_generate(pcmoe_party **parties) {
    const uint8_t prompt[] = "the cat ";
    pcmoe_sampling_params s;
    pcmoe_sampling_default_params(&s, sizeof s);
    s.temperature = 1.2;
    s.top_k = 50;
    s.seed = 42;
    byte_sink first = {0}, second = {0}, other = {0}, stopped = {.stop_after = 5};
    size_t produced = 0;
    CHECK_STATUS(pcmoe_party_generate(parties[1], prompt, 8, 24, &s, collect_byte, &first, &produced), PCMOE_OK);
    CHECK(produced == 24);
    CHECK(first.count == 24);
    CHECK_STATUS(pcmoe_party_generate(parties[1], prompt, 8, 24, &s, collect_byte, &second, NULL), PCMOE_OK);
    CHECK(memcmp(first.bytes, second.bytes, 24) == 0);
    s.seed = 43;
    CHECK_STATUS(pcmoe_party_generate(parties[1], prompt, 8, 24, &s, collect_byte, &other, NULL), PCMOE_OK);
    CHECK(memcmp(first.bytes, other.bytes, 24) != 0);
    s.seed = 42;
    CHECK_STATUS(pcmoe_party_generate(parties[1], prompt, 8, 24, &s, collect_byte, &stopped, &produced), PCMOE_OK);
    CHECK(produced == 5);
    CHECK(memcmp(first.bytes, stopped.bytes, 5) == 0);

    reentry r = {parties[1], PCMOE_OK};
    CHECK_STATUS(pcmoe_party_generate(parties[1], prompt, 8, 4, &s, call_again, &r, &produced), PCMOE_OK);
    CHECK(produced == 1);
    CHECK(r.status == PCMOE_ERROR_INVALID_ARGUMENT);

    byte_sink greedy = {0}, defaults = {0};
    s.temperature = 0;
    CHECK_STATUS(pcmoe_party_generate(parties[0], prompt, 8, 10, &s, collect_byte, &greedy, NULL), PCMOE_OK);
    CHECK(greedy.count == 10);
    CHECK_STATUS(pcmoe_party_generate(parties[0], prompt, 8, 10, NULL, collect_byte, &defaults, NULL), PCMOE_OK);
    CHECK(defaults.count == 10);
}

/* Scores a fixed text; equal scores before and after inference mean the
 * owners' experts did not change. */
static double score(pcmoe_party *party) {
    uint8_t *text = sample_text(2, 400);
    pcmoe_evaluation e = {0};
    CHECK_STATUS(pcmoe_party_evaluate_bytes(party, text, 400, 0, &e, sizeof e), PCMOE_OK);
    free(text);
    return e.loss;
}

static int file_exists(const char *path) {
    struct stat info;
    return stat(path, &info) == 0;
}

static void test_export(pcmoe_party **parties) {
    const char *path = temp_path(0, "whole.safetensors");
    CHECK_STATUS(pcmoe_party_export_model(NULL, path), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_export_model(parties[1], NULL), PCMOE_ERROR_INVALID_ARGUMENT);

    CHECK_STATUS(pcmoe_party_export_model(parties[1], path), PCMOE_ERROR_PEER);
    CHECK_MESSAGE("party 0 refuses to send its experts to party 1");
    CHECK_MESSAGE("party 2 refuses to send its experts to party 1");
    CHECK(!file_exists(path));

    const uint32_t only_one[] = {1};
    const uint32_t bad[] = {1, 7};
    CHECK_STATUS(pcmoe_party_allow_export(parties[0], bad, 2), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("party 7");
    CHECK_STATUS(pcmoe_party_allow_export(parties[0], NULL, 1), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_allow_export(NULL, only_one, 1), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_allow_export(parties[0], only_one, 1), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_export_model(parties[1], path), PCMOE_ERROR_PEER);
    CHECK_MESSAGE("party 2 refuses");
    CHECK(strstr(pcmoe_last_error(), "party 0 refuses") == NULL);
    CHECK(!file_exists(path));

    CHECK_STATUS(pcmoe_party_allow_export(parties[2], only_one, 1), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_export_model(parties[1], path), PCMOE_OK);
    struct stat info;
    CHECK(stat(path, &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK_STATUS(pcmoe_party_export_model(parties[1], path), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("exists");

    CHECK_STATUS(pcmoe_party_allow_export(parties[2], NULL, 0), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_export_model(parties[1], temp_path(1, "again.safetensors")), PCMOE_ERROR_PEER);
    CHECK_MESSAGE("party 2 refuses to send its experts to party 1: it exports to no party");
    unlink(path);
}

void test_inference(void) {
    test_sampling_params();
    pcmoe_party *parties[TEST_PARTIES];
    pcmoe_hub *hub = trained_session(parties);
    test_generate_errors(parties[1]);

    double owner0 = score(parties[0]), owner2 = score(parties[2]);
    test_generate(parties);
    CHECK(score(parties[0]) == owner0);
    CHECK(score(parties[2]) == owner2);

    test_export(parties);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
    pcmoe_hub_destroy(hub);
}
