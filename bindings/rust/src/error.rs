//! Status codes and the error type every fallible call returns.

use crate::strings::static_str;
use crate::sys;
use std::ffi::CStr;
use std::fmt;

/// The result of a pcmoe call.
pub type Result<T> = std::result::Result<T, Error>;

/// A `pcmoe_status`. `Other` carries a value this header does not list,
/// which a newer library may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    InvalidArgument,
    InvalidConfig,
    InvalidData,
    InvalidCheckpoint,
    Io,
    NonFinite,
    Cancelled,
    Peer,
    BadMessage,
    BufferTooSmall,
    Internal,
    Other(i32),
}

impl Status {
    /// Converts a raw `pcmoe_status`.
    pub fn from_raw(raw: sys::pcmoe_status) -> Status {
        match raw {
            sys::PCMOE_OK => Status::Ok,
            sys::PCMOE_ERROR_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::PCMOE_ERROR_INVALID_CONFIG => Status::InvalidConfig,
            sys::PCMOE_ERROR_INVALID_DATA => Status::InvalidData,
            sys::PCMOE_ERROR_INVALID_CHECKPOINT => Status::InvalidCheckpoint,
            sys::PCMOE_ERROR_IO => Status::Io,
            sys::PCMOE_ERROR_NON_FINITE => Status::NonFinite,
            sys::PCMOE_ERROR_CANCELLED => Status::Cancelled,
            sys::PCMOE_ERROR_PEER => Status::Peer,
            sys::PCMOE_ERROR_BAD_MESSAGE => Status::BadMessage,
            sys::PCMOE_ERROR_BUFFER_TOO_SMALL => Status::BufferTooSmall,
            sys::PCMOE_ERROR_INTERNAL => Status::Internal,
            other => Status::Other(other),
        }
    }

    /// Returns the raw `pcmoe_status` value.
    pub fn to_raw(self) -> sys::pcmoe_status {
        match self {
            Status::Ok => sys::PCMOE_OK,
            Status::InvalidArgument => sys::PCMOE_ERROR_INVALID_ARGUMENT,
            Status::InvalidConfig => sys::PCMOE_ERROR_INVALID_CONFIG,
            Status::InvalidData => sys::PCMOE_ERROR_INVALID_DATA,
            Status::InvalidCheckpoint => sys::PCMOE_ERROR_INVALID_CHECKPOINT,
            Status::Io => sys::PCMOE_ERROR_IO,
            Status::NonFinite => sys::PCMOE_ERROR_NON_FINITE,
            Status::Cancelled => sys::PCMOE_ERROR_CANCELLED,
            Status::Peer => sys::PCMOE_ERROR_PEER,
            Status::BadMessage => sys::PCMOE_ERROR_BAD_MESSAGE,
            Status::BufferTooSmall => sys::PCMOE_ERROR_BUFFER_TOO_SMALL,
            Status::Internal => sys::PCMOE_ERROR_INTERNAL,
            Status::Other(raw) => raw,
        }
    }

    /// Returns the library's short English name of the status, such as
    /// "invalid argument" (`pcmoe_status_string`).
    pub fn name(self) -> &'static str {
        // The library returns a static string that is never NULL.
        unsafe { static_str(sys::pcmoe_status_string(self.to_raw())) }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A failed call: its status and the library's message about it, read
/// with `pcmoe_last_error()` on the calling thread right after the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    /// Makes an error for a value the binding cannot pass to C, such as a
    /// path with a NUL byte.
    pub(crate) fn invalid_argument(message: String) -> Error {
        Error { status: Status::InvalidArgument, message }
    }

    /// Returns the status the call returned.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Returns the library's sentence naming the problem.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// Returns the message of the last status-returning call on this thread
/// (`pcmoe_last_error`).
pub fn last_error() -> String {
    // The library returns a NUL-terminated string, never NULL, valid until
    // the next pcmoe call on this thread; it is copied before that.
    unsafe { CStr::from_ptr(sys::pcmoe_last_error()).to_string_lossy().into_owned() }
}

/// Turns a raw status into `Ok(())` or an `Error` with the thread's last
/// message. Call it right after the C call, before any other pcmoe call.
pub(crate) fn check(raw: sys::pcmoe_status) -> Result<()> {
    if raw == sys::PCMOE_OK {
        return Ok(());
    }
    Err(Error { status: Status::from_raw(raw), message: last_error() })
}
