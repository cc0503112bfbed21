//! Raw declarations of pcmoe.h, written by hand: every function, struct,
//! enum value and callback type, under the header's own names.
//!
//! C enums are `i32` type aliases with constants, because the library may
//! return values a Rust enum would not allow. The layout test below
//! compares every struct with the layout a C compiler gives it.
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_int, c_void};

pub const PCMOE_VERSION_MAJOR: u32 = 0;
pub const PCMOE_VERSION_MINOR: u32 = 1;
pub const PCMOE_VERSION_PATCH: u32 = 0;
pub const PCMOE_VERSION_STRING: &str = "0.1.0";
pub const PCMOE_PROTOCOL_VERSION: u32 = 1;

pub type pcmoe_status = c_int;
pub const PCMOE_OK: pcmoe_status = 0;
pub const PCMOE_ERROR_INVALID_ARGUMENT: pcmoe_status = 1;
pub const PCMOE_ERROR_INVALID_CONFIG: pcmoe_status = 2;
pub const PCMOE_ERROR_INVALID_DATA: pcmoe_status = 3;
pub const PCMOE_ERROR_INVALID_CHECKPOINT: pcmoe_status = 4;
pub const PCMOE_ERROR_IO: pcmoe_status = 5;
pub const PCMOE_ERROR_NON_FINITE: pcmoe_status = 6;
pub const PCMOE_ERROR_CANCELLED: pcmoe_status = 7;
pub const PCMOE_ERROR_PEER: pcmoe_status = 8;
pub const PCMOE_ERROR_BAD_MESSAGE: pcmoe_status = 9;
pub const PCMOE_ERROR_BUFFER_TOO_SMALL: pcmoe_status = 10;
pub const PCMOE_ERROR_INTERNAL: pcmoe_status = 11;

pub type pcmoe_log_level = c_int;
pub const PCMOE_LOG_ERROR: pcmoe_log_level = 1;
pub const PCMOE_LOG_WARNING: pcmoe_log_level = 2;
pub const PCMOE_LOG_INFO: pcmoe_log_level = 3;
pub const PCMOE_LOG_DEBUG: pcmoe_log_level = 4;

pub type pcmoe_wire_type = c_int;
pub const PCMOE_WIRE_F32: pcmoe_wire_type = 0;
pub const PCMOE_WIRE_BF16: pcmoe_wire_type = 1;
pub const PCMOE_WIRE_F16: pcmoe_wire_type = 2;

pub type pcmoe_network_flags = c_int;
pub const PCMOE_NETWORK_INSECURE_PLAIN_TCP: pcmoe_network_flags = 1;

pub type pcmoe_stage = c_int;
pub const PCMOE_STAGE_TRAIN_TURN: pcmoe_stage = 1;
pub const PCMOE_STAGE_EVALUATE: pcmoe_stage = 2;

pub type pcmoe_session_event_kind = c_int;
pub const PCMOE_SESSION_JOINED: pcmoe_session_event_kind = 1;
pub const PCMOE_SESSION_TURN: pcmoe_session_event_kind = 2;
pub const PCMOE_SESSION_SAVED: pcmoe_session_event_kind = 3;
pub const PCMOE_SESSION_FAULT: pcmoe_session_event_kind = 4;
pub const PCMOE_SESSION_EVALUATED: pcmoe_session_event_kind = 5;

/// Opaque party handle.
#[repr(C)]
pub struct pcmoe_party {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque in-process hub handle.
#[repr(C)]
pub struct pcmoe_hub {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque ZeroMQ network handle.
#[repr(C)]
pub struct pcmoe_network {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pcmoe_party_params {
    pub struct_size: usize,
    pub party_id: u32,
    pub party_count: u32,
    pub session: u64,
    pub d_model: u32,
    pub n_heads: u32,
    pub n_layers: u32,
    pub n_experts: u32,
    pub top_k: u32,
    pub expert_hidden: u32,
    pub seq_len: u32,
    pub steps: u64,
    pub batch: u32,
    pub learning_rate: f64,
    pub warmup_fraction: f64,
    pub min_lr_ratio: f64,
    pub weight_decay: f64,
    pub clip_norm: f64,
    pub seed: u64,
    pub wire_type: i32,
    pub call_timeout_seconds: f64,
    pub use_backbone_seed: i32,
    pub backbone_seed: u64,
    pub call_retries: u32,
    pub row_clip_norm: f64,
    pub row_noise_sigma: f64,
    pub own_expert_layers: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pcmoe_message {
    pub destination: i32,
    pub bytes: *mut u8,
    pub size: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pcmoe_network_counters {
    pub rejected_connections: u64,
    pub dropped_messages: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pcmoe_turn_result {
    pub turn: u64,
    pub global_step: u64,
    pub loss: f64,
    pub cross_entropy: f64,
    pub learning_rate: f64,
    pub gradient_norm: f64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pcmoe_evaluation {
    pub loss: f64,
    pub bits_per_byte: f64,
    pub tokens: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pcmoe_progress {
    pub stage: i32,
    pub done: u64,
    pub total: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pcmoe_session_params {
    pub struct_size: usize,
    pub checkpoint_folder: *const c_char,
    pub checkpoint_every: u32,
    pub join_timeout_seconds: f64,
    pub wait_timeout_seconds: f64,
    pub max_rejoins: u32,
    pub evaluation_windows: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct pcmoe_session_event {
    pub struct_size: usize,
    pub kind: i32,
    pub resumed: i32,
    pub turn: u64,
    pub loss: f64,
    pub message: *const c_char,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pcmoe_metrics {
    pub party_id: u32,
    pub party_count: u32,
    pub turns: u64,
    pub expert_steps: u64,
    pub last_loss: f64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub messages_rejected: u64,
    pub peak_parameter_bytes: u64,
    pub peak_gradient_bytes: u64,
    pub peak_optimizer_bytes: u64,
    pub peak_activation_bytes: u64,
    pub peak_served_activation_bytes: u64,
    pub peak_total_bytes: u64,
    pub train_bytes: u64,
    pub validation_bytes: u64,
    pub messages_sent: u64,
    pub messages_received: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct pcmoe_sampling_params {
    pub struct_size: usize,
    pub temperature: f64,
    pub top_k: u32,
    pub top_p: f64,
    pub seed: u64,
}

pub type pcmoe_log_fn = Option<unsafe extern "C" fn(context: *mut c_void, level: i32, message: *const c_char)>;
pub type pcmoe_send_fn =
    Option<unsafe extern "C" fn(context: *mut c_void, destination: u32, bytes: *const u8, size: usize) -> c_int>;
pub type pcmoe_progress_fn = Option<unsafe extern "C" fn(context: *mut c_void, progress: *const pcmoe_progress)>;
pub type pcmoe_session_fn = Option<unsafe extern "C" fn(context: *mut c_void, event: *const pcmoe_session_event)>;
pub type pcmoe_byte_fn = Option<unsafe extern "C" fn(context: *mut c_void, byte: u8) -> c_int>;

extern "C" {
    pub fn pcmoe_version() -> *const c_char;
    pub fn pcmoe_status_string(status: pcmoe_status) -> *const c_char;
    pub fn pcmoe_last_error() -> *const c_char;

    pub fn pcmoe_set_threads(count: u32) -> pcmoe_status;
    pub fn pcmoe_threads() -> u32;
    pub fn pcmoe_set_log_callback(level: i32, callback: pcmoe_log_fn, context: *mut c_void) -> pcmoe_status;

    pub fn pcmoe_party_default_params(params: *mut pcmoe_party_params, params_size: usize) -> pcmoe_status;
    pub fn pcmoe_party_create(params: *const pcmoe_party_params, party: *mut *mut pcmoe_party) -> pcmoe_status;
    pub fn pcmoe_party_create_from_config(path: *const c_char, party: *mut *mut pcmoe_party) -> pcmoe_status;
    pub fn pcmoe_party_destroy(party: *mut pcmoe_party);
    pub fn pcmoe_party_load_data_file(party: *mut pcmoe_party, path: *const c_char) -> pcmoe_status;
    pub fn pcmoe_party_load_data(party: *mut pcmoe_party, bytes: *const u8, size: usize) -> pcmoe_status;

    pub fn pcmoe_party_set_transport(
        party: *mut pcmoe_party,
        send: pcmoe_send_fn,
        context: *mut c_void,
    ) -> pcmoe_status;
    pub fn pcmoe_party_handle_message(
        party: *mut pcmoe_party,
        bytes: *const u8,
        size: usize,
        reply: *mut pcmoe_message,
    ) -> pcmoe_status;
    pub fn pcmoe_message_free(message: *mut pcmoe_message);

    pub fn pcmoe_hub_create(party_count: u32, hub: *mut *mut pcmoe_hub) -> pcmoe_status;
    pub fn pcmoe_hub_attach(hub: *mut pcmoe_hub, party: *mut pcmoe_party) -> pcmoe_status;
    pub fn pcmoe_hub_destroy(hub: *mut pcmoe_hub);

    pub fn pcmoe_network_create(
        party: *mut pcmoe_party,
        deployment_path: *const c_char,
        key_path: *const c_char,
        flags: u32,
        network: *mut *mut pcmoe_network,
    ) -> pcmoe_status;
    pub fn pcmoe_network_destroy(network: *mut pcmoe_network);
    pub fn pcmoe_network_stats(
        network: *const pcmoe_network,
        counters: *mut pcmoe_network_counters,
        counters_size: usize,
    ) -> pcmoe_status;

    pub fn pcmoe_party_join(party: *mut pcmoe_party) -> pcmoe_status;
    pub fn pcmoe_party_train_turn(
        party: *mut pcmoe_party,
        turn: u64,
        result: *mut pcmoe_turn_result,
        result_size: usize,
    ) -> pcmoe_status;
    pub fn pcmoe_party_evaluate(
        party: *mut pcmoe_party,
        max_windows: u64,
        result: *mut pcmoe_evaluation,
        result_size: usize,
    ) -> pcmoe_status;
    pub fn pcmoe_party_evaluate_bytes(
        party: *mut pcmoe_party,
        bytes: *const u8,
        size: usize,
        max_windows: u64,
        result: *mut pcmoe_evaluation,
        result_size: usize,
    ) -> pcmoe_status;
    pub fn pcmoe_party_cancel(party: *mut pcmoe_party) -> pcmoe_status;
    pub fn pcmoe_party_set_progress_callback(
        party: *mut pcmoe_party,
        callback: pcmoe_progress_fn,
        context: *mut c_void,
    ) -> pcmoe_status;

    pub fn pcmoe_party_save(party: *mut pcmoe_party, path: *const c_char) -> pcmoe_status;
    pub fn pcmoe_party_load(party: *mut pcmoe_party, path: *const c_char) -> pcmoe_status;

    pub fn pcmoe_session_default_params(params: *mut pcmoe_session_params, params_size: usize) -> pcmoe_status;
    pub fn pcmoe_party_run_session(
        party: *mut pcmoe_party,
        params: *const pcmoe_session_params,
        callback: pcmoe_session_fn,
        context: *mut c_void,
        result: *mut pcmoe_evaluation,
        result_size: usize,
    ) -> pcmoe_status;

    pub fn pcmoe_sampling_default_params(params: *mut pcmoe_sampling_params, params_size: usize) -> pcmoe_status;
    pub fn pcmoe_party_generate(
        party: *mut pcmoe_party,
        prompt: *const u8,
        prompt_size: usize,
        max_bytes: usize,
        sampling: *const pcmoe_sampling_params,
        callback: pcmoe_byte_fn,
        context: *mut c_void,
        produced: *mut usize,
    ) -> pcmoe_status;
    pub fn pcmoe_party_allow_export(party: *mut pcmoe_party, party_ids: *const u32, count: usize) -> pcmoe_status;
    pub fn pcmoe_party_export_model(party: *mut pcmoe_party, path: *const c_char) -> pcmoe_status;

    pub fn pcmoe_party_metrics(
        party: *const pcmoe_party,
        metrics: *mut pcmoe_metrics,
        metrics_size: usize,
    ) -> pcmoe_status;
    pub fn pcmoe_peak_resident_bytes() -> u64;
}

#[cfg(test)]
#[path = "sys_layout_test.rs"]
mod layout_test;
