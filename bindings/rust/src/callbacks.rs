//! The transport and progress callbacks a party keeps, and the C
//! functions the library calls for them.

use crate::handle::PartyControl;
use crate::panics::{call_guarded, CaughtPanic};
use crate::results::Progress;
use crate::sys;
use std::os::raw::{c_int, c_void};
use std::slice;
use std::sync::{Mutex, PoisonError};

/// Carries one message to a party: returns true when it was queued.
pub(crate) type SendCallback = Box<dyn Fn(u32, &[u8]) -> bool + Send + Sync>;

/// Receives a progress report of the party's own call.
pub(crate) type ProgressCallback = Box<dyn FnMut(&Progress, &PartyControl<'_>) + Send>;

/// The context of `pcmoe_party_set_transport`.
pub(crate) struct TransportSlot {
    pub(crate) send: SendCallback,
}

pub(crate) unsafe extern "C" fn send_trampoline(
    context: *mut c_void,
    destination: u32,
    bytes: *const u8,
    size: usize,
) -> c_int {
    let slot = &*(context as *const TransportSlot);
    let message = if bytes.is_null() || size == 0 { &[][..] } else { slice::from_raw_parts(bytes, size) };
    // A panic counts as a message that could not be queued: the library
    // logs a warning and the waiting call fails after its call timeout.
    match call_guarded(|| (slot.send)(destination, message)) {
        Ok(true) => 0,
        Ok(false) | Err(_) => 1,
    }
}

/// The context of `pcmoe_party_set_progress_callback`.
pub(crate) struct ProgressSlot {
    pub(crate) callback: Mutex<ProgressCallback>,
    pub(crate) party: *mut sys::pcmoe_party,
    pub(crate) panic: CaughtPanic,
}

pub(crate) unsafe extern "C" fn progress_trampoline(context: *mut c_void, progress: *const sys::pcmoe_progress) {
    let slot = &*(context as *const ProgressSlot);
    let report = Progress::from(*progress);
    let control = PartyControl::new(slot.party);
    let outcome = call_guarded(|| {
        let mut callback = slot.callback.lock().unwrap_or_else(PoisonError::into_inner);
        callback(&report, &control)
    });
    // A panic cancels the reported call; it resumes once that call returned.
    if let Err(payload) = outcome {
        slot.panic.store(payload);
        sys::pcmoe_party_cancel(slot.party);
    }
}
