//! Messages the library produces for a host transport.

use crate::error::Error;
use crate::sys;
use std::fmt;
use std::ptr;
use std::slice;

/// A reply produced by `handle_message`, owned until dropped
/// (`pcmoe_message_free`).
pub struct Message {
    raw: sys::pcmoe_message,
}

// SAFETY: the bytes belong to this Message alone, so reading them needs no
// synchronization. pcmoe_message_free is thread-safe for distinct messages,
// so a Message may move to and be read from any thread.
unsafe impl Send for Message {}
unsafe impl Sync for Message {}

impl Message {
    /// An empty message, as the library's free function leaves one.
    pub(crate) fn empty_raw() -> sys::pcmoe_message {
        sys::pcmoe_message { destination: -1, bytes: ptr::null_mut(), size: 0 }
    }

    /// Takes ownership of a message the library filled.
    pub(crate) fn from_raw(raw: sys::pcmoe_message) -> Message {
        Message { raw }
    }

    /// Returns the party the message goes to, or `None` when the incoming
    /// bytes named no valid sender: then the transport sends it back on the
    /// connection the request came in on.
    pub fn destination(&self) -> Option<u32> {
        u32::try_from(self.raw.destination).ok()
    }

    /// Returns the serialized envelope; empty when there is nothing to send.
    pub fn bytes(&self) -> &[u8] {
        if self.raw.bytes.is_null() || self.raw.size == 0 {
            return &[];
        }
        // The library allocated `size` bytes at `bytes`; they live until drop.
        unsafe { slice::from_raw_parts(self.raw.bytes, self.raw.size) }
    }

    /// Returns true when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        unsafe { sys::pcmoe_message_free(&mut self.raw) }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Message")
            .field("destination", &self.destination())
            .field("size", &self.bytes().len())
            .finish()
    }
}

/// A message the party rejected (`BadMessage`) or could not take
/// (`InvalidArgument`), with the error reply to deliver when the sender is
/// known: the sender's call then fails at once instead of timing out.
#[derive(Debug)]
pub struct Rejected {
    pub error: Error,
    /// Empty when there is nothing to send.
    pub reply: Message,
}

impl fmt::Display for Rejected {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(formatter)
    }
}

impl std::error::Error for Rejected {}

impl From<Rejected> for Error {
    fn from(rejected: Rejected) -> Error {
        rejected.error
    }
}
