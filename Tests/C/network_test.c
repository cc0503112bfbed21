/* pcmoe_network_create, pcmoe_network_destroy and pcmoe_network_stats:
 * every rejection, plain TCP, both destroy orders and call retries. Also
 * sessions that cannot start, or that a cancel or a destroyed network stops. */
#include "check.h"
#include "fixtures.h"
#include "network_fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creating a network fails with `expected`, naming `text`, and leaves NULL. */
static void check_rejected(pcmoe_party *party, const char *deployment, const char *key, uint32_t flags,
                          pcmoe_status expected, const char *text) {
    pcmoe_network *network = (pcmoe_network *)&expected; /* must be reset to NULL */
    CHECK_STATUS(pcmoe_network_create(party, deployment, key, flags, &network), expected);
    CHECK_MESSAGE(text);
    CHECK(network == NULL);
}

/* Listens on a free loopback port, which a network then cannot bind. */
static int listen_on_free_port(uint16_t *port) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &size) != 0) {
        if (listener >= 0) close(listener);
        return -1;
    }
    *port = ntohs(address.sin_port);
    return listener;
}

static void test_rejections(void) {
    test_deployment d;
    CHECK(prepare_deployment(&d, "rejections", 99) == 0);
    pcmoe_party *party = tiny_party(0, 2);
    CHECK(party != NULL);
    const char *key = d.key_paths[0];

    check_rejected(NULL, d.path, key, 0, PCMOE_ERROR_INVALID_ARGUMENT, "party is NULL");
    check_rejected(party, NULL, key, 0, PCMOE_ERROR_INVALID_ARGUMENT, "deployment_path is NULL");
    check_rejected(party, d.path, NULL, 0, PCMOE_ERROR_INVALID_ARGUMENT, "key_path is NULL");
    CHECK_STATUS(pcmoe_network_create(party, d.path, key, 0, NULL), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("network is NULL");
    check_rejected(party, d.path, key, 2, PCMOE_ERROR_INVALID_ARGUMENT, "flags is 2");
    check_rejected(party, d.path, key, 0x80000001u, PCMOE_ERROR_INVALID_ARGUMENT, "flags is 2147483649");

    check_rejected(party, temp_path(0, "absent.json"), key, 0, PCMOE_ERROR_INVALID_CONFIG, "absent.json");
    CHECK(write_file(temp_path(0, "broken.json"), "{\"session\": 99, \"parties\": [") == 0);
    check_rejected(party, temp_path(0, "broken.json"), key, 0, PCMOE_ERROR_INVALID_CONFIG, "not valid JSON");
    check_rejected(party, d.path, temp_path(0, "absent.key"), 0, PCMOE_ERROR_INVALID_CONFIG, "absent.key");

    /* A key pair file that its group or others may read. */
    char open_key[41];
    CHECK(write_key_pair(temp_path(1, "open.key"), open_key) == 0);
    CHECK(chmod(temp_path(1, "open.key"), 0644) == 0);
    check_rejected(party, d.path, temp_path(1, "open.key"), 0, PCMOE_ERROR_INVALID_CONFIG, "readable by its group");
    check_rejected(party, d.path, temp_path(1, "open.key"), PCMOE_NETWORK_INSECURE_PLAIN_TCP, PCMOE_ERROR_INVALID_CONFIG,
                  "mode 644");
    CHECK(write_file(temp_path(1, "empty.key"), "# no keys\n") == 0);
    CHECK(chmod(temp_path(1, "empty.key"), 0600) == 0);
    check_rejected(party, d.path, temp_path(1, "empty.key"), 0, PCMOE_ERROR_INVALID_CONFIG, "empty.key");

    /* Deployments that do not fit the party. */
    check_rejected(party, d.path, d.key_paths[1], 0, PCMOE_ERROR_INVALID_CONFIG, "another public key for party 0");
    test_deployment other = d;
    other.session = 98;
    snprintf(other.path, sizeof other.path, "%s", temp_path(2, "session-98.json"));
    CHECK(write_deployment(&other) == 0);
    check_rejected(party, other.path, key, 0, PCMOE_ERROR_INVALID_CONFIG, "is for session 98");
    char two[400];
    snprintf(two, sizeof two,
             "{\"session\": 99, \"parties\": [{\"id\": 0, \"endpoint\": \"tcp://127.0.0.1:%u\", \"public_key\": \"%s\"}, "
             "{\"id\": 1, \"endpoint\": \"tcp://127.0.0.1:%u\", \"public_key\": \"%s\"}]}",
             (unsigned)d.ports[0], d.public_keys[0], (unsigned)d.ports[1], d.public_keys[1]);
    CHECK(write_file(temp_path(2, "two.json"), two) == 0);
    check_rejected(party, temp_path(2, "two.json"), key, 0, PCMOE_ERROR_INVALID_CONFIG, "lists 2 parties");

    /* A port another socket listens on. */
    other = d;
    snprintf(other.path, sizeof other.path, "%s", temp_path(2, "taken.json"));
    int listener = listen_on_free_port(&other.ports[0]);
    CHECK(listener >= 0);
    CHECK(write_deployment(&other) == 0);
    check_rejected(party, other.path, key, 0, PCMOE_ERROR_IO, "binding tcp://127.0.0.1:");
    if (listener >= 0) close(listener);

    pcmoe_network_counters counters;
    CHECK_STATUS(pcmoe_network_stats(NULL, &counters, sizeof counters), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("network is NULL");
    pcmoe_network_destroy(NULL);

    /* A network that works, its counters, and the rejected calls for them. */
    pcmoe_network *network = NULL;
    CHECK_STATUS(pcmoe_network_create(party, d.path, key, 0, &network), PCMOE_OK);
    CHECK(network != NULL);
    CHECK_STATUS(pcmoe_network_stats(network, NULL, sizeof counters), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(pcmoe_network_stats(network, &counters, 4), PCMOE_ERROR_BUFFER_TOO_SMALL);
    memset(&counters, 0xff, sizeof counters);
    CHECK_STATUS(pcmoe_network_stats(network, &counters, sizeof counters), PCMOE_OK);
    CHECK(counters.rejected_connections == 0);
    CHECK(counters.dropped_messages == 0);
    pcmoe_network_destroy(network);
    pcmoe_party_destroy(party);
}

/* Parties whose calls wait one second for each reply and never send a
 * request again, so a silent party fails a call after one second. */
static pcmoe_party *impatient_party(uint32_t id) {
    pcmoe_party_params params = tiny_params(id, 2);
    params.call_timeout_seconds = 1;
    params.call_retries = 0;
    pcmoe_party *party = NULL;
    if (pcmoe_party_create(&params, &party) != PCMOE_OK) return NULL;
    uint8_t *text = sample_text(id, 3000);
    pcmoe_status status = pcmoe_party_load_data(party, text, 3000);
    free(text);
    if (status == PCMOE_OK) return party;
    pcmoe_party_destroy(party);
    return NULL;
}

/* Plain TCP carries a join and a turn. Then party 1 is destroyed before
 * its network, which drops what arrives for it, and party 0's network is
 * destroyed before party 0, which is left without a transport. */
static void test_plain_tcp_and_lifetimes(void) {
    test_deployment d;
    CHECK(prepare_deployment(&d, "plain", 99) == 0);
    pcmoe_party *parties[TEST_PARTIES];
    pcmoe_network *networks[TEST_PARTIES];
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        parties[i] = impatient_party(i);
        CHECK(parties[i] != NULL);
    }
    int connected = connect_parties(parties, &d, PCMOE_NETWORK_INSECURE_PLAIN_TCP, networks) == 0;
    CHECK(connected);
    if (!connected) {
        for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
        return;
    }
    /* The first Hellos may find a peer's connection not up yet, and one
     * attempt of one second is all these parties allow. */
    pcmoe_status joined = PCMOE_ERROR_PEER;
    for (int attempt = 0; attempt < 10 && joined == PCMOE_ERROR_PEER; attempt++) {
        joined = PCMOE_OK;
        for (uint32_t i = 0; i < TEST_PARTIES && joined == PCMOE_OK; i++) joined = pcmoe_party_join(parties[i]);
    }
    CHECK(joined == PCMOE_OK);
    pcmoe_turn_result r;
    CHECK_STATUS(pcmoe_party_train_turn(parties[0], 1, &r, sizeof r), PCMOE_OK);
    pcmoe_metrics m;
    CHECK_STATUS(pcmoe_party_metrics(parties[0], &m, sizeof m), PCMOE_OK);
    CHECK(m.bytes_sent > 0);
    CHECK(m.bytes_received > 0);
    pcmoe_network_counters counters;
    CHECK_STATUS(pcmoe_network_stats(networks[0], &counters, sizeof counters), PCMOE_OK);
    CHECK(counters.rejected_connections == 0);

    /* With call_retries 0, a silent party fails the join after one attempt. */
    pcmoe_party_destroy(parties[1]);
    CHECK_STATUS(pcmoe_party_join(parties[0]), PCMOE_ERROR_PEER);
    CHECK_MESSAGE("party 1 did not answer the Hello: 1 attempt");
    pcmoe_network_destroy(networks[1]);

    pcmoe_network_destroy(networks[0]);
    CHECK_STATUS(pcmoe_party_join(parties[0]), PCMOE_ERROR_INVALID_ARGUMENT);
    CHECK_MESSAGE("no transport");
    pcmoe_party_destroy(parties[0]);
    pcmoe_party_destroy(parties[2]);
    pcmoe_network_destroy(networks[2]);
}

/* Sessions that cannot run: peers that run none, peers that are gone, a
 * cancel, and a network destroyed while its party waits to join. */
static void test_session_failures(void) {
    test_deployment d;
    CHECK(prepare_deployment(&d, "failures", 99) == 0);
    pcmoe_party *parties[TEST_PARTIES];
    pcmoe_network *networks[TEST_PARTIES];
    for (uint32_t i = 0; i < TEST_PARTIES; i++) {
        parties[i] = impatient_party(i);
        CHECK(parties[i] != NULL);
    }
    int connected = connect_parties(parties, &d, 0, networks) == 0;
    CHECK(connected);
    if (!connected) {
        for (uint32_t i = 0; i < TEST_PARTIES; i++) pcmoe_party_destroy(parties[i]);
        return;
    }
    session_run run;
    session_run_init(&run, parties[0], "failures");
    run.params.join_timeout_seconds = 2;
    CHECK(session_run_start(&run) == 0);
    session_run_join(&run);
    CHECK_RUN(&run, PCMOE_ERROR_PEER, "never answered");
    CHECK(run.count == 0);

    pcmoe_party_destroy(parties[1]);
    pcmoe_party_destroy(parties[2]);
    session_run_init(&run, parties[0], "failures");
    run.params.join_timeout_seconds = 1.5;
    CHECK(session_run_start(&run) == 0);
    session_run_join(&run);
    CHECK_RUN(&run, PCMOE_ERROR_PEER, "could not join the session within 1.5 s");

    /* A cancel ends a session that waits to join. */
    session_run_init(&run, parties[0], "failures");
    CHECK(session_run_start(&run) == 0);
    usleep(300 * 1000);
    CHECK_STATUS(pcmoe_party_cancel(parties[0]), PCMOE_OK);
    session_run_join(&run);
    CHECK_RUN(&run, PCMOE_ERROR_CANCELLED, "stopped");

    session_run_init(&run, parties[0], "failures");
    CHECK(session_run_start(&run) == 0);
    usleep(300 * 1000);
    pcmoe_network_destroy(networks[0]);
    session_run_join(&run);
    CHECK_RUN(&run, PCMOE_ERROR_INVALID_ARGUMENT, "no transport");

    pcmoe_network_destroy(networks[1]);
    pcmoe_network_destroy(networks[2]);
    pcmoe_party_destroy(parties[0]);
}

void test_network(void) {
    test_rejections();
    test_plain_tcp_and_lifetimes();
    test_session_failures();
}
