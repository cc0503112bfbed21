//! The process-wide log callback. Its tests share one lock, because cargo
//! runs the tests of a binary on parallel threads and the callback is global.

use pcmoe::{LogLevel, Party, PartyParams, Status};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

static LOG_STATE: Mutex<()> = Mutex::new(());

fn lock_log_state() -> MutexGuard<'static, ()> {
    LOG_STATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fails to create a party and returns the library's message.
fn provoke_error() -> String {
    let mut params = PartyParams::new().unwrap();
    params.party_count = 0;
    let error = Party::create(&params).err().expect("party_count 0");
    assert_eq!(error.status(), Status::InvalidArgument);
    error.message().to_string()
}

#[test]
fn log_callback_receives_errors() {
    let _state = lock_log_state();
    let lines: Arc<Mutex<Vec<(LogLevel, String)>>> = Arc::default();
    let sink = Arc::clone(&lines);
    pcmoe::set_log_callback(LogLevel::Debug, move |level, message| {
        sink.lock().unwrap().push((level, message.to_string()));
    })
    .expect("install log callback");

    let message = provoke_error();
    pcmoe::clear_log_callback().expect("clear log callback");
    let seen = lines.lock().unwrap().clone();
    assert!(
        seen.iter().any(|(level, line)| *level == LogLevel::Debug && line.contains(&message)),
        "the log did not contain {:?}: {:?}",
        message,
        seen
    );

    provoke_error();
    assert_eq!(lines.lock().unwrap().len(), seen.len(), "a cleared callback was called");
}

#[test]
fn log_level_out_of_range_is_invalid_argument() {
    let _state = lock_log_state();
    let error = pcmoe::set_log_callback(LogLevel::Other(9), |_, _| {}).expect_err("level 9");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("log level is 9"), "message: {}", error.message());
}

#[test]
fn log_panic_stays_out_of_library() {
    let _state = lock_log_state();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    pcmoe::set_log_callback(LogLevel::Debug, move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        panic!("log closure panics on purpose");
    })
    .expect("install log callback");

    let first = provoke_error();
    let second = provoke_error();
    pcmoe::clear_log_callback().expect("clear log callback");
    assert!(first.contains("party count is 0"), "message: {}", first);
    assert_eq!(first, second);
    assert!(calls.load(Ordering::SeqCst) >= 2);
}
