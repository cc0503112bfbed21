/* pcmoe_party_handle_message and pcmoe_message_free on bad input. */
#include "check.h"
#include "fixtures.h"

#include <stdlib.h>

void test_messages(void) {
    pcmoe_party *party = tiny_party(1, 4);
    CHECK(party != NULL);
    pcmoe_message reply = {7, (uint8_t *)&reply, 3};
    const uint8_t junk[4] = {0xff, 0x01, 0x02, 0x03};

    CHECK_STATUS(pcmoe_party_handle_message(NULL, junk, 4, &reply), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK(reply.bytes == NULL);
    CHECK(reply.size == 0);
    CHECK(reply.destination == -1);
    CHECK_STATUS(pcmoe_party_handle_message(party, junk, 4, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_party_handle_message(party, NULL, 4, &reply), PCMOE_ERROR_INVALID_ARGUMENT);

    /* Random bytes: refused with a message; a reply without a known sender goes nowhere. */
    uint64_t state = 12345;
    int refused = 0;
    for (int round = 0; round < 200; round++) {
        uint8_t bytes[64];
        size_t size = 1 + (size_t)(state % 64);
        for (size_t i = 0; i < size; i++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            bytes[i] = (uint8_t)(state >> 56);
        }
        pcmoe_status status = pcmoe_party_handle_message(party, bytes, size, &reply);
        refused += status == PCMOE_ERROR_BAD_MESSAGE && pcmoe_last_error()[0] != '\0';
        CHECK(reply.destination >= -1);
        CHECK(reply.destination < TEST_PARTIES);
        pcmoe_message_free(&reply);
    }
    CHECK(refused == 200);
    CHECK_STATUS(pcmoe_party_handle_message(party, NULL, 0, &reply), PCMOE_ERROR_BAD_MESSAGE);
    CHECK_MESSAGE("no message");
    pcmoe_message_free(&reply);

    /* A frame beyond the party's limit is refused before it is decoded. */
    size_t huge = 64u << 20;
    uint8_t *big = calloc(huge, 1);
    CHECK(big != NULL);
    CHECK_STATUS(pcmoe_party_handle_message(party, big, huge, &reply), PCMOE_ERROR_BAD_MESSAGE);
    CHECK_MESSAGE("bytes");
    pcmoe_message_free(&reply);
    free(big);
    /* A size far beyond the buffer is refused before the buffer is read. */
    CHECK_STATUS(pcmoe_party_handle_message(party, junk, (size_t)1 << 40, &reply), PCMOE_ERROR_BAD_MESSAGE);
    CHECK_MESSAGE("1099511627776 bytes");
    pcmoe_message_free(&reply);
    /* Claimed sizes are counted without overflowing the byte counter. */
    for (int i = 0; i < 3; i++) {
        CHECK_STATUS(pcmoe_party_handle_message(party, junk, (size_t)1 << 62, &reply), PCMOE_ERROR_BAD_MESSAGE);
        pcmoe_message_free(&reply);
    }

    pcmoe_metrics m;
    CHECK_STATUS(pcmoe_party_metrics(party, &m, sizeof m), PCMOE_OK);
    CHECK(m.messages_rejected == 206);

    /* Freeing is idempotent and accepts NULL. */
    pcmoe_message_free(&reply);
    CHECK(reply.bytes == NULL);
    CHECK(reply.size == 0);
    CHECK(reply.destination == -1);
    pcmoe_message_free(NULL);
    pcmoe_party_destroy(party);
}
