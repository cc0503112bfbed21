#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pcmoe_party_params tiny_params(uint32_t party_id, uint32_t rounds) {
    pcmoe_party_params p;
    pcmoe_party_default_params(&p, sizeof p);
    p.party_id = party_id;
    p.party_count = TEST_PARTIES;
    p.session = 99;
    p.d_model = 16;
    p.n_heads = 2;
    p.n_layers = 1;
    p.n_experts = 6;
    p.top_k = 2;
    p.expert_hidden = 32;
    p.seq_len = 16;
    p.batch = 4;
    p.steps = (uint64_t)rounds * TEST_PARTIES;
    p.learning_rate = 1e-2;
    p.use_backbone_seed = 1;
    p.backbone_seed = 5;
    p.call_timeout_seconds = 30;
    return p;
}

uint8_t *sample_text(uint32_t style, size_t size) {
    static const char *const phrases[3] = {"the cat sat on the mat. ", "one two three four. ", "abc abd abe abf. "};
    const char *phrase = phrases[style % 3];
    size_t length = strlen(phrase);
    uint8_t *text = malloc(size);
    for (size_t i = 0; text != NULL && i < size; i++) text[i] = (uint8_t)phrase[i % length];
    return text;
}

pcmoe_party *tiny_party(uint32_t id, uint32_t rounds) {
    pcmoe_party_params params = tiny_params(id, rounds);
    pcmoe_party *party = NULL;
    if (pcmoe_party_create(&params, &party) != PCMOE_OK) return NULL;
    uint8_t *text = sample_text(id, 3000);
    pcmoe_status status = pcmoe_party_load_data(party, text, 3000);
    free(text);
    if (status != PCMOE_OK) {
        pcmoe_party_destroy(party);
        return NULL;
    }
    return party;
}

const char *temp_folder(void) {
    static char folder[64] = "";
    if (folder[0] == '\0') {
        strcpy(folder, "/tmp/pcmoe-c-test-XXXXXX");
        if (mkdtemp(folder) == NULL) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return folder;
}

const char *temp_path(int slot, const char *name) {
    static char paths[4][256];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", temp_folder(), name);
    return paths[slot];
}

int write_file(const char *path, const char *text) {
    FILE *file = fopen(path, "w");
    if (file == NULL) return -1;
    int ok = fputs(text, file) >= 0;
    return (fclose(file) == 0 && ok) ? 0 : -1;
}
