/*
 * Compares two logits files (raw little-endian float32, rows of 256).
 *
 *   compare_logits EXPECTED ACTUAL TOLERANCE
 *
 * Prints the largest absolute difference and that difference divided by the
 * largest logit magnitude in EXPECTED, and exits 1 when the relative
 * difference exceeds TOLERANCE (2 on a usage or file error).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB 256

static float *read_logits(const char *path, size_t *count)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "compare_logits: error: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t capacity = 4096, used = 0;
    float *values = malloc(capacity * sizeof *values);
    unsigned char bytes[4];
    size_t got;
    while (values && (got = fread(bytes, 1, 4, file)) == 4) {
        if (used == capacity) {
            capacity *= 2;
            values = realloc(values, capacity * sizeof *values);
            if (!values)
                break;
        }
        uint32_t bits = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
                        (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
        memcpy(&values[used++], &bits, sizeof bits);
    }
    if (!values) {
        fprintf(stderr, "compare_logits: error: out of memory reading %s\n", path);
        exit(2);
    }
    if (ferror(file) || got != 0 || used % VOCAB != 0 || used == 0) {
        fprintf(stderr, "compare_logits: error: %s is empty or not a whole number of rows of %d float32\n",
                path, VOCAB);
        exit(2);
    }
    fclose(file);
    *count = used;
    return values;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: compare_logits EXPECTED ACTUAL TOLERANCE\n", stderr);
        return 2;
    }
    char *end;
    double tolerance = strtod(argv[3], &end);
    if (*end || !(tolerance >= 0)) {
        fprintf(stderr, "compare_logits: error: invalid tolerance '%s'\n", argv[3]);
        return 2;
    }

    size_t expected_count, actual_count;
    float *expected = read_logits(argv[1], &expected_count);
    float *actual = read_logits(argv[2], &actual_count);
    if (expected_count != actual_count) {
        fprintf(stderr, "compare_logits: error: %s has %zu rows but %s has %zu\n", argv[1],
                expected_count / VOCAB, argv[2], actual_count / VOCAB);
        return 2;
    }

    double max_difference = 0, max_magnitude = 0;
    size_t worst = 0;
    for (size_t i = 0; i < expected_count; i++) {
        double difference = fabs((double)expected[i] - actual[i]);
        if (!(difference <= max_difference)) {   /* also catches NaN */
            max_difference = difference;
            worst = i;
        }
        if (fabs(expected[i]) > max_magnitude)
            max_magnitude = fabs(expected[i]);
    }
    double relative = max_magnitude > 0 ? max_difference / max_magnitude : max_difference;
    int failed = !(relative <= tolerance);
    printf("rows %zu, max abs diff %.3e (row %zu, byte %zu), max |logit| %.4f, "
           "max rel diff %.3e, tolerance %.1e: %s\n",
           expected_count / VOCAB, max_difference, worst / VOCAB, worst % VOCAB, max_magnitude,
           relative, tolerance, failed ? "FAIL" : "ok");
    return failed;
}
