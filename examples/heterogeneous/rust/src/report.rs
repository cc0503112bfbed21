//! The host's output lines, each written and flushed at once.

use pcmoe::{Evaluation, Metrics, NetworkCounters, SessionEvent, SessionEventKind, Status};
use std::io::Write;
use std::sync::Mutex;

const RUNTIME: &str = "rust";

/// The losses of this party's TURN events.
pub struct TurnLosses {
    pub first: f64,
    pub last: f64,
    pub turns: u64,
}

impl Default for TurnLosses {
    /// NaN losses until the first turn.
    fn default() -> TurnLosses {
        TurnLosses { first: f64::NAN, last: f64::NAN, turns: 0 }
    }
}

/// Writes the lines of one party, prefixed "party ID (rust):".
pub struct Output {
    prefix: String,
}

impl Output {
    pub fn new(id: &str) -> Output {
        Output { prefix: format!("party {} ({}):", id, RUNTIME) }
    }

    fn line(&self, text: &str) {
        let stdout = std::io::stdout();
        let mut stdout = stdout.lock();
        // A closed stdout must not stop the session, so write errors are ignored.
        let _ = writeln!(stdout, "{} {}", self.prefix, text);
        let _ = stdout.flush();
    }

    /// Prints JOINED, TURN and FAULT events and records the turn losses. The
    /// events of a session never overlap, but SAVED may come on another
    /// thread, so the record sits behind a mutex.
    pub fn event(&self, event: &SessionEvent, losses: &Mutex<TurnLosses>) {
        match event.kind {
            SessionEventKind::Joined => {
                self.line(&format!("joined turn={} resumed={}", event.turn, u8::from(event.resumed)))
            }
            SessionEventKind::Turn => {
                let mut record = losses.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if record.turns == 0 {
                    record.first = event.loss;
                }
                record.last = event.loss;
                record.turns += 1;
                self.line(&format!("turn {} loss {:.6}", event.turn, event.loss));
            }
            SessionEventKind::Fault => self.line(&format!("fault {}", event.message)),
            _ => {}
        }
    }

    /// Prints the result line. pcmoe_network_counters contains no byte or
    /// message counts, so the bytes and messages come from the party's
    /// metrics, and the network's own two counters follow as extra keys.
    pub fn result(&self, evaluation: &Evaluation, losses: &TurnLosses, metrics: &Metrics, counters: &NetworkCounters) {
        self.line(&format!(
            "result runtime={} version={} val_loss={:.6} bits_per_byte={:.6} first_loss={:.6} last_loss={:.6} \
             turns={} sent_bytes={} received_bytes={} messages_sent={} messages_received={} \
             rejected_connections={} dropped_messages={}",
            RUNTIME,
            pcmoe::version(),
            evaluation.loss,
            evaluation.bits_per_byte,
            losses.first,
            losses.last,
            losses.turns,
            metrics.bytes_sent,
            metrics.bytes_received,
            metrics.messages_sent,
            metrics.messages_received,
            counters.rejected_connections,
            counters.dropped_messages
        ));
    }

    /// Prints "party ID (rust): error STATUS_NAME: MESSAGE" on stderr.
    pub fn error(&self, status: Status, message: &str) {
        let _ = writeln!(std::io::stderr(), "{} error {}: {}", self.prefix, status.name(), message);
    }
}
