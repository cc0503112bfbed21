/* The callback transport. The example's queue transport gives bitwise the
 * losses of the hub, a failing transport ends a turn with a peer error, and
 * a cancel stops a turn that waits. */
#include "check.h"
#include "fixtures.h"
#include "queue_transport.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define ROUNDS 4

/* Takes ROUNDS rounds and records every loss. */
static void run_rounds(pcmoe_party **parties, double *losses) {
    for (uint32_t round = 0; round < ROUNDS; round++) {
        for (uint32_t i = 0; i < TEST_PARTIES; i++) {
            pcmoe_turn_result r;
            uint64_t turn = (uint64_t)round * TEST_PARTIES + i + 1;
            CHECK_STATUS(pcmoe_party_train_turn(parties[i], turn, &r, sizeof r), PCMOE_OK);
            losses[turn - 1] = r.loss;
        }
    }
}

static void test_same_losses_as_hub(void) {
    double hub_losses[ROUNDS * TEST_PARTIES], queue_losses[ROUNDS * TEST_PARTIES];
    pcmoe_party *parties[TEST_PARTIES];

    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &hub), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        parties[i] = tiny_party(i, ROUNDS);
        CHECK_STATUS(pcmoe_hub_attach(hub, parties[i]), PCMOE_OK);
    }
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_join(parties[i]), PCMOE_OK);
    run_rounds(parties, hub_losses);
    pcmoe_hub_destroy(hub);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);

    for (uint32_t i = 0; i < TEST_PARTIES; i++) parties[i] = tiny_party(i, ROUNDS);
    queue_transport *transport = queue_transport_create(parties, TEST_PARTIES);
    CHECK(transport != NULL);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        CHECK_STATUS(pcmoe_party_set_transport(parties[i], queue_transport_send, transport), PCMOE_OK);
    }
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_join(parties[i]), PCMOE_OK);
    run_rounds(parties, queue_losses);
    CHECK(memcmp(hub_losses, queue_losses, sizeof hub_losses) == 0);
    CHECK(queue_transport_delivered(transport) > 0);
    CHECK(queue_transport_refused(transport) == 0);
    queue_transport_destroy(transport);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
}

/* A transport that refuses every message. */
static int refuse(void *context, uint32_t destination, const uint8_t *bytes, size_t size) {
    (void)destination, (void)bytes, (void)size;
    ++*(int *)context;
    return -1;
}

/* A transport that accepts every message and delivers none. */
static int swallow(void *context, uint32_t destination, const uint8_t *bytes, size_t size) {
    (void)context, (void)destination, (void)bytes, (void)size;
    return 0;
}

static void *cancel_soon(void *party) {
    usleep(100 * 1000);
    pcmoe_party_cancel(party);
    return NULL;
}

/* Party 0 of a joined hub session whose call timeout is one second. */
static pcmoe_hub *joined_session(pcmoe_party **parties) {
    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &hub), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        pcmoe_party_params params = tiny_params(i, 4);
        if (i == 0) params.call_timeout_seconds = 1;
        parties[i] = NULL;
        CHECK_STATUS(pcmoe_party_create(&params, &parties[i]), PCMOE_OK);
        uint8_t *text = sample_text(i, 3000);
        CHECK_STATUS(pcmoe_party_load_data(parties[i], text, 3000), PCMOE_OK);
        free(text);
        CHECK_STATUS(pcmoe_hub_attach(hub, parties[i]), PCMOE_OK);
    }
    return hub;
}

static void test_failing_transports(void) {
    pcmoe_party *parties[TEST_PARTIES];
    pcmoe_hub *hub = joined_session(parties);
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 1, NULL, 0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("has not joined");
    for (uint32_t i = 0; i < TEST_PARTIES; i++) CHECK_STATUS(pcmoe_party_join(parties[i]), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 1, NULL, 0), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_train_turn(parties[1], 1, NULL, 0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("not after turn 1");

    /* A transport that refuses everything: the turn fails naming the layer. */
    int refused = 0;
    CHECK_STATUS(pcmoe_party_set_transport(parties[0], refuse, &refused), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 2, NULL, 0), PCMOE_ERROR_PEER);
    CHECK_MESSAGE("of layer 0");
    CHECK(refused > 0);

    /* A turn waiting on silent peers stops when cancelled from another thread. */
    CHECK_STATUS(pcmoe_party_set_transport(parties[0], swallow, NULL), PCMOE_OK);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, cancel_soon, parties[0]) == 0);
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 2, NULL, 0), PCMOE_ERROR_CANCELLED);
    CHECK_MESSAGE("cancelled");
    pthread_join(thread, NULL);

    /* The hub again: the session goes on, and stops when its steps are taken. */
    CHECK_STATUS(pcmoe_hub_attach(hub, parties[0]), PCMOE_OK);
    for (uint64_t turn = 2; turn <= 4 * TEST_PARTIES; turn++) {
        CHECK_STATUS(pcmoe_party_train_turn(parties[(turn - 1) % TEST_PARTIES], turn, NULL, 0), PCMOE_OK);
    }
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 4 * TEST_PARTIES + 1, NULL, 0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("all taken");

    pcmoe_hub_destroy(hub);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
}

static void test_mismatched_session(void) {
    pcmoe_party *parties[TEST_PARTIES];
    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &hub), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        pcmoe_party_params params = tiny_params(i, 4);
        if (i == 2) params.learning_rate = 0.5e-2;
        parties[i] = NULL;
        CHECK_STATUS(pcmoe_party_create(&params, &parties[i]), PCMOE_OK);
        CHECK_STATUS(pcmoe_hub_attach(hub, parties[i]), PCMOE_OK);
    }
    CHECK_STATUS(pcmoe_party_join(parties[0]), PCMOE_ERROR_PEER);
    CHECK_MESSAGE("learning_rate differs");
    pcmoe_hub_destroy(hub);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
}

void test_transports(void) {
    test_same_losses_as_hub();
    test_failing_transports();
    test_mismatched_session();
}
