// Parsing and writing the compressed-tensors `quantization_config` (quant_config.h).
#include "model/quant_config.h"

#include <regex>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "model/json_fields.h"

namespace bamba {

namespace {

const char* format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::Float: return "float";
    case WeightFormat::Int8: return "int-quantized";
    case WeightFormat::Fp8: return "float-quantized";
    case WeightFormat::Int4: return "pack-quantized";
  }
  return "?";
}

const char* strategy_name(ScaleStrategy s) {
  switch (s) {
    case ScaleStrategy::Tensor: return "tensor";
    case ScaleStrategy::Channel: return "channel";
    case ScaleStrategy::Group: return "group";
  }
  return "?";
}

// compressed-tensors matches "re:" patterns from the start of the name (Python re.match).
bool name_matches(const std::string& pattern, const std::string& module) {
  if (pattern.rfind("re:", 0) == 0) {
    return std::regex_search(module, std::regex(pattern.substr(3)), std::regex_constants::match_continuous);
  }
  return pattern == module;
}

std::vector<std::string> string_list(const JsonFields& f, std::string_view key) {
  std::vector<std::string> out;
  const nlohmann::json* v = f.find(key);
  if (!v) return out;
  if (!v->is_array()) f.fail_value(key, "a list of strings", *v);
  for (const nlohmann::json& e : *v) {
    if (!e.is_string()) f.fail_value(key, "a list of strings", *v);
    const std::string& s = e.get_ref<const std::string&>();
    if (s.rfind("re:", 0) == 0) {
      try {
        (void)std::regex(s.substr(3));
      } catch (const std::regex_error&) {
        f.fail_key(key, "valid regular expressions after \"re:\"", str_cat('"', s, '"'));
      }
    }
    out.push_back(s);
  }
  return out;
}

// The scheme of one config group's "weights" entry.
struct WeightScheme {
  int64_t num_bits = 0;
  std::string type;
  ScaleStrategy strategy = ScaleStrategy::Channel;
  int64_t group_size = 0;
};

WeightScheme parse_weights(const JsonFields& w) {
  WeightScheme s;
  s.num_bits = w.get_int("num_bits", 0);
  const std::optional<std::string> type = w.optional_string("type");
  if (!type || (*type != "int" && *type != "float")) w.fail_key("type", "\"int\" or \"float\"", type ? *type : "nothing");
  s.type = *type;
  const std::optional<std::string> strategy = w.optional_string("strategy");
  if (strategy == "tensor") {
    s.strategy = ScaleStrategy::Tensor;
  } else if (strategy == "channel") {
    s.strategy = ScaleStrategy::Channel;
  } else if (strategy == "group") {
    s.strategy = ScaleStrategy::Group;
    s.group_size = w.get_int("group_size", 0);
    if (s.group_size < 1) w.fail_key("group_size", "a positive integer for strategy \"group\"", str_cat(s.group_size));
  } else {
    w.fail_key("strategy", "\"tensor\", \"channel\" or \"group\"", strategy ? str_cat('"', *strategy, '"') : "nothing");
  }
  if (!w.get_bool("symmetric", true)) w.fail_key("symmetric", "true (asymmetric weights are not supported)", "false");
  if (w.get_bool("dynamic", false)) w.fail_key("dynamic", "false (weights carry stored scales)", "true");
  return s;
}

}  // namespace

int64_t QuantGroup::groups_per_row(int64_t cols) const {
  return strategy == ScaleStrategy::Group ? cols / group_size : 1;
}

std::string QuantGroup::describe() const {
  std::string s = str_cat("scale per ", strategy_name(strategy));
  if (strategy == ScaleStrategy::Group) s += str_cat(" of ", group_size);
  return s;
}

const QuantGroup* QuantConfig::group_of(const std::string& module, const char* kind) const {
  if (!quantized()) return nullptr;
  for (const std::string& pattern : ignore) {
    if (name_matches(pattern, module)) return nullptr;
  }
  for (const QuantGroup& g : groups) {
    for (const std::string& target : g.targets) {
      if (target != "Linear" && target != "Embedding" && name_matches(target, module)) return &g;
    }
  }
  for (const QuantGroup& g : groups) {
    for (const std::string& target : g.targets) {
      if (target == kind) return &g;
    }
  }
  return nullptr;
}

std::string QuantConfig::describe() const {
  if (!quantized()) return "float";
  const char* bits = format == WeightFormat::Int8 ? "int8" : format == WeightFormat::Fp8 ? "fp8 e4m3" : "int4";
  std::string s = str_cat(bits, " (", format_name(format), ")");
  for (size_t i = 0; i < groups.size(); ++i) {
    s += str_cat(i == 0 ? ", " : "; ", groups[i].describe());
    if (groups.size() > 1) {
      std::string targets;
      for (const std::string& t : groups[i].targets) targets += str_cat(targets.empty() ? "" : ", ", t);
      s += str_cat(" (", targets, ")");
    }
  }
  return s;
}

QuantConfig parse_quant_config(const nlohmann::json& config_json, const std::string& source) {
  QuantConfig q;
  const JsonFields root(config_json, source);
  const nlohmann::json* qc = root.find("quantization_config");
  if (!qc) return q;
  const std::string where = str_cat(source, " quantization_config");
  const JsonFields f(*qc, where);
  const std::optional<std::string> method = f.optional_string("quant_method");
  if (method != "compressed-tensors") {
    f.fail_key("quant_method", "\"compressed-tensors\"", method ? str_cat('"', *method, '"') : "nothing");
  }
  const std::optional<std::string> format = f.optional_string("format");
  if (format == "int-quantized") {
    q.format = WeightFormat::Int8;
  } else if (format == "float-quantized") {
    q.format = WeightFormat::Fp8;
  } else if (format == "pack-quantized") {
    q.format = WeightFormat::Int4;
  } else {
    f.fail_key("format", "\"float-quantized\", \"int-quantized\" or \"pack-quantized\"",
               format ? str_cat('"', *format, '"') : "nothing");
  }
  q.ignore = string_list(f, "ignore");
  if (const nlohmann::json* calibration = f.find("calibration")) {
    const JsonFields c(*calibration, str_cat(where, ".calibration"));
    if (c.optional_string("method") == "gptq") {
      q.gptq.tokens = c.get_int("tokens", 0);
      q.gptq.dampening = c.get_number("dampening", 0);
      q.gptq.act_order = c.get_bool("act_order", false);
    }
  }

  const nlohmann::json* groups = f.find("config_groups");
  if (!groups || !groups->is_object() || groups->empty()) {
    f.fail_value("config_groups", "an object of one or more groups", groups ? *groups : nlohmann::json());
  }
  for (const auto& [name, group] : groups->items()) {
    const JsonFields g(group, str_cat(where, " config_groups.", name));
    QuantGroup qg;
    qg.targets = string_list(g, "targets");
    if (qg.targets.empty()) fail(g.source(), ": targets no modules (empty or missing 'targets')");
    const nlohmann::json* weights = g.find("weights");
    if (!weights) g.fail_key("weights", "an object describing the weight quantization", "nothing");
    const WeightScheme s = parse_weights(JsonFields(*weights, str_cat(g.source(), ".weights")));
    // One format for the whole checkpoint; groups may differ in how they share scales.
    const auto expect = [&](int64_t bits, const char* type) {
      if (s.num_bits != bits || s.type != type) {
        fail(g.source(), ": format \"", *format, "\" needs weights of num_bits ", bits, " and type \"", type,
             "\", found ", s.num_bits, " and \"", s.type, '"');
      }
    };
    switch (q.format) {
      case WeightFormat::Int8: expect(8, "int"); break;
      case WeightFormat::Int4: expect(4, "int"); break;
      case WeightFormat::Fp8:
        expect(8, "float");
        if (s.strategy == ScaleStrategy::Group) fail(g.source(), ": fp8 weights with strategy \"group\" are not supported");
        break;
      case WeightFormat::Float: break;
    }
    qg.strategy = s.strategy;
    qg.group_size = s.group_size;
    if (const nlohmann::json* act = g.find("input_activations")) {
      const JsonFields a(*act, str_cat(g.source(), ".input_activations"));
      if (!a.get_bool("dynamic", false)) {
        a.fail_key("dynamic", "true (static activation scales are not supported)", "false");
      }
    }
    q.groups.push_back(std::move(qg));
  }
  return q;
}

nlohmann::json quant_config_json(const QuantConfig& q) {
  nlohmann::json activations = {{"num_bits", 8},
                                {"type", q.format == WeightFormat::Fp8 ? "float" : "int"},
                                {"strategy", "token"},
                                {"dynamic", true},
                                {"symmetric", true}};
  nlohmann::json config = {
      {"quant_method", "compressed-tensors"},
      {"format", format_name(q.format)},
      {"config_groups", nlohmann::json::object()},
      {"ignore", q.ignore}};
  for (size_t i = 0; i < q.groups.size(); ++i) {
    const QuantGroup& g = q.groups[i];
    nlohmann::json weights = {{"num_bits", q.format == WeightFormat::Int4 ? 4 : 8},
                              {"type", q.format == WeightFormat::Fp8 ? "float" : "int"},
                              {"strategy", strategy_name(g.strategy)},
                              {"symmetric", true},
                              {"dynamic", false}};
    if (g.strategy == ScaleStrategy::Group) weights["group_size"] = g.group_size;
    config["config_groups"][str_cat("group_", i)] = {
        {"targets", g.targets}, {"weights", weights}, {"input_activations", activations}};
  }
  if (q.gptq.tokens > 0) {
    config["calibration"] = {
        {"method", "gptq"}, {"tokens", q.gptq.tokens}, {"dampening", q.gptq.dampening}, {"act_order", q.gptq.act_order}};
  }
  return config;
}

}  // namespace bamba
