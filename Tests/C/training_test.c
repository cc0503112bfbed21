/* Training three parties through a hub: the loss falls; results, progress,
 * metrics and cancellation. */
#include "check.h"
#include "fixtures.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define ROUNDS 12

typedef struct progress_record {
    int turns;
    int evaluations;
    uint64_t last_done;
    uint64_t last_total;
    pcmoe_party *cancel_party;
} progress_record;

static void record_progress(void *context, const pcmoe_progress *progress) {
    progress_record *record = context;
    if (progress->stage == PCMOE_STAGE_TRAIN_TURN) record->turns++;
    if (progress->stage == PCMOE_STAGE_EVALUATE) record->evaluations++;
    record->last_done = progress->done;
    record->last_total = progress->total;
    if (record->cancel_party != NULL) pcmoe_party_cancel(record->cancel_party);
}

/* Three parties on one hub, joined. */
static pcmoe_hub *hub_session(pcmoe_party **parties, uint32_t rounds) {
    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &hub), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        parties[i] = tiny_party(i, rounds);
        CHECK(parties[i] != NULL);
        CHECK_STATUS(pcmoe_hub_attach(hub, parties[i]), PCMOE_OK);
    }
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_join(parties[i]), PCMOE_OK);
    return hub;
}

static void test_loss_falls(pcmoe_party **parties, progress_record *record) {
    double first = 0, last = 0;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        for (uint32_t i = 0; i < TEST_PARTIES; i++) {
            uint64_t turn = (uint64_t)round * TEST_PARTIES + i + 1;
            pcmoe_turn_result r;
            CHECK_STATUS(pcmoe_party_train_turn(parties[i], turn, &r, sizeof r), PCMOE_OK);
            CHECK(r.turn == turn);
            CHECK(r.global_step == turn);
            CHECK(isfinite(r.loss));
            CHECK(r.learning_rate > 0);
            if (round == 0) first += r.loss;
            if (round == ROUNDS - 1) last += r.loss;
        }
    }
    printf("C training: mean loss of round 1 %.4f, of round %d %.4f\n", first / 3, ROUNDS, last / 3);
    CHECK(last < 0.8 * first);
    CHECK(record->turns == 2 * ROUNDS); /* parties 0 and 2 report */
}

static void test_results_and_metrics(pcmoe_party **parties, progress_record *record) {
    uint64_t next = ROUNDS * TEST_PARTIES + 1;
    pcmoe_turn_result r;
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 0, &r, sizeof r), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], next, &r, 8), PCMOE_ERROR_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcmoe_party_train_turn(NULL, next, &r, sizeof r), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], next, NULL, 0), PCMOE_OK);

    pcmoe_evaluation e;
    CHECK_STATUS(pcmoe_party_evaluate(parties[0], 0, NULL, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_evaluate(parties[0], 0, &e, 4), PCMOE_ERROR_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcmoe_party_evaluate(NULL, 0, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_evaluate(parties[0], 3, &e, sizeof e), PCMOE_OK);
    CHECK(e.tokens == 3 * 16);
    CHECK(isfinite(e.loss));
    CHECK(fabs(e.bits_per_byte - e.loss / log(2.0)) < 1e-9);
    CHECK(record->evaluations == 1);
    CHECK(record->last_done == 3);
    CHECK(record->last_total == 3);

    const uint8_t text[40] = "the cat sat on the mat. the cat sat on.";
    CHECK_STATUS(pcmoe_party_evaluate_bytes(parties[1], text, 40, 0, &e, sizeof e), PCMOE_OK);
    CHECK(e.tokens == 32);
    CHECK_STATUS(pcmoe_party_evaluate_bytes(parties[1], text, 10, 0, &e, sizeof e), PCMOE_ERROR_INVALID_DATA);
    CHECK_STATUS(pcmoe_party_evaluate_bytes(parties[1], NULL, 10, 0, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_evaluate_bytes(parties[1], text, 40, 0, &e, 2), PCMOE_ERROR_BUFFER_TOO_SMALL);

    pcmoe_metrics m;
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &m, 8), PCMOE_ERROR_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &m, SIZE_MAX), PCMOE_OK); /* a struct of a newer header */
    CHECK_STATUS(pcmoe_party_metrics(NULL, &m, sizeof m), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_metrics(parties[0], NULL, sizeof m), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &m, sizeof m), PCMOE_OK);
    CHECK(m.turns == ROUNDS + 1);
    CHECK(m.expert_steps == next);
    CHECK(isfinite(m.last_loss));
    CHECK(m.bytes_sent > 0);
    CHECK(m.bytes_received > 0);
    CHECK(m.messages_rejected == 0);
    CHECK(m.messages_sent > 0);
    CHECK(m.messages_received > 0);
    CHECK(m.bytes_sent > 8 * m.messages_sent);

    /* A program built against the header without the message counts. */
    pcmoe_metrics old;
    memset(&old, 0xAB, sizeof old);
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &old, offsetof(pcmoe_metrics, messages_sent)), PCMOE_OK);
    CHECK(old.turns == m.turns);
    CHECK(old.messages_sent == 0xABABABABABABABABull);
    CHECK(m.peak_parameter_bytes > 0);
    CHECK(m.peak_gradient_bytes > 0);
    CHECK(m.peak_optimizer_bytes > 0);
    CHECK(m.peak_activation_bytes > 0);
    CHECK(m.peak_served_activation_bytes > 0);
    CHECK(m.peak_total_bytes >= m.peak_parameter_bytes + m.peak_optimizer_bytes);
    CHECK(m.train_bytes == 2700);
    CHECK(m.validation_bytes == 300);
}

static void test_cancel(pcmoe_party **parties, progress_record *record) {
    CHECK_STATUS(pcmoe_party_cancel(NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    /* A cancel while nothing runs has no effect on the next call. */
    CHECK_STATUS(pcmoe_party_cancel(parties[2]), PCMOE_OK);
    pcmoe_evaluation e;
    CHECK_STATUS(pcmoe_party_evaluate(parties[2], 2, &e, sizeof e), PCMOE_OK);
    /* The progress callback cancels after the first batch of 4 windows. */
    record->cancel_party = parties[2];
    CHECK_STATUS(pcmoe_party_evaluate(parties[2], 0, &e, sizeof e), PCMOE_ERROR_CANCELLED);
    CHECK_MESSAGE("stopped after 4");
    record->cancel_party = NULL;
    CHECK_STATUS(pcmoe_party_set_progress_callback(NULL, record_progress, record), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_set_progress_callback(parties[2], NULL, NULL), PCMOE_OK);
    int before = record->evaluations;
    CHECK_STATUS(pcmoe_party_evaluate(parties[2], 2, &e, sizeof e), PCMOE_OK);
    CHECK(record->evaluations == before);
}

void test_training(void) {
    pcmoe_party *parties[TEST_PARTIES];
    pcmoe_hub *hub = hub_session(parties, ROUNDS + 1);
    progress_record record = {0, 0, 0, 0, NULL};
    CHECK_STATUS(pcmoe_party_set_progress_callback(parties[0], record_progress, &record), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_set_progress_callback(parties[2], record_progress, &record), PCMOE_OK);
    test_loss_falls(parties, &record);
    record.turns = 0;
    test_results_and_metrics(parties, &record);
    test_cancel(parties, &record);
    pcmoe_hub_destroy(hub);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
}
