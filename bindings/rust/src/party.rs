//! `Party`: one participant of a session, owned by the caller.

use crate::callbacks::{progress_trampoline, send_trampoline, ProgressSlot, TransportSlot};
use crate::error::{check, Result};
use crate::handle::{cancel_of, handle_message_of, metrics_of, slice_ptr, PartyControl, PartyHandle};
use crate::message::{Message, Rejected};
use crate::panics::{resume, CaughtPanic, Payload};
use crate::params::PartyParams;
use crate::results::{Evaluation, Metrics, Progress, TurnResult};
use crate::strings::c_path;
use crate::sys;
use std::mem::size_of;
use std::os::raw::c_void;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex, PoisonError};

/// The callbacks whose contexts the library holds for a party.
#[derive(Default)]
struct Callbacks {
    transport: Option<Box<TransportSlot>>,
    /// Replaced transports. They stay until the party is destroyed, because a
    /// send may still be under way on another thread when a network or a hub
    /// takes over while a session waits to join. Each is boxed so that its
    /// address, the library's context, stays fixed when the Vec grows.
    #[allow(clippy::vec_box)]
    retired_transports: Vec<Box<TransportSlot>>,
    progress: Option<Box<ProgressSlot>>,
}

/// The party handle and the callbacks it uses, shared by `Party` and its
/// `PartyHandle`s and destroyed with the last of them.
pub(crate) struct Inner {
    raw: NonNull<sys::pcmoe_party>,
    callbacks: Mutex<Callbacks>,
}

// SAFETY: the library ties a party to no thread. Through a shared &Inner
// only pcmoe_party_handle_message, pcmoe_party_metrics and pcmoe_party_cancel
// run. The header allows them on any thread, concurrently with every call
// but pcmoe_party_destroy, and destroy runs in Drop, when no reference is left.
// The calls the header runs one at a time need `&mut Party`, which Rust
// gives to one thread at a time. The callbacks are Send (and the transport
// also Sync, since the library may send from several threads at once).
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}

impl Inner {
    pub(crate) fn raw(&self) -> *mut sys::pcmoe_party {
        self.raw.as_ptr()
    }

    fn callbacks(&self) -> std::sync::MutexGuard<'_, Callbacks> {
        self.callbacks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The callbacks are dropped after this, once the library no longer calls them.
        unsafe { sys::pcmoe_party_destroy(self.raw.as_ptr()) }
    }
}

/// One party of a session (`pcmoe_party`). Calls that the header runs one at
/// a time per party take `&mut self`; the thread-safe ones take `&self` and
/// are also on `PartyHandle`.
pub struct Party {
    inner: Arc<Inner>,
}

fn created(status: sys::pcmoe_status, raw: *mut sys::pcmoe_party) -> Result<Party> {
    check(status)?;
    let raw = NonNull::new(raw).expect("pcmoe returned PCMOE_OK and a NULL party");
    Ok(Party { inner: Arc::new(Inner { raw, callbacks: Mutex::new(Callbacks::default()) }) })
}

impl Party {
    /// Creates a party from `params` (`pcmoe_party_create`).
    pub fn create(params: &PartyParams) -> Result<Party> {
        let raw_params = params.to_raw();
        let mut raw = ptr::null_mut();
        let status = unsafe { sys::pcmoe_party_create(&raw_params, &mut raw) };
        created(status, raw)
    }

    /// Creates a party from a JSON configuration file and loads the training
    /// data it names (`pcmoe_party_create_from_config`).
    pub fn from_config(path: impl AsRef<Path>) -> Result<Party> {
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        let status = unsafe { sys::pcmoe_party_create_from_config(path.as_ptr(), &mut raw) };
        created(status, raw)
    }

    /// Returns a shared handle for other threads.
    pub fn handle(&self) -> PartyHandle {
        PartyHandle { inner: Arc::clone(&self.inner) }
    }

    pub(crate) fn raw(&self) -> *mut sys::pcmoe_party {
        self.inner.raw()
    }

    /// Loads training text from a file or folder (`pcmoe_party_load_data_file`).
    pub fn load_data_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::pcmoe_party_load_data_file(self.raw(), path.as_ptr()) })
    }

    /// Uses `text` as training text; the library copies it (`pcmoe_party_load_data`).
    pub fn load_data(&mut self, text: &[u8]) -> Result<()> {
        check(unsafe { sys::pcmoe_party_load_data(self.raw(), slice_ptr(text), text.len()) })
    }

    /// Makes `send` carry this party's messages (`pcmoe_party_set_transport`).
    ///
    /// `send(destination, bytes)` must copy the bytes, queue them for the
    /// destination party and return true, or return false when it cannot.
    /// It must not block on the peer, and the library may call it from
    /// several threads at once. A panic in it counts as false.
    pub fn set_transport<F>(&mut self, send: F) -> Result<()>
    where
        F: Fn(u32, &[u8]) -> bool + Send + Sync + 'static,
    {
        let slot = Box::new(TransportSlot { send: Box::new(send) });
        let context = &*slot as *const TransportSlot as *mut c_void;
        check(unsafe { sys::pcmoe_party_set_transport(self.raw(), Some(send_trampoline), context) })?;
        self.replace_transport(Some(slot));
        Ok(())
    }

    /// Records that the library now calls `slot`, or a transport of its own.
    pub(crate) fn replace_transport(&mut self, slot: Option<Box<TransportSlot>>) {
        let mut callbacks = self.inner.callbacks();
        if let Some(old) = callbacks.transport.take() {
            callbacks.retired_transports.push(old);
        }
        callbacks.transport = slot;
    }

    /// Sends the progress of this party's turns and evaluations to `callback`
    /// (`pcmoe_party_set_progress_callback`), on the thread of the reported call.
    ///
    /// The callback may use the `PartyControl` to cancel the call or read
    /// metrics. A panic in it cancels the call, and the panic resumes on the
    /// caller's thread once the call returned.
    pub fn set_progress_callback<F>(&mut self, callback: F) -> Result<()>
    where
        F: FnMut(&Progress, &PartyControl<'_>) + Send + 'static,
    {
        let slot = Box::new(ProgressSlot {
            callback: Mutex::new(Box::new(callback)),
            party: self.raw(),
            panic: CaughtPanic::default(),
        });
        let context = &*slot as *const ProgressSlot as *mut c_void;
        check(unsafe { sys::pcmoe_party_set_progress_callback(self.raw(), Some(progress_trampoline), context) })?;
        self.inner.callbacks().progress = Some(slot);
        Ok(())
    }

    /// Stops progress reports, as by default.
    pub fn clear_progress_callback(&mut self) -> Result<()> {
        check(unsafe { sys::pcmoe_party_set_progress_callback(self.raw(), None, ptr::null_mut()) })?;
        self.inner.callbacks().progress = None;
        Ok(())
    }

    /// Takes the panic a progress callback caught during the last call.
    pub(crate) fn take_progress_panic(&self) -> Option<Payload> {
        self.inner.callbacks().progress.as_ref().and_then(|slot| slot.panic.take())
    }

    /// Greets every other party and checks that they run the same session
    /// (`pcmoe_party_join`).
    pub fn join(&mut self) -> Result<()> {
        check(unsafe { sys::pcmoe_party_join(self.raw()) })
    }

    /// Takes training turn `turn` (`pcmoe_party_train_turn`).
    pub fn train_turn(&mut self, turn: u64) -> Result<TurnResult> {
        let mut raw = sys::pcmoe_turn_result::default();
        let status =
            unsafe { sys::pcmoe_party_train_turn(self.raw(), turn, &mut raw, size_of::<sys::pcmoe_turn_result>()) };
        let result = check(status);
        resume(self.take_progress_panic());
        result.map(|()| TurnResult::from(raw))
    }

    /// Scores at most `max_windows` windows (0: all) of the held-out text
    /// (`pcmoe_party_evaluate`).
    pub fn evaluate(&mut self, max_windows: u64) -> Result<Evaluation> {
        let mut raw = sys::pcmoe_evaluation::default();
        let status =
            unsafe { sys::pcmoe_party_evaluate(self.raw(), max_windows, &mut raw, size_of::<sys::pcmoe_evaluation>()) };
        let result = check(status);
        resume(self.take_progress_panic());
        result.map(|()| Evaluation::from(raw))
    }

    /// Scores `text` as `evaluate` scores the held-out text (`pcmoe_party_evaluate_bytes`).
    pub fn evaluate_bytes(&mut self, text: &[u8], max_windows: u64) -> Result<Evaluation> {
        let mut raw = sys::pcmoe_evaluation::default();
        let status = unsafe {
            sys::pcmoe_party_evaluate_bytes(
                self.raw(),
                slice_ptr(text),
                text.len(),
                max_windows,
                &mut raw,
                size_of::<sys::pcmoe_evaluation>(),
            )
        };
        let result = check(status);
        resume(self.take_progress_panic());
        result.map(|()| Evaluation::from(raw))
    }

    /// Writes what this party owns to a safetensors file, atomically (`pcmoe_party_save`).
    pub fn save(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::pcmoe_party_save(self.raw(), path.as_ptr()) })
    }

    /// Loads a checkpoint this party saved (`pcmoe_party_load`); join again
    /// before the next turn or evaluation.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        check(unsafe { sys::pcmoe_party_load(self.raw(), path.as_ptr()) })
    }

    /// See `PartyHandle::handle_message`.
    pub fn handle_message(&self, bytes: &[u8]) -> std::result::Result<Message, Rejected> {
        handle_message_of(self.raw(), bytes)
    }

    /// See `PartyHandle::metrics`.
    pub fn metrics(&self) -> Result<Metrics> {
        metrics_of(self.raw())
    }

    /// See `PartyHandle::cancel`.
    pub fn cancel(&self) -> Result<()> {
        cancel_of(self.raw())
    }
}
