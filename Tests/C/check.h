/* A minimal test harness for the C tests: counts checks, prints failures,
 * and ends with "N passed, M failed". */
#ifndef PCMOE_TEST_CHECK_H
#define PCMOE_TEST_CHECK_H

#include <pcmoe.h>
#include <stdio.h>
#include <string.h>

/* Defined in abi_test.c, shared by every test file. */
extern int checks_passed;
extern int checks_failed;

#define CHECK(condition)                                                          \
    do {                                                                          \
        if (condition) {                                                          \
            checks_passed++;                                                      \
        } else {                                                                  \
            checks_failed++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
        }                                                                         \
    } while (0)

/* Checks the status of a call, and that a failure left a message. */
#define CHECK_STATUS(call, expected)                                              \
    do {                                                                          \
        pcmoe_status got_ = (call);                                               \
        const char *message_ = pcmoe_last_error();                                \
        if (got_ == (expected) && (got_ == PCMOE_OK) == (message_[0] == '\0')) {   \
            checks_passed++;                                                      \
        } else {                                                                  \
            checks_failed++;                                                      \
            fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s\n", __FILE__, __LINE__, #call, \
                    pcmoe_status_string(got_), message_, pcmoe_status_string(expected)); \
        }                                                                         \
    } while (0)

/* Checks that the last error mentions `text`. */
#define CHECK_MESSAGE(text)                                                       \
    do {                                                                          \
        if (strstr(pcmoe_last_error(), (text)) != NULL) {                         \
            checks_passed++;                                                      \
        } else {                                                                  \
            checks_failed++;                                                      \
            fprintf(stderr, "%s:%d: the message \"%s\" does not mention \"%s\"\n", __FILE__, __LINE__, \
                    pcmoe_last_error(), (text));                                  \
        }                                                                         \
    } while (0)

#endif
