// A SAX handler that builds the JSON tree itself, except inside `model.vocab` and `model.merges`.
#include "tokenizer/tokenizer_file.h"

namespace bamba {
namespace {

class Reader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  nlohmann::json root;
  BpeEntries entries;

  bool null() override { return add(nullptr); }
  bool boolean(bool value) override { return add(value); }
  bool number_integer(number_integer_t value) override { return add(value); }
  bool number_unsigned(number_unsigned_t value) override { return add(value); }
  bool number_float(number_float_t value, const string_t& /*text*/) override { return add(value); }
  bool binary(binary_t& value) override { return add(nlohmann::json::binary(std::move(value))); }

  bool string(string_t& value) override {
    switch (mode_) {
      case Mode::kMerges:
        add_merge_line(value);
        return true;
      case Mode::kMergePair:
        if (pair_.size() == 2) bad_merge();
        pair_.push_back(std::move(value));
        return true;
      default:
        return add(std::move(value));
    }
  }

  bool key(string_t& key) override {
    key_ = std::move(key);
    return true;
  }

  bool start_object(std::size_t /*size*/) override {
    if (mode_ == Mode::kDom && in_model() && key_ == "vocab") {
      add(nlohmann::json::object());
      mode_ = Mode::kVocab;
      return true;
    }
    if (mode_ != Mode::kDom) return add(nlohmann::json::object());  // reports the bad entry
    open(nlohmann::json::object());
    return true;
  }

  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
    } else {
      close();
    }
    return true;
  }

  bool start_array(std::size_t /*size*/) override {
    if (mode_ == Mode::kDom && in_model() && key_ == "merges") {
      add(nlohmann::json::array());
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::kDom) return add(nlohmann::json::array());  // reports the bad entry
    open(nlohmann::json::array());
    return true;
  }

  bool end_array() override {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) bad_merge();
      entries.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      ++merge_index_;
      mode_ = Mode::kMerges;
    } else if (mode_ == Mode::kMerges) {
      mode_ = Mode::kDom;
    } else {
      close();
    }
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) override {
    fail(file_, ": malformed JSON: ", e.what());
  }

 private:
  enum class Mode { kDom, kVocab, kMerges, kMergePair };

  // Whether the innermost open container is the top-level "model" object.
  [[nodiscard]] bool in_model() const { return stack_.size() == 2 && keys_[1] == "model"; }

  bool add(nlohmann::json value) {
    switch (mode_) {
      case Mode::kDom:
        insert(std::move(value));
        return true;
      case Mode::kVocab:
        if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > INT32_MAX) {
          fail(file_, ": field \"model.vocab\": token \"", key_, "\" has id ", value.dump(),
               " (expected an integer in 0..2^31-1)");
        }
        entries.vocab.emplace_back(std::move(key_), value.get<int32_t>());
        return true;
      case Mode::kMerges:
      case Mode::kMergePair:
        bad_merge();
    }
    return false;
  }

  // A merge written as one string: "a b".
  void add_merge_line(const std::string& line) {
    // tokenizers' text merges files may start with a "#version" line, which is not a merge.
    if (line.starts_with("#version")) {
      ++merge_index_;
      return;
    }
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) bad_merge();
    entries.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    ++merge_index_;
  }

  [[noreturn]] void bad_merge() const {
    fail(file_, ": field \"model.merges\": entry ", merge_index_, " is not \"a b\" or [\"a\", \"b\"]");
  }

  nlohmann::json* insert(nlohmann::json value) {
    if (stack_.empty()) {
      root = std::move(value);
      return &root;
    }
    nlohmann::json& parent = *stack_.back();
    if (parent.is_object()) return &(parent[key_] = std::move(value));
    parent.push_back(std::move(value));
    return &parent.back();
  }

  void open(nlohmann::json container) {
    const bool in_object = !stack_.empty() && stack_.back()->is_object();
    keys_.push_back(in_object ? key_ : std::string());
    // Pointers stay valid: a parent only grows again after this child is closed.
    stack_.push_back(insert(std::move(container)));
  }

  void close() {
    stack_.pop_back();
    keys_.pop_back();
  }

  std::string file_;
  Mode mode_ = Mode::kDom;
  std::vector<nlohmann::json*> stack_;  // open containers of the tree
  std::vector<std::string> keys_;       // the key of each open container in its parent ("" in arrays)
  std::string key_;                     // the last key read
  std::vector<std::string> pair_;       // the strings of a ["a", "b"] merge being read
  size_t merge_index_ = 0;
};

}  // namespace

TokenizerFile TokenizerFile::read(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  Reader reader(path.string());
  try {
    nlohmann::json::sax_parse(text, &reader);
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), ": malformed JSON: ", e.what());
  }
  return {JsonField::from_document(std::move(reader.root), path), std::move(reader.entries)};
}

}  // namespace bamba
