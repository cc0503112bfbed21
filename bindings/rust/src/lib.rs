//! Rust binding of libpcmoe, which trains one Mixture-of-Experts byte-level
//! language model across several parties; each keeps its data and backbone.
//!
//! [`sys`] declares the C API of pcmoe.h as it is. The rest wraps it:
//! owned handles that release themselves on drop ([`Party`], [`Hub`],
//! [`Network`], [`Message`]), `Result<T, Error>` with the library's status
//! and message, slices for buffers, and closures for callbacks. No panic of
//! a closure reaches the library. README.md describes linking, errors,
//! ownership and threads.

mod callbacks;
mod error;
mod handle;
mod hub;
mod inference;
mod log;
mod message;
mod network;
mod panics;
mod params;
mod party;
mod results;
mod session;
mod strings;
pub mod sys;

pub use crate::error::{last_error, Error, Result, Status};
pub use crate::handle::{PartyControl, PartyHandle};
pub use crate::hub::Hub;
pub use crate::log::{clear_log_callback, set_log_callback, LogLevel};
pub use crate::message::{Message, Rejected};
pub use crate::network::{Network, NetworkFlags};
pub use crate::params::{PartyParams, SamplingParams, SessionParams, WireType};
pub use crate::party::Party;
pub use crate::results::{Evaluation, Metrics, NetworkCounters, Progress, Stage, TurnResult};
pub use crate::session::{SessionEvent, SessionEventKind};

use crate::error::check;
use crate::strings::static_str;

/// The version of the header this binding was written against.
pub const HEADER_VERSION: &str = sys::PCMOE_VERSION_STRING;

/// The version of the wire protocol of that header.
pub const PROTOCOL_VERSION: u32 = sys::PCMOE_PROTOCOL_VERSION;

/// Returns the version of the loaded library as "MAJOR.MINOR.PATCH" (`pcmoe_version`).
pub fn version() -> &'static str {
    // The library returns a static string.
    unsafe { static_str(sys::pcmoe_version()) }
}

/// Sets how many threads the math of every party in this process uses,
/// 1 to 1024 (`pcmoe_set_threads`).
pub fn set_threads(count: u32) -> Result<()> {
    check(unsafe { sys::pcmoe_set_threads(count) })
}

/// Returns the thread count the math uses now (`pcmoe_threads`).
pub fn threads() -> u32 {
    unsafe { sys::pcmoe_threads() }
}

/// Returns the peak resident set size of this process in bytes (VmHWM), or
/// 0 where the system reports none (`pcmoe_peak_resident_bytes`).
pub fn peak_resident_bytes() -> u64 {
    unsafe { sys::pcmoe_peak_resident_bytes() }
}
