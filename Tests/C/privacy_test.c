/* Row noise and own-expert routing set through pcmoe_party_params: their
 * defaults, structs of older headers, rejected values, and their effect on
 * the first turn of a two-party session over a hub. */
#include "check.h"
#include "fixtures.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#define PRIVACY_PARTIES 2

/* Creating a party from `params` fails with INVALID_ARGUMENT mentioning `text`. */
static void check_rejected(pcmoe_party_params params, const char *text) {
    pcmoe_party *party = (pcmoe_party *)&params; /* must be reset to NULL */
    CHECK_STATUS(pcmoe_party_create(&params, &party), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE(text);
    CHECK(party == NULL);
}

/* Creating a party from `params` succeeds. */
static void check_created(pcmoe_party_params params) {
    pcmoe_party *party = NULL;
    CHECK_STATUS(pcmoe_party_create(&params, &party), PCMOE_OK);
    CHECK(party != NULL);
    pcmoe_party_destroy(party);
}

static void test_defaults_and_older_structs(void) {
    pcmoe_party_params params;
    CHECK_STATUS(pcmoe_party_default_params(&params, sizeof params), PCMOE_OK);
    CHECK(params.row_clip_norm == 0);
    CHECK(params.row_noise_sigma == 0);
    CHECK(params.own_expert_layers == 0);

    /* A program built against the header that ended at call_retries passes
     * its sizeof, which ends where row_clip_norm starts. */
    size_t call_retries_version = offsetof(pcmoe_party_params, row_clip_norm);
    CHECK(call_retries_version >= offsetof(pcmoe_party_params, call_retries) + sizeof(uint32_t));

    /* pcmoe_party_default_params writes nothing beyond the size given. */
    pcmoe_party_params older;
    memset(&older, 0xAB, sizeof older);
    CHECK_STATUS(pcmoe_party_default_params(&older, call_retries_version), PCMOE_OK);
    CHECK(older.struct_size == call_retries_version);
    CHECK(older.call_retries == 2);
    CHECK(older.own_expert_layers == 0xABABABABu);

    /* pcmoe_party_create reads nothing beyond struct_size: these values
     * would be rejected if it read them. */
    older = tiny_params(0, 4);
    older.struct_size = call_retries_version;
    older.row_clip_norm = -1;
    older.row_noise_sigma = -1;
    older.own_expert_layers = 1000;
    check_created(older);

    /* A struct that ends inside the new fields takes those it covers. */
    pcmoe_party_params partial = tiny_params(0, 4);
    partial.struct_size = offsetof(pcmoe_party_params, own_expert_layers);
    partial.own_expert_layers = 1000;
    check_created(partial);
    partial.row_noise_sigma = 0.5; /* covered, with row_clip_norm 0 */
    check_rejected(partial, "row_noise_sigma is 0.5 but row_clip_norm is 0");
}

static void test_rejected_values(void) {
    pcmoe_party_params p = tiny_params(0, 4);
    p.row_noise_sigma = 0.5;
    check_rejected(p, "row_noise_sigma is 0.5 but row_clip_norm is 0");
    p = tiny_params(0, 4);
    p.row_clip_norm = -1;
    check_rejected(p, "row_clip_norm is -1");
    p = tiny_params(0, 4);
    p.row_clip_norm = NAN;
    check_rejected(p, "row_clip_norm is nan");
    p = tiny_params(0, 4);
    p.row_clip_norm = 4;
    p.row_noise_sigma = -0.5;
    check_rejected(p, "row_noise_sigma is -0.5");
    p = tiny_params(0, 4);
    p.row_clip_norm = 4;
    p.row_noise_sigma = INFINITY;
    check_rejected(p, "row_noise_sigma is inf");

    /* Above 1000 the noise would overflow the f16 wire type. */
    p.row_noise_sigma = 1001;
    check_rejected(p, "row_noise_sigma is 1001.0; give a standard deviation from 0 to 1000");

    /* The tiny model has one layer. */
    p = tiny_params(0, 4);
    p.own_expert_layers = 2;
    check_rejected(p, "own_expert_layers is 2, but the model has 1 layers");
    /* Three parties own two of six experts each, fewer than top-3. */
    p = tiny_params(0, 4);
    p.top_k = 3;
    p.own_expert_layers = 1;
    check_rejected(p, "own_expert_layers is 1, but party 0 owns 2 of 6 experts");

    /* A clip without noise, and both defenses together. */
    p = tiny_params(0, 4);
    p.row_clip_norm = 4;
    check_created(p);
    p.row_noise_sigma = 0.5;
    p.own_expert_layers = 1;
    check_created(p);
}

typedef struct first_turn {
    double loss;
    /* Sent by party 0 during its turn. */
    uint64_t messages_sent;
    uint64_t bytes_sent;
} first_turn;

/* Party 0's first turn in a two-party hub session where party 0 has these
 * privacy settings and party 1 the defaults. */
static first_turn run_first_turn(double clip, double sigma, uint32_t own_layers) {
    first_turn result = {NAN, 0, 0};
    pcmoe_hub *hub = NULL;
    CHECK_STATUS(pcmoe_hub_create(PRIVACY_PARTIES, &hub), PCMOE_OK);
    pcmoe_party *parties[PRIVACY_PARTIES] = {NULL, NULL};
    for (uint32_t id = 0; id < PRIVACY_PARTIES; id++) {
        pcmoe_party_params p = tiny_params(id, 2);
        p.party_count = PRIVACY_PARTIES;
        p.steps = 2 * PRIVACY_PARTIES;
        if (id == 0) {
            p.row_clip_norm = clip;
            p.row_noise_sigma = sigma;
            p.own_expert_layers = own_layers;
        }
        CHECK_STATUS(pcmoe_party_create(&p, &parties[id]), PCMOE_OK);
        uint8_t *text = sample_text(id, 3000);
        CHECK_STATUS(pcmoe_party_load_data(parties[id], text, 3000), PCMOE_OK);
        free(text);
        CHECK_STATUS(pcmoe_hub_attach(hub, parties[id]), PCMOE_OK);
    }
    for (uint32_t id = 0; id < PRIVACY_PARTIES; id++) CHECK_STATUS(pcmoe_party_join(parties[id]), PCMOE_OK);

    pcmoe_metrics before, after;
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &before, sizeof before), PCMOE_OK);
    pcmoe_turn_result r;
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 1, &r, sizeof r), PCMOE_OK);
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &after, sizeof after), PCMOE_OK);
    result.loss = r.loss;
    result.messages_sent = after.messages_sent - before.messages_sent;
    result.bytes_sent = after.bytes_sent - before.bytes_sent;

    pcmoe_hub_destroy(hub);
    for (uint32_t id = 0; id < PRIVACY_PARTIES; id++) pcmoe_party_destroy(parties[id]);
    return result;
}

static void test_session_effects(void) {
    first_turn exact = run_first_turn(0, 0, 0);
    first_turn again = run_first_turn(0, 0, 0);
    first_turn wide_clip = run_first_turn(1e6, 0, 0);
    first_turn noisy = run_first_turn(4, 2, 0);
    first_turn own = run_first_turn(0, 0, 1);
    printf("C privacy: first-turn loss exact %.6f, wide clip %.6f, noisy %.6f, own experts %.6f\n", exact.loss,
           wide_clip.loss, noisy.loss, own.loss);
    printf("C privacy: party 0 sent %llu messages of %llu bytes exact, %llu of %llu bytes with own experts\n",
           (unsigned long long)exact.messages_sent, (unsigned long long)exact.bytes_sent,
           (unsigned long long)own.messages_sent, (unsigned long long)own.bytes_sent);

    /* Runs are reproducible, so any difference comes from the settings. */
    CHECK(isfinite(exact.loss));
    CHECK(again.loss == exact.loss);
    CHECK(exact.messages_sent > 0);
    /* A clip above every row's norm with no noise leaves the rows exact. */
    CHECK(wide_clip.loss == exact.loss);
    CHECK(wide_clip.messages_sent == exact.messages_sent);
    /* Noise on the rows sent to party 1 changes what its experts return. */
    CHECK(isfinite(noisy.loss));
    CHECK(noisy.loss != exact.loss);
    CHECK(noisy.messages_sent == exact.messages_sent);
    /* With its only layer routed to its own experts, party 0 sends no rows:
     * only the request that steps party 1's experts. */
    CHECK(isfinite(own.loss));
    CHECK(own.loss != exact.loss);
    CHECK(own.messages_sent == 1);
    CHECK(own.bytes_sent * 20 < exact.bytes_sent);
}

void test_privacy(void) {
    test_defaults_and_older_structs();
    test_rejected_values();
    test_session_effects();
}
