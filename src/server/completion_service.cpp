// OpenAI completion semantics over the engine loop; see completion_service.h.
#include "server/completion_service.h"

#include <algorithm>
#include <atomic>
#include <ctime>

#include "base/error.h"
#include "server/api_error.h"

namespace bamba::server {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

json byte_list(const std::string& text) {
  json bytes = json::array();
  for (unsigned char c : text) bytes.push_back(int(c));
  return bytes;
}

std::string next_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  return str_cat(prefix, std::hex, uint64_t(std::time(nullptr)), "-", counter++);
}

ApiError submit_error(const Submission& submission) {
  switch (submission.error) {
    case SubmitError::QueueFull: return ApiError(429, submission.message, "", "queue_full");
    case SubmitError::ShuttingDown: return ApiError(503, submission.message);
    default: return ApiError(400, submission.message);
  }
}

// A choice that ended before its natural end is an error, never a finish reason: OpenAI
// clients know only stop / length / content_filter / tool_calls (vLLM's "abort" is none of
// them, and reads as a completed answer).
ApiError unfinished_error(const RequestStream& stream) {
  if (stream.reason() == EndReason::Error) return ApiError(500, str_cat("generation failed: ", stream.error()));
  return ApiError(503, "the server shut down before this request finished; retry it", "", "server_shutdown");
}

}  // namespace

CompletionService::CompletionService(EngineLoop& engine, const Tokenizer& tokenizer,
                                     const ChatTemplate* chat_template, Metrics& metrics, ServiceOptions options)
    : engine_(engine), tokenizer_(tokenizer), chat_template_(chat_template), metrics_(metrics),
      options_(std::move(options)) {}

std::vector<int32_t> CompletionService::render_chat(const CompletionRequest& request) const {
  if (!chat_template_)
    throw ApiError(400,
                   "this model has no chat template (tokenizer_config.json has no chat_template and the "
                   "server was started without --chat-template); use /v1/completions",
                   "messages", "no_chat_template");
  ChatTemplateInputs inputs;
  inputs.messages = nlohmann::ordered_json::parse(request.messages.dump());
  if (!request.tools.is_null()) inputs.tools = nlohmann::ordered_json::parse(request.tools.dump());
  inputs.add_generation_prompt = true;
  inputs.bos_token = tokenizer_.bos_token();
  inputs.eos_token = tokenizer_.eos_token();
  std::string text;
  try {
    text = chat_template_->render(inputs);
  } catch (const std::exception& e) {  // raise_exception() in the template, bad message shapes
    throw ApiError(400, str_cat("the chat template rejected the messages: ", e.what()), "messages");
  }
  // The template writes special tokens (BOS, role markers) itself.
  return tokenizer_.encode(text, /*add_special_tokens=*/false, /*parse_special=*/true);
}

std::unique_ptr<CompletionJob> CompletionService::start(const json& body, Endpoint endpoint) {
  CompletionRequest request = parse_completion_request(body, endpoint, options_.default_sampling);
  if (request.model != options_.model_name)
    throw ApiError(404, str_cat("the model '", request.model, "' does not exist; this server serves '",
                                options_.model_name, "'"),
                   "model", "model_not_found");
  std::vector<std::vector<int32_t>> prompt_ids;
  std::vector<std::string> prompt_texts;
  try {
    if (endpoint == Endpoint::ChatCompletions) {
      prompt_ids.push_back(render_chat(request));
    } else {
      for (const PromptInput& prompt : request.prompts) {
        if (prompt.text) {
          prompt_ids.push_back(tokenizer_.encode(*prompt.text, /*add_special_tokens=*/true));
          prompt_texts.push_back(*prompt.text);
        } else {
          prompt_ids.push_back(prompt.ids);
          prompt_texts.push_back(request.echo ? tokenizer_.decode(prompt.ids) : std::string());
        }
      }
    }
  } catch (const Error& e) {  // e.g. text that is not UTF-8
    throw ApiError(400, e.what(), endpoint == Endpoint::ChatCompletions ? "messages" : "prompt");
  }

  const int64_t context = engine_.options().max_context;
  const char* prompt_field = endpoint == Endpoint::ChatCompletions ? "messages" : "prompt";
  std::vector<int64_t> max_new(prompt_ids.size());
  for (size_t p = 0; p < prompt_ids.size(); ++p) {
    const int64_t n_prompt = int64_t(prompt_ids[p].size());
    if (n_prompt == 0) throw ApiError(400, "the prompt is empty", prompt_field);
    if (n_prompt >= context)
      throw ApiError(400, str_cat("this model's maximum context length is ", context, " tokens, but the prompt has ",
                                  n_prompt, " tokens"),
                     prompt_field, "context_length_exceeded");
    if (request.max_tokens) {
      if (n_prompt + *request.max_tokens > context)
        throw ApiError(400, str_cat("this model's maximum context length is ", context, " tokens; the prompt (",
                                    n_prompt, " tokens) plus max_tokens (", *request.max_tokens, ") exceeds it"),
                       "max_tokens", "context_length_exceeded");
      max_new[p] = *request.max_tokens;
    } else {
      max_new[p] = endpoint == Endpoint::Completions ? std::min(options_.default_max_tokens, context - n_prompt)
                                                     : context - n_prompt;
    }
  }

  std::unique_ptr<CompletionJob> job(
      new CompletionJob(*this, std::move(request), std::move(prompt_ids), std::move(prompt_texts)));
  const CompletionRequest& r = job->request_;
  for (size_t p = 0; p < job->prompt_ids_.size(); ++p) {
    for (int j = 0; j < r.n; ++j) {
      RequestParams params;
      params.prompt = job->prompt_ids_[p];
      params.max_new_tokens = max_new[p];
      params.sampling = r.sampling;
      // The choices of one seeded request differ from each other, and reproducibly so.
      if (params.sampling.seed) *params.sampling.seed += uint64_t(j);
      if (!r.ignore_eos) params.stop_tokens = options_.eos_ids;
      params.logprobs = r.logprobs;
      params.top_logprobs = r.top_logprobs;
      params.prompt_logprobs = r.echo && r.logprobs;
      Submission submission = engine_.submit(std::move(params));
      if (!submission.stream) throw submit_error(submission);  // ~CompletionJob cancels the others
      CompletionJob::Choice& choice = job->choices_.emplace_back();
      choice.index = int(job->choices_.size() - 1);
      choice.prompt_index = p;
      choice.stream = std::move(submission.stream);
      if (r.echo) choice.echo = job->prompt_texts_[p];
      choice.decoder.emplace(tokenizer_, /*skip_special_tokens=*/true);
      choice.stop.emplace(r.stop);
      choice.logprobs = endpoint == Endpoint::ChatCompletions ? json::array() : json::object();
    }
  }
  return job;
}

CompletionJob::CompletionJob(const CompletionService& service, CompletionRequest request,
                             std::vector<std::vector<int32_t>> prompt_ids, std::vector<std::string> prompt_texts)
    : service_(service),
      request_(std::move(request)),
      prompt_ids_(std::move(prompt_ids)),
      prompt_texts_(std::move(prompt_texts)),
      id_(next_id(request_.endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-")),
      created_(int64_t(std::time(nullptr))),
      started_at_(std::chrono::steady_clock::now()) {}

CompletionJob::~CompletionJob() {
  for (Choice& choice : choices_) choice.stream->cancel();
  record_metrics();
}

std::string CompletionJob::token_text(int32_t id) const {
  return service_.tokenizer_.decode(std::span<const int32_t>(&id, 1));
}

void CompletionJob::add_logprob(Choice& choice, const SampledToken& sampled, size_t text_offset) {
  const std::string text = token_text(sampled.token);
  if (request_.endpoint == Endpoint::ChatCompletions) {
    json top = json::array();
    for (const TokenLogprob& alt : sampled.top_logprobs) {
      const std::string alt_text = token_text(alt.token);
      top.push_back({{"token", alt_text}, {"logprob", alt.logprob}, {"bytes", byte_list(alt_text)}});
    }
    choice.logprobs.push_back(
        {{"token", text}, {"logprob", sampled.logprob}, {"bytes", byte_list(text)}, {"top_logprobs", top}});
  } else {
    // Keyed by text: of alternatives that decode alike, the most likely (the first) stays.
    json top = json::object();
    for (const TokenLogprob& alt : sampled.top_logprobs) top.emplace(token_text(alt.token), alt.logprob);
    choice.logprobs["tokens"].push_back(text);
    choice.logprobs["token_logprobs"].push_back(sampled.logprob);
    choice.logprobs["top_logprobs"].push_back(top);
    choice.logprobs["text_offset"].push_back(text_offset);
  }
}

void CompletionJob::add_prompt_logprobs(Choice& choice, const std::vector<SampledToken>& scored) {
  const std::vector<int32_t>& ids = prompt_ids_[choice.prompt_index];
  BAMBA_DCHECK(scored.size() + 1 == ids.size());
  // Offsets into the echoed text: where each token's decoded text begins (a text prompt's
  // echo is the text itself, which has no special tokens such as BOS).
  const bool text_prompt = request_.prompts[choice.prompt_index].text.has_value();
  StreamDecoder decoder(service_.tokenizer_, /*skip_special_tokens=*/text_prompt);
  size_t offset = 0;
  json& lp = choice.logprobs;
  for (size_t i = 0; i < ids.size(); ++i) {
    const size_t text_offset = std::min(offset, choice.echo->size());
    if (i == 0) {  // nothing predicts the first token
      lp["tokens"].push_back(token_text(ids[0]));
      lp["token_logprobs"].push_back(nullptr);
      lp["top_logprobs"].push_back(nullptr);
      lp["text_offset"].push_back(text_offset);
    } else {
      add_logprob(choice, scored[i - 1], text_offset);
    }
    offset += decoder.push(ids[i]).size();
  }
}

std::string CompletionJob::take_events(Choice& choice, std::vector<TokenEvent>& events) {
  std::string out;
  if (choice.echo) {
    if (request_.logprobs) {
      // Set before the first token: without them there are no tokens yet either.
      std::optional<std::vector<SampledToken>> scored = choice.stream->take_prompt_logprobs();
      if (!scored) return out;
      add_prompt_logprobs(choice, *scored);
    }
    out = std::move(*choice.echo);
    choice.echo.reset();
  }
  Metrics& metrics = service_.metrics_;
  for (const TokenEvent& event : events) {
    if (choice.finish_reason) break;  // a stop string ended it; later tokens are discarded
    ++choice.n_tokens;
    if (!choice.last_token_at) {
      metrics.observe_time_to_first_token(std::chrono::duration<double>(event.at - started_at_).count());
    } else {
      metrics.observe_inter_token_latency(std::chrono::duration<double>(event.at - *choice.last_token_at).count());
    }
    choice.last_token_at = event.at;
    if (request_.logprobs) add_logprob(choice, event.sampled, choice.text.size() + out.size());
    const StopStringMatcher::Piece piece = choice.stop->push(choice.decoder->push(event.sampled.token));
    out += piece.text;
    if (piece.stopped) {
      choice.finish_reason = "stop";
      choice.stream->cancel();
    }
  }
  events.clear();
  return out;
}

std::string CompletionJob::finish_choice(Choice& choice) {
  const EndReason reason = choice.stream->reason();
  if (reason != EndReason::Stop && reason != EndReason::Length) throw unfinished_error(*choice.stream);
  const StopStringMatcher::Piece piece = choice.stop->push(choice.decoder->flush());
  std::string out = piece.text;
  if (piece.stopped) {
    choice.finish_reason = "stop";
  } else {
    out += choice.stop->flush();
    choice.finish_reason = reason == EndReason::Stop ? "stop" : "length";
  }
  return out;
}

json CompletionJob::usage() const {
  int64_t prompt_tokens = 0, completion_tokens = 0;
  for (const auto& ids : prompt_ids_) prompt_tokens += int64_t(ids.size());
  for (const Choice& choice : choices_) completion_tokens += choice.n_tokens;
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

void CompletionJob::record_metrics() {
  if (metrics_recorded_) return;
  metrics_recorded_ = true;
  const json u = usage();
  service_.metrics_.count_tokens(u["prompt_tokens"].get<int64_t>(), u["completion_tokens"].get<int64_t>());
}

std::optional<json> CompletionJob::run_to_end(const std::function<bool()>& client_connected) {
  std::vector<TokenEvent> events;
  for (Choice& choice : choices_) {
    while (!choice.finish_reason) {
      const bool done = choice.stream->wait(events, std::chrono::milliseconds(50));
      choice.text += take_events(choice, events);
      if (done && !choice.finish_reason) choice.text += finish_choice(choice);
      if (!choice.finish_reason && !client_connected()) {
        for (Choice& c : choices_) c.stream->cancel();
        return std::nullopt;
      }
    }
  }
  const bool chat = request_.endpoint == Endpoint::ChatCompletions;
  json choices = json::array();
  for (Choice& choice : choices_) {
    json logprobs = request_.logprobs ? (chat ? json{{"content", choice.logprobs}} : choice.logprobs) : json();
    if (chat) {
      choices.push_back({{"index", choice.index},
                         {"message", {{"role", "assistant"}, {"content", choice.text}}},
                         {"logprobs", logprobs},
                         {"finish_reason", *choice.finish_reason}});
    } else {
      choices.push_back({{"index", choice.index},
                         {"text", choice.text},
                         {"logprobs", logprobs},
                         {"finish_reason", *choice.finish_reason}});
    }
  }
  record_metrics();
  return json{{"id", id_},
              {"object", chat ? "chat.completion" : "text_completion"},
              {"created", created_},
              {"model", service_.options_.model_name},
              {"choices", choices},
              {"usage", usage()}};
}

json CompletionJob::chunk(json choices) const {
  const bool chat = request_.endpoint == Endpoint::ChatCompletions;
  json c = {{"id", id_},
            {"object", chat ? "chat.completion.chunk" : "text_completion"},
            {"created", created_},
            {"model", service_.options_.model_name},
            {"choices", std::move(choices)}};
  if (request_.include_usage) c["usage"] = nullptr;
  return c;
}

json CompletionJob::stream_choice(Choice& choice, const std::string& text, bool final) const {
  const bool chat = request_.endpoint == Endpoint::ChatCompletions;
  json logprobs;
  if (request_.logprobs && !choice.logprobs.empty())
    logprobs = chat ? json{{"content", choice.logprobs}} : choice.logprobs;
  choice.logprobs = chat ? json::array() : json::object();
  json c = {{"index", choice.index}, {"logprobs", logprobs}, {"finish_reason", nullptr}};
  if (chat) {
    c["delta"] = json::object();
    if (!choice.sent_role) c["delta"]["role"] = "assistant";
    choice.sent_role = true;
    if (!text.empty() || !final) c["delta"]["content"] = text;
  } else {
    c["text"] = text;
  }
  if (final) c["finish_reason"] = *choice.finish_reason;
  return c;
}

void CompletionJob::stream(const std::function<bool(const std::string&)>& write) {
  auto send = [&](const json& j) {
    if (write(sse(j))) return true;
    for (Choice& choice : choices_) choice.stream->cancel();
    return false;
  };
  if (request_.endpoint == Endpoint::ChatCompletions) {  // the role comes first
    for (Choice& choice : choices_)
      if (!send(chunk(json::array({stream_choice(choice, "", false)})))) return;
  }
  std::vector<TokenEvent> events;
  bool progressed = true;
  for (;;) {
    bool any_open = false;
    bool first_open = true;
    bool progress_now = false;
    for (Choice& choice : choices_) {
      if (choice.finish_reason) continue;
      any_open = true;
      // Sleep on one stream only when the last pass found nothing anywhere.
      const auto timeout = std::chrono::milliseconds(first_open && !progressed ? 20 : 0);
      first_open = false;
      bool done;
      std::string text;
      try {
        done = choice.stream->wait(events, timeout);
        progress_now |= !events.empty() || done;
        text = take_events(choice, events);
        if (done && !choice.finish_reason) text += finish_choice(choice);
      } catch (const ApiError& e) {
        // No [DONE]: that would present the cut-short stream as a complete answer.
        send(e.to_json());
        for (Choice& c : choices_) c.stream->cancel();
        return;
      }
      const bool final = choice.finish_reason.has_value();
      if (text.empty() && !final && choice.logprobs.empty()) continue;
      if (!send(chunk(json::array({stream_choice(choice, text, final)})))) return;
    }
    if (!any_open) break;
    progressed = progress_now;
  }
  record_metrics();
  if (request_.include_usage) {
    json last = chunk(json::array());
    last["usage"] = usage();
    if (!send(last)) return;
  }
  write("data: [DONE]\n\n");
}

}  // namespace bamba::server
