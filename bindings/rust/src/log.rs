//! The process-wide log callback (`pcmoe_set_log_callback`).

use crate::error::{check, Result};
use crate::panics::call_guarded;
use crate::sys;
use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::ptr;
use std::sync::{Mutex, PoisonError};

/// A log level (`pcmoe_log_level`); lower is more severe. `Other` passes a
/// value this header does not list, which the library rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogLevel {
    Error,
    Warning,
    Info,
    Debug,
    Other(i32),
}

impl LogLevel {
    pub fn from_raw(raw: i32) -> LogLevel {
        match raw {
            sys::PCMOE_LOG_ERROR => LogLevel::Error,
            sys::PCMOE_LOG_WARNING => LogLevel::Warning,
            sys::PCMOE_LOG_INFO => LogLevel::Info,
            sys::PCMOE_LOG_DEBUG => LogLevel::Debug,
            other => LogLevel::Other(other),
        }
    }

    pub fn to_raw(self) -> i32 {
        match self {
            LogLevel::Error => sys::PCMOE_LOG_ERROR,
            LogLevel::Warning => sys::PCMOE_LOG_WARNING,
            LogLevel::Info => sys::PCMOE_LOG_INFO,
            LogLevel::Debug => sys::PCMOE_LOG_DEBUG,
            LogLevel::Other(raw) => raw,
        }
    }
}

type LogCallback = Box<dyn FnMut(LogLevel, &str) + Send>;

/// The contexts given to the library. A replaced callback stays here until
/// the process ends, because the header does not say whether a message
/// already under way on another thread still uses it after the swap. Each
/// is boxed so that its address stays fixed when the Vec grows.
#[allow(clippy::vec_box)]
static INSTALLED: Mutex<Vec<Box<Mutex<LogCallback>>>> = Mutex::new(Vec::new());

unsafe extern "C" fn log_trampoline(context: *mut c_void, level: i32, message: *const c_char) {
    let slot = &*(context as *const Mutex<LogCallback>);
    let text = if message.is_null() { "".into() } else { CStr::from_ptr(message).to_string_lossy() };
    // A panic stops at the boundary; the panic hook has already printed it.
    let _ = call_guarded(|| {
        let mut callback = slot.lock().unwrap_or_else(PoisonError::into_inner);
        callback(LogLevel::from_raw(level), &text)
    });
}

/// Sends every log message of `level` or more severe to `callback`.
///
/// The library calls it on the thread that logs, one message at a time. It
/// must not call `set_log_callback` or `clear_log_callback`. A panic in it
/// is caught before it reaches the library and the message is lost.
/// Errors: `InvalidArgument` for `LogLevel::Other`.
pub fn set_log_callback<F>(level: LogLevel, callback: F) -> Result<()>
where
    F: FnMut(LogLevel, &str) + Send + 'static,
{
    let slot: Box<Mutex<LogCallback>> = Box::new(Mutex::new(Box::new(callback)));
    let context = &*slot as *const Mutex<LogCallback> as *mut c_void;
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    check(unsafe { sys::pcmoe_set_log_callback(level.to_raw(), Some(log_trampoline), context) })?;
    installed.push(slot);
    Ok(())
}

/// Makes the library silent again, as it is by default.
pub fn clear_log_callback() -> Result<()> {
    let _installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    check(unsafe { sys::pcmoe_set_log_callback(sys::PCMOE_LOG_ERROR, None, ptr::null_mut()) })
}
