// Field-by-field parsing of OpenAI completion requests; see openai_request.h.
#include "server/openai_request.h"

#include <cmath>
#include <limits>

#include "base/error.h"
#include "server/api_error.h"

namespace bamba::server {
namespace {

using nlohmann::json;

// The field, or null when absent (JSON null counts as absent, as in OpenAI's API).
const json* field(const json& body, const char* key) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

double number_in(const json& body, const char* key, double lo, double hi) {
  const json& v = *field(body, key);
  if (!v.is_number()) throw invalid_field(key, str_cat("'", key, "' must be a number, found ", v.type_name()));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw invalid_field(key, str_cat("'", key, "' must be in [", lo, ", ", hi, "], found ", x));
  return x;
}

int64_t integer_in(const json& body, const char* key, int64_t lo, int64_t hi) {
  const json& v = *field(body, key);
  if (!v.is_number_integer())
    throw invalid_field(key, str_cat("'", key, "' must be an integer, found ", v.dump()));
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())
                        ? std::numeric_limits<int64_t>::max()
                        : v.get<int64_t>();
  if (x < lo || x > hi) throw invalid_field(key, str_cat("'", key, "' must be in [", lo, ", ", hi, "], found ", x));
  return x;
}

bool boolean(const json& body, const char* key) {
  const json& v = *field(body, key);
  if (!v.is_boolean()) throw invalid_field(key, str_cat("'", key, "' must be a boolean, found ", v.type_name()));
  return v.get<bool>();
}

std::vector<int32_t> token_ids(const json& array, const char* key) {
  std::vector<int32_t> ids;
  for (const json& id : array) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > std::numeric_limits<int32_t>::max())
      throw invalid_field(key, str_cat("'", key, "' token ids must be non-negative integers, found ", id.dump()));
    ids.push_back(int32_t(id.get<int64_t>()));
  }
  if (ids.empty()) throw invalid_field(key, str_cat("'", key, "' must not be empty"));
  return ids;
}

std::vector<PromptInput> parse_prompts(const json& body) {
  const json* prompt = field(body, "prompt");
  if (!prompt) throw invalid_field("prompt", "'prompt' is required");
  if (prompt->is_string()) return {PromptInput{prompt->get<std::string>(), {}}};
  if (!prompt->is_array() || prompt->empty())
    throw invalid_field("prompt", "'prompt' must be a string, an array of strings, or token ids");
  if ((*prompt)[0].is_number()) return {PromptInput{std::nullopt, token_ids(*prompt, "prompt")}};
  std::vector<PromptInput> prompts;
  for (const json& p : *prompt) {
    if (p.is_string()) {
      prompts.push_back({p.get<std::string>(), {}});
    } else if (p.is_array()) {
      prompts.push_back({std::nullopt, token_ids(p, "prompt")});
    } else {
      throw invalid_field("prompt", str_cat("'prompt' items must be strings or token id arrays, found ", p.type_name()));
    }
  }
  return prompts;
}

// Chat content may be a string or a list of parts; text parts are joined.
json flatten_content(const json& content) {
  if (content.is_null() || content.is_string()) return content;
  if (!content.is_array()) throw invalid_field("messages", "message 'content' must be a string or an array of parts");
  std::string text;
  for (const json& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      throw invalid_field("messages", "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
    text += part["text"].get<std::string>();
  }
  return text;
}

json parse_messages(const json& body) {
  const json* messages = field(body, "messages");
  if (!messages) throw invalid_field("messages", "'messages' is required");
  if (!messages->is_array() || messages->empty())
    throw invalid_field("messages", "'messages' must be a non-empty array");
  json out = json::array();
  for (const json& m : *messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw invalid_field("messages", "each message must be an object with a string 'role'");
    json message = m;
    message["content"] = flatten_content(m.value("content", json()));
    out.push_back(std::move(message));
  }
  return out;
}

std::vector<std::string> parse_stop(const json& body) {
  const json* stop = field(body, "stop");
  if (!stop) return {};
  std::vector<std::string> out;
  if (stop->is_string()) {
    out.push_back(stop->get<std::string>());
  } else if (stop->is_array() && stop->size() <= 16) {
    for (const json& s : *stop) {
      if (!s.is_string()) throw invalid_field("stop", "'stop' items must be strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    throw invalid_field("stop", "'stop' must be a string or an array of at most 16 strings");
  }
  for (const std::string& s : out)
    if (s.empty()) throw invalid_field("stop", "'stop' strings must not be empty");
  return out;
}

// Fields with a meaning this server does not implement: refusing them beats silently
// returning something the client did not ask for.
void reject_unsupported(const json& body, Endpoint endpoint) {
  if (field(body, "suffix")) throw invalid_field("suffix", "'suffix' is not supported");
  if (const json* logit_bias = field(body, "logit_bias"); logit_bias && !logit_bias->empty())
    throw invalid_field("logit_bias", "'logit_bias' is not supported");
  if (field(body, "best_of") && integer_in(body, "best_of", 1, 1) != 1)
    throw invalid_field("best_of", "'best_of' is not supported");
  if (const json* format = field(body, "response_format");
      format && !(format->is_object() && format->value("type", "") == "text"))
    throw invalid_field("response_format", "only response_format {\"type\": \"text\"} is supported");
  for (const char* key : {"functions", "function_call"})
    if (field(body, key)) throw invalid_field(key, str_cat("'", key, "' is not supported"));
  // Tools reach the chat template, but no tool call is ever forced.
  if (const json* choice = field(body, "tool_choice");
      endpoint == Endpoint::ChatCompletions && choice && *choice != "none" && *choice != "auto")
    throw invalid_field("tool_choice", "only tool_choice \"none\" or \"auto\" is supported");
}

}  // namespace

CompletionRequest parse_completion_request(const json& body, Endpoint endpoint, const SamplingParams& defaults) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  CompletionRequest r;
  r.endpoint = endpoint;
  r.sampling = defaults;
  const json* model = field(body, "model");
  if (!model || !model->is_string()) throw invalid_field("model", "'model' is required and must be a string");
  r.model = model->get<std::string>();
  reject_unsupported(body, endpoint);

  if (endpoint == Endpoint::Completions) {
    r.prompts = parse_prompts(body);
  } else {
    r.messages = parse_messages(body);
    if (const json* tools = field(body, "tools")) {
      if (!tools->is_array()) throw invalid_field("tools", "'tools' must be an array");
      r.tools = *tools;
    }
  }

  constexpr int64_t kMaxTokens = int64_t(1) << 40;
  if (field(body, "max_completion_tokens")) r.max_tokens = integer_in(body, "max_completion_tokens", 1, kMaxTokens);
  if (field(body, "max_tokens")) r.max_tokens = integer_in(body, "max_tokens", 1, kMaxTokens);
  if (field(body, "temperature")) r.sampling.temperature = float(number_in(body, "temperature", 0, 2));
  if (field(body, "top_p")) r.sampling.top_p = float(number_in(body, "top_p", 1e-9, 1));
  if (field(body, "top_k")) {
    const int64_t k = integer_in(body, "top_k", -1, int64_t(1) << 31);
    r.sampling.top_k = k < 0 ? 0 : k;  // vLLM spells "off" as -1
  }
  if (field(body, "min_p")) r.sampling.min_p = float(number_in(body, "min_p", 0, 1));
  if (field(body, "repetition_penalty"))
    r.sampling.repetition_penalty = float(number_in(body, "repetition_penalty", 1e-6, 100));
  if (field(body, "presence_penalty")) r.sampling.presence_penalty = float(number_in(body, "presence_penalty", -2, 2));
  if (field(body, "frequency_penalty"))
    r.sampling.frequency_penalty = float(number_in(body, "frequency_penalty", -2, 2));
  if (field(body, "seed"))
    r.sampling.seed = uint64_t(integer_in(body, "seed", std::numeric_limits<int64_t>::min(),
                                          std::numeric_limits<int64_t>::max()));
  try {
    validate(r.sampling);
  } catch (const Error& e) {
    throw ApiError(400, e.what());
  }
  r.stop = parse_stop(body);
  if (field(body, "n")) r.n = int(integer_in(body, "n", 1, 16));
  if (field(body, "stream")) r.stream = boolean(body, "stream");
  if (field(body, "ignore_eos")) r.ignore_eos = boolean(body, "ignore_eos");
  if (const json* options = field(body, "stream_options")) {
    if (!options->is_object()) throw invalid_field("stream_options", "'stream_options' must be an object");
    if (!r.stream) throw invalid_field("stream_options", "'stream_options' is only allowed with stream: true");
    if (field(*options, "include_usage")) r.include_usage = boolean(*options, "include_usage");
  }
  if (endpoint == Endpoint::Completions) {
    // Completions: logprobs is the number of alternatives (0..5) to report.
    if (field(body, "logprobs")) {
      r.logprobs = true;
      r.top_logprobs = int(integer_in(body, "logprobs", 0, 5));
    }
    if (field(body, "echo")) r.echo = boolean(body, "echo");
  } else {
    if (field(body, "logprobs")) r.logprobs = boolean(body, "logprobs");
    if (field(body, "top_logprobs")) {
      r.top_logprobs = int(integer_in(body, "top_logprobs", 0, 20));
      if (!r.logprobs) throw invalid_field("top_logprobs", "'top_logprobs' requires 'logprobs': true");
    }
    if (field(body, "echo")) throw invalid_field("echo", "'echo' is a completions field");
  }
  return r;
}

}  // namespace bamba::server
