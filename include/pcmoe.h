/*
 * pcmoe.h: the C interface of pcmoe, a library for training one
 * Mixture-of-Experts byte-level language model across several parties.
 * Each party keeps its data and its backbone. The experts of every layer
 * are spread over the parties, and a party's hidden rows only travel to the
 * owners of the experts its router picked.
 *
 * Conventions, for every function below:
 * - Functions that can fail return a pcmoe_status. After such a call,
 *   pcmoe_last_error() describes it: a sentence naming the bad value on
 *   failure, the empty string on PCMOE_OK.
 * - Handles (pcmoe_party, pcmoe_hub) are opaque. Every handle the library
 *   creates is released by its own destroy function. Using a handle after
 *   destroying it is undefined behaviour.
 * - Memory the library allocates for the caller is released by a named
 *   library function (pcmoe_message_free); memory the caller passes in stays
 *   the caller's and is not kept after the call returns.
 * - Buffers cross as a pointer and a length in bytes. A NULL pointer with
 *   length 0 is an empty buffer.
 * - Structs the caller fills (pcmoe_party_params) carry their size in their
 *   first field and are prepared by their default-params function. Structs
 *   the library fills take their size as an argument. Both only grow by
 *   appending fields, so a program built against an older header keeps
 *   working with a newer library.
 * - Nothing is written to stdout or stderr unless the host installs a log
 *   callback, and no input makes the library call exit or abort.
 * - Callbacks must not throw C++ exceptions or unwind through the library.
 */
#ifndef PCMOE_H
#define PCMOE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Versions                                                            */
/* ------------------------------------------------------------------ */

/* The version of this header. A library with the same major version
 * accepts every program built against this header. */
#define PCMOE_VERSION_MAJOR 0
#define PCMOE_VERSION_MINOR 1
#define PCMOE_VERSION_PATCH 0
#define PCMOE_VERSION_STRING "0.1.0"

/* The version of the wire protocol these parties speak. */
#define PCMOE_PROTOCOL_VERSION 1

/*
 * Returns the version of the loaded library as "MAJOR.MINOR.PATCH".
 * The string is static; do not free it. Thread-safe.
 */
const char *pcmoe_version(void);

/* ------------------------------------------------------------------ */
/* Status codes and errors                                             */
/* ------------------------------------------------------------------ */

/* The result of every call that can fail. The values are fixed forever. */
typedef enum pcmoe_status {
    /* The call succeeded. */
    PCMOE_OK = 0,
    /* A pointer was NULL, a size or value was out of range, or a call came
     * in the wrong order (a turn before any data was loaded). */
    PCMOE_ERROR_INVALID_ARGUMENT = 1,
    /* A configuration file could not be read, or contains a bad key or value. */
    PCMOE_ERROR_INVALID_CONFIG = 2,
    /* Training or evaluation text is missing, unreadable or too short. */
    PCMOE_ERROR_INVALID_DATA = 3,
    /* A checkpoint is damaged, foreign, of another version, or from
     * another party or session. */
    PCMOE_ERROR_INVALID_CHECKPOINT = 4,
    /* The operating system failed to read or write a file. */
    PCMOE_ERROR_IO = 5,
    /* Training produced a NaN or an infinity. */
    PCMOE_ERROR_NON_FINITE = 6,
    /* pcmoe_party_cancel() stopped the call. */
    PCMOE_ERROR_CANCELLED = 7,
    /* Another party rejected a request, replied with something unexpected,
     * or did not reply within the call timeout. */
    PCMOE_ERROR_PEER = 8,
    /* An incoming message was malformed, or was refused by this party. */
    PCMOE_ERROR_BAD_MESSAGE = 9,
    /* A struct size given for the library to fill is smaller than the
     * first version of that struct. */
    PCMOE_ERROR_BUFFER_TOO_SMALL = 10,
    /* A bug in pcmoe. The message describes it. */
    PCMOE_ERROR_INTERNAL = 11
} pcmoe_status;

/*
 * Returns a short static English name for `status`, such as "invalid
 * argument", or "unknown status" for a value not listed above. Do not free
 * it. Thread-safe.
 */
const char *pcmoe_status_string(pcmoe_status status);

/*
 * Returns the message of the last status-returning call made on this thread:
 * a sentence naming the problem after a failure, "" after success.
 * The string belongs to the library and stays valid until the next pcmoe
 * call on the same thread. Never NULL. Thread-safe (one message per thread).
 */
const char *pcmoe_last_error(void);

/* ------------------------------------------------------------------ */
/* Process-wide settings                                               */
/* ------------------------------------------------------------------ */

/*
 * Sets how many threads the math of every party in this process uses,
 * 1 to 1024 (by default, the number of cores the process may use). The
 * results are the same bits for every thread count.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for 0 or more than 1024.
 * Thread-safe; takes effect at the next matrix product.
 */
pcmoe_status pcmoe_set_threads(uint32_t count);

/* Returns the thread count the math uses now. Thread-safe. */
uint32_t pcmoe_threads(void);

/* Log levels; lower is more severe. */
typedef enum pcmoe_log_level {
    PCMOE_LOG_ERROR = 1,
    PCMOE_LOG_WARNING = 2,
    PCMOE_LOG_INFO = 3,
    PCMOE_LOG_DEBUG = 4
} pcmoe_log_level;

/*
 * Receives one log message. `level` is a pcmoe_log_level; `message` is a
 * NUL-terminated UTF-8 sentence owned by the library and valid only during
 * the call. Called on the thread that logs, one message at a time; it must
 * not call pcmoe_set_log_callback.
 */
typedef void (*pcmoe_log_fn)(void *context, int32_t level, const char *message);

/*
 * Sends every log message of `level` or more severe to `callback`, with
 * `context` passed back unchanged; a NULL callback makes the library silent
 * again (the default). The library keeps `context` until the callback is
 * replaced; the caller keeps ownership.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a level outside 1 ... 4.
 * Thread-safe.
 */
pcmoe_status pcmoe_set_log_callback(int32_t level, pcmoe_log_fn callback, void *context);

/* ------------------------------------------------------------------ */
/* Parties                                                             */
/* ------------------------------------------------------------------ */

/* One party of a session: its backbone, its expert shard, their optimizer
 * state and its training data. */
typedef struct pcmoe_party pcmoe_party;

/* The element type of the tensors a party sends. */
typedef enum pcmoe_wire_type {
    PCMOE_WIRE_F32 = 0,
    PCMOE_WIRE_BF16 = 1,
    PCMOE_WIRE_F16 = 2
} pcmoe_wire_type;

/*
 * Settings for pcmoe_party_create. Prepare with pcmoe_party_default_params,
 * then change fields. Fields marked "shared" must be equal at every party
 * of a session; pcmoe_party_join checks them.
 */
typedef struct pcmoe_party_params {
    /* Bytes of this struct that are valid; set by pcmoe_party_default_params. */
    size_t struct_size;
    /* This party's id, 0 ... party_count - 1. Default 0. */
    uint32_t party_id;
    /* Parties in the session, 1 ... 1024 (shared). Expert e of every layer
     * belongs to party e mod party_count. Default 1. */
    uint32_t party_count;
    /* Session id agreed by all parties, not 0 (shared). Default 1. */
    uint64_t session;
    /* Model sizes (shared). Defaults: 256, 4, 4, 8, 2, 512, 128. */
    uint32_t d_model;
    uint32_t n_heads;
    uint32_t n_layers;
    uint32_t n_experts;
    uint32_t top_k;
    uint32_t expert_hidden;
    uint32_t seq_len;
    /* Optimizer steps in the whole run: the turns of all parties together;
     * the learning-rate schedule spans them (shared). Default 1000. */
    uint64_t steps;
    /* Sequences per batch (shared). Default 16. */
    uint32_t batch;
    /* AdamW and schedule settings (shared). Defaults: 3e-4, 0.05, 0.1, 0.1, 1.0. */
    double learning_rate;
    double warmup_fraction;
    double min_lr_ratio;
    double weight_decay;
    double clip_norm;
    /* Seeds the experts' initial values (shared). Default 1. */
    uint64_t seed;
    /* A pcmoe_wire_type: the element type of the tensors this party sends.
     * Default PCMOE_WIRE_F32. */
    int32_t wire_type;
    /* Seconds to wait for a peer's reply to each attempt of a request,
     * above 0 and at most one week. Default 120. */
    double call_timeout_seconds;
    /* When nonzero, the backbone starts from backbone_seed; when 0 (the
     * default), from a seed drawn from the system's random generator, which
     * keeps the initial backbone private. */
    int32_t use_backbone_seed;
    uint64_t backbone_seed;
    /* How many times a request that got no reply within the call timeout
     * is sent again, with the same request id, before the call fails;
     * 0 ... 100. Default 2. A peer that never replies then costs
     * (call_retries + 1) call timeouts. Appended after backbone_seed: a
     * struct_size that ends before this field (a program built against a
     * header without it) leaves the default. */
    uint32_t call_retries;
} pcmoe_party_params;

/*
 * Fills `params` with the defaults listed above and sets
 * params->struct_size to the bytes it filled: `params_size` (pass
 * sizeof *params), or the library's own struct size when that is smaller.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL `params`, or a size
 * smaller than the first version of the struct or above 4096. Thread-safe.
 */
pcmoe_status pcmoe_party_default_params(pcmoe_party_params *params, size_t params_size);

/*
 * Creates a party from `params` and stores its handle in *party; release
 * it with pcmoe_party_destroy. Allocates the backbone and the party's own
 * experts with their optimizer state. On failure *party is set to NULL.
 * The library reads params->struct_size bytes of *params, at most the size
 * of its own struct, because a larger size comes from a newer header.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers, a struct_size
 * below the first version of the struct or above 4096 (not prepared by
 * pcmoe_party_default_params), or a bad value (the message names it).
 * Thread-safe.
 */
pcmoe_status pcmoe_party_create(const pcmoe_party_params *params, pcmoe_party **party);

/*
 * Creates a party from a JSON configuration file (docs/c-api.md lists its
 * keys) and loads the training data the file names, if any. Relative data
 * paths are taken from the file's folder. On failure *party is set to NULL.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers;
 * PCMOE_ERROR_INVALID_CONFIG for a file that cannot be read, is not JSON,
 * or contains an unknown key or a bad value; PCMOE_ERROR_INVALID_DATA and
 * PCMOE_ERROR_IO for its training data. Thread-safe.
 */
pcmoe_status pcmoe_party_create_from_config(const char *path, pcmoe_party **party);

/*
 * Releases the party and everything it holds. NULL is allowed and does
 * nothing. No other call on this party may run during or after it: stop
 * delivering messages to it first. A hub it is attached to forgets it.
 */
void pcmoe_party_destroy(pcmoe_party *party);

/*
 * Loads training text from a file or a folder (read recursively; gzip and
 * dictzip files are decompressed), replacing any text loaded before.
 * The last tenth is held out for pcmoe_party_evaluate.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers;
 * PCMOE_ERROR_INVALID_DATA for a missing, empty or corrupt file, or a text
 * whose splits are shorter than seq_len + 1 bytes; PCMOE_ERROR_IO when
 * reading fails. Not thread-safe with other calls on this party except
 * pcmoe_party_handle_message, pcmoe_party_metrics and pcmoe_party_cancel.
 */
pcmoe_status pcmoe_party_load_data_file(pcmoe_party *party, const char *path);

/*
 * Uses `size` bytes at `bytes` as training text, as
 * pcmoe_party_load_data_file does; the library copies them.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party or a NULL `bytes`
 * with a nonzero size; PCMOE_ERROR_INVALID_DATA for a text too short or
 * larger than 1 GiB. Thread-safety as pcmoe_party_load_data_file.
 */
pcmoe_status pcmoe_party_load_data(pcmoe_party *party, const uint8_t *bytes, size_t size);

/* ------------------------------------------------------------------ */
/* Transports                                                          */
/* ------------------------------------------------------------------ */

/*
 * Carries one message to party `destination`. `bytes` belongs to the
 * library and is valid only during the call: copy it. Must not block on
 * the peer, nor call back into this party on the same thread. Deliver the
 * bytes later to pcmoe_party_handle_message of the destination, from any
 * thread. Return 0 when the message was queued, anything else when it
 * cannot be (the library logs a warning, and the call waiting for the
 * reply fails after the call timeout). May be called from several threads
 * at once.
 */
typedef int (*pcmoe_send_fn)(void *context, uint32_t destination, const uint8_t *bytes, size_t size);

/*
 * Makes `send` carry this party's requests and replies, with `context`
 * passed back unchanged. The library keeps `context` until the transport
 * is replaced or the party destroyed, and never frees it. Replaces any
 * transport set before, a hub's included.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party or `send`.
 * Call it before pcmoe_party_join, not during a turn.
 */
pcmoe_status pcmoe_party_set_transport(pcmoe_party *party, pcmoe_send_fn send, void *context);

/* A message produced by the library: free it with pcmoe_message_free. */
typedef struct pcmoe_message {
    /* The party it goes to, or -1 when the incoming bytes named no valid
     * sender; a transport that has the connection sends the reply on it. */
    int32_t destination;
    /* The serialized envelope, allocated by the library; NULL when there
     * is nothing to send. */
    uint8_t *bytes;
    size_t size;
} pcmoe_message;

/*
 * Handles `size` bytes that arrived for this party: a request of another
 * party's turn (which gets a reply) or a reply to one of this party's own
 * requests (which gets none). Stores the reply to send in *reply: bytes
 * NULL and size 0 when there is nothing to send. *reply must be released
 * with pcmoe_message_free.
 * A message this party refuses still gets a reply when its sender is
 * known: an error reply, which the transport must deliver as usual.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party or reply, or NULL
 * bytes with a nonzero size; PCMOE_ERROR_BAD_MESSAGE when the message was
 * malformed, too large, from another session or refused (the message gives
 * the reason; *reply may still contain the error reply to send).
 * Thread-safe: may run on any thread, concurrently with every other call
 * on this party except pcmoe_party_destroy. It must run while this party's
 * own turn waits for replies, so deliver messages on another thread.
 */
pcmoe_status pcmoe_party_handle_message(pcmoe_party *party, const uint8_t *bytes, size_t size,
                                        pcmoe_message *reply);

/*
 * Releases the bytes of a message filled by the library and sets its
 * fields to destination -1, bytes NULL, size 0. NULL, and a message whose
 * bytes are NULL, are allowed. Thread-safe for distinct messages.
 */
void pcmoe_message_free(pcmoe_message *message);

/* An in-process transport: delivers messages between parties of one
 * process, each party with its own serial inbox thread. */
typedef struct pcmoe_hub pcmoe_hub;

/*
 * Creates a hub for parties 0 ... party_count - 1 and stores it in *hub;
 * release it with pcmoe_hub_destroy.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL hub or a party count
 * outside 1 ... 1024. Thread-safe.
 */
pcmoe_status pcmoe_hub_create(uint32_t party_count, pcmoe_hub **hub);

/*
 * Makes the hub carry `party`'s messages and deliver to it the messages
 * addressed to its id, replacing any transport the party had. The hub
 * refers to the party without owning it. Attach every party of the session
 * before any of them joins: messages for an id with no party attached are
 * dropped (with a warning in the log).
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers or a party whose
 * id or party count does not fit the hub. Thread-safe.
 */
pcmoe_status pcmoe_hub_attach(pcmoe_hub *hub, pcmoe_party *party);

/*
 * Releases the caller's reference to the hub. Parties attached to it keep
 * using it until they are destroyed. NULL is allowed. Thread-safe; the hub
 * handle must not be used afterwards.
 */
void pcmoe_hub_destroy(pcmoe_hub *hub);

/* ------------------------------------------------------------------ */
/* Training and evaluation                                             */
/* ------------------------------------------------------------------ */

/*
 * Greets every other party and checks that they run the same session:
 * party count, model sizes, run settings, and the number of expert steps
 * taken (equal when all start fresh, or from checkpoints saved after the
 * same turn). Every party must be reachable
 * and handling messages. In a session of more than one party, turns and
 * evaluations are refused until this succeeded.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party or a party without
 * a transport (in a session of more than one party); PCMOE_ERROR_PEER
 * naming the first party that differs (and the field) or does not reply
 * in time. Not thread-safe with other calls on this party except
 * pcmoe_party_handle_message, pcmoe_party_metrics and pcmoe_party_cancel.
 */
pcmoe_status pcmoe_party_join(pcmoe_party *party);

/* What a training turn measured. */
typedef struct pcmoe_turn_result {
    /* The turn number given. */
    uint64_t turn;
    /* The optimizer step the turn took, from 1: completed turns plus one. */
    uint64_t global_step;
    /* Training loss: cross-entropy plus 0.01 times the balance losses. */
    double loss;
    /* Mean next-byte cross-entropy, in nats. */
    double cross_entropy;
    /* The learning rate of the step. */
    double learning_rate;
    /* The backbone's gradient norm before clipping. */
    double gradient_norm;
} pcmoe_turn_result;

/*
 * Takes training turn `turn` on the next batch of this party's own data:
 * the forward with remote expert calls, the backward, the backbone's step,
 * and a step of every owner's experts. `turn` is the global turn number: from
 * 1, and above every turn of the session that completed before it (gaps are
 * allowed). Turns of a session run one at a time, in the order the host
 * decides (usually round robin: turn r*n + i + 1 is party i's turn in round
 * r, from 0). A session takes `steps` turns in all; the learning-rate
 * schedule ends there. Blocks until done; pcmoe_party_cancel stops it. When
 * `result` is not NULL, fills `result_size` bytes of it (sizeof *result).
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party, no data loaded, no
 * pcmoe_party_join yet, a turn number not above the last completed turn, or
 * a session whose steps are all taken (checked before anything is sent);
 * PCMOE_ERROR_BUFFER_TOO_SMALL for a result size below the first version;
 * PCMOE_ERROR_PEER naming the party and layer that refused or did not
 * reply (the turn is then aborted everywhere, which waits up to one more
 * call timeout for the owners' acknowledgements). When the message says an
 * owner refused or missed the step itself, the owners' step counts may
 * differ: restart the session from checkpoints. PCMOE_ERROR_NON_FINITE;
 * PCMOE_ERROR_CANCELLED.
 * One turn or evaluation at a time per party.
 */
pcmoe_status pcmoe_party_train_turn(pcmoe_party *party, uint64_t turn, pcmoe_turn_result *result,
                                    size_t result_size);

/* What an evaluation measured. */
typedef struct pcmoe_evaluation {
    /* Mean next-byte cross-entropy, in nats. */
    double loss;
    /* The same in bits per byte. */
    double bits_per_byte;
    /* Bytes predicted. */
    uint64_t tokens;
} pcmoe_evaluation;

/*
 * Scores the held-out tenth of this party's data with its model (its own
 * backbone, every party's experts) in windows of seq_len + 1 bytes, at most
 * `max_windows` of them (0: all). Owners serve these requests without
 * keeping anything. Reports progress per batch; pcmoe_party_cancel stops
 * it. Fills `result_size` bytes of *result.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers, no data loaded
 * or no pcmoe_party_join yet; PCMOE_ERROR_BUFFER_TOO_SMALL;
 * PCMOE_ERROR_INVALID_DATA; PCMOE_ERROR_PEER;
 * PCMOE_ERROR_NON_FINITE; PCMOE_ERROR_CANCELLED.
 * One turn or evaluation at a time per party.
 */
pcmoe_status pcmoe_party_evaluate(pcmoe_party *party, uint64_t max_windows, pcmoe_evaluation *result,
                                  size_t result_size);

/*
 * Scores `size` bytes at `bytes` as pcmoe_party_evaluate does.
 * Errors: as pcmoe_party_evaluate, and PCMOE_ERROR_INVALID_DATA for a
 * text shorter than seq_len + 1 bytes or larger than 1 GiB.
 * One turn or evaluation at a time per party.
 */
pcmoe_status pcmoe_party_evaluate_bytes(pcmoe_party *party, const uint8_t *bytes, size_t size,
                                        uint64_t max_windows, pcmoe_evaluation *result, size_t result_size);

/*
 * Makes the turn or evaluation running on this party stop soon with
 * PCMOE_ERROR_CANCELLED. A cancel while neither runs has no effect.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party.
 * Thread-safe: meant to be called from another thread.
 */
pcmoe_status pcmoe_party_cancel(pcmoe_party *party);

/* The kinds of long work progress is reported for. */
typedef enum pcmoe_stage {
    /* A training turn; reported once, when it completes. */
    PCMOE_STAGE_TRAIN_TURN = 1,
    /* An evaluation; reported after each batch of windows. */
    PCMOE_STAGE_EVALUATE = 2
} pcmoe_stage;

/* A progress report; owned by the library, valid during the callback. */
typedef struct pcmoe_progress {
    /* A pcmoe_stage. */
    int32_t stage;
    /* Units done so far: turns, or windows scored. */
    uint64_t done;
    /* Units in all. */
    uint64_t total;
} pcmoe_progress;

/* Receives progress, on the thread running the reported call. It may call
 * pcmoe_party_cancel and pcmoe_party_metrics, and nothing else on this party. */
typedef void (*pcmoe_progress_fn)(void *context, const pcmoe_progress *progress);

/*
 * Sends this party's progress reports to `callback` with `context` (NULL:
 * no reports, the default). The library keeps `context` until the
 * callback is replaced or the party destroyed, and never frees it.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party.
 * Not during a turn or evaluation of this party.
 */
pcmoe_status pcmoe_party_set_progress_callback(pcmoe_party *party, pcmoe_progress_fn callback, void *context);

/* ------------------------------------------------------------------ */
/* Checkpoints                                                         */
/* ------------------------------------------------------------------ */

/*
 * Writes what this party owns (backbone, own experts, both optimizers'
 * state, step counters, turns taken and a fingerprint of its data) to a
 * safetensors file at `path`, atomically: a failed save leaves an existing
 * file as it was. Nothing of other parties is written.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers;
 * PCMOE_ERROR_NON_FINITE for a NaN weight; PCMOE_ERROR_IO.
 * Between turns only.
 */
pcmoe_status pcmoe_party_save(pcmoe_party *party, const char *path);

/*
 * Loads a checkpoint written by pcmoe_party_save for the same party id,
 * party count, session, model sizes and run settings. Every tensor is
 * read and checked before any is used, so a failed load changes nothing.
 * The party must call pcmoe_party_join again before its next turn or
 * evaluation, since the other parties may hold checkpoints of another turn.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers;
 * PCMOE_ERROR_INVALID_CHECKPOINT naming the field that differs or the
 * damaged tensor; PCMOE_ERROR_IO. Between turns only.
 */
pcmoe_status pcmoe_party_load(pcmoe_party *party, const char *path);

/* ------------------------------------------------------------------ */
/* Metrics                                                             */
/* ------------------------------------------------------------------ */

/* A snapshot of a party's counters. */
typedef struct pcmoe_metrics {
    uint32_t party_id;
    uint32_t party_count;
    /* Training turns this party took. */
    uint64_t turns;
    /* Optimizer steps of this party's experts: one per turn of any party. */
    uint64_t expert_steps;
    /* Loss of this party's last turn; NaN before its first turn since it
     * was created or loaded from a checkpoint. */
    double last_loss;
    /* Bytes of envelopes sent and received, and incoming messages refused
     * or dropped. */
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint64_t messages_rejected;
    /* The peak bytes held in tensors, by kind: weights, gradients, optimizer
     * moments, activations of its own turns, rows kept while serving other
     * parties' turns, and the peak of their sum. */
    uint64_t peak_parameter_bytes;
    uint64_t peak_gradient_bytes;
    uint64_t peak_optimizer_bytes;
    uint64_t peak_activation_bytes;
    uint64_t peak_served_activation_bytes;
    uint64_t peak_total_bytes;
    /* Bytes of the loaded text used for training and held out. */
    uint64_t train_bytes;
    uint64_t validation_bytes;
} pcmoe_metrics;

/*
 * Fills `metrics_size` bytes of *metrics (sizeof *metrics) with this
 * party's counters.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers;
 * PCMOE_ERROR_BUFFER_TOO_SMALL for a size below the first version.
 * Thread-safe.
 */
pcmoe_status pcmoe_party_metrics(const pcmoe_party *party, pcmoe_metrics *metrics, size_t metrics_size);

#ifdef __cplusplus
}
#endif

#endif /* PCMOE_H */
