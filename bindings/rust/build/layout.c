/*
 * Prints the layout of every struct and the value of every constant that
 * pcmoe.h declares, one "NAME VALUE" line each. build.rs compiles and runs
 * it, and the layout test of src/sys.rs compares the lines with the Rust
 * declarations.
 */
#include <pcmoe.h>

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>

#define TYPE(t) printf("size %s %zu\nalign %s %zu\n", #t, sizeof(t), #t, alignof(t))
#define FIELD(t, f) printf("offset %s.%s %zu\nsize %s.%s %zu\n", #t, #f, offsetof(t, f), #t, #f, sizeof(((t *)0)->f))
#define CONSTANT(c) printf("value %s %lld\n", #c, (long long)(c))

static void party_params(void) {
    TYPE(pcmoe_party_params);
    FIELD(pcmoe_party_params, struct_size);
    FIELD(pcmoe_party_params, party_id);
    FIELD(pcmoe_party_params, party_count);
    FIELD(pcmoe_party_params, session);
    FIELD(pcmoe_party_params, d_model);
    FIELD(pcmoe_party_params, n_heads);
    FIELD(pcmoe_party_params, n_layers);
    FIELD(pcmoe_party_params, n_experts);
    FIELD(pcmoe_party_params, top_k);
    FIELD(pcmoe_party_params, expert_hidden);
    FIELD(pcmoe_party_params, seq_len);
    FIELD(pcmoe_party_params, steps);
    FIELD(pcmoe_party_params, batch);
    FIELD(pcmoe_party_params, learning_rate);
    FIELD(pcmoe_party_params, warmup_fraction);
    FIELD(pcmoe_party_params, min_lr_ratio);
    FIELD(pcmoe_party_params, weight_decay);
    FIELD(pcmoe_party_params, clip_norm);
    FIELD(pcmoe_party_params, seed);
    FIELD(pcmoe_party_params, wire_type);
    FIELD(pcmoe_party_params, call_timeout_seconds);
    FIELD(pcmoe_party_params, use_backbone_seed);
    FIELD(pcmoe_party_params, backbone_seed);
    FIELD(pcmoe_party_params, call_retries);
    FIELD(pcmoe_party_params, row_clip_norm);
    FIELD(pcmoe_party_params, row_noise_sigma);
    FIELD(pcmoe_party_params, own_expert_layers);
}

static void session_structs(void) {
    TYPE(pcmoe_session_params);
    FIELD(pcmoe_session_params, struct_size);
    FIELD(pcmoe_session_params, checkpoint_folder);
    FIELD(pcmoe_session_params, checkpoint_every);
    FIELD(pcmoe_session_params, join_timeout_seconds);
    FIELD(pcmoe_session_params, wait_timeout_seconds);
    FIELD(pcmoe_session_params, max_rejoins);
    FIELD(pcmoe_session_params, evaluation_windows);

    TYPE(pcmoe_session_event);
    FIELD(pcmoe_session_event, struct_size);
    FIELD(pcmoe_session_event, kind);
    FIELD(pcmoe_session_event, resumed);
    FIELD(pcmoe_session_event, turn);
    FIELD(pcmoe_session_event, loss);
    FIELD(pcmoe_session_event, message);
}

static void result_structs(void) {
    TYPE(pcmoe_message);
    FIELD(pcmoe_message, destination);
    FIELD(pcmoe_message, bytes);
    FIELD(pcmoe_message, size);

    TYPE(pcmoe_network_counters);
    FIELD(pcmoe_network_counters, rejected_connections);
    FIELD(pcmoe_network_counters, dropped_messages);

    TYPE(pcmoe_turn_result);
    FIELD(pcmoe_turn_result, turn);
    FIELD(pcmoe_turn_result, global_step);
    FIELD(pcmoe_turn_result, loss);
    FIELD(pcmoe_turn_result, cross_entropy);
    FIELD(pcmoe_turn_result, learning_rate);
    FIELD(pcmoe_turn_result, gradient_norm);

    TYPE(pcmoe_evaluation);
    FIELD(pcmoe_evaluation, loss);
    FIELD(pcmoe_evaluation, bits_per_byte);
    FIELD(pcmoe_evaluation, tokens);

    TYPE(pcmoe_progress);
    FIELD(pcmoe_progress, stage);
    FIELD(pcmoe_progress, done);
    FIELD(pcmoe_progress, total);
}

static void metrics(void) {
    TYPE(pcmoe_metrics);
    FIELD(pcmoe_metrics, party_id);
    FIELD(pcmoe_metrics, party_count);
    FIELD(pcmoe_metrics, turns);
    FIELD(pcmoe_metrics, expert_steps);
    FIELD(pcmoe_metrics, last_loss);
    FIELD(pcmoe_metrics, bytes_sent);
    FIELD(pcmoe_metrics, bytes_received);
    FIELD(pcmoe_metrics, messages_rejected);
    FIELD(pcmoe_metrics, peak_parameter_bytes);
    FIELD(pcmoe_metrics, peak_gradient_bytes);
    FIELD(pcmoe_metrics, peak_optimizer_bytes);
    FIELD(pcmoe_metrics, peak_activation_bytes);
    FIELD(pcmoe_metrics, peak_served_activation_bytes);
    FIELD(pcmoe_metrics, peak_total_bytes);
    FIELD(pcmoe_metrics, train_bytes);
    FIELD(pcmoe_metrics, validation_bytes);
    FIELD(pcmoe_metrics, messages_sent);
    FIELD(pcmoe_metrics, messages_received);
}

static void sampling_params(void) {
    TYPE(pcmoe_sampling_params);
    FIELD(pcmoe_sampling_params, struct_size);
    FIELD(pcmoe_sampling_params, temperature);
    FIELD(pcmoe_sampling_params, top_k);
    FIELD(pcmoe_sampling_params, top_p);
    FIELD(pcmoe_sampling_params, seed);
}

static void enums(void) {
    TYPE(pcmoe_status);
    TYPE(pcmoe_log_level);
    TYPE(pcmoe_wire_type);
    TYPE(pcmoe_network_flags);
    TYPE(pcmoe_stage);
    TYPE(pcmoe_session_event_kind);
}

static void constants(void) {
    CONSTANT(PCMOE_VERSION_MAJOR);
    CONSTANT(PCMOE_VERSION_MINOR);
    CONSTANT(PCMOE_VERSION_PATCH);
    CONSTANT(PCMOE_PROTOCOL_VERSION);
    CONSTANT(PCMOE_OK);
    CONSTANT(PCMOE_ERROR_INVALID_ARGUMENT);
    CONSTANT(PCMOE_ERROR_INVALID_CONFIG);
    CONSTANT(PCMOE_ERROR_INVALID_DATA);
    CONSTANT(PCMOE_ERROR_INVALID_CHECKPOINT);
    CONSTANT(PCMOE_ERROR_IO);
    CONSTANT(PCMOE_ERROR_NON_FINITE);
    CONSTANT(PCMOE_ERROR_CANCELLED);
    CONSTANT(PCMOE_ERROR_PEER);
    CONSTANT(PCMOE_ERROR_BAD_MESSAGE);
    CONSTANT(PCMOE_ERROR_BUFFER_TOO_SMALL);
    CONSTANT(PCMOE_ERROR_INTERNAL);
    CONSTANT(PCMOE_LOG_ERROR);
    CONSTANT(PCMOE_LOG_WARNING);
    CONSTANT(PCMOE_LOG_INFO);
    CONSTANT(PCMOE_LOG_DEBUG);
    CONSTANT(PCMOE_WIRE_F32);
    CONSTANT(PCMOE_WIRE_BF16);
    CONSTANT(PCMOE_WIRE_F16);
    CONSTANT(PCMOE_NETWORK_INSECURE_PLAIN_TCP);
    CONSTANT(PCMOE_STAGE_TRAIN_TURN);
    CONSTANT(PCMOE_STAGE_EVALUATE);
    CONSTANT(PCMOE_SESSION_JOINED);
    CONSTANT(PCMOE_SESSION_TURN);
    CONSTANT(PCMOE_SESSION_SAVED);
    CONSTANT(PCMOE_SESSION_FAULT);
    CONSTANT(PCMOE_SESSION_EVALUATED);
}

int main(void) {
    party_params();
    session_structs();
    result_structs();
    metrics();
    sampling_params();
    enums();
    constants();
    printf("string PCMOE_VERSION_STRING %s\n", PCMOE_VERSION_STRING);
    return 0;
}
