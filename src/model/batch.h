// Batch: the tokens of one forward call, from any number of sequences — prompt chunks and
// single decode tokens mixed — and the rows whose logits are wanted.
#pragma once

#include <cstdint>
#include <vector>

namespace bamba {

struct BatchSequence {
  int seq = -1;             // StateCache slot id
  int64_t token_begin = 0;  // [token_begin, token_end): this sequence's rows in Batch::tokens
  int64_t token_end = 0;    // positions continue from StateCache::n_tokens(seq)
};

struct Batch {
  std::vector<int32_t> tokens;           // [n_tokens] flat, all sequences
  std::vector<BatchSequence> sequences;  // disjoint consecutive spans covering tokens, in order
  std::vector<int64_t> logit_rows;       // indices into tokens whose logits are wanted, in output order
};

}  // namespace bamba
