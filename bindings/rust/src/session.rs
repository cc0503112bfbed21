//! Coordinated sessions (`pcmoe_party_run_session`) and their events.

use crate::error::{check, Result};
use crate::handle::PartyControl;
use crate::panics::{call_guarded, resume, CaughtPanic};
use crate::params::SessionParams;
use crate::party::Party;
use crate::results::Evaluation;
use crate::strings::borrowed_string;
use crate::sys;
use std::mem::size_of;
use std::os::raw::c_void;
use std::ptr;
use std::sync::{Mutex, PoisonError};

/// The kind of a session event (`pcmoe_session_event_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEventKind {
    /// Every party loaded the checkpoint after `turn` turns; the first event.
    Joined,
    /// The party finished turn `turn` with training loss `loss`.
    Turn,
    /// The party saved its checkpoint after `turn` turns.
    Saved,
    /// The session broke for the reason in `message`; the parties join again.
    Fault,
    /// The party scored its held-out text; `loss` is the validation loss in nats.
    Evaluated,
    /// A value this header does not list.
    Other(i32),
}

impl SessionEventKind {
    pub fn from_raw(raw: i32) -> SessionEventKind {
        match raw {
            sys::PCMOE_SESSION_JOINED => SessionEventKind::Joined,
            sys::PCMOE_SESSION_TURN => SessionEventKind::Turn,
            sys::PCMOE_SESSION_SAVED => SessionEventKind::Saved,
            sys::PCMOE_SESSION_FAULT => SessionEventKind::Fault,
            sys::PCMOE_SESSION_EVALUATED => SessionEventKind::Evaluated,
            other => SessionEventKind::Other(other),
        }
    }
}

/// One event of a session (`pcmoe_session_event`), copied out of the library.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvent {
    pub kind: SessionEventKind,
    /// Joined: true when the party resumed from a checkpoint.
    pub resumed: bool,
    /// Joined and Saved: the turns in the checkpoint; Turn: the turn number.
    pub turn: u64,
    /// Turn: the training loss; Evaluated: the validation loss; NaN otherwise.
    pub loss: f64,
    /// Fault: why the session broke; empty otherwise.
    pub message: String,
}

impl SessionEvent {
    /// Copies an event, reading only the fields within its `struct_size`: a
    /// field beyond it belongs to a newer header and keeps its default here.
    ///
    /// # Safety
    /// `event` must point to an event the library passed to the callback.
    unsafe fn copy(event: *const sys::pcmoe_session_event) -> SessionEvent {
        let filled = (*event).struct_size;
        let base = event as usize;
        let within = |end: usize| end - base <= filled;
        let mut copy = SessionEvent {
            kind: SessionEventKind::Other(0),
            resumed: false,
            turn: 0,
            loss: f64::NAN,
            message: String::new(),
        };
        if within(ptr::addr_of!((*event).kind) as usize + size_of::<i32>()) {
            copy.kind = SessionEventKind::from_raw((*event).kind);
        }
        if within(ptr::addr_of!((*event).resumed) as usize + size_of::<i32>()) {
            copy.resumed = (*event).resumed != 0;
        }
        if within(ptr::addr_of!((*event).turn) as usize + size_of::<u64>()) {
            copy.turn = (*event).turn;
        }
        if within(ptr::addr_of!((*event).loss) as usize + size_of::<f64>()) {
            copy.loss = (*event).loss;
        }
        if within(ptr::addr_of!((*event).message) as usize + size_of::<*const u8>()) {
            copy.message = borrowed_string((*event).message);
        }
        copy
    }
}

type EventCallback<'a> = Box<dyn FnMut(&SessionEvent, &PartyControl<'_>) + Send + 'a>;

/// The context of one `pcmoe_party_run_session` call; it lives on the
/// caller's stack, since no event comes after the call returned.
struct SessionSlot<'a> {
    callback: Mutex<EventCallback<'a>>,
    party: *mut sys::pcmoe_party,
    panic: CaughtPanic,
}

unsafe extern "C" fn session_trampoline(context: *mut c_void, event: *const sys::pcmoe_session_event) {
    let slot = &*(context as *const SessionSlot<'_>);
    let copy = SessionEvent::copy(event);
    let control = PartyControl::new(slot.party);
    let outcome = call_guarded(|| {
        let mut callback = slot.callback.lock().unwrap_or_else(PoisonError::into_inner);
        callback(&copy, &control)
    });
    // A panic cancels the session; it resumes once run_session returned.
    if let Err(payload) = outcome {
        slot.panic.store(payload);
        sys::pcmoe_party_cancel(slot.party);
    }
}

impl Party {
    /// Runs this party through a whole coordinated session and returns its
    /// final evaluation (`pcmoe_party_run_session`).
    ///
    /// `on_event` receives every event: on this thread, except `Saved` after
    /// another party's turn, which comes on the thread that delivers the
    /// party's messages. Calls never overlap and none comes after the return.
    /// A panic in it cancels the session, and the panic resumes on this
    /// thread once the session returned.
    pub fn run_session<F>(&mut self, params: &SessionParams, on_event: F) -> Result<Evaluation>
    where
        F: FnMut(&SessionEvent, &PartyControl<'_>) + Send,
    {
        let (raw_params, _folder) = params.to_raw()?;
        let slot =
            SessionSlot { callback: Mutex::new(Box::new(on_event)), party: self.raw(), panic: CaughtPanic::default() };
        let context = &slot as *const SessionSlot<'_> as *mut c_void;
        let mut raw = sys::pcmoe_evaluation::default();
        let status = unsafe {
            sys::pcmoe_party_run_session(
                self.raw(),
                &raw_params,
                Some(session_trampoline),
                context,
                &mut raw,
                size_of::<sys::pcmoe_evaluation>(),
            )
        };
        let result = check(status);
        resume(slot.panic.take());
        resume(self.take_progress_panic());
        result.map(|()| Evaluation::from(raw))
    }
}
