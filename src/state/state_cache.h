// Per-sequence decoding state of a hybrid model: one fixed Mamba2 slot per sequence (the
// conv windows, f32, and SSM states, f32 or bf16, of every mamba layer) kept apart from a
// shared pool of fixed-size KV blocks for the attention layers only (numerics §4).
//
// A KV block holds `block_len` consecutive positions of K and V for EVERY attention layer
// (each layer has its own storage, indexed by the same block id), so one block table per
// sequence serves all attention layers. K is stored after RoPE. KV dtypes: F32, BF16, or I8
// in the int8 block layout of kernels/ops.h (int8 values, then one f32 scale per
// (position, kv head) row).
//
// A BF16 SSM state halves the slot but is lossy: the model widens it to f32 for the scan
// and rounds it back after every forward, so the rounding error accumulates over a
// sequence. The conv window stays f32 — it is (d_conv-1)·conv_dim values, a few percent of
// the slot, and rounding it would round the conv's inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/dtype.h"
#include "model/config.h"

namespace bamba {

struct StateCacheOptions {
  int max_sequences = 1;         // number of state slots
  int64_t kv_block_count = 0;    // blocks in the shared pool (each: block_len positions, all attention layers)
  int64_t block_len = 16;        // positions per block
  DType kv_dtype = DType::BF16;     // F32, BF16 or I8
  DType state_dtype = DType::F32;   // SSM states: F32 or BF16
};

class StateCache {
 public:
  // Allocates every slot and the whole KV pool up front; bad options are an Error.
  StateCache(const ModelConfig& config, const StateCacheOptions& options);

  // A free sequence slot id, state zeroed, 0 tokens; nullopt when every slot is in use.
  [[nodiscard]] std::optional<int> acquire();
  // Frees its slot and KV blocks. Error when `seq` is not an acquired slot.
  void release(int seq);
  [[nodiscard]] bool is_active(int seq) const;
  // Positions consumed so far (the position of the next token).
  [[nodiscard]] int64_t n_tokens(int seq) const;
  // Whether the pool has the blocks for `n_new_tokens` more positions of `seq`.
  [[nodiscard]] bool can_grow(int seq, int64_t n_new_tokens) const;
  [[nodiscard]] int64_t free_blocks() const { return int64_t(free_block_ids_.size()); }
  [[nodiscard]] int64_t total_blocks() const { return options_.kv_block_count; }
  [[nodiscard]] int free_slots() const;
  [[nodiscard]] int max_sequences() const { return options_.max_sequences; }
  [[nodiscard]] int64_t block_len() const { return options_.block_len; }
  [[nodiscard]] DType kv_dtype() const { return options_.kv_dtype; }
  [[nodiscard]] DType state_dtype() const { return options_.state_dtype; }
  // KV blocks needed to hold `n_positions` positions of one sequence.
  [[nodiscard]] int64_t blocks_for_positions(int64_t n_positions) const;
  // Bytes of one KV block: K and V of every attention layer, in the pool's exact layout.
  [[nodiscard]] static int64_t kv_bytes_per_block(const ModelConfig& config, const StateCacheOptions& options);
  // How many blocks fit in `bytes` of KV memory.
  [[nodiscard]] static int64_t blocks_for_bytes(const ModelConfig& config, const StateCacheOptions& options,
                                                int64_t bytes);

  // --- views used by the model; `layer` is the model layer index ---
  [[nodiscard]] float* conv_window(int seq, int64_t layer);  // [d_conv-1, conv_dim], oldest row first
  // The f32 SSM state [mamba_n_heads, mamba_head_dim, d_state], updated in place by the scan.
  // Error unless state_dtype is F32: a BF16 state goes through load/store_ssm_state.
  [[nodiscard]] float* ssm_state(int seq, int64_t layer);
  // The SSM state widened to f32 into `state` [mh, P, N]; and `state` stored back, rounded to
  // state_dtype (round to nearest even). Any state_dtype.
  void load_ssm_state(int seq, int64_t layer, float* state) const;
  void store_ssm_state(int seq, int64_t layer, const float* state);
  // Takes the blocks for `n_new_tokens` more positions; Error when the pool is exhausted.
  void reserve(int seq, int64_t n_new_tokens);
  // Marks `n_new_tokens` more positions as consumed (after the forward wrote them).
  void advance(int seq, int64_t n_new_tokens);
  [[nodiscard]] std::span<const int32_t> block_table(int seq) const;
  // K and V of one position: k, v [n_kv_heads * head_dim], converted to the KV dtype (I8:
  // each kv head's row quantized with scale max|row|/127). The position's block must be
  // reserved.
  void write_kv(int seq, int64_t layer, int64_t pos, const float* k, const float* v);
  // Pointers to the K and V of each block of `seq` in `layer`, in position order (the form
  // kernels::attention reads): [block_len, n_kv_heads, head_dim] arrays, or the int8 layout.
  void kv_block_pointers(int seq, int64_t layer, std::vector<const void*>& k_blocks,
                         std::vector<const void*>& v_blocks) const;

 private:
  struct Slot {
    bool active = false;
    int64_t n_tokens = 0;
    std::vector<int32_t> blocks;  // block table: block b holds positions [b*block_len, (b+1)*block_len)
  };
  void check_seq(int seq) const;
  [[nodiscard]] int64_t kind_index(int64_t layer, LayerKind kind) const;
  // Byte offset of (seq, layer)'s SSM state in ssm_states_.
  [[nodiscard]] int64_t ssm_state_offset(int seq, int64_t layer) const;
  // Writes one position's row [nkv*hd] into a block of the pool, in the KV dtype.
  void write_kv_row(std::byte* block, int64_t pos_in_block, const float* row) const;

  StateCacheOptions options_;
  int64_t n_kv_heads_ = 0, head_dim_ = 0;
  int64_t block_bytes_ = 0;         // one layer's K (or V) of one block
  int64_t conv_window_size_ = 0;    // (d_conv-1) * conv_dim
  int64_t ssm_state_size_ = 0;      // mh * P * N
  std::vector<LayerKind> layer_kinds_;
  std::vector<int64_t> kind_index_;  // [n_layers]: index among the layers of its kind
  int64_t n_mamba_ = 0, n_attention_ = 0;
  std::vector<Slot> slots_;
  std::vector<float> conv_windows_;     // [max_sequences, n_mamba, conv_window]
  std::vector<std::byte> ssm_states_;   // [max_sequences, n_mamba, ssm_state] in state_dtype
  std::vector<std::vector<std::byte>> k_pool_, v_pool_;  // [n_attention][kv_block_count, block_bytes]
  std::vector<int32_t> free_block_ids_;
};

}  // namespace bamba
