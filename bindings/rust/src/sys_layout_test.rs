//! Compares the declarations of sys.rs with what a C compiler makes of
//! pcmoe.h: the size and alignment of every struct and enum, the offset and
//! size of every field, and the value of every constant.

use super::*;
use std::collections::BTreeMap;
use std::mem::{align_of, size_of, size_of_val};

include!(concat!(env!("OUT_DIR"), "/layout.rs"));

type Table = BTreeMap<String, String>;

fn insert(table: &mut Table, kind: &str, name: &str, value: String) {
    table.insert(format!("{} {}", kind, name), value);
}

macro_rules! record_type {
    ($table:expr, $type:ident) => {
        insert($table, "size", stringify!($type), size_of::<$type>().to_string());
        insert($table, "align", stringify!($type), align_of::<$type>().to_string());
    };
}

// Every field type here (integers, floats, raw pointers) is valid when zeroed.
macro_rules! record_fields {
    ($table:expr, $type:ident, $($field:ident),+) => {{
        let value: $type = unsafe { std::mem::zeroed() };
        let base = &value as *const $type as usize;
        $(
            let name = concat!(stringify!($type), ".", stringify!($field));
            let offset = &value.$field as *const _ as *const u8 as usize - base;
            insert($table, "offset", name, offset.to_string());
            insert($table, "size", name, size_of_val(&value.$field).to_string());
        )+
    }};
}

macro_rules! record_constants {
    ($table:expr, $($constant:ident),+) => {
        $( insert($table, "value", stringify!($constant), ($constant as i64).to_string()); )+
    };
}

fn record_params(table: &mut Table) {
    record_type!(table, pcmoe_party_params);
    record_fields!(
        table,
        pcmoe_party_params,
        struct_size,
        party_id,
        party_count,
        session,
        d_model,
        n_heads,
        n_layers,
        n_experts,
        top_k,
        expert_hidden,
        seq_len,
        steps,
        batch,
        learning_rate,
        warmup_fraction,
        min_lr_ratio,
        weight_decay,
        clip_norm,
        seed,
        wire_type,
        call_timeout_seconds,
        use_backbone_seed,
        backbone_seed,
        call_retries,
        row_clip_norm,
        row_noise_sigma,
        own_expert_layers
    );

    record_type!(table, pcmoe_session_params);
    record_fields!(
        table,
        pcmoe_session_params,
        struct_size,
        checkpoint_folder,
        checkpoint_every,
        join_timeout_seconds,
        wait_timeout_seconds,
        max_rejoins,
        evaluation_windows
    );

    record_type!(table, pcmoe_session_event);
    record_fields!(table, pcmoe_session_event, struct_size, kind, resumed, turn, loss, message);

    record_type!(table, pcmoe_sampling_params);
    record_fields!(table, pcmoe_sampling_params, struct_size, temperature, top_k, top_p, seed);
}

fn record_results(table: &mut Table) {
    record_type!(table, pcmoe_message);
    record_fields!(table, pcmoe_message, destination, bytes, size);

    record_type!(table, pcmoe_network_counters);
    record_fields!(table, pcmoe_network_counters, rejected_connections, dropped_messages);

    record_type!(table, pcmoe_turn_result);
    record_fields!(table, pcmoe_turn_result, turn, global_step, loss, cross_entropy, learning_rate, gradient_norm);

    record_type!(table, pcmoe_evaluation);
    record_fields!(table, pcmoe_evaluation, loss, bits_per_byte, tokens);

    record_type!(table, pcmoe_progress);
    record_fields!(table, pcmoe_progress, stage, done, total);

    record_type!(table, pcmoe_metrics);
    record_fields!(
        table,
        pcmoe_metrics,
        party_id,
        party_count,
        turns,
        expert_steps,
        last_loss,
        bytes_sent,
        bytes_received,
        messages_rejected,
        peak_parameter_bytes,
        peak_gradient_bytes,
        peak_optimizer_bytes,
        peak_activation_bytes,
        peak_served_activation_bytes,
        peak_total_bytes,
        train_bytes,
        validation_bytes,
        messages_sent,
        messages_received
    );
}

fn record_enums(table: &mut Table) {
    record_type!(table, pcmoe_status);
    record_type!(table, pcmoe_log_level);
    record_type!(table, pcmoe_wire_type);
    record_type!(table, pcmoe_network_flags);
    record_type!(table, pcmoe_stage);
    record_type!(table, pcmoe_session_event_kind);
    record_constants!(
        table,
        PCMOE_VERSION_MAJOR,
        PCMOE_VERSION_MINOR,
        PCMOE_VERSION_PATCH,
        PCMOE_PROTOCOL_VERSION,
        PCMOE_OK,
        PCMOE_ERROR_INVALID_ARGUMENT,
        PCMOE_ERROR_INVALID_CONFIG,
        PCMOE_ERROR_INVALID_DATA,
        PCMOE_ERROR_INVALID_CHECKPOINT,
        PCMOE_ERROR_IO,
        PCMOE_ERROR_NON_FINITE,
        PCMOE_ERROR_CANCELLED,
        PCMOE_ERROR_PEER,
        PCMOE_ERROR_BAD_MESSAGE,
        PCMOE_ERROR_BUFFER_TOO_SMALL,
        PCMOE_ERROR_INTERNAL,
        PCMOE_LOG_ERROR,
        PCMOE_LOG_WARNING,
        PCMOE_LOG_INFO,
        PCMOE_LOG_DEBUG,
        PCMOE_WIRE_F32,
        PCMOE_WIRE_BF16,
        PCMOE_WIRE_F16,
        PCMOE_NETWORK_INSECURE_PLAIN_TCP,
        PCMOE_STAGE_TRAIN_TURN,
        PCMOE_STAGE_EVALUATE,
        PCMOE_SESSION_JOINED,
        PCMOE_SESSION_TURN,
        PCMOE_SESSION_SAVED,
        PCMOE_SESSION_FAULT,
        PCMOE_SESSION_EVALUATED
    );
    insert(table, "string", "PCMOE_VERSION_STRING", PCMOE_VERSION_STRING.to_string());
}

fn c_table() -> Table {
    let mut table = Table::new();
    for (kind, name, value) in C_LAYOUT {
        insert(&mut table, kind, name, value.to_string());
    }
    table
}

#[test]
fn layout_matches_c_compiler() {
    assert_eq!(C_LAYOUT_ERROR, "", "the C layout of pcmoe.h could not be measured");
    let c = c_table();
    let mut rust = Table::new();
    record_params(&mut rust);
    record_results(&mut rust);
    record_enums(&mut rust);
    assert!(c.len() > 100, "build/layout.c printed only {} entries", c.len());

    let mismatches: Vec<String> = c
        .iter()
        .filter(|(key, value)| rust.get(*key) != Some(value))
        .map(|(key, value)| format!("{}: C {} but Rust {:?}", key, value, rust.get(key)))
        .collect();
    assert!(mismatches.is_empty(), "sys.rs differs from pcmoe.h:\n{}", mismatches.join("\n"));

    let unchecked: Vec<&String> = rust.keys().filter(|key| !c.contains_key(*key)).collect();
    assert!(unchecked.is_empty(), "build/layout.c does not print {:?}", unchecked);
}
