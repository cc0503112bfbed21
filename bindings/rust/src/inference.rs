//! Generation with a party's model and export of the whole model
//! (`pcmoe_party_generate`, `pcmoe_party_allow_export`,
//! `pcmoe_party_export_model`).

use crate::error::{check, Result};
use crate::handle::{allow_export_of, slice_ptr};
use crate::panics::{call_guarded, resume, Payload};
use crate::params::SamplingParams;
use crate::party::Party;
use crate::strings::c_path;
use crate::sys;
use std::ops::ControlFlow;
use std::os::raw::{c_int, c_void};
use std::path::Path;
use std::ptr;

/// The context of one `pcmoe_party_generate` call. It lives on the caller's
/// stack, because the library calls the callback only on the calling thread
/// and never after the call returned.
struct ByteSlot<'a> {
    callback: &'a mut dyn FnMut(u8) -> ControlFlow<()>,
    panic: Option<Payload>,
}

unsafe extern "C" fn byte_trampoline(context: *mut c_void, byte: u8) -> c_int {
    let slot = &mut *(context as *mut ByteSlot<'_>);
    match call_guarded(|| (slot.callback)(byte)) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        // A panic stops generation after this byte and resumes once the call returned.
        Err(payload) => {
            slot.panic = Some(payload);
            1
        }
    }
}

impl Party {
    /// Continues `prompt` by up to `max_bytes` bytes with this party's model
    /// and passes each byte to `on_byte` as soon as it is drawn
    /// (`pcmoe_party_generate`). Returns the number of bytes passed.
    ///
    /// `sampling` `None` uses the library's defaults. `on_byte` runs on this
    /// thread and returns `ControlFlow::Break(())` to stop after that byte.
    /// A panic in it also stops generation, and the panic resumes on this
    /// thread once the call returned. `PartyHandle::cancel` from another
    /// thread stops it before the next byte with `Cancelled`. In a session
    /// of more than one party the party must have joined, and the other
    /// owners' experts are asked for over the transport, as in a turn.
    pub fn generate_with<F>(
        &mut self,
        prompt: &[u8],
        max_bytes: usize,
        sampling: Option<&SamplingParams>,
        mut on_byte: F,
    ) -> Result<usize>
    where
        F: FnMut(u8) -> ControlFlow<()>,
    {
        let raw_sampling = sampling.map(SamplingParams::to_raw);
        let sampling_ptr = raw_sampling.as_ref().map_or(ptr::null(), |raw| raw as *const sys::pcmoe_sampling_params);
        let mut slot = ByteSlot { callback: &mut on_byte, panic: None };
        let context = &mut slot as *mut ByteSlot<'_> as *mut c_void;
        let mut produced = 0usize;
        let status = unsafe {
            sys::pcmoe_party_generate(
                self.raw(),
                slice_ptr(prompt),
                prompt.len(),
                max_bytes,
                sampling_ptr,
                Some(byte_trampoline),
                context,
                &mut produced,
            )
        };
        let result = check(status);
        resume(slot.panic.take());
        result.map(|()| produced)
    }

    /// Continues `prompt` by up to `max_bytes` bytes, as `generate_with`
    /// does, and returns the bytes produced.
    pub fn generate(&mut self, prompt: &[u8], max_bytes: usize, sampling: Option<&SamplingParams>) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.generate_with(prompt, max_bytes, sampling, |byte| {
            bytes.push(byte);
            ControlFlow::Continue(())
        })?;
        Ok(bytes)
    }

    /// Sets the parties this party sends its experts to when they export the
    /// whole model, replacing the earlier list (`pcmoe_party_allow_export`).
    ///
    /// A party starts with an empty list, which rejects every export
    /// request, and an empty slice restores that. A party on the list receives
    /// this party's experts, which were trained on every party's data, and
    /// can use them with no peer. Thread-safe; takes effect for the next
    /// request. An id outside 0 ... party_count - 1 fails with
    /// `InvalidArgument` and leaves the list as it was.
    pub fn allow_export(&self, party_ids: &[u32]) -> Result<()> {
        allow_export_of(self.raw(), party_ids)
    }

    /// Asks every other party for its experts and writes the whole model
    /// (this party's backbone and every party's experts, weights only) to
    /// `path` with mode 0600 (`pcmoe_party_export_model`).
    ///
    /// The file contains this party's backbone, so keep it as private as a
    /// checkpoint. When an owner rejects the request (its export list does
    /// not contain this party), does not reply or is at another step, the
    /// call fails with `Peer`, naming every such owner, and writes nothing.
    pub fn export_model(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::pcmoe_party_export_model(self.raw(), path.as_ptr()) })
    }
}
