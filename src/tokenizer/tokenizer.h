// Public tokenizer API: a Hugging Face tokenizer.json (byte-level BPE, like Bamba's Llama-3 tokenizer)
// plus tokenizer_config.json; text to ids, ids to text, and incremental detokenization for streaming.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bamba {

// Immutable after load; copies share the data and const methods are safe to call from many threads.
class Tokenizer {
 public:
  // Loads tokenizer.json, and tokenizer_config.json if it exists in the same folder. Throws bamba::Error
  // naming the file and field on bad or unsupported input.
  [[nodiscard]] static Tokenizer load(const std::filesystem::path& tokenizer_json);

  // add_special_tokens: apply the post-processor (BOS). parse_special: match special added tokens in the
  // text; when false they are encoded as plain text. Throws bamba::Error if `text` is not valid UTF-8.
  [[nodiscard]] std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true,
                                            bool parse_special = true) const;
  // Ids outside the vocabulary are ignored; bytes that do not form UTF-8 become U+FFFD.
  [[nodiscard]] std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  [[nodiscard]] int32_t vocab_size() const;  // highest id + 1 (vocab and added tokens)
  [[nodiscard]] std::optional<int32_t> token_to_id(std::string_view token) const;
  // The token as written in the vocabulary (e.g. "Ġhello"); nullopt for an unused id.
  [[nodiscard]] std::optional<std::string_view> id_to_token(int32_t id) const;
  [[nodiscard]] bool is_special(int32_t id) const;
  [[nodiscard]] std::optional<int32_t> bos_id() const;  // from tokenizer_config.json bos_token
  [[nodiscard]] std::optional<int32_t> eos_id() const;
  [[nodiscard]] const std::string& bos_token() const;  // text, "" if none
  [[nodiscard]] const std::string& eos_token() const;
  [[nodiscard]] std::optional<bool> add_bos_token() const;  // tokenizer_config.json add_bos_token
  [[nodiscard]] const std::string& chat_template() const;  // "" if none

  // Appends the bytes token `id` decodes to, which may end inside a UTF-8 character; appends nothing for
  // an unknown id, or a special token when `skip_special_tokens`.
  void append_token_bytes(int32_t id, bool skip_special_tokens, std::string& out) const;

 private:
  struct Data;
  explicit Tokenizer(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;
};

// Incremental detokenizer for one sequence: the concatenation of all `push` results and `flush` equals
// `decode` of the same ids, and no result ends in the middle of a UTF-8 character.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);
  // The text completed by `id` (possibly empty).
  [[nodiscard]] std::string push(int32_t id);
  // Whatever is held back; an unfinished character becomes U+FFFD. The decoder can then be reused.
  [[nodiscard]] std::string flush();

 private:
  Tokenizer tokenizer_;
  bool skip_special_tokens_;
  std::string pending_;  // trailing bytes of a character not yet complete
};

}  // namespace bamba
