//! Three parties in one process, each with its own ZeroMQ network with CURVE
//! on 127.0.0.1, run a coordinated session on three threads.

mod common;

use common::{tiny_party, Deployment, ScratchDir, PARTIES};
use pcmoe::{Evaluation, Network, NetworkFlags, Party, Result, SessionEvent, SessionEventKind, SessionParams, Status};
use std::thread;
use std::time::Duration;

const ROUNDS: u64 = 2;

/// Connects every party, picking new ports when one is taken meanwhile.
fn connect(parties: &mut [Party], deployment: &Deployment) -> Vec<Network> {
    for _attempt in 0..5 {
        let mut networks = Vec::new();
        let mut failure = None;
        for (party, key) in parties.iter_mut().zip(&deployment.keys) {
            match Network::create(party, &deployment.path, key, NetworkFlags::NONE) {
                Ok(network) => networks.push(network),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        match failure {
            None => return networks,
            Some(error) if error.status() == Status::Io => deployment.pick_ports(),
            Some(error) => panic!("creating a network failed: {}", error),
        }
    }
    panic!("no free ports after five attempts");
}

/// Runs the session, and runs it again when it failed before its first
/// Joined event, as pcmoe.h advises for sessions started close together.
fn run_session(party: &mut Party, params: &SessionParams) -> (Result<Evaluation>, Vec<SessionEvent>) {
    let mut attempts = 0;
    loop {
        let mut events = Vec::new();
        let result = party.run_session(params, |event, _| events.push(event.clone()));
        let joined = events.iter().any(|event| event.kind == SessionEventKind::Joined);
        attempts += 1;
        if result.is_ok() || joined || attempts == 5 {
            return (result, events);
        }
        thread::sleep(Duration::from_millis(300));
    }
}

fn check_events(id: usize, events: &[SessionEvent], evaluation: &Evaluation) {
    assert_eq!(events.first().map(|event| event.kind), Some(SessionEventKind::Joined));
    assert!(!events[0].resumed);
    let faults: Vec<&SessionEvent> = events.iter().filter(|event| event.kind == SessionEventKind::Fault).collect();
    assert!(faults.is_empty(), "party {} faults: {:?}", id, faults);
    let turns: Vec<&SessionEvent> = events.iter().filter(|event| event.kind == SessionEventKind::Turn).collect();
    assert_eq!(turns.len() as u64, ROUNDS);
    for turn in turns {
        assert_eq!((turn.turn - 1) % u64::from(PARTIES), id as u64);
        assert!(turn.loss.is_finite());
    }
    let last = events.last().expect("events");
    assert_eq!(last.kind, SessionEventKind::Evaluated);
    assert_eq!(last.loss, evaluation.loss);
}

#[test]
fn curve_session_of_three_parties() {
    let dir = ScratchDir::new("network");
    let deployment = Deployment::new(&dir, 99);
    let mut parties: Vec<Party> = (0..PARTIES).map(|id| tiny_party(id, PARTIES, ROUNDS)).collect();
    let networks = connect(&mut parties, &deployment);

    let results: Vec<(Result<Evaluation>, Vec<SessionEvent>)> = thread::scope(|scope| {
        let runs: Vec<_> = parties
            .iter_mut()
            .enumerate()
            .map(|(id, party)| {
                let mut params = SessionParams::new().unwrap();
                params.checkpoint_folder = Some(dir.join(&format!("checkpoints-{}", id)));
                params.evaluation_windows = 8;
                params.join_timeout_seconds = 60.0;
                params.wait_timeout_seconds = 60.0;
                scope.spawn(move || run_session(party, &params))
            })
            .collect();
        runs.into_iter().map(|run| run.join().expect("session thread")).collect()
    });

    for (id, (result, events)) in results.iter().enumerate() {
        let evaluation = result.as_ref().unwrap_or_else(|error| panic!("party {}: {}", id, error));
        assert!(evaluation.loss.is_finite());
        assert_eq!(evaluation.tokens, 8 * 16);
        check_events(id, events, evaluation);
    }
    for (party, network) in parties.iter().zip(&networks) {
        let metrics = party.metrics().unwrap();
        assert_eq!(metrics.turns, ROUNDS);
        assert!(metrics.bytes_sent > 0);
        assert!(metrics.bytes_received > 0);
        assert_eq!(network.stats().expect("network stats").rejected_connections, 0);
    }

    drop(networks);
    let error = parties[0].join().expect_err("no transport after the network is dropped");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("no transport"), "message: {}", error.message());
}

#[test]
fn foreign_deployment_is_invalid_config() {
    let dir = ScratchDir::new("network-config");
    let deployment = Deployment::new(&dir, 98);
    let mut party = tiny_party(0, PARTIES, ROUNDS);
    let error = Network::create(&mut party, &deployment.path, &deployment.keys[0], NetworkFlags::NONE)
        .err()
        .expect("a deployment file of another session");
    assert_eq!(error.status(), Status::InvalidConfig);
    assert!(error.message().contains("98"), "message: {}", error.message());

    let error = Network::create(&mut party, dir.join("missing.json"), &deployment.keys[0], NetworkFlags::NONE)
        .err()
        .expect("a missing deployment file");
    assert_eq!(error.status(), Status::InvalidConfig);
    assert!(error.message().contains("missing.json"), "message: {}", error.message());
}
