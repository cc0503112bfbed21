#include "network_fixtures.h"

#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int write_key_pair(const char *path, char public_key[41]) {
    char secret_key[41];
    if (zmq_curve_keypair(public_key, secret_key) != 0) return -1;
    int file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (file < 0) return -1;
    char text[160];
    int length = snprintf(text, sizeof text, "# test key pair\npublic-key = %s\nsecret-key = %s\n", public_key, secret_key);
    int ok = fchmod(file, 0600) == 0 && write(file, text, (size_t)length) == length;
    return (close(file) == 0 && ok) ? 0 : -1;
}

/* Picks `count` distinct ports that are free on 127.0.0.1 now, by binding
 * port 0 and reading the port the system chose. */
static int free_ports(uint16_t *ports, int count) {
    int sockets[TEST_PARTIES];
    int opened = 0, ok = 1;
    for (; opened < count && ok; opened++) {
        sockets[opened] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address;
        memset(&address, 0, sizeof address);
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        ok = sockets[opened] >= 0 && bind(sockets[opened], (struct sockaddr *)&address, sizeof address) == 0 &&
             getsockname(sockets[opened], (struct sockaddr *)&address, &size) == 0;
        if (ok) ports[opened] = ntohs(address.sin_port);
    }
    for (int i = 0; i < opened; i++) {
        if (sockets[i] >= 0) close(sockets[i]);
    }
    return ok ? 0 : -1;
}

int write_deployment(const test_deployment *d) {
    char text[1024];
    size_t used = (size_t)snprintf(text, sizeof text, "{\"session\": %llu, \"parties\": [", (unsigned long long)d->session);
    for (int i = 0; i < TEST_PARTIES; i++) {
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "%s{\"id\": %d, \"endpoint\": \"tcp://127.0.0.1:%u\", \"public_key\": \"%s\"}",
                                 i > 0 ? ", " : "", i, (unsigned)d->ports[i], d->public_keys[i]);
    }
    snprintf(text + used, sizeof text - used, "]}\n");
    return write_file(d->path, text);
}

int prepare_deployment(test_deployment *d, const char *name, uint64_t session) {
    memset(d, 0, sizeof *d);
    d->session = session;
    snprintf(d->path, sizeof d->path, "%s/%s.json", temp_folder(), name);
    for (int i = 0; i < TEST_PARTIES; i++) {
        snprintf(d->key_paths[i], sizeof d->key_paths[i], "%s/%s-%d.key", temp_folder(), name, i);
        if (write_key_pair(d->key_paths[i], d->public_keys[i]) != 0) return -1;
    }
    return refresh_ports(d);
}

int refresh_ports(test_deployment *d) {
    if (free_ports(d->ports, TEST_PARTIES) != 0) return -1;
    return write_deployment(d);
}

int connect_parties(pcmoe_party **parties, test_deployment *d, uint32_t flags, pcmoe_network **networks) {
    for (int attempt = 0; attempt < 5; attempt++) {
        pcmoe_status status = PCMOE_OK;
        int created = 0;
        for (; created < TEST_PARTIES && status == PCMOE_OK; created++) {
            status = pcmoe_network_create(parties[created], d->path, d->key_paths[created], flags, &networks[created]);
        }
        if (status == PCMOE_OK) return 0;
        fprintf(stderr, "creating the networks failed (%s); ", pcmoe_last_error());
        for (int i = 0; i < created; i++) pcmoe_network_destroy(networks[i]);
        if (status != PCMOE_ERROR_IO || refresh_ports(d) != 0) break;
        fprintf(stderr, "trying new ports\n");
    }
    fprintf(stderr, "giving up\n");
    for (int i = 0; i < TEST_PARTIES; i++) networks[i] = NULL;
    return -1;
}

static void record_event(void *context, const pcmoe_session_event *event) {
    session_run *run = context;
    pthread_mutex_lock(&run->lock);
    if (run->count < MAX_EVENTS) {
        run->kinds[run->count] = event->kind;
        run->resumed[run->count] = event->resumed;
        run->turns[run->count] = event->turn;
        run->losses[run->count] = event->loss;
        run->count++;
    }
    int has_message = event->message != NULL && event->message[0] != '\0';
    if (has_message) run->events_with_message++;
    if (event->kind == PCMOE_SESSION_FAULT && !has_message) run->fault_without_message++;
    if (event->kind == PCMOE_SESSION_FAULT && run->fault[0] == '\0' && has_message) {
        snprintf(run->fault, sizeof run->fault, "%s", event->message);
    }
    pthread_mutex_unlock(&run->lock);
}

void session_run_init(session_run *run, pcmoe_party *party, const char *folder) {
    memset(run, 0, sizeof *run);
    run->party = party;
    run->status = PCMOE_ERROR_INTERNAL;
    pcmoe_session_default_params(&run->params, sizeof run->params);
    run->params.evaluation_windows = 8;
    run->params.join_timeout_seconds = 120;
    run->params.wait_timeout_seconds = 120;
    snprintf(run->folder, sizeof run->folder, "%s/%s", temp_folder(), folder);
    run->params.checkpoint_folder = run->folder;
    pthread_mutex_init(&run->lock, NULL);
}

static void *session_thread(void *context) {
    session_run *run = context;
    run->status = pcmoe_party_run_session(run->party, &run->params, record_event, run, &run->evaluation,
                                          sizeof run->evaluation);
    snprintf(run->error, sizeof run->error, "%s", pcmoe_last_error());
    return NULL;
}

int session_run_start(session_run *run) {
    return pthread_create(&run->thread, NULL, session_thread, run);
}

/* Drops what a party sends and counts it. */
static int drop_and_count(void *context, uint32_t destination, const uint8_t *bytes, size_t size) {
    (void)destination, (void)bytes, (void)size;
    session_run *run = context;
    pthread_mutex_lock(&run->lock);
    run->sent_before_gate++;
    pthread_mutex_unlock(&run->lock);
    return 0;
}

static int sent_before_gate(session_run *run) {
    pthread_mutex_lock(&run->lock);
    int sent = run->sent_before_gate;
    pthread_mutex_unlock(&run->lock);
    return sent;
}

int session_runs_start_gated(session_run *runs, int count, int (*open)(void *), void *context) {
    for (int i = 0; i < count; i++) {
        if (pcmoe_party_set_transport(runs[i].party, drop_and_count, &runs[i]) != PCMOE_OK) return -1;
    }
    int started = 0;
    for (; started < count; started++) {
        if (session_run_start(&runs[started]) != 0) break;
    }
    int ready = started == count;
    for (int waited = 0; ready && waited < 6000; waited++) {
        int all = 1;
        for (int i = 0; i < count; i++) all &= sent_before_gate(&runs[i]) > 0;
        if (all) break;
        if (waited == 5999) ready = 0;
        usleep(10 * 1000);
    }
    return ready && open(context) == 0 ? 0 : -1;
}

void session_run_join(session_run *run) {
    pthread_join(run->thread, NULL);
    pthread_mutex_destroy(&run->lock);
}

int session_run_events(const session_run *run, int32_t kind) {
    int count = 0;
    for (int i = 0; i < run->count; i++) count += run->kinds[i] == kind;
    return count;
}

void check_run(const session_run *run, pcmoe_status expected, const char *text, const char *file, int line) {
    int ok = run->status == expected &&
             (expected == PCMOE_OK ? run->error[0] == '\0' : run->error[0] != '\0' && strstr(run->error, text) != NULL);
    if (ok) {
        checks_passed++;
        return;
    }
    checks_failed++;
    fprintf(stderr, "%s:%d: the session returned %s (%s), expected %s mentioning \"%s\"\n", file, line,
            pcmoe_status_string(run->status), run->error, pcmoe_status_string(expected), text);
}

int session_run_reported(session_run *run, int32_t kind) {
    pthread_mutex_lock(&run->lock);
    int found = 0;
    for (int i = 0; i < run->count && !found; i++) found = run->kinds[i] == kind;
    pthread_mutex_unlock(&run->lock);
    return found;
}
