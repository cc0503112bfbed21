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
 * - Handles (pcmoe_party, pcmoe_hub, pcmoe_network) are opaque. Every handle the library
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
    /* The three fields below were appended after call_retries. The first
     * starts at the struct's size without them, so the tail padding after
     * call_retries is never read as a field. A struct_size that ends before
     * a field (a program built against a header without it) leaves that
     * field's default. */
    /* The L2 norm limit of the rows this party sends to other expert
     * owners, in training and in inference. A longer row is scaled down to
     * it before row_noise_sigma is added. A finite value of 0 or more;
     * default 0. With row_noise_sigma 0 too, rows are sent exact, and a
     * clip above 0 with row_noise_sigma 0 clips without noise. Rows routed
     * to the party's own experts are never clipped. Rows after RMSNorm have
     * a norm near sqrt(d_model) times the scale of the norm weights, and
     * 'pcmoe party --row-noise' clips to sqrt(d_model). */
    double row_clip_norm;
    /* The standard deviation of the Gaussian noise added to each value of a
     * clipped row, from 0 to 1000. Default 0 (no noise). Above
     * 0 it needs row_clip_norm above 0, or pcmoe_party_create fails naming
     * row_clip_norm. The noise is seeded from the system's random
     * generator, so peers cannot regenerate it. Noise hides the rows and
     * costs accuracy; 'pcmoe attack' measures both. */
    double row_noise_sigma;
    /* In the first own_expert_layers layers, this party's router picks only
     * among the experts this party owns, so the rows of those layers never
     * leave it; 0 ... n_layers. Default 0 (free routing). Above 0 it needs
     * the party to own at least top_k experts per layer (see party_count),
     * or pcmoe_party_create fails naming own_expert_layers. */
    uint32_t own_expert_layers;
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
 * transport set before, a hub's or a network's included.
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
/* The network transport                                               */
/* ------------------------------------------------------------------ */

/* One party's ZeroMQ transport over TCP. The party binds the endpoint its
 * deployment file lists for it, connects to the endpoint of every other
 * party, and encrypts and authenticates all traffic with CURVE. */
typedef struct pcmoe_network pcmoe_network;

/* Flags of pcmoe_network_create. */
typedef enum pcmoe_network_flags {
    /* INSECURE: turns CURVE off. The traffic then travels as plain TCP,
     * neither encrypted nor authenticated: anyone who can reach the
     * party's port can read every row and gradient it exchanges, send it
     * requests, and pose as any party of the session. For debugging on a
     * host where every process and user is trusted, never across a
     * network. The library logs a warning when it is used. */
    PCMOE_NETWORK_INSECURE_PLAIN_TCP = 1
} pcmoe_network_flags;

/*
 * Makes `party` exchange its messages with the other parties of its
 * deployment over ZeroMQ, and stores the network's handle in *network;
 * release it with pcmoe_network_destroy. On failure *network is set to
 * NULL and the party's transport is left as it was.
 *
 * `deployment_path` names the deployment file: JSON with the session id
 * and, for each party by id from 0, the endpoint it binds
 * ("tcp://HOST:PORT") and its CURVE public key, given as "public_key"
 * (40 Z85 characters) or as "public_key_file" (a path relative to the
 * deployment file's folder). docs/c-api.md shows one. `key_path` names
 * this party's key pair file, as `pcmoe keygen --out PREFIX` writes it to
 * PREFIX.key: a "public-key = ..." and a "secret-key = ..." line. Its
 * mode must give its group and others no access (0600 or stricter).
 * Both files are read during the call and not kept.
 *
 * The party binds its own endpoint and accepts connections only from the
 * public keys the deployment lists; every incoming message must name as
 * its sender the party whose key its connection authenticated with. The
 * network replaces any transport the party had (a hub's or the host's).
 * A message for a party that is not reachable yet waits up to one second
 * and is then dropped; the call that sent it sends it again (see
 * call_retries), and pcmoe_party_run_session greets until every party
 * replies. `flags` is 0 or PCMOE_NETWORK_INSECURE_PLAIN_TCP; the key pair
 * file is needed in both cases, since the deployment names each party by
 * its public key.
 *
 * Lifetime: the network refers to the party without keeping it alive, so
 * either handle may be destroyed first.
 * - pcmoe_network_destroy first: the party is left without a transport,
 *   and its next join, turn, evaluation or session fails with
 *   PCMOE_ERROR_INVALID_ARGUMENT until it gets another one.
 * - pcmoe_party_destroy first: the network drops what arrives for the
 *   party until it is destroyed too, which closes its sockets.
 *
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers or unknown flag
 * bits; PCMOE_ERROR_INVALID_CONFIG for a deployment or key pair file that
 * cannot be read or contains a bad value, a key pair file its group or
 * others may access, or a deployment that does not fit the party (another
 * session id or party count, or another public key for the party's id
 * than the key pair file contains); PCMOE_ERROR_IO when the endpoint
 * cannot be bound (for instance, the port is in use) or a connection
 * cannot be set up. Thread-safety as pcmoe_party_set_transport: not during a join, turn
 * or evaluation of this party, nor during its session except while that
 * session waits to join (see pcmoe_party_run_session). Networks of
 * different parties are independent.
 */
pcmoe_status pcmoe_network_create(pcmoe_party *party, const char *deployment_path, const char *key_path,
                                  uint32_t flags, pcmoe_network **network);

/*
 * Stops the network: its threads end and its sockets close. Replies
 * already queued get up to two seconds to leave; other unsent messages are
 * dropped. If the party still uses this network as its transport, the
 * party is left without one (see pcmoe_network_create). NULL is allowed
 * and does nothing. May run while a session of the party runs on another
 * thread: that session then fails, with PCMOE_ERROR_INVALID_ARGUMENT or
 * PCMOE_ERROR_PEER, once its current wait ends (at most the wait timeout
 * or the call timeouts of one request); pcmoe_party_cancel ends it at
 * once. The handle must not be used afterwards.
 */
void pcmoe_network_destroy(pcmoe_network *network);

/* A snapshot of a network's counters. */
typedef struct pcmoe_network_counters {
    /* Connections rejected because their public key is not in the
     * deployment; always 0 with PCMOE_NETWORK_INSECURE_PLAIN_TCP, which
     * checks no key. */
    uint64_t rejected_connections;
    /* Messages dropped: requests whose destination had no connection for
     * one second (their call sends them again), and replies whose
     * connection had closed. */
    uint64_t dropped_messages;
} pcmoe_network_counters;

/*
 * Fills `counters_size` bytes of *counters (sizeof *counters) with the
 * network's counters. Bytes sent and received are in pcmoe_party_metrics.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers;
 * PCMOE_ERROR_BUFFER_TOO_SMALL for a size below the first version.
 * Thread-safe.
 */
pcmoe_status pcmoe_network_stats(const pcmoe_network *network, pcmoe_network_counters *counters,
                                 size_t counters_size);

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
 * Makes the turn, evaluation, generation or export running on this party
 * stop soon with PCMOE_ERROR_CANCELLED. A cancel while none runs has no
 * effect.
 * During pcmoe_party_run_session it stops the whole session; see there.
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
/* Coordinated sessions                                                */
/* ------------------------------------------------------------------ */

/*
 * Settings for pcmoe_party_run_session. Prepare with
 * pcmoe_session_default_params, then change fields.
 */
typedef struct pcmoe_session_params {
    /* Bytes of this struct that are valid; set by pcmoe_session_default_params. */
    size_t struct_size;
    /* The folder of this party's session checkpoints, created (mode 0700)
     * when missing. Required: the default is NULL. Give every party a
     * folder of its own. Checkpoints found there at the start make the
     * party resume from them. Read during the call, not kept. */
    const char *checkpoint_folder;
    /* Rounds (one turn of every party) between checkpoints, 1 ... 1000000.
     * The last turn of the session is always followed by one. Default 1. */
    uint32_t checkpoint_every;
    /* Seconds to wait for every party to join, or to join again after a
     * fault; above 0 and at most one week. Default 600. */
    double join_timeout_seconds;
    /* Seconds to wait for another party's turn, or for the others to
     * finish, before the session counts as broken and every party joins
     * again; above 0 and at most one week. Default 600. */
    double wait_timeout_seconds;
    /* How many times the party may join again after a fault before the
     * call fails. Default 20. */
    uint32_t max_rejoins;
    /* At most this many windows in the final evaluation; 0 (the default)
     * scores every window of the held-out text. */
    uint64_t evaluation_windows;
} pcmoe_session_params;

/*
 * Fills `params` with the defaults listed above and sets
 * params->struct_size to the bytes it filled: `params_size` (pass
 * sizeof *params), or the library's own struct size when that is smaller.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL `params`, or a size
 * smaller than the first version of the struct or above 4096. Thread-safe.
 */
pcmoe_status pcmoe_session_default_params(pcmoe_session_params *params, size_t params_size);

/* What a session reports. */
typedef enum pcmoe_session_event_kind {
    /* Every party loaded the checkpoint taken after `turn` turns, and the
     * party starts or resumes from there. The first event of a session. */
    PCMOE_SESSION_JOINED = 1,
    /* The party finished its turn `turn`; `loss` is its training loss. */
    PCMOE_SESSION_TURN = 2,
    /* The party saved its checkpoint after `turn` turns. */
    PCMOE_SESSION_SAVED = 3,
    /* The session broke for the reason in `message`; every party joins
     * again, and a JOINED event follows when they have. */
    PCMOE_SESSION_FAULT = 4,
    /* The party scored its held-out text; `loss` is the validation loss
     * in nats. The last event of a session that succeeds. */
    PCMOE_SESSION_EVALUATED = 5
} pcmoe_session_event_kind;

/* One event of a session; owned by the library, valid during the callback. */
typedef struct pcmoe_session_event {
    /* Bytes of this struct the library filled. Fields are only appended,
     * so a field ending beyond struct_size comes from a newer header and
     * was not filled. */
    size_t struct_size;
    /* A pcmoe_session_event_kind. */
    int32_t kind;
    /* JOINED: 1 when the party resumed from a checkpoint (after a fault,
     * or with turns taken in an earlier run), 0 for the first join of a
     * fresh run. 0 for the other kinds. */
    int32_t resumed;
    /* JOINED and SAVED: the turns complete in the checkpoint; TURN: the
     * turn number; 0 for the other kinds. */
    uint64_t turn;
    /* TURN: the training loss; EVALUATED: the validation loss (mean
     * next-byte cross-entropy, in nats); NaN for the other kinds. */
    double loss;
    /* FAULT: why the session broke; "" for the other kinds. Never NULL.
     * Valid only during the callback: copy it to keep it. */
    const char *message;
} pcmoe_session_event;

/*
 * Receives one event of a session, with the `context` given to
 * pcmoe_party_run_session. Called on the thread that runs
 * pcmoe_party_run_session, except SAVED after another party's turn: the
 * party saves when that turn is handed to it, on the thread that delivers
 * its messages (the network's, the hub's, or the host's thread that called
 * pcmoe_party_handle_message). Calls for one session never overlap, and
 * none comes after pcmoe_party_run_session returned. The party handles no
 * other message on the delivering thread while SAVED runs, so return
 * quickly. It may call pcmoe_party_metrics and pcmoe_party_cancel, and no
 * other function on this party.
 */
typedef void (*pcmoe_session_fn)(void *context, const pcmoe_session_event *event);

/*
 * Runs this party through a whole coordinated session and fills `result`
 * with its final evaluation. Every party of the session runs its own,
 * each in its own process or on its own thread, with the same shared
 * settings; the host needs no turn order and no pcmoe_party_join.
 * - Join: the party greets every other party until all reply, then
 *   every party loads the newest checkpoint all of them have. In a fresh
 *   run, with empty folders, each party saves its initial state after it.
 * - Turns: turn t (from 1) belongs to party (t - 1) mod party_count. A
 *   party hands its turn on once every owner stepped it, so no two turns
 *   overlap. Each party saves turns-NNNNNNNN.safetensors (NNNNNNNN: the
 *   turns complete) after every checkpoint_every rounds and after the
 *   last turn, and keeps the newest two.
 * - Faults: when a peer fails, falls silent past a timeout, or joins
 *   again after a restart, every party joins again and the session goes
 *   on from the newest checkpoint they all have, with the losses of a run
 *   that never broke. After more than max_rejoins faults the call fails.
 * - End: the party scores its held-out text (at most evaluation_windows
 *   windows), then waits until every party has finished.
 * The party needs its training data, and in a session of more than one
 * party a transport (a network, a hub, or the host's). `callback` may be
 * NULL; `context` is passed back to it unchanged and never freed. `result`
 * may be NULL; otherwise `result_size` bytes of it are filled (sizeof
 * *result).
 *
 * Starting: a party replies to greetings as soon as it has a transport.
 * One whose pcmoe_party_run_session has not begun yet replies as a party
 * without a session, which counts as no reply: the greeting party keeps
 * greeting it until its join timeout. A party whose session has
 * only just begun may also reply before its join is under way, which can
 * make a peer that resumes fail with PCMOE_ERROR_INVALID_CHECKPOINT, or
 * break the session. So start the sessions of all parties close together,
 * after their transports exist, and make a call that failed before its
 * first JOINED event again. In one process, avoid this
 * altogether: give every party a transport that drops what it sends
 * (pcmoe_party_set_transport), start every session, and attach the real
 * transport (pcmoe_hub_attach or pcmoe_network_create, both allowed while
 * the session waits to join) once every party has sent its first message.
 *
 * Cancellation: pcmoe_party_cancel, from another thread or from a
 * callback, stops the session: the turn, evaluation or wait in progress
 * ends (a wait to join within about a second), the party does not join
 * again, and the call fails with PCMOE_ERROR_CANCELLED. The other parties
 * see the session break: they join again and wait, up to their join
 * timeout, for this party to come back with a new call, which resumes
 * from its checkpoints.
 *
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party or params, a
 * params struct_size below the first version or above 4096, a NULL or
 * empty checkpoint_folder, a value out of range (the message names it),
 * or a party without data or transport, all checked before anything is
 * written or sent; PCMOE_ERROR_BUFFER_TOO_SMALL for a result size below
 * the first version; PCMOE_ERROR_IO when the checkpoint folder cannot be
 * created or a checkpoint cannot be written; PCMOE_ERROR_INVALID_CHECKPOINT
 * when one cannot be read or the parties' folders are not from one run;
 * PCMOE_ERROR_PEER when the parties do not all join within the join
 * timeout (naming the missing ones), differ in a shared setting, do not
 * all run a session, or the session broke more than max_rejoins times;
 * PCMOE_ERROR_NON_FINITE for a diverged turn; PCMOE_ERROR_CANCELLED.
 * Not thread-safe with other calls on this party except
 * pcmoe_party_handle_message, pcmoe_party_metrics and pcmoe_party_cancel.
 */
pcmoe_status pcmoe_party_run_session(pcmoe_party *party, const pcmoe_session_params *params,
                                     pcmoe_session_fn callback, void *context, pcmoe_evaluation *result,
                                     size_t result_size);

/* ------------------------------------------------------------------ */
/* Inference and export                                                */
/* ------------------------------------------------------------------ */

/*
 * A party's model is its own backbone with every party's experts, so
 * scoring and generation ask the owners for expert forwards, as training
 * does, marked as inference: an owner computes them and keeps nothing, so
 * its weights, gradients and optimizer state stay as they were. Owners
 * serve inference requests at any time, also between the turns of a
 * running session. pcmoe_party_evaluate_bytes scores a buffer.
 */

/*
 * How pcmoe_party_generate draws each byte. Prepare with
 * pcmoe_sampling_default_params, then change fields.
 */
typedef struct pcmoe_sampling_params {
    /* Bytes of this struct that are valid; set by pcmoe_sampling_default_params. */
    size_t struct_size;
    /* Divides the logits before the softmax, 0 ... 100; 0 picks the most
     * likely byte each time (greedy; the lowest byte value on a tie).
     * Default 1. */
    double temperature;
    /* Draws only from the top_k most likely bytes, 0 ... 256; 0 keeps all.
     * Default 0. */
    uint32_t top_k;
    /* Draws only from the smallest set of most likely bytes whose
     * probabilities sum to at least top_p, above 0 and at most 1; 1 keeps
     * all. Default 1. */
    double top_p;
    /* Seeds the draws: the same seed, prompt and model give the same bytes.
     * Default 1. */
    uint64_t seed;
} pcmoe_sampling_params;

/*
 * Fills `params` with the defaults listed above and sets
 * params->struct_size to the bytes it filled: `params_size` (pass
 * sizeof *params), or the library's own struct size when that is smaller.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL `params`, or a size
 * smaller than the first version of the struct or above 4096. Thread-safe.
 */
pcmoe_status pcmoe_sampling_default_params(pcmoe_sampling_params *params, size_t params_size);

/*
 * Receives one generated byte, with the `context` given to
 * pcmoe_party_generate, on the thread that called it. Return 0 to go on,
 * or any other value to stop after this byte.
 */
typedef int (*pcmoe_byte_fn)(void *context, uint8_t byte);

/*
 * Continues the `prompt_size` bytes at `prompt` by up to `max_bytes` bytes
 * with this party's model, and passes each byte to `callback` as soon as
 * it is drawn. Each byte comes from the next-byte distribution after the
 * last seq_len bytes of the text so far (prompt and bytes produced), drawn
 * with the settings in `sampling`. The prompt is copied; `context` is passed back
 * unchanged and never freed. `sampling` may be NULL for the defaults.
 * `produced` may be NULL; otherwise it receives the number of bytes passed
 * to the callback, also when the call fails.
 *
 * It stops after max_bytes bytes, when the callback returns nonzero (both
 * PCMOE_OK), or at pcmoe_party_cancel, from another thread or from the
 * callback, before the next byte (PCMOE_ERROR_CANCELLED). In a session of more than one party the
 * party must have joined (pcmoe_party_join, or a finished
 * pcmoe_party_run_session).
 *
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party or callback, an
 * empty prompt or one above 1 GiB, a max_bytes above 1000000, a sampling
 * struct_size below the first version or above 4096, a sampling value out
 * of range (the message names it), or a party that has not joined;
 * PCMOE_ERROR_PEER when an owner rejects a request or does not reply;
 * PCMOE_ERROR_CANCELLED. One turn, evaluation or generation at a time per
 * party; the callback must not call functions on this party other than
 * pcmoe_party_metrics and pcmoe_party_cancel (a turn, evaluation,
 * generation or export started from it fails with
 * PCMOE_ERROR_INVALID_ARGUMENT).
 */
pcmoe_status pcmoe_party_generate(pcmoe_party *party, const uint8_t *prompt, size_t prompt_size, size_t max_bytes,
                                  const pcmoe_sampling_params *sampling, pcmoe_byte_fn callback, void *context,
                                  size_t *produced);

/*
 * Sets the parties this party sends its experts to when they export the
 * whole model: the `count` party ids at `party_ids`, replacing the earlier
 * list. A party starts with an empty list, which refuses every export
 * request with a reply naming this party; count 0 (party_ids may then be
 * NULL) restores that. A party on the list receives this party's experts,
 * which were trained on every party's data, and may keep and use them
 * with no peer. The ids are copied.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for a NULL party, NULL party_ids
 * with a nonzero count, or an id outside 0 ... party_count - 1; the list
 * is then left as it was. Thread-safe: takes effect for the next request.
 */
pcmoe_status pcmoe_party_allow_export(pcmoe_party *party, const uint32_t *party_ids, size_t count);

/*
 * Asks every other party for its experts and writes the whole model (this
 * party's backbone, its own experts and everyone else's) to `path` as a
 * one-process checkpoint, which `pcmoe eval --checkpoint`, `pcmoe score
 * --model` and `pcmoe generate --model` read with no peer. The file contains
 * weights only, no optimizer state, is written atomically with mode 0600,
 * and contains this party's backbone: keep it as private as its
 * checkpoints. The party must have joined, and every owner's experts must
 * have taken the same steps as this party's.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers, a party that
 * has not joined, or a file that exists at `path` once every expert has
 * arrived; PCMOE_ERROR_PEER naming every owner that refused (its export
 * list does not contain this party), did not reply or is at another step;
 * in both cases nothing is written; PCMOE_ERROR_IO when the file
 * cannot be written; PCMOE_ERROR_CANCELLED. One turn, evaluation or export
 * at a time per party.
 */
pcmoe_status pcmoe_party_export_model(pcmoe_party *party, const char *path);

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
    /* Envelopes sent (a request sent again after a timeout counts again)
     * and received. Appended after validation_bytes: a metrics_size that
     * ends before these fields leaves them unwritten. */
    uint64_t messages_sent;
    uint64_t messages_received;
} pcmoe_metrics;

/*
 * Fills `metrics_size` bytes of *metrics (sizeof *metrics) with this
 * party's counters.
 * Errors: PCMOE_ERROR_INVALID_ARGUMENT for NULL pointers;
 * PCMOE_ERROR_BUFFER_TOO_SMALL for a size below the first version.
 * Thread-safe.
 */
pcmoe_status pcmoe_party_metrics(const pcmoe_party *party, pcmoe_metrics *metrics, size_t metrics_size);

/*
 * Returns the peak resident set size of this process in bytes, as the
 * operating system reports it (VmHWM in /proc/self/status), or 0 where it
 * reports none. It covers all memory of the process, not only pcmoe's
 * tensors. Thread-safe.
 */
uint64_t pcmoe_peak_resident_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* PCMOE_H */
