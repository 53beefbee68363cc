// Reads the `single` template of TemplateProcessing into prefix and suffix ids.
#include "tokenizer/post_processor.h"

namespace bamba {
namespace {

// Ids of one `special_tokens` entry of a TemplateProcessing.
std::vector<int32_t> special_ids(const JsonField& processor, const std::string& name) {
  const JsonField entry = processor.at("special_tokens").at(name);
  const JsonField ids = entry.at("ids");
  std::vector<int32_t> result;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids.at(i).as_int();
    if (id < 0 || id > INT32_MAX) ids.at(i).fail("id ", id, " out of range");
    result.push_back(static_cast<int32_t>(id));
  }
  return result;
}

PostProcessor from_template(const JsonField& processor) {
  PostProcessor result;
  const JsonField single = processor.at("single");
  bool seen_text = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const JsonField item = single.at(i);
    if (const auto sequence = item.find("Sequence")) {
      if (seen_text || sequence->at("id").as_string() != "A") {
        sequence->fail("a single-sequence template must contain $A exactly once");
      }
      seen_text = true;
    } else if (const auto special = item.find("SpecialToken")) {
      const auto ids = special_ids(processor, special->at("id").as_string());
      auto& target = seen_text ? result.suffix : result.prefix;
      target.insert(target.end(), ids.begin(), ids.end());
    } else {
      item.fail("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  if (!seen_text) single.fail("a single-sequence template must contain $A exactly once");
  return result;
}

}  // namespace

PostProcessor PostProcessor::from_json(const JsonField& field) {
  if (field.is_null()) return {};
  const std::string& type = field.at("type").as_string();
  if (type == "ByteLevel") return {};
  if (type == "TemplateProcessing") return from_template(field);
  if (type == "Sequence") {
    // Each processor wraps the output of the previous one.
    PostProcessor result;
    const JsonField list = field.at("processors");
    for (size_t i = 0; i < list.size(); ++i) {
      PostProcessor inner = from_json(list.at(i));
      result.prefix.insert(result.prefix.begin(), inner.prefix.begin(), inner.prefix.end());
      result.suffix.insert(result.suffix.end(), inner.suffix.begin(), inner.suffix.end());
    }
    return result;
  }
  field.at("type").fail("unsupported post-processor \"", type,
                        "\" (supported: ByteLevel, TemplateProcessing, Sequence)");
}

}  // namespace bamba
