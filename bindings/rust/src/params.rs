//! Settings of a party (`pcmoe_party_params`), of a session
//! (`pcmoe_session_params`) and of sampling (`pcmoe_sampling_params`),
//! prepared with the library's defaults.

use crate::error::{check, Result};
use crate::strings::c_path;
use crate::sys;
use std::ffi::CString;
use std::mem::size_of;
use std::path::PathBuf;
use std::ptr;

/// The element type of the tensors a party sends (`pcmoe_wire_type`).
/// `Other` passes a value this header does not list, which the library rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireType {
    F32,
    Bf16,
    F16,
    Other(i32),
}

impl WireType {
    pub fn from_raw(raw: i32) -> WireType {
        match raw {
            sys::PCMOE_WIRE_F32 => WireType::F32,
            sys::PCMOE_WIRE_BF16 => WireType::Bf16,
            sys::PCMOE_WIRE_F16 => WireType::F16,
            other => WireType::Other(other),
        }
    }

    pub fn to_raw(self) -> i32 {
        match self {
            WireType::F32 => sys::PCMOE_WIRE_F32,
            WireType::Bf16 => sys::PCMOE_WIRE_BF16,
            WireType::F16 => sys::PCMOE_WIRE_F16,
            WireType::Other(raw) => raw,
        }
    }
}

/// Settings for `Party::create`; the fields, units and defaults are those of
/// `pcmoe_party_params` in pcmoe.h. Fields the header marks "shared" must be
/// equal at every party of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyParams {
    /// The bytes of the struct the library filled; smaller than the Rust
    /// struct when the loaded library is older than this binding's header.
    struct_size: usize,
    pub party_id: u32,
    pub party_count: u32,
    pub session: u64,
    pub d_model: u32,
    pub n_heads: u32,
    pub n_layers: u32,
    pub n_experts: u32,
    pub top_k: u32,
    pub expert_hidden: u32,
    pub seq_len: u32,
    pub steps: u64,
    pub batch: u32,
    pub learning_rate: f64,
    pub warmup_fraction: f64,
    pub min_lr_ratio: f64,
    pub weight_decay: f64,
    pub clip_norm: f64,
    pub seed: u64,
    pub wire_type: WireType,
    pub call_timeout_seconds: f64,
    /// When true, the backbone starts from `backbone_seed`; when false, from
    /// a seed the library draws from the system's random generator.
    pub use_backbone_seed: bool,
    pub backbone_seed: u64,
    pub call_retries: u32,
    /// Row noise: each row sent to another expert owner is clipped to this
    /// L2 norm, then gets Gaussian noise of `row_noise_sigma` per value.
    /// Both 0 (the default) send rows exact, and a sigma above 0 needs a
    /// clip above 0.
    pub row_clip_norm: f64,
    /// Standard deviation of the row noise; see `row_clip_norm`.
    pub row_noise_sigma: f64,
    /// In its first `own_expert_layers` layers, the party routes only to its
    /// own experts, so those rows never leave it. Default 0.
    pub own_expert_layers: u32,
}

impl PartyParams {
    /// Returns the library's defaults (`pcmoe_party_default_params`).
    pub fn new() -> Result<PartyParams> {
        let mut raw = sys::pcmoe_party_params::default();
        check(unsafe { sys::pcmoe_party_default_params(&mut raw, size_of::<sys::pcmoe_party_params>()) })?;
        Ok(PartyParams {
            struct_size: raw.struct_size,
            party_id: raw.party_id,
            party_count: raw.party_count,
            session: raw.session,
            d_model: raw.d_model,
            n_heads: raw.n_heads,
            n_layers: raw.n_layers,
            n_experts: raw.n_experts,
            top_k: raw.top_k,
            expert_hidden: raw.expert_hidden,
            seq_len: raw.seq_len,
            steps: raw.steps,
            batch: raw.batch,
            learning_rate: raw.learning_rate,
            warmup_fraction: raw.warmup_fraction,
            min_lr_ratio: raw.min_lr_ratio,
            weight_decay: raw.weight_decay,
            clip_norm: raw.clip_norm,
            seed: raw.seed,
            wire_type: WireType::from_raw(raw.wire_type),
            call_timeout_seconds: raw.call_timeout_seconds,
            use_backbone_seed: raw.use_backbone_seed != 0,
            backbone_seed: raw.backbone_seed,
            call_retries: raw.call_retries,
            row_clip_norm: raw.row_clip_norm,
            row_noise_sigma: raw.row_noise_sigma,
            own_expert_layers: raw.own_expert_layers,
        })
    }

    pub(crate) fn to_raw(&self) -> sys::pcmoe_party_params {
        sys::pcmoe_party_params {
            struct_size: self.struct_size,
            party_id: self.party_id,
            party_count: self.party_count,
            session: self.session,
            d_model: self.d_model,
            n_heads: self.n_heads,
            n_layers: self.n_layers,
            n_experts: self.n_experts,
            top_k: self.top_k,
            expert_hidden: self.expert_hidden,
            seq_len: self.seq_len,
            steps: self.steps,
            batch: self.batch,
            learning_rate: self.learning_rate,
            warmup_fraction: self.warmup_fraction,
            min_lr_ratio: self.min_lr_ratio,
            weight_decay: self.weight_decay,
            clip_norm: self.clip_norm,
            seed: self.seed,
            wire_type: self.wire_type.to_raw(),
            call_timeout_seconds: self.call_timeout_seconds,
            use_backbone_seed: i32::from(self.use_backbone_seed),
            backbone_seed: self.backbone_seed,
            call_retries: self.call_retries,
            row_clip_norm: self.row_clip_norm,
            row_noise_sigma: self.row_noise_sigma,
            own_expert_layers: self.own_expert_layers,
        }
    }
}

/// Settings for `Party::run_session`; the fields, units and defaults are
/// those of `pcmoe_session_params` in pcmoe.h.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionParams {
    struct_size: usize,
    /// The folder of this party's session checkpoints. Required: `None`
    /// (the default) makes `run_session` fail with `InvalidArgument`.
    pub checkpoint_folder: Option<PathBuf>,
    pub checkpoint_every: u32,
    pub join_timeout_seconds: f64,
    pub wait_timeout_seconds: f64,
    pub max_rejoins: u32,
    /// At most this many windows in the final evaluation; 0 scores all.
    pub evaluation_windows: u64,
}

impl SessionParams {
    /// Returns the library's defaults (`pcmoe_session_default_params`).
    pub fn new() -> Result<SessionParams> {
        let mut raw = sys::pcmoe_session_params {
            struct_size: 0,
            checkpoint_folder: ptr::null(),
            checkpoint_every: 0,
            join_timeout_seconds: 0.0,
            wait_timeout_seconds: 0.0,
            max_rejoins: 0,
            evaluation_windows: 0,
        };
        check(unsafe { sys::pcmoe_session_default_params(&mut raw, size_of::<sys::pcmoe_session_params>()) })?;
        Ok(SessionParams {
            struct_size: raw.struct_size,
            checkpoint_folder: None,
            checkpoint_every: raw.checkpoint_every,
            join_timeout_seconds: raw.join_timeout_seconds,
            wait_timeout_seconds: raw.wait_timeout_seconds,
            max_rejoins: raw.max_rejoins,
            evaluation_windows: raw.evaluation_windows,
        })
    }

    /// Returns the raw struct and the C string its folder points to, which
    /// must outlive every use of the struct.
    pub(crate) fn to_raw(&self) -> Result<(sys::pcmoe_session_params, Option<CString>)> {
        let folder = match &self.checkpoint_folder {
            Some(path) => Some(c_path(path)?),
            None => None,
        };
        let raw = sys::pcmoe_session_params {
            struct_size: self.struct_size,
            checkpoint_folder: folder.as_ref().map_or(ptr::null(), |text| text.as_ptr()),
            checkpoint_every: self.checkpoint_every,
            join_timeout_seconds: self.join_timeout_seconds,
            wait_timeout_seconds: self.wait_timeout_seconds,
            max_rejoins: self.max_rejoins,
            evaluation_windows: self.evaluation_windows,
        };
        Ok((raw, folder))
    }
}

/// Sampling settings for `Party::generate`. The fields, ranges and defaults
/// are those of `pcmoe_sampling_params` in pcmoe.h, and the library checks
/// the values when generation starts.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    struct_size: usize,
    /// Divisor of the logits before the softmax, 0 ... 100. At 0 the most
    /// likely byte is picked each time.
    pub temperature: f64,
    /// Number of most likely bytes to draw from, up to 256, or 0 for all.
    pub top_k: u32,
    /// Probability mass of the smallest set of most likely bytes to draw
    /// from, above 0 and at most 1.
    pub top_p: f64,
    /// Seed of the draws. The same seed, prompt and model give the same bytes.
    pub seed: u64,
}

impl SamplingParams {
    /// Returns the library's defaults (`pcmoe_sampling_default_params`).
    pub fn new() -> Result<SamplingParams> {
        let mut raw = sys::pcmoe_sampling_params::default();
        check(unsafe { sys::pcmoe_sampling_default_params(&mut raw, size_of::<sys::pcmoe_sampling_params>()) })?;
        Ok(SamplingParams {
            struct_size: raw.struct_size,
            temperature: raw.temperature,
            top_k: raw.top_k,
            top_p: raw.top_p,
            seed: raw.seed,
        })
    }

    pub(crate) fn to_raw(&self) -> sys::pcmoe_sampling_params {
        sys::pcmoe_sampling_params {
            struct_size: self.struct_size,
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            seed: self.seed,
        }
    }
}
