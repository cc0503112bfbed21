//! Three parties training over a hub: the loss falls, progress and metrics
//! are reported, and a checkpoint round trip restores the run exactly.

mod common;

use common::{sample_text, tiny_party, ScratchDir, PARTIES};
use pcmoe::{Hub, Party, Progress, Stage, Status};
use std::sync::{Arc, Mutex};

/// Three tiny parties attached to one hub and joined.
fn hub_parties(rounds: u64) -> (Hub, Vec<Party>) {
    let hub = Hub::create(PARTIES).expect("create hub");
    let mut parties: Vec<Party> = (0..PARTIES).map(|id| tiny_party(id, PARTIES, rounds)).collect();
    for party in parties.iter_mut() {
        hub.attach(party).expect("attach to hub");
    }
    for party in parties.iter_mut() {
        party.join().expect("join");
    }
    (hub, parties)
}

/// Takes round `round` (from 0) and returns each party's loss.
fn take_round(parties: &mut [Party], round: u64) -> Vec<f64> {
    let mut losses = Vec::new();
    for (id, party) in parties.iter_mut().enumerate() {
        let turn = round * u64::from(PARTIES) + id as u64 + 1;
        let result = party.train_turn(turn).expect("train turn");
        assert_eq!(result.turn, turn);
        assert_eq!(result.global_step, turn);
        assert!(result.loss.is_finite(), "turn {} loss {}", turn, result.loss);
        assert!(result.learning_rate > 0.0);
        losses.push(result.loss);
    }
    losses
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn hub_training_lowers_loss() {
    const ROUNDS: u64 = 12;
    let (_hub, mut parties) = hub_parties(ROUNDS);
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&reports);
    parties[0]
        .set_progress_callback(move |progress, control| {
            assert_eq!(control.metrics().expect("metrics in a callback").party_id, 0);
            sink.lock().unwrap().push(*progress);
        })
        .expect("set progress callback");

    let first = take_round(&mut parties, 0);
    let mut last = first.clone();
    for round in 1..ROUNDS {
        last = take_round(&mut parties, round);
    }
    assert!(mean(&last) < 0.8 * mean(&first), "first round {:?}, last round {:?}", first, last);

    let turns = reports.lock().unwrap().iter().filter(|report| report.stage == Stage::TrainTurn).count();
    assert_eq!(turns as u64, ROUNDS);

    let evaluation = parties[0].evaluate(3).expect("evaluate");
    assert!(evaluation.loss.is_finite());
    assert_eq!(evaluation.tokens, 3 * 16);
    assert!((evaluation.bits_per_byte - evaluation.loss / std::f64::consts::LN_2).abs() < 1e-9);
    let last_report = *reports.lock().unwrap().last().expect("a report");
    assert_eq!(last_report, Progress { stage: Stage::Evaluate, done: 3, total: 3 });

    let scored = parties[1].evaluate_bytes(&sample_text(1, 200), 2).expect("evaluate bytes");
    assert!(scored.loss.is_finite());
    assert_eq!(scored.tokens, 2 * 16);

    for (id, party) in parties.iter().enumerate() {
        let metrics = party.metrics().expect("metrics");
        assert_eq!(metrics.party_id, id as u32);
        assert_eq!(metrics.turns, ROUNDS);
        assert_eq!(metrics.expert_steps, ROUNDS * u64::from(PARTIES));
        assert!(metrics.bytes_sent > 0);
        assert!(metrics.bytes_received > 0);
        assert!(metrics.messages_sent > 0, "party {} sent no messages", id);
        assert!(metrics.messages_received > 0, "party {} received no messages", id);
        assert_eq!(metrics.messages_rejected, 0);
        assert!(metrics.peak_total_bytes > 0);
        assert_eq!(metrics.last_loss, last[id]);
    }
    parties[0].clear_progress_callback().expect("clear progress callback");
}

#[test]
fn checkpoint_round_trip_restores_run() {
    let dir = ScratchDir::new("checkpoints");
    let (_hub, mut parties) = hub_parties(6);
    take_round(&mut parties, 0);
    take_round(&mut parties, 1);
    let paths: Vec<_> = (0..PARTIES).map(|id| dir.join(&format!("party-{}.safetensors", id))).collect();
    for (party, path) in parties.iter_mut().zip(&paths) {
        party.save(path).expect("save");
    }
    let saved = parties[0].evaluate(4).expect("evaluate after saving").loss;
    let first = take_round(&mut parties, 2);
    assert_ne!(parties[0].evaluate(4).unwrap().loss, saved);

    for (party, path) in parties.iter_mut().zip(&paths) {
        party.load(path).expect("load");
    }
    let error = parties[0].evaluate(4).expect_err("evaluate before joining again");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("join"), "message: {}", error.message());
    for party in parties.iter_mut() {
        party.join().expect("join again");
    }
    assert_eq!(parties[0].metrics().unwrap().turns, 2);
    assert_eq!(parties[0].evaluate(4).unwrap().loss, saved);
    assert_eq!(take_round(&mut parties, 2), first);

    let error = parties[0].load(&paths[1]).expect_err("another party's checkpoint");
    assert_eq!(error.status(), Status::InvalidCheckpoint);
    assert!(!error.message().is_empty());
}
