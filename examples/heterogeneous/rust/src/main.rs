//! host-rust runs one party of a three-party pcmoe session over ZeroMQ with
//! CURVE, through the Rust binding. Its arguments and output lines are those
//! of the C++ and Go hosts, so one script can drive all three:
//!
//!     host-rust DEPLOYMENT_FILE PARTY_ID KEY_FILE DATA_FILE CHECKPOINT_DIR STEPS SESSION_ID
//!
//! It prints a line on stdout for each JOINED, TURN and FAULT event and a
//! result line at the end, and exits 0. On an error it prints
//! "party ID (rust): error STATUS: MESSAGE" on stderr and exits 1.

mod report;

use pcmoe::{Error, Evaluation, Network, NetworkFlags, Party, PartyParams, SessionParams, Status};
use report::{Output, TurnLosses};
use std::str::FromStr;
use std::sync::Mutex;

const USAGE: &str = "usage: host-rust DEPLOYMENT_FILE PARTY_ID KEY_FILE DATA_FILE CHECKPOINT_DIR STEPS SESSION_ID";

/// The command-line arguments. The output lines name PARTY_ID as given.
struct Arguments {
    deployment: String,
    party_id: u32,
    key_file: String,
    data_file: String,
    checkpoint_dir: String,
    steps: u64,
    session: u64,
}

/// Describes a bad command-line argument, which the output reports with the
/// library's name of the argument status.
fn bad_argument(name: &str, value: &str, expected: &str) -> (Status, String) {
    (Status::InvalidArgument, format!("{} {:?} is not {}", name, value, expected))
}

fn parse_number<T: FromStr>(name: &str, value: &str, expected: &str) -> Result<T, (Status, String)> {
    value.parse::<T>().map_err(|_| bad_argument(name, value, expected))
}

fn parse_arguments(values: &[String]) -> Result<Arguments, (Status, String)> {
    Ok(Arguments {
        deployment: values[0].clone(),
        party_id: parse_number("PARTY_ID", &values[1], "a party id")?,
        key_file: values[2].clone(),
        data_file: values[3].clone(),
        checkpoint_dir: values[4].clone(),
        steps: parse_number("STEPS", &values[5], "a step count")?,
        session: parse_number("SESSION_ID", &values[6], "a session id")?,
    })
}

fn party_params(args: &Arguments) -> pcmoe::Result<PartyParams> {
    let mut params = PartyParams::new()?;
    params.party_id = args.party_id;
    params.party_count = 3;
    params.session = args.session;
    params.d_model = 64;
    params.n_heads = 4;
    params.n_layers = 2;
    params.n_experts = 6;
    params.top_k = 2;
    params.expert_hidden = 128;
    params.seq_len = 64;
    params.steps = args.steps;
    params.batch = 8;
    params.learning_rate = 2e-3;
    params.call_timeout_seconds = 30.0;
    params.use_backbone_seed = true;
    params.backbone_seed = 1000 + u64::from(args.party_id);
    Ok(params)
}

fn session_params(args: &Arguments) -> pcmoe::Result<SessionParams> {
    let mut params = SessionParams::new()?;
    params.checkpoint_folder = Some(args.checkpoint_dir.clone().into());
    params.evaluation_windows = 64;
    params.wait_timeout_seconds = 120.0;
    params.join_timeout_seconds = 120.0;
    Ok(params)
}

/// Trains this party through the session and prints the result line. The
/// network and the party are dropped before it returns, in that order.
fn run(args: &Arguments, output: &Output) -> pcmoe::Result<()> {
    let mut party = Party::create(&party_params(args)?)?;
    party.load_data_file(&args.data_file)?;
    let network = Network::create(&mut party, &args.deployment, &args.key_file, NetworkFlags::NONE)?;
    let session = session_params(args)?;

    let losses = Mutex::new(TurnLosses::default());
    let evaluation: Evaluation = party.run_session(&session, |event, _| output.event(event, &losses))?;
    let metrics = party.metrics()?;
    let counters = network.stats()?;
    let losses = losses.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    output.result(&evaluation, &losses, &metrics, &counters);
    Ok(())
}

fn main() {
    let values: Vec<String> = std::env::args().skip(1).collect();
    if values.len() != 7 {
        eprintln!("{}", USAGE);
        std::process::exit(2);
    }
    let output = Output::new(&values[1]);
    let failure = match parse_arguments(&values) {
        Ok(args) => run(&args, &output).err().map(|error: Error| (error.status(), error.message().to_string())),
        Err(failure) => Some(failure),
    };
    if let Some((status, message)) = failure {
        output.error(status, &message);
        std::process::exit(1);
    }
}
