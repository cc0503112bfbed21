/* Versions, status strings, the last error, threads and the log callback. */
#include "check.h"
#include "fixtures.h"

#include <pthread.h>

static void *read_error_in_thread(void *result) {
    *(const char **)result = pcmoe_last_error();
    return NULL;
}

typedef struct log_record {
    int count;
    int worst_level;
} log_record;

static void record_log(void *context, int32_t level, const char *message) {
    log_record *record = context;
    if (message != NULL && message[0] != '\0') record->count++;
    if (record->worst_level == 0 || level < record->worst_level) record->worst_level = level;
}

/* A log callback that makes a successful pcmoe call of its own. */
static void log_and_call(void *context, int32_t level, const char *message) {
    (void)context, (void)level, (void)message;
    pcmoe_set_threads(pcmoe_threads());
}

/* A log callback whose own pcmoe call fails, and so logs again. */
static void log_and_fail(void *context, int32_t level, const char *message) {
    (void)level, (void)message;
    int *depth = context;
    if (*depth > 0) return;
    ++*depth;
    pcmoe_set_threads(0);
    --*depth;
}

void test_library(void) {
    CHECK(strcmp(pcmoe_version(), PCMOE_VERSION_STRING) == 0);

    /* Every status has its own name; values outside the list are unknown. */
    for (int a = PCMOE_OK; a <= PCMOE_ERROR_INTERNAL; a++) {
        CHECK(strcmp(pcmoe_status_string((pcmoe_status)a), "unknown status") != 0);
        for (int b = a + 1; b <= PCMOE_ERROR_INTERNAL; b++) {
            CHECK(strcmp(pcmoe_status_string((pcmoe_status)a), pcmoe_status_string((pcmoe_status)b)) != 0);
        }
    }
    CHECK(strcmp(pcmoe_status_string((pcmoe_status)99), "unknown status") == 0);

    /* The last error is per thread, and success clears it. */
    CHECK_STATUS(pcmoe_set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("thread count is 0");
    const char *other = NULL;
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, read_error_in_thread, &other) == 0);
    pthread_join(thread, NULL);
    CHECK(other != NULL);
    CHECK(other[0] == '\0');
    CHECK(pcmoe_last_error()[0] != '\0');
    CHECK_STATUS(pcmoe_set_threads(1025), PCMOE_ERROR_INVALID_ARGUMENT);
    uint32_t before = pcmoe_threads();
    CHECK_STATUS(pcmoe_set_threads(1), PCMOE_OK);
    CHECK(pcmoe_last_error()[0] == '\0');
    CHECK(pcmoe_threads() == 1);
    CHECK_STATUS(pcmoe_set_threads(before), PCMOE_OK);

    /* Log levels are checked; a callback receives messages; NULL silences. */
    log_record record = {0, 0};
    CHECK_STATUS(pcmoe_set_log_callback(0, record_log, &record), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_set_log_callback(5, record_log, &record), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_set_log_callback(PCMOE_LOG_DEBUG, record_log, &record), PCMOE_OK);
    CHECK_STATUS(pcmoe_set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK(record.count == 1);
    CHECK(record.worst_level == PCMOE_LOG_DEBUG);
    CHECK_STATUS(pcmoe_set_log_callback(PCMOE_LOG_ERROR, record_log, &record), PCMOE_OK);
    CHECK_STATUS(pcmoe_set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK(record.count == 1);
    CHECK_STATUS(pcmoe_set_log_callback(PCMOE_LOG_DEBUG, NULL, NULL), PCMOE_OK);
    CHECK_STATUS(pcmoe_set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK(record.count == 1);

    /* A callback's own calls do not erase the message of the failing call. */
    CHECK_STATUS(pcmoe_set_log_callback(PCMOE_LOG_DEBUG, log_and_call, NULL), PCMOE_OK);
    CHECK_STATUS(pcmoe_set_threads(0), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("thread count is 0");

    /* A callback whose own call fails logs again, on the same thread, without deadlock. */
    int depth = 0;
    CHECK_STATUS(pcmoe_set_log_callback(PCMOE_LOG_DEBUG, log_and_fail, &depth), PCMOE_OK);
    CHECK_STATUS(pcmoe_set_threads(1025), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("thread count is 1025");
    CHECK_STATUS(pcmoe_set_log_callback(PCMOE_LOG_DEBUG, NULL, NULL), PCMOE_OK);
}
