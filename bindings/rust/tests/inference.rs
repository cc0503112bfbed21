//! Generation and export after three parties trained over a hub: seeded
//! repeats, the byte closure's stop, its panic and cancellation, a bad
//! sampling value, and an export that every other owner must allow.

mod common;

use common::{tiny_party, ScratchDir, PARTIES};
use pcmoe::{Hub, Party, SamplingParams, Status};
use std::any::Any;
use std::fs;
use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;

const ROUNDS: u64 = 2;
const PROMPT: &[u8] = b"the cat ";

/// Three tiny parties attached to one hub, joined, after `ROUNDS` rounds of turns.
fn trained_parties() -> (Hub, Vec<Party>) {
    let hub = Hub::create(PARTIES).expect("create hub");
    let mut parties: Vec<Party> = (0..PARTIES).map(|id| tiny_party(id, PARTIES, ROUNDS)).collect();
    for party in parties.iter_mut() {
        hub.attach(party).expect("attach to hub");
    }
    for party in parties.iter_mut() {
        party.join().expect("join");
    }
    for turn in 1..=ROUNDS * u64::from(PARTIES) {
        let owner = ((turn - 1) % u64::from(PARTIES)) as usize;
        parties[owner].train_turn(turn).expect("train turn");
    }
    (hub, parties)
}

fn sampling(seed: u64) -> SamplingParams {
    let mut params = SamplingParams::new().expect("default sampling params");
    params.temperature = 1.2;
    params.top_k = 50;
    params.seed = seed;
    params
}

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<&str>() {
        Ok(text) => text.to_string(),
        Err(payload) => payload.downcast::<String>().map(|text| *text).unwrap_or_default(),
    }
}

#[test]
fn sampling_defaults_match_header() {
    let params = SamplingParams::new().unwrap();
    assert_eq!(params.temperature, 1.0);
    assert_eq!(params.top_k, 0);
    assert_eq!(params.top_p, 1.0);
    assert_eq!(params.seed, 1);
    assert_eq!(pcmoe::last_error(), "");
}

#[test]
fn seeded_generation_repeats() {
    let (_hub, mut parties) = trained_parties();
    let first = parties[1].generate(PROMPT, 24, Some(&sampling(42))).expect("generate");
    assert_eq!(first.len(), 24);
    let second = parties[1].generate(PROMPT, 24, Some(&sampling(42))).expect("generate again");
    assert_eq!(first, second);
    let other = parties[1].generate(PROMPT, 24, Some(&sampling(43))).expect("generate with seed 43");
    assert_eq!(other.len(), 24);
    assert_ne!(first, other);

    // Temperature 0 picks the most likely byte, so the seed does not matter.
    let mut greedy = sampling(1);
    greedy.temperature = 0.0;
    let greedy_one = parties[0].generate(PROMPT, 10, Some(&greedy)).expect("greedy generation");
    greedy.seed = 2;
    let greedy_two = parties[0].generate(PROMPT, 10, Some(&greedy)).expect("greedy generation, seed 2");
    assert_eq!(greedy_one.len(), 10);
    assert_eq!(greedy_one, greedy_two);

    let defaults = parties[2].generate(PROMPT, 10, None).expect("generation with the defaults");
    assert_eq!(defaults.len(), 10);
}

#[test]
fn closure_break_stops_after_five() {
    let (_hub, mut parties) = trained_parties();
    let full = parties[1].generate(PROMPT, 24, Some(&sampling(42))).expect("generate");

    let mut seen = Vec::new();
    let produced = parties[1]
        .generate_with(PROMPT, 24, Some(&sampling(42)), |byte| {
            seen.push(byte);
            if seen.len() == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .expect("generate and stop");
    assert_eq!(produced, 5);
    assert_eq!(seen, full[..5]);
}

#[test]
fn closure_panic_resumes_after_generation() {
    let (_hub, mut parties) = trained_parties();
    let mut seen = 0;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        parties[0].generate_with(PROMPT, 24, None, |_| {
            seen += 1;
            if seen == 3 {
                panic!("byte closure panics on purpose");
            }
            ControlFlow::Continue(())
        })
    }));
    assert_eq!(panic_text(outcome.expect_err("the panic resumes")), "byte closure panics on purpose");
    assert_eq!(seen, 3);

    let bytes = parties[0].generate(PROMPT, 4, None).expect("the party still generates");
    assert_eq!(bytes.len(), 4);
}

#[test]
fn cancel_stops_generation() {
    let (_hub, mut parties) = trained_parties();
    let handle = parties[2].handle();
    let (request, requests) = mpsc::channel::<()>();
    let (done, dones) = mpsc::channel::<()>();
    let canceller = thread::spawn(move || {
        requests.recv().expect("a cancel request");
        handle.cancel().expect("cancel");
        done.send(()).expect("report the cancel");
    });

    // After the first byte the closure waits until the other thread cancelled.
    let mut seen = 0;
    let error = parties[2]
        .generate_with(PROMPT, 100, None, |_| {
            seen += 1;
            if seen == 1 {
                request.send(()).expect("request a cancel");
                dones.recv().expect("the cancel is done");
            }
            ControlFlow::Continue(())
        })
        .expect_err("cancelled");
    canceller.join().expect("canceller thread");
    assert_eq!(error.status(), Status::Cancelled);
    assert!(!error.message().is_empty());
    assert_eq!(seen, 1);
}

#[test]
fn zero_top_p_is_invalid_argument() {
    let (_hub, mut parties) = trained_parties();
    let mut params = sampling(42);
    params.top_p = 0.0;
    let mut calls = 0;
    let error = parties[1]
        .generate_with(PROMPT, 8, Some(&params), |_| {
            calls += 1;
            ControlFlow::Continue(())
        })
        .expect_err("top_p 0");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("top-p is 0"), "message: {}", error.message());
    assert_eq!(calls, 0);

    let error = parties[1].generate(b"", 8, None).expect_err("an empty prompt");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("prompt is empty"), "message: {}", error.message());
}

#[test]
fn generation_before_join_is_invalid_argument() {
    let mut party = tiny_party(1, PARTIES, ROUNDS);
    let error = party.generate(PROMPT, 8, None).expect_err("a party that has not joined");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("has not joined"), "message: {}", error.message());
}

#[test]
fn export_needs_every_owner() {
    let dir = ScratchDir::new("export");
    let path = dir.join("whole.safetensors");
    let (_hub, mut parties) = trained_parties();

    let error = parties[1].export_model(&path).expect_err("the default policy rejects export");
    assert_eq!(error.status(), Status::Peer);
    assert!(error.message().contains("party 0 refuses to send its experts to party 1"), "message: {}", error.message());
    assert!(error.message().contains("party 2 refuses to send its experts to party 1"), "message: {}", error.message());
    assert!(!path.exists());

    let error = parties[0].allow_export(&[1, 7]).expect_err("party id 7 of 3");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("party 7"), "message: {}", error.message());

    parties[0].allow_export(&[1]).expect("party 0 allows party 1");
    let error = parties[1].export_model(&path).expect_err("party 2 still rejects export");
    assert_eq!(error.status(), Status::Peer);
    assert!(error.message().contains("party 2 refuses"), "message: {}", error.message());
    assert!(!error.message().contains("party 0 refuses"), "message: {}", error.message());
    assert!(!path.exists());

    parties[2].handle().allow_export(&[1]).expect("party 2 allows party 1 through a handle");
    parties[1].export_model(&path).expect("export with both owners allowing it");
    let metadata = fs::metadata(&path).expect("the exported file exists");
    assert!(metadata.len() > 0);
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);

    parties[2].allow_export(&[]).expect("party 2 rejects export again");
    let error = parties[1].export_model(dir.join("again.safetensors")).expect_err("party 2 rejects again");
    assert_eq!(error.status(), Status::Peer);
    assert!(error.message().contains("party 2 refuses to send its experts to party 1"), "message: {}", error.message());
    assert!(!dir.join("again.safetensors").exists());
}
