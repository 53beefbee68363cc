// StateCache: slot and KV block bookkeeping, and the views the model reads and writes.
#include "state/state_cache.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/error.h"
#include "base/half.h"
#include "kernels/ops.h"
#include "kernels/reference/quant_math.h"

namespace bamba {

StateCache::StateCache(const ModelConfig& config, const StateCacheOptions& options) : options_(options) {
  if (options.max_sequences < 1) fail("StateCacheOptions.max_sequences: expected >= 1, found ", options.max_sequences);
  if (options.block_len < 1) fail("StateCacheOptions.block_len: expected >= 1, found ", options.block_len);
  if (options.kv_block_count < 0 || options.kv_block_count > std::numeric_limits<int32_t>::max()) {
    fail("StateCacheOptions.kv_block_count: expected in [0, 2^31), found ", options.kv_block_count);
  }
  if (options.kv_dtype != DType::F32 && options.kv_dtype != DType::BF16 && options.kv_dtype != DType::I8) {
    fail("StateCacheOptions.kv_dtype: expected F32, BF16 or I8, found ", dtype_name(options.kv_dtype));
  }
  if (options.state_dtype != DType::F32 && options.state_dtype != DType::BF16) {
    fail("StateCacheOptions.state_dtype: expected F32 or BF16, found ", dtype_name(options.state_dtype));
  }
  n_kv_heads_ = config.n_kv_heads;
  head_dim_ = config.head_dim;
  block_bytes_ = kernels::kv_block_bytes(options.kv_dtype, options.block_len, n_kv_heads_, head_dim_);
  conv_window_size_ = config.conv_window_size();
  ssm_state_size_ = config.ssm_state_size();
  layer_kinds_ = config.layer_kinds;
  for (LayerKind kind : layer_kinds_) {
    kind_index_.push_back(kind == LayerKind::Mamba2 ? n_mamba_++ : n_attention_++);
  }
  slots_.resize(size_t(options.max_sequences));
  const int64_t n_states = options.max_sequences * n_mamba_;
  conv_windows_.assign(size_t(n_states * conv_window_size_), 0.0f);
  ssm_states_.assign(size_t(n_states * ssm_state_size_) * dtype_size(options.state_dtype), std::byte{0});
  if (n_attention_ == 0) options_.kv_block_count = 0;  // nothing to page
  const size_t pool_bytes = size_t(options_.kv_block_count * block_bytes_);
  k_pool_.assign(size_t(n_attention_), std::vector<std::byte>(pool_bytes));
  v_pool_.assign(size_t(n_attention_), std::vector<std::byte>(pool_bytes));
  // Hand out low block ids first.
  for (int64_t b = options_.kv_block_count - 1; b >= 0; --b) free_block_ids_.push_back(int32_t(b));
}

int64_t StateCache::kv_bytes_per_block(const ModelConfig& config, const StateCacheOptions& options) {
  return config.n_attention_layers() * 2 *
         kernels::kv_block_bytes(options.kv_dtype, options.block_len, config.n_kv_heads, config.head_dim);
}

int64_t StateCache::blocks_for_bytes(const ModelConfig& config, const StateCacheOptions& options, int64_t bytes) {
  const int64_t per_block = kv_bytes_per_block(config, options);
  if (per_block <= 0 || bytes <= 0) return 0;
  return bytes / per_block;
}

int64_t StateCache::blocks_for_positions(int64_t n_positions) const {
  if (n_attention_ == 0) return 0;
  return (n_positions + options_.block_len - 1) / options_.block_len;
}

void StateCache::check_seq(int seq) const {
  if (seq < 0 || seq >= options_.max_sequences || !slots_[size_t(seq)].active) {
    fail("sequence slot ", seq, ": expected an acquired slot in [0, ", options_.max_sequences, ")");
  }
}

int64_t StateCache::kind_index(int64_t layer, LayerKind kind) const {
  if (layer < 0 || layer >= int64_t(layer_kinds_.size()) || layer_kinds_[size_t(layer)] != kind) {
    fail("layer ", layer, ": expected a ", kind == LayerKind::Mamba2 ? "Mamba2" : "attention", " layer");
  }
  return kind_index_[size_t(layer)];
}

std::optional<int> StateCache::acquire() {
  for (size_t s = 0; s < slots_.size(); ++s) {
    Slot& slot = slots_[s];
    if (slot.active) continue;
    slot.active = true;
    slot.n_tokens = 0;
    slot.blocks.clear();
    const size_t conv_per_seq = size_t(n_mamba_ * conv_window_size_);
    const size_t ssm_per_seq = size_t(n_mamba_ * ssm_state_size_) * dtype_size(options_.state_dtype);
    std::fill_n(conv_windows_.begin() + ptrdiff_t(s * conv_per_seq), conv_per_seq, 0.0f);
    std::fill_n(ssm_states_.begin() + ptrdiff_t(s * ssm_per_seq), ssm_per_seq, std::byte{0});
    return int(s);
  }
  return std::nullopt;
}

void StateCache::release(int seq) {
  check_seq(seq);
  Slot& slot = slots_[size_t(seq)];
  // Return blocks so that the lowest ids are handed out next.
  for (auto it = slot.blocks.rbegin(); it != slot.blocks.rend(); ++it) free_block_ids_.push_back(*it);
  slot = Slot{};
}

bool StateCache::is_active(int seq) const {
  return seq >= 0 && seq < options_.max_sequences && slots_[size_t(seq)].active;
}

int64_t StateCache::n_tokens(int seq) const {
  check_seq(seq);
  return slots_[size_t(seq)].n_tokens;
}

bool StateCache::can_grow(int seq, int64_t n_new_tokens) const {
  check_seq(seq);
  const Slot& slot = slots_[size_t(seq)];
  if (n_new_tokens < 0) return false;
  const int64_t needed = blocks_for_positions(slot.n_tokens + n_new_tokens) - int64_t(slot.blocks.size());
  return needed <= free_blocks();
}

int StateCache::free_slots() const {
  return int(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.active; }));
}

float* StateCache::conv_window(int seq, int64_t layer) {
  BAMBA_DCHECK(is_active(seq));
  const int64_t m = kind_index(layer, LayerKind::Mamba2);
  return conv_windows_.data() + (int64_t(seq) * n_mamba_ + m) * conv_window_size_;
}

int64_t StateCache::ssm_state_offset(int seq, int64_t layer) const {
  BAMBA_DCHECK(is_active(seq));
  const int64_t m = kind_index(layer, LayerKind::Mamba2);
  return (int64_t(seq) * n_mamba_ + m) * ssm_state_size_ * int64_t(dtype_size(options_.state_dtype));
}

float* StateCache::ssm_state(int seq, int64_t layer) {
  if (options_.state_dtype != DType::F32) {
    fail("ssm_state: the SSM state is stored as ", dtype_name(options_.state_dtype),
         ", not F32; use load_ssm_state / store_ssm_state");
  }
  return reinterpret_cast<float*>(ssm_states_.data() + ssm_state_offset(seq, layer));
}

void StateCache::load_ssm_state(int seq, int64_t layer, float* state) const {
  const std::byte* stored = ssm_states_.data() + ssm_state_offset(seq, layer);
  if (options_.state_dtype == DType::F32) {
    std::memcpy(state, stored, size_t(ssm_state_size_) * sizeof(float));
    return;
  }
  const auto* bf16 = reinterpret_cast<const bf16_t*>(stored);
  for (int64_t i = 0; i < ssm_state_size_; ++i) state[i] = bf16_to_f32(bf16[i]);
}

void StateCache::store_ssm_state(int seq, int64_t layer, const float* state) {
  std::byte* stored = ssm_states_.data() + ssm_state_offset(seq, layer);
  if (options_.state_dtype == DType::F32) {
    std::memcpy(stored, state, size_t(ssm_state_size_) * sizeof(float));
    return;
  }
  auto* bf16 = reinterpret_cast<bf16_t*>(stored);
  for (int64_t i = 0; i < ssm_state_size_; ++i) bf16[i] = f32_to_bf16(state[i]);
}

void StateCache::reserve(int seq, int64_t n_new_tokens) {
  if (!can_grow(seq, n_new_tokens)) {
    fail("KV cache full: sequence ", seq, " needs ",
         blocks_for_positions(n_tokens(seq) + n_new_tokens) - int64_t(block_table(seq).size()),
         " more blocks of ", options_.block_len, " positions, ", free_blocks(), " free");
  }
  Slot& slot = slots_[size_t(seq)];
  while (int64_t(slot.blocks.size()) < blocks_for_positions(slot.n_tokens + n_new_tokens)) {
    slot.blocks.push_back(free_block_ids_.back());
    free_block_ids_.pop_back();
  }
}

void StateCache::advance(int seq, int64_t n_new_tokens) {
  check_seq(seq);
  Slot& slot = slots_[size_t(seq)];
  BAMBA_DCHECK(blocks_for_positions(slot.n_tokens + n_new_tokens) <= int64_t(slot.blocks.size()));
  slot.n_tokens += n_new_tokens;
}

std::span<const int32_t> StateCache::block_table(int seq) const {
  check_seq(seq);
  return slots_[size_t(seq)].blocks;
}

void StateCache::write_kv_row(std::byte* block, int64_t pos_in_block, const float* row) const {
  const int64_t n_row = n_kv_heads_ * head_dim_;
  switch (options_.kv_dtype) {
    case DType::F32:
      std::memcpy(block + pos_in_block * n_row * int64_t(sizeof(float)), row, size_t(n_row) * sizeof(float));
      return;
    case DType::BF16: {
      auto* dst = reinterpret_cast<bf16_t*>(block) + pos_in_block * n_row;
      for (int64_t i = 0; i < n_row; ++i) dst[i] = f32_to_bf16(row[i]);
      return;
    }
    default: {  // I8: the values of each kv head, and its scale in the block's scale array
      auto* values = reinterpret_cast<int8_t*>(block) + pos_in_block * n_row;
      auto* scales = reinterpret_cast<float*>(
                         block + kernels::int8_kv_scales_offset(options_.block_len, n_kv_heads_, head_dim_)) +
                     pos_in_block * n_kv_heads_;
      for (int64_t h = 0; h < n_kv_heads_; ++h) {
        scales[h] = kernels::reference::quantize_activation_row(row + h * head_dim_, head_dim_,
                                                                values + h * head_dim_);
      }
      return;
    }
  }
}

void StateCache::write_kv(int seq, int64_t layer, int64_t pos, const float* k, const float* v) {
  const int64_t a = kind_index(layer, LayerKind::Attention);
  const Slot& slot = slots_[size_t(seq)];
  BAMBA_DCHECK(pos / options_.block_len < int64_t(slot.blocks.size()));
  const int64_t offset = slot.blocks[size_t(pos / options_.block_len)] * block_bytes_;
  write_kv_row(k_pool_[size_t(a)].data() + offset, pos % options_.block_len, k);
  write_kv_row(v_pool_[size_t(a)].data() + offset, pos % options_.block_len, v);
}

void StateCache::kv_block_pointers(int seq, int64_t layer, std::vector<const void*>& k_blocks,
                                   std::vector<const void*>& v_blocks) const {
  const int64_t a = kind_index(layer, LayerKind::Attention);
  k_blocks.clear();
  v_blocks.clear();
  for (int32_t block : block_table(seq)) {
    k_blocks.push_back(k_pool_[size_t(a)].data() + block * block_bytes_);
    v_blocks.push_back(v_pool_[size_t(a)].data() + block * block_bytes_);
  }
}

}  // namespace bamba
