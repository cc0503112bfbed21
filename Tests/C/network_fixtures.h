/* Helpers of the network and session tests: CURVE key pair files,
 * loopback ports that are free, deployment files, and session threads. */
#ifndef PCMOE_TEST_NETWORK_FIXTURES_H
#define PCMOE_TEST_NETWORK_FIXTURES_H

#include "fixtures.h"

#include <pcmoe.h>
#include <pthread.h>
#include <stdint.h>

/* The files of a three-party deployment on 127.0.0.1, all in the test's
 * temporary folder. */
typedef struct test_deployment {
    uint64_t session;
    char path[256];
    char key_paths[TEST_PARTIES][256];
    char public_keys[TEST_PARTIES][41];
    uint16_t ports[TEST_PARTIES];
} test_deployment;

/* Writes a fresh key pair to `path` (mode 0600, in the format of
 * `pcmoe keygen`) and its public key to public_key. Returns 0 on success. */
int write_key_pair(const char *path, char public_key[41]);

/* Makes a key pair file for each party and picks TEST_PARTIES distinct free
 * ports; the files are named after `name`. Returns 0 on success. */
int prepare_deployment(test_deployment *deployment, const char *name, uint64_t session);

/* Writes the deployment file at deployment->path. Returns 0 on success. */
int write_deployment(const test_deployment *deployment);

/* Picks new free ports and rewrites the deployment file. Returns 0 on success. */
int refresh_ports(test_deployment *deployment);

/* Creates a network for every party of `deployment` with `flags`. A port
 * taken in the meantime by another program makes it pick new ports and
 * try again, up to five times. Returns 0 when every network was created;
 * on failure, none is left. */
int connect_parties(pcmoe_party **parties, test_deployment *deployment, uint32_t flags, pcmoe_network **networks);

#define MAX_EVENTS 128

/* One party's session on its own thread, with the events it reported. */
typedef struct session_run {
    pcmoe_party *party;
    pcmoe_session_params params;
    char folder[256];
    /* Messages the party sent before the gate opened; see session_runs_start_gated. */
    int sent_before_gate;
    pcmoe_status status;
    char error[512];
    pcmoe_evaluation evaluation;
    pthread_t thread;
    pthread_mutex_t lock;
    int count;
    int32_t kinds[MAX_EVENTS];
    int32_t resumed[MAX_EVENTS];
    uint64_t turns[MAX_EVENTS];
    double losses[MAX_EVENTS];
    int events_with_message;
    /* The message of the first FAULT, or "". */
    char fault[512];
    int fault_without_message;
} session_run;

/* Prepares `run` for `party` with checkpoints in the temporary folder
 * under `folder`, the evaluation limited to 8 windows, and join and wait
 * timeouts of two minutes. */
void session_run_init(session_run *run, pcmoe_party *party, const char *folder);

/* Starts the session of `run` on a new thread. Returns 0 on success. */
int session_run_start(session_run *run);

/*
 * Starts the sessions of `count` parties, each on its own thread, behind a
 * gate: every party first gets a transport that drops what it sends, and
 * `open(context)` attaches the real transports once every party has sent
 * its first message, the first Hello of its join. No party then hears from
 * a peer whose session has not started; the header describes why that
 * matters. Returns 0 when the gate opened; otherwise the sessions fail
 * once their join times out, and the caller still joins the threads.
 */
int session_runs_start_gated(session_run *runs, int count, int (*open)(void *), void *context);

/* Waits for the thread of `run` to end and releases its lock. */
void session_run_join(session_run *run);

/* Nonzero once `run` recorded an event of `kind`; safe while it runs. */
int session_run_reported(session_run *run, int32_t kind);

/* The number of events of `kind` that `run` recorded, after its thread ended. */
int session_run_events(const session_run *run, int32_t kind);

/* Checks the status a session thread got, and that its message mentions
 * `text` after a failure or is empty after success. */
#define CHECK_RUN(run, expected, text) check_run((run), (expected), (text), __FILE__, __LINE__)
void check_run(const session_run *run, pcmoe_status expected, const char *text, const char *file, int line);

#endif
