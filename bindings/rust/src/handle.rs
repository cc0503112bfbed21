//! The calls the header allows on any thread at any time:
//! `pcmoe_party_handle_message`, `pcmoe_party_metrics`, `pcmoe_party_cancel`
//! and `pcmoe_party_allow_export`.

use crate::error::{check, Result};
use crate::message::{Message, Rejected};
use crate::party::Inner;
use crate::results::Metrics;
use crate::sys;
use std::marker::PhantomData;
use std::mem::size_of;
use std::ptr;
use std::sync::Arc;

/// Returns a pointer for a slice, NULL for an empty one.
pub(crate) fn slice_ptr<T>(items: &[T]) -> *const T {
    if items.is_empty() {
        ptr::null()
    } else {
        items.as_ptr()
    }
}

pub(crate) fn metrics_of(party: *const sys::pcmoe_party) -> Result<Metrics> {
    let mut raw = sys::pcmoe_metrics::default();
    check(unsafe { sys::pcmoe_party_metrics(party, &mut raw, size_of::<sys::pcmoe_metrics>()) })?;
    Ok(Metrics::from(raw))
}

pub(crate) fn cancel_of(party: *mut sys::pcmoe_party) -> Result<()> {
    check(unsafe { sys::pcmoe_party_cancel(party) })
}

pub(crate) fn allow_export_of(party: *mut sys::pcmoe_party, party_ids: &[u32]) -> Result<()> {
    check(unsafe { sys::pcmoe_party_allow_export(party, slice_ptr(party_ids), party_ids.len()) })
}

pub(crate) fn handle_message_of(party: *mut sys::pcmoe_party, bytes: &[u8]) -> std::result::Result<Message, Rejected> {
    let mut raw = Message::empty_raw();
    let status = unsafe { sys::pcmoe_party_handle_message(party, slice_ptr(bytes), bytes.len(), &mut raw) };
    let result = check(status);
    let reply = Message::from_raw(raw);
    match result {
        Ok(()) => Ok(reply),
        Err(error) => Err(Rejected { error, reply }),
    }
}

/// A shared handle to a party for other threads: a host transport's
/// delivery threads, or a thread that cancels a long call. Cloning is
/// cheap. The party is destroyed when its `Party` and every handle are
/// dropped, so a delivery thread never calls a destroyed party.
#[derive(Clone)]
pub struct PartyHandle {
    pub(crate) inner: Arc<Inner>,
}

impl PartyHandle {
    /// Hands bytes that arrived for this party to it (`pcmoe_party_handle_message`)
    /// and returns the reply to deliver; the reply may be empty.
    /// Runs concurrently with every other call on the party, and must run
    /// while the party's own turn waits for replies.
    pub fn handle_message(&self, bytes: &[u8]) -> std::result::Result<Message, Rejected> {
        handle_message_of(self.inner.raw(), bytes)
    }

    /// Returns a snapshot of the party's counters (`pcmoe_party_metrics`).
    pub fn metrics(&self) -> Result<Metrics> {
        metrics_of(self.inner.raw())
    }

    /// Makes the party's running turn, evaluation, generation or session
    /// stop soon with `Cancelled` (`pcmoe_party_cancel`); without one it has
    /// no effect.
    pub fn cancel(&self) -> Result<()> {
        cancel_of(self.inner.raw())
    }

    /// Sets the parties this party sends its experts to when they export the
    /// whole model (`pcmoe_party_allow_export`). See `Party::allow_export`.
    pub fn allow_export(&self, party_ids: &[u32]) -> Result<()> {
        allow_export_of(self.inner.raw(), party_ids)
    }
}

/// The calls a progress or session callback may make on its own party,
/// valid during the callback.
pub struct PartyControl<'a> {
    party: *mut sys::pcmoe_party,
    _callback: PhantomData<&'a ()>,
}

impl<'a> PartyControl<'a> {
    pub(crate) fn new(party: *mut sys::pcmoe_party) -> PartyControl<'a> {
        PartyControl { party, _callback: PhantomData }
    }

    /// Returns a snapshot of the party's counters.
    pub fn metrics(&self) -> Result<Metrics> {
        metrics_of(self.party)
    }

    /// Stops the party's running call with `Cancelled`.
    pub fn cancel(&self) -> Result<()> {
        cancel_of(self.party)
    }
}
