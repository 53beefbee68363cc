// Loads tokenizer.json into its stages (added tokens, pre-tokenizer, BPE, post-processor, decoder) and
// runs them in HF tokenizers' order.
#include "tokenizer/tokenizer.h"

#include <functional>
#include <unordered_map>

#include "base/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_field.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "tokenizer/tokenizer_file.h"
#include "tokenizer/utf8.h"

namespace bamba {
namespace {

// Hash that lets an unordered_map keyed by std::string be searched with a std::string_view.
struct StringHash {
  using is_transparent = void;
  [[nodiscard]] size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Only normalizers that leave the text unchanged are supported: null, or a Sequence of none.
void check_normalizer(const JsonField& field) {
  if (field.is_null()) return;
  const std::string& type = field.at("type").as_string();
  if (type == "Sequence") {
    const JsonField list = field.at("normalizers");
    for (size_t i = 0; i < list.size(); ++i) check_normalizer(list.at(i));
    return;
  }
  field.at("type").fail("unsupported normalizer \"", type, "\" (only null is supported)");
}

void check_decoder(const JsonField& field) {
  if (field.is_null()) field.fail("a decoder is required (supported: ByteLevel)");
  const std::string& type = field.at("type").as_string();
  if (type != "ByteLevel") field.at("type").fail("unsupported decoder \"", type, "\" (supported: ByteLevel)");
}

std::optional<int32_t> config_token_id(const Tokenizer& tokenizer, const std::string& token,
                                       const std::filesystem::path& config_path, std::string_view key) {
  if (token.empty()) return std::nullopt;
  const auto id = tokenizer.token_to_id(token);
  if (!id) fail(config_path.string(), ": field \"", key, "\": token \"", token, "\" is not in the vocabulary");
  return id;
}

}  // namespace

struct Tokenizer::Data {
  enum class Kind : uint8_t { kUnused, kModel, kAdded, kSpecial };

  AddedTokens added;
  // Added token content -> id; takes precedence over the model vocab.
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> added_ids;
  PreTokenizer pre_tokenizer;
  Bpe bpe;
  PostProcessor post_processor;
  // id -> token text, viewing `bpe` and `added`, which never change after loading.
  std::vector<std::string_view> tokens;
  std::vector<Kind> kinds;  // id -> what the id is
  TokenizerConfig config;
  std::optional<int32_t> bos_id, eos_id;
};

Tokenizer Tokenizer::load(const std::filesystem::path& tokenizer_json) {
  TokenizerFile file = TokenizerFile::read(tokenizer_json);
  const JsonField& root = file.root;
  root.require_object();
  auto data = std::make_shared<Data>();
  // HF writes every stage, as null when unused; hand-written files may leave them out.
  check_normalizer(root.at_or_null("normalizer"));
  check_decoder(root.at_or_null("decoder"));
  data->bpe = Bpe::from_json(root.at("model"), std::move(file.bpe));
  data->added = AddedTokens::from_json(root.at_or_null("added_tokens"));
  data->pre_tokenizer = PreTokenizer::from_json(root.at_or_null("pre_tokenizer"));
  data->post_processor = PostProcessor::from_json(root.at_or_null("post_processor"));

  // The id table: model tokens first, then added tokens, which win where both use an id.
  int32_t size = data->bpe.size();
  for (const AddedToken& token : data->added.tokens()) size = std::max(size, token.id + 1);
  data->tokens.resize(size);
  data->kinds.assign(size, Data::Kind::kUnused);
  for (int32_t id = 0; id < data->bpe.size(); ++id) {
    if (const auto token = data->bpe.id_to_token(id)) {
      data->tokens[id] = *token;
      data->kinds[id] = Data::Kind::kModel;
    }
  }
  for (const AddedToken& token : data->added.tokens()) {
    data->tokens[token.id] = token.content;
    data->kinds[token.id] = token.special ? Data::Kind::kSpecial : Data::Kind::kAdded;
    data->added_ids.insert_or_assign(token.content, token.id);
  }

  const auto config_path = tokenizer_json.parent_path() / "tokenizer_config.json";
  data->config = TokenizerConfig::load(config_path);
  Tokenizer tokenizer(data);
  data->bos_id = config_token_id(tokenizer, data->config.bos_token, config_path, "bos_token");
  data->eos_id = config_token_id(tokenizer, data->config.eos_token, config_path, "eos_token");
  return tokenizer;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens, bool parse_special) const {
  if (const auto bad = utf8::find_invalid(text)) fail("encode: text is not valid UTF-8 (at byte ", *bad, ")");
  const Data& d = *data_;
  std::vector<int32_t> ids;
  if (add_special_tokens) ids = d.post_processor.prefix;
  std::vector<std::string> pieces;
  for (const Segment& segment : d.added.split(text, parse_special)) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
      continue;
    }
    pieces.clear();
    d.pre_tokenizer.split(segment.text, pieces);
    for (const std::string& piece : pieces) d.bpe.encode(piece, ids);
  }
  if (add_special_tokens) ids.insert(ids.end(), d.post_processor.suffix.begin(), d.post_processor.suffix.end());
  return ids;
}

void Tokenizer::append_token_bytes(int32_t id, bool skip_special_tokens, std::string& out) const {
  const Data& d = *data_;
  if (id < 0 || id >= vocab_size() || d.kinds[id] == Data::Kind::kUnused) return;
  if (skip_special_tokens && d.kinds[id] == Data::Kind::kSpecial) return;
  // HF's ByteLevel decoder: a token with a character outside the byte map (added tokens written as
  // plain text, e.g. with a real space) is taken as its own UTF-8 bytes.
  if (!byte_level::append_decoded(d.tokens[id], out)) out += d.tokens[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string bytes;
  for (const int32_t id : ids) append_token_bytes(id, skip_special_tokens, bytes);
  std::string text;
  text.reserve(bytes.size());
  utf8::append_lossy(bytes, text);
  return text;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(data_->tokens.size()); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const auto it = data_->added_ids.find(token); it != data_->added_ids.end()) return it->second;
  return data_->bpe.token_to_id(token);
}

std::optional<std::string_view> Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size() || data_->kinds[id] == Data::Kind::kUnused) return std::nullopt;
  return data_->tokens[id];
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < vocab_size() && data_->kinds[id] == Data::Kind::kSpecial;
}

std::optional<int32_t> Tokenizer::bos_id() const { return data_->bos_id; }
std::optional<int32_t> Tokenizer::eos_id() const { return data_->eos_id; }
const std::string& Tokenizer::bos_token() const { return data_->config.bos_token; }
const std::string& Tokenizer::eos_token() const { return data_->config.eos_token; }
std::optional<bool> Tokenizer::add_bos_token() const { return data_->config.add_bos_token; }
const std::string& Tokenizer::chat_template() const { return data_->config.chat_template; }

}  // namespace bamba
