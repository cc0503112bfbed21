//! Fixtures shared by the integration tests: tiny parties, generated texts,
//! scratch folders, key pairs and deployment files on 127.0.0.1.
#![allow(dead_code)]

use pcmoe::{Party, PartyParams};
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PARTIES: u32 = 3;

/// Settings of a small model that trains in milliseconds per turn.
pub fn tiny_params(party_id: u32, party_count: u32, rounds: u64) -> PartyParams {
    let mut params = PartyParams::new().expect("default party params");
    params.party_id = party_id;
    params.party_count = party_count;
    params.session = 99;
    params.d_model = 16;
    params.n_heads = 2;
    params.n_layers = 1;
    params.n_experts = 6;
    params.top_k = 2;
    params.expert_hidden = 32;
    params.seq_len = 16;
    params.batch = 4;
    params.steps = rounds * u64::from(party_count);
    params.learning_rate = 1e-2;
    params.use_backbone_seed = true;
    params.backbone_seed = 5;
    params.call_timeout_seconds = 30.0;
    params
}

/// Generates a repetitive text in one of three styles, so that the loss falls fast.
pub fn sample_text(style: u32, size: usize) -> Vec<u8> {
    let phrases = ["the cat sat on the mat. ", "one two three four. ", "abc abd abe abf. "];
    let phrase = phrases[style as usize % phrases.len()].as_bytes();
    (0..size).map(|i| phrase[i % phrase.len()]).collect()
}

/// Creates a tiny party of `party_count` and loads its own generated text.
pub fn tiny_party(party_id: u32, party_count: u32, rounds: u64) -> Party {
    let mut party = Party::create(&tiny_params(party_id, party_count, rounds)).expect("create party");
    party.load_data(&sample_text(party_id, 3000)).expect("load text");
    party
}

/// A folder under the system's temporary folder, removed on drop.
pub struct ScratchDir {
    pub path: PathBuf,
}

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("pcmoe-rust-{}-{}-{}", std::process::id(), unique, name));
        fs::create_dir_all(&path).expect("create scratch folder");
        ScratchDir { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Finds the pcmoe command-line program, which makes CURVE key pairs:
/// PCMOE_CLI, else `pcmoe` on PATH, else the repository's release build.
pub fn pcmoe_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("PCMOE_CLI") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join("pcmoe")).find(|path| path.is_file()));
    if let Some(Some(path)) = on_path {
        return path;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.build/release/pcmoe")
}

/// Writes PREFIX.key and PREFIX.pub with `pcmoe keygen` and returns the key file.
pub fn keygen(prefix: &Path) -> PathBuf {
    let cli = pcmoe_cli();
    let output = Command::new(&cli).arg("keygen").arg("--out").arg(prefix).output().unwrap_or_else(|error| {
        panic!("failed to run {} (set PCMOE_CLI to the pcmoe program): {}", cli.display(), error)
    });
    assert!(output.status.success(), "{} keygen failed: {}", cli.display(), String::from_utf8_lossy(&output.stderr));
    prefix.with_extension("key")
}

/// Returns `count` ports that are free on 127.0.0.1 now.
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> =
        (0..count).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port")).collect();
    listeners.iter().map(|listener| listener.local_addr().expect("local address").port()).collect()
}

/// A deployment of three parties on 127.0.0.1, with a key pair per party.
pub struct Deployment {
    pub path: PathBuf,
    pub keys: Vec<PathBuf>,
    pub session: u64,
}

impl Deployment {
    pub fn new(dir: &ScratchDir, session: u64) -> Deployment {
        let keys = (0..PARTIES).map(|id| keygen(&dir.join(&format!("party{}", id)))).collect();
        let deployment = Deployment { path: dir.join("deployment.json"), keys, session };
        deployment.pick_ports();
        deployment
    }

    /// Rewrites the deployment file with new free ports.
    pub fn pick_ports(&self) {
        let entries: Vec<String> = free_ports(PARTIES as usize)
            .iter()
            .enumerate()
            .map(|(id, port)| {
                format!(
                    "{{\"id\": {}, \"endpoint\": \"tcp://127.0.0.1:{}\", \"public_key_file\": \"party{}.pub\"}}",
                    id, port, id
                )
            })
            .collect();
        let text = format!("{{\"session\": {}, \"parties\": [{}]}}\n", self.session, entries.join(", "));
        fs::write(&self.path, text).expect("write deployment file");
    }
}
