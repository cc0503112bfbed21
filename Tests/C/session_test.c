/* pcmoe_party_run_session: its settings and rejections, a party alone, and
 * three parties over the hub. Then the same session resumed from its
 * checkpoints and stopped by a cancel, and three parties over the network
 * with CURVE, which must give the hub's losses bit for bit. */
#include "check.h"
#include "fixtures.h"
#include "network_fixtures.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#define ROUNDS 3
#define STEPS (ROUNDS * TEST_PARTIES)

static void test_params_and_rejections(void) {
    pcmoe_session_params params;
    CHECK_STATUS(pcmoe_session_default_params(NULL, sizeof params), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_session_default_params(&params, 4), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_session_default_params(&params, 5000), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_session_default_params(&params, sizeof params), PCMOE_OK);
    CHECK(params.struct_size == sizeof params);
    CHECK(params.checkpoint_folder == NULL);
    CHECK(params.checkpoint_every == 1);
    CHECK(params.join_timeout_seconds == 600);
    CHECK(params.wait_timeout_seconds == 600);
    CHECK(params.max_rejoins == 20);
    CHECK(params.evaluation_windows == 0);

    pcmoe_party *party = tiny_party(0, 2);
    CHECK(party != NULL);
    pcmoe_evaluation e;
    params.checkpoint_folder = temp_path(0, "rejections");
    CHECK_STATUS(pcmoe_party_run_session(NULL, &params, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("party is NULL");
    CHECK_STATUS(pcmoe_party_run_session(party, NULL, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("params is NULL");

    pcmoe_session_params p = params;
    p.struct_size = 0;
    CHECK_STATUS(pcmoe_party_run_session(party, &p, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("pcmoe_session_default_params");
    p = params;
    p.checkpoint_folder = NULL;
    CHECK_STATUS(pcmoe_party_run_session(party, &p, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("checkpoint_folder is NULL");
    p.checkpoint_folder = "";
    CHECK_STATUS(pcmoe_party_run_session(party, &p, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("checkpoint folder is empty");
    p = params;
    p.checkpoint_every = 0;
    CHECK_STATUS(pcmoe_party_run_session(party, &p, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("checkpoint interval is 0");
    p = params;
    p.join_timeout_seconds = 0;
    CHECK_STATUS(pcmoe_party_run_session(party, &p, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("join timeout");
    p = params;
    p.wait_timeout_seconds = NAN;
    CHECK_STATUS(pcmoe_party_run_session(party, &p, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("wait timeout");
    CHECK_STATUS(pcmoe_party_run_session(party, &params, NULL, NULL, &e, 4), PCMOE_ERROR_BUFFER_TOO_SMALL);
    CHECK_STATUS(pcmoe_party_run_session(party, &params, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("has no transport");

    /* A checkpoint folder that cannot be created, under a regular file. */
    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &hub), PCMOE_OK);
    CHECK_STATUS(pcmoe_hub_attach(hub, party), PCMOE_OK);
    CHECK(write_file(temp_path(1, "a-file"), "text") == 0);
    p = params;
    p.checkpoint_folder = temp_path(1, "a-file/checkpoints");
    CHECK_STATUS(pcmoe_party_run_session(party, &p, NULL, NULL, &e, sizeof e), PCMOE_ERROR_IO);
    CHECK_MESSAGE("a-file/checkpoints");

    /* A party without text. */
    pcmoe_party_params bare = tiny_params(1, 2);
    pcmoe_party *empty = NULL;
    CHECK_STATUS(pcmoe_party_create(&bare, &empty), PCMOE_OK);
    CHECK_STATUS(pcmoe_hub_attach(hub, empty), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_run_session(empty, &params, NULL, NULL, &e, sizeof e), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("has no training data");
    pcmoe_hub_destroy(hub);
    pcmoe_party_destroy(empty);
    pcmoe_party_destroy(party);
}

/* A party alone needs no transport: every turn is its own, and with
 * checkpoint_every 1 it saves after each. Run again, it resumes from the
 * checkpoint after its last turn. */
static void test_party_alone(void) {
    pcmoe_party_params params = tiny_params(0, 1);
    params.party_count = 1;
    params.steps = 2;
    pcmoe_party *party = NULL;
    CHECK_STATUS(pcmoe_party_create(&params, &party), PCMOE_OK);
    uint8_t *text = sample_text(0, 3000);
    CHECK_STATUS(pcmoe_party_load_data(party, text, 3000), PCMOE_OK);
    free(text);

    session_run run;
    session_run_init(&run, party, "alone");
    CHECK(session_run_start(&run) == 0);
    session_run_join(&run);
    CHECK_RUN(&run, PCMOE_OK, "");
    const int32_t kinds[6] = {PCMOE_SESSION_JOINED, PCMOE_SESSION_TURN,  PCMOE_SESSION_SAVED,
                              PCMOE_SESSION_TURN,   PCMOE_SESSION_SAVED, PCMOE_SESSION_EVALUATED};
    const uint64_t turns[6] = {0, 1, 1, 2, 2, 0};
    CHECK(run.count == 6);
    for (int i = 0; i < 6 && i < run.count; i++) {
        CHECK(run.kinds[i] == kinds[i]);
        CHECK(run.turns[i] == turns[i]);
        CHECK(isnan(run.losses[i]) == (kinds[i] == PCMOE_SESSION_JOINED || kinds[i] == PCMOE_SESSION_SAVED));
    }
    CHECK(run.resumed[0] == 0);
    CHECK(run.losses[5] == run.evaluation.loss);
    CHECK(run.evaluation.tokens == 8 * 16);

    session_run again;
    session_run_init(&again, party, "alone");
    CHECK(session_run_start(&again) == 0);
    session_run_join(&again);
    CHECK_RUN(&again, PCMOE_OK, "");
    CHECK(again.count == 2);
    CHECK(again.kinds[0] == PCMOE_SESSION_JOINED);
    CHECK(again.turns[0] == 2);
    CHECK(again.resumed[0] == 1);
    CHECK(again.kinds[1] == PCMOE_SESSION_EVALUATED);
    CHECK(again.evaluation.loss == run.evaluation.loss);

    /* No callback and no result are allowed. */
    CHECK_STATUS(pcmoe_party_run_session(party, &again.params, NULL, NULL, NULL, 0), PCMOE_OK);
    pcmoe_party_destroy(party);
}

/* Checks the events of a session that ran from the start without a fault
 * and records each turn's loss in losses[turn - 1]. */
static void check_events(const session_run *run, uint32_t id, double *losses) {
    CHECK(session_run_events(run, PCMOE_SESSION_FAULT) == 0);
    if (run->fault[0] != '\0') fprintf(stderr, "party %u: fault: %s\n", id, run->fault);
    CHECK(run->events_with_message == 0);
    CHECK(run->count == 2 + 2 * ROUNDS);
    if (run->count < 2) return;
    CHECK(run->kinds[0] == PCMOE_SESSION_JOINED);
    CHECK(run->turns[0] == 0);
    CHECK(run->resumed[0] == 0);
    CHECK(run->kinds[run->count - 1] == PCMOE_SESSION_EVALUATED);
    CHECK(run->losses[run->count - 1] == run->evaluation.loss);
    CHECK(session_run_events(run, PCMOE_SESSION_TURN) == ROUNDS);
    CHECK(session_run_events(run, PCMOE_SESSION_SAVED) == ROUNDS);
    uint64_t last_turn = 0, last_saved = 0;
    for (int i = 1; i < run->count - 1; i++) {
        uint64_t turn = run->turns[i];
        if (run->kinds[i] == PCMOE_SESSION_TURN) {
            CHECK(turn > last_turn);
            CHECK(turn <= STEPS);
            CHECK((turn - 1) % TEST_PARTIES == id);
            CHECK(isfinite(run->losses[i]));
            last_turn = turn;
            if (turn >= 1 && turn <= STEPS) losses[turn - 1] = run->losses[i];
        } else {
            /* A checkpoint after each round, once this party's turn of it is done. */
            CHECK(run->kinds[i] == PCMOE_SESSION_SAVED);
            CHECK(turn == last_saved + TEST_PARTIES);
            CHECK(last_turn > last_saved);
            CHECK(isnan(run->losses[i]));
            last_saved = turn;
        }
    }
    CHECK(last_saved == STEPS);
}

/* Runs one session of the three parties, each on its own thread, with
 * checkpoints under `folder`, behind a gate that `open` lifts. */
static void run_three(pcmoe_party **parties, const char *folder, session_run *runs, int (*open)(void *),
                      void *context) {
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s/party-%u", folder, i);
        session_run_init(&runs[i], parties[i], name);
    }
    CHECK(session_runs_start_gated(runs, TEST_PARTIES, open, context) == 0);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) session_run_join(&runs[i]);
}

/* The parties of a session and the transport that opens its gate. */
typedef struct three_parties {
    pcmoe_party *parties[TEST_PARTIES];
    pcmoe_hub *hub;
    test_deployment deployment;
    pcmoe_network *networks[TEST_PARTIES];
} three_parties;

static int attach_to_hub(void *context) {
    three_parties *three = context;
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        if (pcmoe_hub_attach(three->hub, three->parties[i]) != PCMOE_OK) return -1;
    }
    return 0;
}

static int create_networks(void *context) {
    three_parties *three = context;
    return connect_parties(three->parties, &three->deployment, 0, three->networks);
}

static void check_traffic(pcmoe_party **parties) {
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        pcmoe_metrics m;
        CHECK_STATUS(pcmoe_party_metrics(parties[i], &m, sizeof m), PCMOE_OK);
        CHECK(m.bytes_sent > 0);
        CHECK(m.bytes_received > 0);
        CHECK(m.turns == ROUNDS);
        CHECK(m.expert_steps == STEPS);
    }
}

/* Three parties with their own texts and a hub none is attached to yet. */
static void hub_parties(three_parties *three) {
    memset(three, 0, sizeof *three);
    CHECK_STATUS(pcmoe_hub_create(TEST_PARTIES, &three->hub), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        three->parties[i] = tiny_party(i, ROUNDS);
        CHECK(three->parties[i] != NULL);
    }
}

static void destroy_hub_parties(three_parties *three) {
    pcmoe_hub_destroy(three->hub);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(three->parties[i]);
}

static void test_hub_session(double *losses, pcmoe_evaluation *evaluations) {
    three_parties three;
    hub_parties(&three);
    session_run runs[TEST_PARTIES];
    for (int t = 0; t < STEPS; t++) losses[t] = NAN;
    run_three(three.parties, "hub-session", runs, attach_to_hub, &three);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        CHECK_RUN(&runs[i], PCMOE_OK, "");
        check_events(&runs[i], i, losses);
        CHECK(isfinite(runs[i].evaluation.loss));
        CHECK(runs[i].evaluation.tokens == 8 * 16);
        evaluations[i] = runs[i].evaluation;
    }
    for (int t = 0; t < STEPS; t++) CHECK(isfinite(losses[t]));
    check_traffic(three.parties);
    destroy_hub_parties(&three);
}

typedef struct cancel_once {
    pcmoe_party *party;
    session_run *runs;
    int cancels;
} cancel_once;

/* Cancels party 0's first evaluation after its first batch, once the other
 * parties reported their join, so they are under way when it stops. */
static void cancel_first_evaluation(void *context, const pcmoe_progress *progress) {
    cancel_once *state = context;
    if (progress->stage != PCMOE_STAGE_EVALUATE || progress->done >= progress->total || state->cancels > 0) return;
    for (int waited = 0; waited < 3000; waited++) {
        int joined = 1;
        for (uint32_t i = 1; i < TEST_PARTIES; i++) joined &= session_run_reported(&state->runs[i], PCMOE_SESSION_JOINED);
        if (joined) break;
        usleep(10 * 1000);
    }
    state->cancels++;
    pcmoe_party_cancel(state->party);
}

/* Checks a session that resumed after the last turn: it joined at once
 * or after faults, took no turn, and evaluated as the first run did. */
static void check_resumed(const session_run *run, const pcmoe_evaluation *expected) {
    CHECK_RUN(run, PCMOE_OK, "");
    CHECK(run->count >= 2);
    if (run->count < 2) return;
    CHECK(run->kinds[0] == PCMOE_SESSION_JOINED);
    CHECK(run->turns[0] == STEPS);
    CHECK(run->resumed[0] == 1);
    CHECK(run->kinds[run->count - 1] == PCMOE_SESSION_EVALUATED);
    CHECK(session_run_events(run, PCMOE_SESSION_TURN) == 0);
    CHECK(run->fault_without_message == 0);
    CHECK(session_run_events(run, PCMOE_SESSION_JOINED) == 1 + session_run_events(run, PCMOE_SESSION_FAULT));
    CHECK(run->evaluation.loss == expected->loss);
    CHECK(run->evaluation.tokens == expected->tokens);
}

/* New parties resume from the hub session's checkpoints after its last
 * turn. A cancel during party 0's evaluation stops its session. A second
 * call brings party 0 back; the others take its return as a fault and join
 * again, and every evaluation equals that of the first run. */
static void test_stop_and_resume(const pcmoe_evaluation *evaluations) {
    three_parties three;
    hub_parties(&three);
    session_run runs[TEST_PARTIES];
    cancel_once state = {three.parties[0], runs, 0};
    CHECK_STATUS(pcmoe_party_set_progress_callback(three.parties[0], cancel_first_evaluation, &state), PCMOE_OK);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        char name[64];
        snprintf(name, sizeof name, "hub-session/party-%u", i);
        session_run_init(&runs[i], three.parties[i], name);
    }
    CHECK(session_runs_start_gated(runs, TEST_PARTIES, attach_to_hub, &three) == 0);
    session_run_join(&runs[0]);
    CHECK(state.cancels == 1);
    CHECK_RUN(&runs[0], PCMOE_ERROR_CANCELLED, "stopped");
    CHECK(runs[0].count == 1);
    CHECK(runs[0].kinds[0] == PCMOE_SESSION_JOINED);
    CHECK(runs[0].turns[0] == STEPS);

    session_run again;
    session_run_init(&again, three.parties[0], "hub-session/party-0");
    CHECK(session_run_start(&again) == 0);
    session_run_join(&again);
    for (uint32_t i = 1; i < TEST_PARTIES; i++) session_run_join(&runs[i]);
    check_resumed(&again, &evaluations[0]);
    for (uint32_t i = 1; i < TEST_PARTIES; i++) {
        check_resumed(&runs[i], &evaluations[i]);
        CHECK(session_run_events(&runs[i], PCMOE_SESSION_FAULT) >= 1);
    }
    destroy_hub_parties(&three);
}

/* Three parties over ZeroMQ with CURVE on loopback: the same losses and
 * evaluations as over the hub, bit for bit. */
static void test_network_session(const double *hub_losses, const pcmoe_evaluation *evaluations) {
    three_parties three;
    memset(&three, 0, sizeof three);
    CHECK(prepare_deployment(&three.deployment, "session", 99) == 0);
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        three.parties[i] = tiny_party(i, ROUNDS);
        CHECK(three.parties[i] != NULL);
    }
    double losses[STEPS];
    for (int t = 0; t < STEPS; t++) losses[t] = NAN;
    session_run runs[TEST_PARTIES];
    run_three(three.parties, "network-session", runs, create_networks, &three);
    int connected = three.networks[TEST_PARTIES - 1] != NULL;
    CHECK(connected);
    for (uint32_t i = 0; i < TEST_PARTIES && connected; i++) {
        CHECK_RUN(&runs[i], PCMOE_OK, "");
        check_events(&runs[i], i, losses);
        CHECK(runs[i].evaluation.loss == evaluations[i].loss);
        CHECK(runs[i].evaluation.tokens == evaluations[i].tokens);
        pcmoe_network_counters counters;
        CHECK_STATUS(pcmoe_network_stats(three.networks[i], &counters, sizeof counters), PCMOE_OK);
        CHECK(counters.rejected_connections == 0);
    }
    if (connected) {
        CHECK(memcmp(losses, hub_losses, sizeof losses) == 0);
        check_traffic(three.parties);
        /* The networks go first: the parties are then left without a transport. */
        for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_network_destroy(three.networks[i]);
        CHECK_STATUS(pcmoe_party_join(three.parties[0]), PCMOE_ERROR_INVALID_ARGUMENT);
        CHECK_MESSAGE("no transport");
    }
    for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(three.parties[i]);
}

void test_sessions(void) {
    test_params_and_rejections();
    test_party_alone();
    double losses[STEPS];
    pcmoe_evaluation evaluations[TEST_PARTIES];
    test_hub_session(losses, evaluations);
    test_stop_and_resume(evaluations);
    test_network_session(losses, evaluations);
    CHECK(pcmoe_peak_resident_bytes() > (uint64_t)1 << 20);
}
