//! A host transport written with the binding: each party's send closure
//! queues bytes for the destination's delivery thread, which hands them to
//! `PartyHandle::handle_message` and queues the reply.

mod common;

use common::{tiny_party, PARTIES};
use pcmoe::{Party, PartyHandle};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

enum Delivery {
    Bytes(Vec<u8>),
    Stop,
}

/// One inbox per party. `mpsc::Sender` is not Sync before Rust 1.72, so each
/// sits behind a mutex to be usable from a send closure on several threads.
type Inboxes = Arc<Vec<Mutex<Sender<Delivery>>>>;

fn queue(inboxes: &Inboxes, destination: u32, bytes: &[u8]) -> bool {
    match inboxes.get(destination as usize) {
        Some(inbox) => inbox.lock().unwrap().send(Delivery::Bytes(bytes.to_vec())).is_ok(),
        None => false,
    }
}

/// Hands every queued message to `party` and queues its reply, until Stop.
fn deliver(party: PartyHandle, inbox: Receiver<Delivery>, inboxes: Inboxes) -> usize {
    let mut delivered = 0;
    while let Ok(Delivery::Bytes(bytes)) = inbox.recv() {
        delivered += 1;
        let reply = match party.handle_message(&bytes) {
            Ok(reply) => reply,
            Err(rejected) => rejected.reply,
        };
        if let Some(destination) = reply.destination() {
            if !reply.is_empty() {
                queue(&inboxes, destination, reply.bytes());
            }
        }
    }
    delivered
}

/// Three parties joined over the queue transport, and their delivery threads.
fn queued_parties(rounds: u64) -> (Vec<Party>, Inboxes, Vec<JoinHandle<usize>>) {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..PARTIES).map(|_| channel()).unzip();
    let inboxes: Inboxes = Arc::new(senders.into_iter().map(Mutex::new).collect());
    let mut parties: Vec<Party> = (0..PARTIES).map(|id| tiny_party(id, PARTIES, rounds)).collect();
    let mut workers = Vec::new();
    for (party, inbox) in parties.iter_mut().zip(receivers) {
        let outgoing = Arc::clone(&inboxes);
        party.set_transport(move |destination, bytes| queue(&outgoing, destination, bytes)).expect("set transport");
        let handle = party.handle();
        let replies = Arc::clone(&inboxes);
        workers.push(thread::spawn(move || deliver(handle, inbox, replies)));
    }
    for party in parties.iter_mut() {
        party.join().expect("join over the queue transport");
    }
    (parties, inboxes, workers)
}

#[test]
fn queue_transport_trains_three_parties() {
    const ROUNDS: u64 = 2;
    let (mut parties, inboxes, workers) = queued_parties(ROUNDS);
    for round in 0..ROUNDS {
        for (id, party) in parties.iter_mut().enumerate() {
            let turn = round * u64::from(PARTIES) + id as u64 + 1;
            let result = party.train_turn(turn).expect("train turn");
            assert!(result.loss.is_finite());
        }
    }
    let evaluation = parties[2].evaluate(2).expect("evaluate");
    assert!(evaluation.loss.is_finite());

    for inbox in inboxes.iter() {
        inbox.lock().unwrap().send(Delivery::Stop).unwrap();
    }
    for worker in workers {
        assert!(worker.join().expect("delivery thread") > 0);
    }
    for party in &parties {
        let metrics = party.metrics().unwrap();
        assert_eq!(metrics.turns, ROUNDS);
        assert!(metrics.bytes_sent > 0);
        assert!(metrics.bytes_received > 0);
        assert_eq!(metrics.messages_rejected, 0);
    }
}

#[test]
fn handle_outlives_party_owner() {
    let party = tiny_party(0, 1, 1);
    let handle = party.handle();
    drop(party);
    let metrics = handle.metrics().expect("metrics through a handle");
    assert_eq!(metrics.party_id, 0);
    handle.cancel().expect("cancel without a running call");
}
