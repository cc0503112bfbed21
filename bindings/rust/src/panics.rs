//! Keeping panics of callbacks out of the library: the header forbids
//! unwinding through it.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

/// The payload of a caught panic.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// Runs a callback and catches its panic.
pub(crate) fn call_guarded<R>(callback: impl FnOnce() -> R) -> Result<R, Payload> {
    catch_unwind(AssertUnwindSafe(callback))
}

/// The first panic caught in a callback during one C call, kept so that it
/// can resume on the caller's thread once the C call returned.
#[derive(Default)]
pub(crate) struct CaughtPanic {
    payload: Mutex<Option<Payload>>,
}

impl CaughtPanic {
    pub(crate) fn store(&self, payload: Payload) {
        let mut slot = self.payload.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(payload);
        }
    }

    pub(crate) fn take(&self) -> Option<Payload> {
        self.payload.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Resumes a panic taken from a `CaughtPanic`, if there is one.
pub(crate) fn resume(payload: Option<Payload>) {
    if let Some(payload) = payload {
        std::panic::resume_unwind(payload);
    }
}
