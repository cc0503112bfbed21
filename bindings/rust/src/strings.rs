//! Conversions between Rust strings and paths and C strings.

use crate::error::{Error, Result};
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Borrows a static NUL-terminated string of the library.
///
/// # Safety
/// `text` must be NULL or point to a NUL-terminated string that lives as
/// long as the process.
pub(crate) unsafe fn static_str(text: *const c_char) -> &'static str {
    if text.is_null() {
        return "";
    }
    CStr::from_ptr(text).to_str().unwrap_or("(the library returned text that is not UTF-8)")
}

/// Copies a NUL-terminated string that the library lends for the length of a call.
///
/// # Safety
/// `text` must be NULL or point to a NUL-terminated string.
pub(crate) unsafe fn borrowed_string(text: *const c_char) -> String {
    if text.is_null() {
        return String::new();
    }
    CStr::from_ptr(text).to_string_lossy().into_owned()
}

/// Converts a path to a C string; a path with a NUL byte is an error.
pub(crate) fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid_argument(format!("the path {:?} contains a NUL byte", path)))
}
