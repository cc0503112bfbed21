//! Measurements the library reports: turn results, evaluations, progress,
//! a party's metrics and a network's counters. Field meanings and
//! units are those of the matching structs in pcmoe.h.

use crate::sys;

/// The measurements of a training turn (`pcmoe_turn_result`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TurnResult {
    pub turn: u64,
    pub global_step: u64,
    /// Training loss: cross-entropy plus 0.01 times the balance losses.
    pub loss: f64,
    /// Mean next-byte cross-entropy, in nats.
    pub cross_entropy: f64,
    pub learning_rate: f64,
    pub gradient_norm: f64,
}

impl From<sys::pcmoe_turn_result> for TurnResult {
    fn from(raw: sys::pcmoe_turn_result) -> TurnResult {
        TurnResult {
            turn: raw.turn,
            global_step: raw.global_step,
            loss: raw.loss,
            cross_entropy: raw.cross_entropy,
            learning_rate: raw.learning_rate,
            gradient_norm: raw.gradient_norm,
        }
    }
}

/// The measurements of an evaluation (`pcmoe_evaluation`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Evaluation {
    /// Mean next-byte cross-entropy, in nats.
    pub loss: f64,
    pub bits_per_byte: f64,
    /// Bytes predicted.
    pub tokens: u64,
}

impl From<sys::pcmoe_evaluation> for Evaluation {
    fn from(raw: sys::pcmoe_evaluation) -> Evaluation {
        Evaluation { loss: raw.loss, bits_per_byte: raw.bits_per_byte, tokens: raw.tokens }
    }
}

/// The kind of work a progress report is about (`pcmoe_stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// A training turn, reported once when it completes.
    TrainTurn,
    /// An evaluation, reported after each batch of windows.
    Evaluate,
    /// A value this header does not list.
    Other(i32),
}

impl Stage {
    pub fn from_raw(raw: i32) -> Stage {
        match raw {
            sys::PCMOE_STAGE_TRAIN_TURN => Stage::TrainTurn,
            sys::PCMOE_STAGE_EVALUATE => Stage::Evaluate,
            other => Stage::Other(other),
        }
    }
}

/// A progress report (`pcmoe_progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    /// Units done so far: turns, or windows scored.
    pub done: u64,
    /// Units in all.
    pub total: u64,
}

impl From<sys::pcmoe_progress> for Progress {
    fn from(raw: sys::pcmoe_progress) -> Progress {
        Progress { stage: Stage::from_raw(raw.stage), done: raw.done, total: raw.total }
    }
}

/// A snapshot of a party's counters (`pcmoe_metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    pub party_id: u32,
    pub party_count: u32,
    pub turns: u64,
    pub expert_steps: u64,
    /// NaN before the party's first turn since it was created or loaded.
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
    /// Envelopes sent. A request sent again after a timeout counts again.
    /// Both message counters stay 0 when the loaded library does not write them.
    pub messages_sent: u64,
    /// Envelopes received.
    pub messages_received: u64,
}

impl From<sys::pcmoe_metrics> for Metrics {
    fn from(raw: sys::pcmoe_metrics) -> Metrics {
        Metrics {
            party_id: raw.party_id,
            party_count: raw.party_count,
            turns: raw.turns,
            expert_steps: raw.expert_steps,
            last_loss: raw.last_loss,
            bytes_sent: raw.bytes_sent,
            bytes_received: raw.bytes_received,
            messages_rejected: raw.messages_rejected,
            peak_parameter_bytes: raw.peak_parameter_bytes,
            peak_gradient_bytes: raw.peak_gradient_bytes,
            peak_optimizer_bytes: raw.peak_optimizer_bytes,
            peak_activation_bytes: raw.peak_activation_bytes,
            peak_served_activation_bytes: raw.peak_served_activation_bytes,
            peak_total_bytes: raw.peak_total_bytes,
            train_bytes: raw.train_bytes,
            validation_bytes: raw.validation_bytes,
            messages_sent: raw.messages_sent,
            messages_received: raw.messages_received,
        }
    }
}

/// A snapshot of a network's counters (`pcmoe_network_counters`). Bytes
/// sent and received are in `Metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkCounters {
    /// Connections rejected because their public key is not in the deployment.
    pub rejected_connections: u64,
    /// Requests dropped after one second without a connection, and replies
    /// whose connection had closed.
    pub dropped_messages: u64,
}

impl From<sys::pcmoe_network_counters> for NetworkCounters {
    fn from(raw: sys::pcmoe_network_counters) -> NetworkCounters {
        NetworkCounters { rejected_connections: raw.rejected_connections, dropped_messages: raw.dropped_messages }
    }
}
