/* Shared settings and helpers of the C tests. */
#ifndef PCMOE_TEST_FIXTURES_H
#define PCMOE_TEST_FIXTURES_H

#include <pcmoe.h>
#include <stddef.h>
#include <stdint.h>

#define TEST_PARTIES 3

/* Default params changed to a tiny model of a three-party session, with a
 * fixed backbone seed so runs can be compared bit for bit. */
pcmoe_party_params tiny_params(uint32_t party_id, uint32_t rounds);

/* A learnable text of `size` bytes in style `style`; free() it. */
uint8_t *sample_text(uint32_t style, size_t size);

/* Creates party `id` of a tiny session with `rounds` rounds and its own text. */
pcmoe_party *tiny_party(uint32_t id, uint32_t rounds);

/* A fresh temporary folder, and a path inside it (a static buffer per slot 0...3). */
const char *temp_folder(void);
const char *temp_path(int slot, const char *name);

/* Writes `text` to `path`; returns 0 on success. */
int write_file(const char *path, const char *text);

/* Test groups, one per file. */
void test_library(void);
void test_party_errors(void);
void test_privacy(void);
void test_messages(void);
void test_training(void);
void test_checkpoints(void);
void test_transports(void);
void test_network(void);
void test_sessions(void);
void test_inference(void);

#endif
