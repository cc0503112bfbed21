// Settings of a party, of a coordinated session and of generation,
// initialised from the library's defaults.
#ifndef PCMOE_CPP_PARAMS_HPP
#define PCMOE_CPP_PARAMS_HPP

#include <pcmoe.h>

#include "detail/call.hpp"

#include <cstdint>
#include <string>

namespace pcmoe {

// The element type of the tensors a party sends.
enum class WireType : std::int32_t {
    f32 = PCMOE_WIRE_F32,
    bf16 = PCMOE_WIRE_BF16,
    f16 = PCMOE_WIRE_F16,
};

// The fields of pcmoe_party_params; pcmoe.h documents each one, and which
// must be equal at every party of a session. The default constructor takes
// the values of pcmoe_party_default_params.
struct PartyParams {
    std::uint32_t party_id;
    std::uint32_t party_count;
    std::uint64_t session;
    std::uint32_t d_model;
    std::uint32_t n_heads;
    std::uint32_t n_layers;
    std::uint32_t n_experts;
    std::uint32_t top_k;
    std::uint32_t expert_hidden;
    std::uint32_t seq_len;
    std::uint64_t steps;
    std::uint32_t batch;
    double learning_rate;
    double warmup_fraction;
    double min_lr_ratio;
    double weight_decay;
    double clip_norm;
    std::uint64_t seed;
    WireType wire_type;
    double call_timeout_seconds;
    bool use_backbone_seed;
    std::uint64_t backbone_seed;
    std::uint32_t call_retries;
    double row_clip_norm;
    double row_noise_sigma;
    std::uint32_t own_expert_layers;

    PartyParams() { from_c(c_defaults()); }

    // Returns the C struct: the library's defaults with these fields written over them.
    pcmoe_party_params to_c() const {
        pcmoe_party_params c = c_defaults();
        c.party_id = party_id;
        c.party_count = party_count;
        c.session = session;
        c.d_model = d_model;
        c.n_heads = n_heads;
        c.n_layers = n_layers;
        c.n_experts = n_experts;
        c.top_k = top_k;
        c.expert_hidden = expert_hidden;
        c.seq_len = seq_len;
        c.steps = steps;
        c.batch = batch;
        c.learning_rate = learning_rate;
        c.warmup_fraction = warmup_fraction;
        c.min_lr_ratio = min_lr_ratio;
        c.weight_decay = weight_decay;
        c.clip_norm = clip_norm;
        c.seed = seed;
        c.wire_type = static_cast<std::int32_t>(wire_type);
        c.call_timeout_seconds = call_timeout_seconds;
        c.use_backbone_seed = use_backbone_seed ? 1 : 0;
        c.backbone_seed = backbone_seed;
        c.call_retries = call_retries;
        c.row_clip_norm = row_clip_norm;
        c.row_noise_sigma = row_noise_sigma;
        c.own_expert_layers = own_expert_layers;
        return c;
    }

private:
    static pcmoe_party_params c_defaults() {
        pcmoe_party_params c{};
        detail::call([&] { return ::pcmoe_party_default_params(&c, sizeof c); });
        return c;
    }

    void from_c(const pcmoe_party_params &c) {
        party_id = c.party_id;
        party_count = c.party_count;
        session = c.session;
        d_model = c.d_model;
        n_heads = c.n_heads;
        n_layers = c.n_layers;
        n_experts = c.n_experts;
        top_k = c.top_k;
        expert_hidden = c.expert_hidden;
        seq_len = c.seq_len;
        steps = c.steps;
        batch = c.batch;
        learning_rate = c.learning_rate;
        warmup_fraction = c.warmup_fraction;
        min_lr_ratio = c.min_lr_ratio;
        weight_decay = c.weight_decay;
        clip_norm = c.clip_norm;
        seed = c.seed;
        wire_type = static_cast<WireType>(c.wire_type);
        call_timeout_seconds = c.call_timeout_seconds;
        use_backbone_seed = c.use_backbone_seed != 0;
        backbone_seed = c.backbone_seed;
        call_retries = c.call_retries;
        row_clip_norm = c.row_clip_norm;
        row_noise_sigma = c.row_noise_sigma;
        own_expert_layers = c.own_expert_layers;
    }
};

// The fields of pcmoe_session_params, initialised from
// pcmoe_session_default_params. checkpoint_folder is required: the
// library rejects an empty one.
struct SessionParams {
    std::string checkpoint_folder;
    std::uint32_t checkpoint_every;
    double join_timeout_seconds;
    double wait_timeout_seconds;
    std::uint32_t max_rejoins;
    std::uint64_t evaluation_windows;

    SessionParams() {
        pcmoe_session_params c = c_defaults();
        checkpoint_every = c.checkpoint_every;
        join_timeout_seconds = c.join_timeout_seconds;
        wait_timeout_seconds = c.wait_timeout_seconds;
        max_rejoins = c.max_rejoins;
        evaluation_windows = c.evaluation_windows;
    }

    // Returns the C struct. Its checkpoint_folder points into this object,
    // so the struct is valid only while this object lives unchanged.
    pcmoe_session_params to_c() const {
        pcmoe_session_params c = c_defaults();
        c.checkpoint_folder = checkpoint_folder.c_str();
        c.checkpoint_every = checkpoint_every;
        c.join_timeout_seconds = join_timeout_seconds;
        c.wait_timeout_seconds = wait_timeout_seconds;
        c.max_rejoins = max_rejoins;
        c.evaluation_windows = evaluation_windows;
        return c;
    }

private:
    static pcmoe_session_params c_defaults() {
        pcmoe_session_params c{};
        detail::call([&] { return ::pcmoe_session_default_params(&c, sizeof c); });
        return c;
    }
};

// The fields of pcmoe_sampling_params, which set how Party::generate draws
// each byte. pcmoe.h gives their ranges. The default constructor takes the
// values of pcmoe_sampling_default_params.
struct SamplingParams {
    // Divides the logits before the softmax; 0 picks the most likely byte.
    double temperature;
    // Draws only from the top_k most likely bytes; 0 keeps all 256.
    std::uint32_t top_k;
    // Draws only from the most likely bytes whose probabilities sum to top_p.
    double top_p;
    // Seeds the draws: the same seed, prompt and model give the same bytes.
    std::uint64_t seed;

    SamplingParams() {
        pcmoe_sampling_params c = c_defaults();
        temperature = c.temperature;
        top_k = c.top_k;
        top_p = c.top_p;
        seed = c.seed;
    }

    // Returns the C struct: the library's defaults with these fields written over them.
    pcmoe_sampling_params to_c() const {
        pcmoe_sampling_params c = c_defaults();
        c.temperature = temperature;
        c.top_k = top_k;
        c.top_p = top_p;
        c.seed = seed;
        return c;
    }

private:
    static pcmoe_sampling_params c_defaults() {
        pcmoe_sampling_params c{};
        detail::call([&] { return ::pcmoe_sampling_default_params(&c, sizeof c); });
        return c;
    }
};

}  // namespace pcmoe

#endif
