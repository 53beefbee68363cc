// Pre-tokenizer steps with the semantics of HF tokenizers' `Split` and `ByteLevel`.
#include "tokenizer/pre_tokenizer.h"

#include <optional>
#include <utility>

#include "tokenizer/byte_level.h"
#include "tokenizer/regex.h"

namespace bamba {
namespace {

// GPT-2's pattern, which ByteLevel applies when `use_regex` is true.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// HF `SplitDelimiterBehavior`: what becomes of the matched parts.
enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Part {
  size_t begin, end;
  bool is_match;
};

Behavior parse_behavior(const JsonField& field) {
  const std::string& name = field.as_string();
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  field.fail("unknown split behavior \"", name,
             "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

// Joins matched parts with their neighbours as HF `NormalizedString::split` does.
std::vector<Part> apply_behavior(std::vector<Part> parts, Behavior behavior) {
  std::vector<Part> out;
  switch (behavior) {
    case Behavior::kRemoved:
      for (const Part& p : parts)
        if (!p.is_match) out.push_back(p);
      return out;
    case Behavior::kIsolated:
      return parts;
    case Behavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Part& p : parts) {
        if (p.is_match && !previous_match && !out.empty()) {
          out.back().end = p.end;
        } else {
          out.push_back(p);
        }
        previous_match = p.is_match;
      }
      return out;
    }
    case Behavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) {
          out.back().begin = it->begin;
        } else {
          out.push_back(*it);
        }
        previous_match = it->is_match;
      }
      return {out.rbegin(), out.rend()};
    }
    case Behavior::kContiguous: {
      std::optional<bool> previous;
      for (const Part& p : parts) {
        if (previous == p.is_match) {
          out.back().end = p.end;
        } else {
          out.push_back(p);
        }
        previous = p.is_match;
      }
      return out;
    }
  }
  return parts;
}

}  // namespace

struct PreTokenizer::Step {
  // Split (or the regex part of ByteLevel when `byte_level` is set).
  std::optional<Regex> regex;
  Behavior behavior = Behavior::kIsolated;
  bool invert = false;
  bool byte_level = false;
  bool add_prefix_space = false;

  void apply(std::string_view text, std::vector<std::string>& out) const {
    std::string prefixed;
    if (add_prefix_space && !text.starts_with(' ')) {
      prefixed = " ";
      prefixed += text;
      text = prefixed;
    }
    std::vector<Part> parts;
    if (regex) {
      std::vector<std::pair<size_t, size_t>> matches;
      regex->find_all(text, matches);
      size_t previous = 0;
      for (const auto& [begin, end] : matches) {
        if (previous != begin) parts.push_back({previous, begin, invert});
        parts.push_back({begin, end, !invert});
        previous = end;
      }
      if (previous != text.size()) parts.push_back({previous, text.size(), invert});
      parts = apply_behavior(std::move(parts), behavior);
    } else {
      parts.push_back({0, text.size(), false});
    }
    for (const Part& p : parts) {
      if (p.begin == p.end) continue;
      const std::string_view piece = text.substr(p.begin, p.end - p.begin);
      if (byte_level) {
        byte_level::append_encoded(piece, out.emplace_back());
      } else {
        out.emplace_back(piece);
      }
    }
  }
};

void PreTokenizer::add_steps(const JsonField& field, std::vector<std::shared_ptr<const Step>>& steps) {
  const std::string& type = field.at("type").as_string();
  if (type == "Sequence") {
    const JsonField list = field.at("pretokenizers");
    for (size_t i = 0; i < list.size(); ++i) add_steps(list.at(i), steps);
    return;
  }
  auto step = std::make_shared<Step>();
  if (type == "Split") {
    const JsonField pattern = field.at("pattern");
    const auto regex = pattern.find("Regex");
    const auto literal = pattern.find("String");
    if (!regex && !literal) pattern.fail("expected {\"Regex\": ...} or {\"String\": ...}");
    const JsonField& source = regex ? *regex : *literal;
    step->regex.emplace(source.as_string(), !regex, str_cat(field.file(), ": field \"", source.path(), "\""));
    step->behavior = parse_behavior(field.at("behavior"));
    step->invert = field.bool_or("invert", false);
  } else if (type == "ByteLevel") {
    step->byte_level = true;
    step->add_prefix_space = field.bool_or("add_prefix_space", true);
    if (field.bool_or("use_regex", true)) step->regex.emplace(kGpt2Pattern, false, "GPT-2 pattern");
  } else {
    field.at("type").fail("unsupported pre-tokenizer \"", type, "\" (supported: Sequence, Split, ByteLevel)");
  }
  steps.push_back(std::move(step));
}

PreTokenizer PreTokenizer::from_json(const JsonField& field) {
  PreTokenizer result;
  if (!field.is_null()) add_steps(field, result.steps_);
  return result;
}

void PreTokenizer::split(std::string_view text, std::vector<std::string>& pieces) const {
  if (text.empty()) return;
  if (steps_.empty()) {
    pieces.emplace_back(text);
    return;
  }
  std::vector<std::string> current{std::string(text)};
  std::vector<std::string> next;
  for (size_t s = 0; s < steps_.size(); ++s) {
    std::vector<std::string>& target = s + 1 == steps_.size() ? pieces : next;
    for (const std::string& piece : current) steps_[s]->apply(piece, target);
    if (&target == &next) {
      current.swap(next);
      next.clear();
    }
  }
}

}  // namespace bamba
