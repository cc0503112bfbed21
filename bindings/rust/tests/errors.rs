//! Failures reach the caller as `Err` with the library's status and message.

mod common;

use common::{sample_text, tiny_params, tiny_party, ScratchDir};
use pcmoe::{Party, PartyParams, SessionParams, Status, WireType};
use std::fs;
use std::path::Path;

#[test]
fn missing_config_file_is_invalid_config() {
    let error = Party::from_config("/nonexistent/pcmoe-party.json").err().expect("a missing file");
    assert_eq!(error.status(), Status::InvalidConfig);
    assert!(error.message().contains("/nonexistent/pcmoe-party.json"), "message: {}", error.message());
    assert_eq!(error.to_string(), format!("invalid configuration: {}", error.message()));
}

#[test]
fn unknown_config_key_is_invalid_config() {
    let dir = ScratchDir::new("config");
    let path = dir.join("party.json");
    fs::write(&path, r#"{"party": {"id": 0, "party_count": 1, "session": 3, "colour": 1}}"#).unwrap();
    let error = Party::from_config(&path).err().expect("an unknown key");
    assert_eq!(error.status(), Status::InvalidConfig);
    assert!(error.message().contains("unknown key \"colour\""), "message: {}", error.message());
}

#[test]
fn valid_config_creates_party() {
    let dir = ScratchDir::new("good-config");
    fs::write(dir.join("text.txt"), sample_text(0, 3000)).unwrap();
    let config = r#"{"party": {"id": 0, "party_count": 1, "session": 3},
        "model": {"d_model": 16, "n_heads": 2, "n_layers": 1, "n_experts": 2, "top_k": 1,
                  "expert_hidden": 16, "seq_len": 16},
        "data": ["text.txt"]}"#;
    fs::write(dir.join("party.json"), config).unwrap();
    let party = Party::from_config(dir.join("party.json")).expect("a valid configuration");
    let metrics = party.metrics().unwrap();
    assert_eq!(metrics.party_count, 1);
    assert_eq!(metrics.train_bytes + metrics.validation_bytes, 3000);
}

#[test]
fn bad_params_are_invalid_argument() {
    let mut params = tiny_params(0, 3, 2);
    params.party_count = 0;
    let error = Party::create(&params).err().expect("party_count 0");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("party count is 0"), "message: {}", error.message());

    let mut params = tiny_params(0, 3, 2);
    params.top_k = 7;
    let error = Party::create(&params).err().expect("top_k above n_experts");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("top_k 7 is larger than n_experts 6"), "message: {}", error.message());

    let mut params = tiny_params(0, 3, 2);
    params.wire_type = WireType::Other(7);
    let error = Party::create(&params).err().expect("wire type 7");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("wire_type is 7"), "message: {}", error.message());
}

#[test]
fn bad_privacy_params_are_invalid_argument() {
    let mut params = tiny_params(0, 3, 2);
    params.row_noise_sigma = 0.5;
    let error = Party::create(&params).err().expect("noise without a clip norm");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("row_noise_sigma is 0.5 but row_clip_norm is 0"), "message: {}", error.message());

    let mut params = tiny_params(0, 3, 2);
    params.own_expert_layers = 2;
    let error = Party::create(&params).err().expect("more own-expert layers than layers");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("own_expert_layers is 2"), "message: {}", error.message());

    let mut params = tiny_params(0, 3, 2);
    params.row_clip_norm = 4.0;
    params.row_noise_sigma = 0.5;
    params.own_expert_layers = 1;
    Party::create(&params).expect("valid privacy settings");
}

#[test]
fn defaults_match_header() {
    let params = PartyParams::new().unwrap();
    assert_eq!(params.d_model, 256);
    assert_eq!(params.n_experts, 8);
    assert_eq!(params.batch, 16);
    assert_eq!(params.wire_type, WireType::F32);
    assert!(!params.use_backbone_seed);
    assert_eq!(params.call_retries, 2);
    assert_eq!(params.row_clip_norm, 0.0);
    assert_eq!(params.row_noise_sigma, 0.0);
    assert_eq!(params.own_expert_layers, 0);
    assert_eq!(pcmoe::last_error(), "");

    let session = SessionParams::new().unwrap();
    assert_eq!(session.checkpoint_folder, None);
    assert_eq!(session.checkpoint_every, 1);
    assert_eq!(session.max_rejoins, 20);
    assert_eq!(session.evaluation_windows, 0);
}

#[test]
fn short_text_is_invalid_data() {
    let mut party = Party::create(&tiny_params(0, 3, 2)).unwrap();
    let error = party.load_data(b"too short").expect_err("9 bytes of text");
    assert_eq!(error.status(), Status::InvalidData);
    assert!(error.message().contains("too short"), "message: {}", error.message());

    let error = party.load_data_file("/nonexistent/text.txt").expect_err("a missing file");
    assert_eq!(error.status(), Status::InvalidData);
    assert!(error.message().contains("/nonexistent/text.txt"), "message: {}", error.message());
}

#[test]
fn turn_without_data_is_invalid_argument() {
    let mut party = Party::create(&tiny_params(0, 1, 2)).unwrap();
    let error = party.train_turn(1).expect_err("no data");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("has no training data"), "message: {}", error.message());
}

#[test]
fn random_bytes_are_rejected_message() {
    let party = tiny_party(1, 3, 2);
    let rejected = party.handle_message(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x17]).expect_err("random bytes");
    assert_eq!(rejected.error.status(), Status::BadMessage);
    assert!(rejected.error.message().contains("not a valid"), "message: {}", rejected.error.message());
    // The sender is unknown, so the error reply goes back on the connection.
    assert_eq!(rejected.reply.destination(), None);
    assert!(!rejected.reply.is_empty());
    assert_eq!(party.metrics().unwrap().messages_rejected, 1);
}

#[test]
fn session_without_folder_is_invalid_argument() {
    let mut party = tiny_party(0, 1, 2);
    let params = SessionParams::new().unwrap();
    let error = party.run_session(&params, |_, _| {}).expect_err("no checkpoint folder");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("checkpoint_folder is NULL"), "message: {}", error.message());
}

#[test]
fn foreign_checkpoint_is_invalid_checkpoint() {
    let dir = ScratchDir::new("foreign");
    let mut party = tiny_party(0, 1, 2);
    fs::write(dir.join("garbage.safetensors"), b"not a checkpoint at all").unwrap();
    let error = party.load(dir.join("garbage.safetensors")).expect_err("a damaged file");
    assert_eq!(error.status(), Status::InvalidCheckpoint);
    assert!(error.message().contains("garbage.safetensors"), "message: {}", error.message());

    let error = party.save(Path::new("/nonexistent/folder/party.safetensors")).expect_err("a missing folder");
    assert_eq!(error.status(), Status::Io);
    assert!(error.message().contains("/nonexistent/folder/party.safetensors"), "message: {}", error.message());
}

#[test]
fn nul_in_path_is_invalid_argument() {
    let error = Party::from_config("party\0.json").err().expect("a NUL byte");
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("NUL"), "message: {}", error.message());
}
