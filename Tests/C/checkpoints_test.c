/* pcmoe_party_save and pcmoe_party_load: a round trip restores the run
 * bit for bit, and damaged or foreign files change nothing. */
#include "check.h"
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Takes one round; stores the losses when `losses` is not NULL. */
static void take_round(pcmoe_party **parties, uint32_t round, double *losses) {
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        pcmoe_turn_result r = {0, 0, 0, 0, 0, 0};
        CHECK_STATUS(pcmoe_party_train_turn(parties[i], (uint64_t)round * TEST_PARTIES + i + 1, &r, sizeof r), PCMOE_OK);
        if (losses != NULL) losses[i] = r.loss;
    }
}

static double evaluate(pcmoe_party *party) {
    pcmoe_evaluation e = {0, 0, 0};
    CHECK_STATUS(pcmoe_party_evaluate(party, 4, &e, sizeof e), PCMOE_OK);
    return e.loss;
}

/* Overwrites the last `count` bytes of a file with 0xff (NaN as float32). */
static void damage_tail(const char *path, long count) {
    FILE *file = fopen(path, "r+b");
    CHECK(file != NULL);
    if (file == NULL) return;
    fseek(file, -count, SEEK_END);
    for (long i = 0; i < count; i++) fputc(0xff, file);
    fclose(file);
}

void test_checkpoints(void) {
    pcmoe_hub *hub = NULL;
    pcmoe_party *parties[TEST_PARTIES];
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &hub), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        parties[i] = tiny_party(i, 6);
        CHECK_STATUS(pcmoe_hub_attach(hub, parties[i]), PCMOE_OK);
    }
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_join(parties[i]), PCMOE_OK);
    take_round(parties, 0, NULL);
    take_round(parties, 1, NULL);

    char names[TEST_PARTIES][32];
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        snprintf(names[i], sizeof names[i], "party-%u.safetensors", i);
        CHECK_STATUS(pcmoe_party_save(parties[i], temp_path(i, names[i])), PCMOE_OK);
    }
    double saved = evaluate(parties[0]);
    double first[TEST_PARTIES], again[TEST_PARTIES];
    take_round(parties, 2, first);
    CHECK(evaluate(parties[0]) != saved);

    /* Loading every party's checkpoint restores the session exactly, and
     * the next round repeats bit for bit. */
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_load(parties[i], temp_path(i, names[i])), PCMOE_OK);
    pcmoe_metrics m;
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &m, sizeof m), PCMOE_OK);
    CHECK(m.turns == 2);
    CHECK(m.expert_steps == 6);
    CHECK(isnan(m.last_loss));
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 7, NULL, 0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("has not joined");
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_join(parties[i]), PCMOE_OK);
    CHECK(evaluate(parties[0]) == saved);
    take_round(parties, 2, again);
    CHECK(memcmp(first, again, sizeof first) == 0);

    /* A party reloaded from an older checkpoint is stopped at join. */
    CHECK_STATUS(pcmoe_party_load(parties[1], temp_path(1, names[1])), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_join(parties[1]), PCMOE_ERROR_PEER);
    CHECK_MESSAGE("have taken 9 steps");

    /* Refusals: another party's file, a missing file, a damaged file, NULLs. */
    CHECK_STATUS(pcmoe_party_load(parties[1], temp_path(0, names[0])), PCMOE_ERROR_INVALID_CHECKPOINT);
    CHECK_MESSAGE("party_id");
    CHECK_STATUS(pcmoe_party_load(parties[0], temp_path(3, "absent.safetensors")), PCMOE_ERROR_IO);
    damage_tail(temp_path(0, names[0]), 64);
    double before = evaluate(parties[0]);
    CHECK_STATUS(pcmoe_party_load(parties[0], temp_path(0, names[0])), PCMOE_ERROR_INVALID_CHECKPOINT);
    CHECK_MESSAGE("NaN");
    CHECK(evaluate(parties[0]) == before);
    CHECK(write_file(temp_path(3, "text.safetensors"), "not a checkpoint") == 0);
    CHECK_STATUS(pcmoe_party_load(parties[0], temp_path(3, "text.safetensors")), PCMOE_ERROR_INVALID_CHECKPOINT);
    CHECK_STATUS(pcmoe_party_load(NULL, temp_path(0, names[0])), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_load(parties[0], NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_save(NULL, temp_path(3, "x")), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_save(parties[0], NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_save(parties[0], temp_path(3, "no/such/folder.safetensors")), PCMOE_ERROR_IO);

    pcmoe_hub_destroy(hub);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
}
