//! Panics in callbacks stop at the C boundary: a send closure's panic fails
//! the call, and a progress or session closure's panic cancels the call and
//! resumes on the caller's thread after it returned.

mod common;

use common::{tiny_params, tiny_party, ScratchDir};
use pcmoe::{Party, SessionEventKind, SessionParams, Stage, Status};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<&str>() {
        Ok(text) => text.to_string(),
        Err(payload) => payload.downcast::<String>().map(|text| *text).unwrap_or_default(),
    }
}

#[test]
fn send_panic_fails_join_with_peer() {
    let mut params = tiny_params(0, 2, 1);
    params.call_timeout_seconds = 0.3;
    params.call_retries = 0;
    let mut party = Party::create(&params).unwrap();
    party.load_data(&common::sample_text(0, 3000)).unwrap();
    let sends = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sends);
    party
        .set_transport(move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            panic!("send closure panics on purpose");
        })
        .unwrap();

    let error = party.join().expect_err("no message can leave");
    assert_eq!(error.status(), Status::Peer);
    assert!(error.message().contains("party 1"), "message: {}", error.message());
    assert!(sends.load(Ordering::SeqCst) >= 1);
}

#[test]
fn progress_panic_resumes_after_evaluation() {
    let mut party = tiny_party(0, 1, 2);
    party
        .set_progress_callback(|progress, _| {
            if progress.stage == Stage::Evaluate {
                panic!("progress closure panics on purpose");
            }
        })
        .unwrap();

    party.train_turn(1).expect("a turn reports progress without panicking");
    let payload = catch_unwind(AssertUnwindSafe(|| party.evaluate(4))).expect_err("the panic resumes");
    assert_eq!(panic_text(payload), "progress closure panics on purpose");

    party.clear_progress_callback().unwrap();
    let evaluation = party.evaluate(4).expect("the party still works");
    assert!(evaluation.loss.is_finite());
    assert_eq!(party.metrics().unwrap().turns, 1);
}

#[test]
fn cancel_from_progress_callback() {
    let mut party = tiny_party(0, 1, 2);
    party
        .set_progress_callback(|progress, control| {
            if progress.stage == Stage::Evaluate {
                control.cancel().expect("cancel from the callback");
            }
        })
        .unwrap();
    let error = party.evaluate(8).expect_err("cancelled");
    assert_eq!(error.status(), Status::Cancelled);
    assert!(!error.message().is_empty());
}

#[test]
fn session_panic_resumes_after_session() {
    let dir = ScratchDir::new("session-panic");
    let mut party = tiny_party(0, 1, 3);
    let mut params = SessionParams::new().unwrap();
    params.checkpoint_folder = Some(dir.join("checkpoints"));
    params.evaluation_windows = 4;

    let outcome = catch_unwind(AssertUnwindSafe(|| {
        party.run_session(&params, |event, _| {
            if event.kind == SessionEventKind::Turn {
                panic!("session closure panics on purpose");
            }
        })
    }));
    assert_eq!(panic_text(outcome.expect_err("the panic resumes")), "session closure panics on purpose");

    let mut kinds = Vec::new();
    let evaluation = party.run_session(&params, |event, _| kinds.push(event.kind)).expect("the session resumes");
    assert_eq!(kinds.first(), Some(&SessionEventKind::Joined));
    assert_eq!(kinds.last(), Some(&SessionEventKind::Evaluated));
    assert!(evaluation.loss.is_finite());
    assert_eq!(party.metrics().unwrap().turns, 3);
}
