// Renders every (chat template, conversation) pair of tests/data/chat_templates with
// @huggingface/jinja, the JS engine transformers.js uses, and compares the results exactly with
// bamba's (chat_template_render). Usage: node compare_chat_templates.mjs <render-exe> <dir>
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";

// Pairs where @huggingface/jinja departs from Python Jinja2 as transformers runs it. bamba follows
// Python, so these pairs are checked against Python Jinja2's result, written out here.
const PYTHON_DIFFERENCES = {
  // `str + list` and `str + dict`: Python raises TypeError ("can only concatenate str"), while
  // the JS engine joins list items with commas and prints dicts as JSON or "[object Map]".
  "chatml/content_parts": { python: { error: "TypeError: can only concatenate str (not \"list\") to str" } },
  "deepseek_r1/tool_call_round_trip": { python: { error: "TypeError: can only concatenate str (not \"dict\") to str" } },
  "deepseek_r1/content_parts": { python: { error: "TypeError: can only concatenate str (not \"list\") to str" } },
  "granite3.1/content_parts": { python: { error: "TypeError: can only concatenate str (not \"list\") to str" } },
  "phi3/content_parts": { python: { error: "TypeError: can only concatenate str (not \"list\") to str" } },
  "qwen2.5_tools/content_parts": { python: { error: "TypeError: can only concatenate str (not \"list\") to str" } },
  "zephyr/content_parts": { python: { error: "TypeError: can only concatenate str (not \"list\") to str" } },
  // `trim` of None and of a list: Python applies str() first ("None", "[{'type': ...}]"), while the
  // JS engine fails ("Cannot apply filter trim"); Gemma's template then reaches its own
  // raise_exception on the tool role.
  "gemma/tool_call_round_trip": {
    python: { error: "Conversation roles must alternate user/assistant/user/assistant/..." },
  },
  "gemma/tool_call_string_arguments": {
    python: { error: "Conversation roles must alternate user/assistant/user/assistant/..." },
  },
  "llama3.2_tools/content_parts": {
    python: {
      output: "<s><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 15 Jan 2025\n\n[{'type': 'text', 'text': 'Part one.'}, {'type': 'text', 'text': 'Part two.'}]<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n[{'type': 'text', 'text': 'Hello'}]<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    },
  },
  "llama3/tool_call_round_trip": {
    python: {
      output: "<s><|start_header_id|>user<|end_header_id|>\n\nWhat is the weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nNone<|eot_id|><|start_header_id|>tool<|end_header_id|>\n\n{\"temperature\": 21, \"sky\": \"clear\"}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nThanks!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    },
  },
  "llama3/tool_call_string_arguments": {
    python: {
      output: "<s><|start_header_id|>user<|end_header_id|>\n\nAdd 2 and 3.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nNone<|eot_id|><|start_header_id|>tool<|end_header_id|>\n\n5<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    },
  },
  "llama3/content_parts": {
    python: {
      output: "<s><|start_header_id|>system<|end_header_id|>\n\n[{'type': 'text', 'text': 'Part one.'}, {'type': 'text', 'text': 'Part two.'}]<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n[{'type': 'text', 'text': 'Hello'}]<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    },
  },
};

const [renderExe, dir] = process.argv.slice(2);
if (!renderExe || !dir) {
  console.error("usage: node compare_chat_templates.mjs <render-exe> <chat_templates_dir>");
  process.exit(2);
}

const { cases } = JSON.parse(readFileSync(join(dir, "conversations.json"), "utf8"));
const templates = readdirSync(dir).filter((f) => f.endsWith(".jinja")).sort();

// The variables transformers passes to a chat template (see src/jinja/chat_template.cpp).
function context(c) {
  return {
    tools: c.tools,
    documents: null,
    ...c.extra_context,
    messages: c.messages,
    add_generation_prompt: c.add_generation_prompt,
    bos_token: c.bos_token,
    eos_token: c.eos_token,
  };
}

function renderJs(source, c) {
  try {
    // Like Python's Jinja2, drop one trailing newline of the template (keep_trailing_newline=False).
    return { output: new Template(source.replace(/\n$/, "")).render(context(c)) };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

const cpp = JSON.parse(execFileSync(renderExe, [dir], { encoding: "utf8", maxBuffer: 1 << 28 }));

let passed = 0;
let failed = 0;
for (const file of templates) {
  const source = readFileSync(join(dir, file), "utf8");
  for (const c of cases) {
    const key = `${file.replace(/\.jinja$/, "")}/${c.name}`;
    const ours = cpp[key];
    const expected = PYTHON_DIFFERENCES[key]?.python ?? renderJs(source, c);
    let ok;
    if ("error" in expected) {
      // Error texts differ between engines, except raise_exception's message, which both pass
      // through as is (bamba prefixes its own errors with "syntax error" or "template error").
      const raised = ours !== undefined && "error" in ours && !/^(syntax|template) error/.test(ours.error);
      ok = ours !== undefined && "error" in ours && (!raised || ours.error === expected.error);
    } else {
      ok = ours !== undefined && ours.output === expected.output;
    }
    if (ok) {
      passed++;
    } else {
      failed++;
      console.log(`FAIL ${key}\n  expected: ${JSON.stringify(expected)}\n  bamba:    ${JSON.stringify(ours)}`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
