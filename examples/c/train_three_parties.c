/*
 * Three parties train one Mixture-of-Experts model together, each on its
 * own text, one party per thread, with messages carried by the example's
 * own queue transport (queue_transport.c) through pcmoe's callbacks.
 *
 *   train_three_parties [--rounds N] [--tiny] [TEXT0 TEXT1 TEXT2]
 *
 * Without texts, each party gets a generated text of its own style.
 * --tiny picks a very small model, for runs under valgrind.
 */
#include "queue_transport.h"

#include <pcmoe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARTIES 3

/* The turn order shared by the party threads: turn t belongs to party (t - 1) mod 3. */
typedef struct schedule {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t next_turn;
    int failed;
    uint32_t rounds;
    double losses[PARTIES];
} schedule;

typedef struct party_thread {
    pcmoe_party *party;
    uint32_t id;
    schedule *schedule;
    pcmoe_evaluation evaluation;
    int ok;
} party_thread;

/* Builds a text in one of three styles, so each party's data differs. */
static uint8_t *generated_text(uint32_t style, size_t size) {
    static const char *const words[PARTIES][8] = {
        {"the ", "ship ", "sails ", "north ", "at ", "dawn ", "and ", "returns "},
        {"int ", "main ", "(void) ", "{ ", "return ", "0; ", "} ", "\n"},
        {"SELECT ", "name ", "FROM ", "users ", "WHERE ", "id ", "= ", "42;\n"},
    };
    uint8_t *text = malloc(size);
    if (text == NULL) return NULL;
    uint64_t state = 0x9E3779B97F4A7C15ull * (style + 1);
    size_t filled = 0;
    while (filled < size) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const char *word = words[style][(state >> 33) % 8];
        for (size_t i = 0; word[i] != '\0' && filled < size; i++) text[filled++] = (uint8_t)word[i];
    }
    return text;
}

static int check(pcmoe_status status, const char *what) {
    if (status == PCMOE_OK) return 1;
    fprintf(stderr, "%s failed: %s: %s\n", what, pcmoe_status_string(status), pcmoe_last_error());
    return 0;
}

/* Waits for each of this party's turns, takes it, and prints the round when it is the last party. */
static void *run_party(void *argument) {
    party_thread *self = argument;
    schedule *s = self->schedule;
    self->ok = check(pcmoe_party_join(self->party), "join");
    for (uint32_t round = 0; self->ok && round < s->rounds; round++) {
        uint64_t turn = (uint64_t)round * PARTIES + self->id + 1;
        pthread_mutex_lock(&s->lock);
        while (s->next_turn != turn && !s->failed) pthread_cond_wait(&s->changed, &s->lock);
        int failed = s->failed;
        pthread_mutex_unlock(&s->lock);
        if (failed) break;

        pcmoe_turn_result result;
        self->ok = check(pcmoe_party_train_turn(self->party, turn, &result, sizeof result), "train turn");

        pthread_mutex_lock(&s->lock);
        s->losses[self->id] = result.loss;
        if (self->ok && self->id == PARTIES - 1) {
            printf("round %3u  loss %.4f %.4f %.4f\n", round + 1, s->losses[0], s->losses[1], s->losses[2]);
            fflush(stdout);
        }
        s->next_turn = turn + 1;
        s->failed |= !self->ok;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
    }
    /* Evaluate only after every party's last turn, so that no expert
     * changes while this party scores its held-out text. */
    pthread_mutex_lock(&s->lock);
    while (s->next_turn <= (uint64_t)s->rounds * PARTIES && !s->failed) pthread_cond_wait(&s->changed, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (self->ok) {
        self->ok = check(pcmoe_party_evaluate(self->party, 32, &self->evaluation, sizeof self->evaluation), "evaluate");
    }
    return NULL;
}

static void set_sizes(pcmoe_party_params *p, int tiny, uint32_t rounds) {
    p->party_count = PARTIES;
    p->session = 2024;
    p->d_model = tiny ? 16 : 64;
    p->n_heads = tiny ? 2 : 4;
    p->n_layers = tiny ? 1 : 2;
    p->n_experts = 6;
    p->top_k = 2;
    p->expert_hidden = tiny ? 32 : 128;
    p->seq_len = tiny ? 16 : 32;
    p->batch = tiny ? 2 : 8;
    p->steps = (uint64_t)rounds * PARTIES;
    p->learning_rate = 3e-3;
    /* Fixed backbone seeds make runs repeatable. A real deployment leaves
     * use_backbone_seed at 0, so that each initial backbone stays private. */
    p->use_backbone_seed = 1;
    p->backbone_seed = 1000 + p->party_id;
}

int main(int argc, char **argv) {
    uint32_t rounds = 30;
    int tiny = 0;
    const char *texts[PARTIES] = {NULL, NULL, NULL};
    int given = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--tiny") == 0) {
            tiny = 1;
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("usage: %s [--rounds N] [--tiny] [TEXT0 TEXT1 TEXT2]\n", argv[0]);
            return 0;
        } else if (given < PARTIES && argv[i][0] != '-') {
            texts[given++] = argv[i];
        } else {
            fprintf(stderr, "usage: %s [--rounds N] [--tiny] [TEXT0 TEXT1 TEXT2]\n", argv[0]);
            return 2;
        }
    }
    if (rounds == 0 || (given != 0 && given != PARTIES)) {
        fprintf(stderr, "give a positive round count, and either no texts or one per party\n");
        return 2;
    }
    printf("pcmoe %s: %d parties, %u rounds\n", pcmoe_version(), PARTIES, rounds);

    pcmoe_party *parties[PARTIES] = {NULL, NULL, NULL};
    int ok = 1;
    for (uint32_t i = 0; ok && i < PARTIES; i++) {
        pcmoe_party_params params;
        ok = check(pcmoe_party_default_params(&params, sizeof params), "default params");
        params.party_id = i;
        set_sizes(&params, tiny, rounds);
        ok = ok && check(pcmoe_party_create(&params, &parties[i]), "create party");
        if (ok && given) {
            ok = check(pcmoe_party_load_data_file(parties[i], texts[i]), texts[i]);
        } else if (ok) {
            size_t size = tiny ? 4096 : 200000;
            uint8_t *text = generated_text(i, size);
            ok = text != NULL && check(pcmoe_party_load_data(parties[i], text, size), "load data");
            free(text);
        }
    }

    queue_transport *transport = ok ? queue_transport_create(parties, PARTIES) : NULL;
    ok = ok && transport != NULL;
    for (uint32_t i = 0; ok && i < PARTIES; i++) {
        ok = check(pcmoe_party_set_transport(parties[i], queue_transport_send, transport), "set transport");
    }

    schedule s = {.next_turn = 1, .rounds = rounds};
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.changed, NULL);
    party_thread threads[PARTIES];
    pthread_t handles[PARTIES];
    for (uint32_t i = 0; ok && i < PARTIES; i++) {
        threads[i] = (party_thread){.party = parties[i], .id = i, .schedule = &s};
        ok = pthread_create(&handles[i], NULL, run_party, &threads[i]) == 0;
        if (!ok) rounds = i; /* threads started so far */
    }
    for (uint32_t i = 0; transport != NULL && i < (ok ? PARTIES : rounds); i++) pthread_join(handles[i], NULL);
    for (uint32_t i = 0; ok && i < PARTIES; i++) {
        pcmoe_metrics m;
        ok = threads[i].ok && check(pcmoe_party_metrics(parties[i], &m, sizeof m), "metrics");
        if (ok) {
            printf("party %u: validation %.4f bits/byte over %llu bytes; sent %llu bytes, received %llu bytes; "
                   "peak tensors %.1f MiB\n",
                   i, threads[i].evaluation.bits_per_byte, (unsigned long long)threads[i].evaluation.tokens,
                   (unsigned long long)m.bytes_sent, (unsigned long long)m.bytes_received,
                   (double)m.peak_total_bytes / (1024.0 * 1024.0));
        }
    }

    queue_transport_destroy(transport);
    for (uint32_t i = 0; i < PARTIES; i++) pcmoe_party_destroy(parties[i]);
    pthread_cond_destroy(&s.changed);
    pthread_mutex_destroy(&s.lock);
    return ok ? 0 : 1;
}
