//! Trains one small model with three parties in this process, connected by
//! a hub, then evaluates each party and saves its checkpoint.
//!
//!     cargo run --example train [ROUNDS]

use pcmoe::{Hub, Party, PartyParams};

const PARTIES: u32 = 3;

/// Generates a text in one of three styles, standing in for a party's own data.
fn party_text(id: u32) -> Vec<u8> {
    let phrases = ["the cat sat on the mat. ", "one two three four. ", "abc abd abe abf. "];
    phrases[id as usize].as_bytes().iter().cycle().take(4000).copied().collect()
}

fn create_party(id: u32, rounds: u64) -> pcmoe::Result<Party> {
    let mut params = PartyParams::new()?;
    params.party_id = id;
    params.party_count = PARTIES;
    params.session = 42;
    params.d_model = 32;
    params.n_heads = 2;
    params.n_layers = 1;
    params.n_experts = 6;
    params.expert_hidden = 64;
    params.seq_len = 32;
    params.batch = 8;
    params.learning_rate = 1e-2;
    params.steps = rounds * u64::from(PARTIES);
    let mut party = Party::create(&params)?;
    party.load_data(&party_text(id))?;
    Ok(party)
}

fn run(rounds: u64) -> pcmoe::Result<()> {
    let hub = Hub::create(PARTIES)?;
    let mut parties = Vec::new();
    for id in 0..PARTIES {
        let mut party = create_party(id, rounds)?;
        hub.attach(&mut party)?;
        parties.push(party);
    }
    for party in parties.iter_mut() {
        party.join()?;
    }

    for round in 0..rounds {
        let mut losses = Vec::new();
        for (id, party) in parties.iter_mut().enumerate() {
            let turn = round * u64::from(PARTIES) + id as u64 + 1;
            losses.push(format!("{:.4}", party.train_turn(turn)?.loss));
        }
        println!("round {:3}  loss {}", round + 1, losses.join(" "));
    }

    let folder = std::env::temp_dir();
    for (id, party) in parties.iter_mut().enumerate() {
        let evaluation = party.evaluate(16)?;
        let metrics = party.metrics()?;
        let path = folder.join(format!("pcmoe-example-party-{}.safetensors", id));
        party.save(&path)?;
        println!(
            "party {}: {:.3} bits/byte; sent {} bytes, received {} bytes; saved {}",
            id,
            evaluation.bits_per_byte,
            metrics.bytes_sent,
            metrics.bytes_received,
            path.display()
        );
    }
    Ok(())
}

fn main() {
    let rounds = match std::env::args().nth(1).map(|text| text.parse::<u64>()) {
        None => 10,
        Some(Ok(rounds)) if rounds > 0 => rounds,
        Some(_) => {
            eprintln!("usage: train [ROUNDS]; ROUNDS is a whole number above 0");
            std::process::exit(2);
        }
    };
    println!("pcmoe {}: {} parties, {} rounds", pcmoe::version(), PARTIES, rounds);
    if let Err(error) = run(rounds) {
        eprintln!("error: {}", error);
        std::process::exit(1);
    }
}
