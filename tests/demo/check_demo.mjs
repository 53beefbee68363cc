// Checks of the demo model through the real `bamba` binary.
//   perplexity: `bamba perplexity --json` on heldout.txt equals heldout_eval.json (written by
//               the training script for the same text and windows) within 0.5%.
//   english:    text sampled with generation_config.json's defaults is at least 80% words of
//               /usr/share/dict/words (Debian package wamerican).
//   quantized:  on the second half of heldout.txt, `bamba quantize` copies keep the
//               perplexity within 1% (int8) and 5% (q4) of the float model's, and q4 with GPTQ
//               calibrated on the first half raises it less than q4 rounded to nearest.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [mode, bamba, model] = process.argv.slice(2);
const run = (args) => execFileSync(bamba, args, { encoding: "utf8", maxBuffer: 1 << 26 });
const lastJsonLine = (out) => JSON.parse(out.trim().split("\n").pop());

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

if (mode === "perplexity") {
  const expected = JSON.parse(readFileSync(join(model, "heldout_eval.json"), "utf8"));
  const got = lastJsonLine(run(["perplexity", "-m", model, "-f", join(model, "heldout.txt"),
                                "--ctx", String(expected.ctx), "--json"]));
  const rel = Math.abs(got.ppl - expected.ppl) / expected.ppl;
  console.log(`engine ppl ${got.ppl} over ${got.tokens} tokens; training script ${expected.ppl} over ${expected.tokens}; relative difference ${rel}`);
  if (got.tokens !== expected.tokens) fail("scored token counts differ");
  if (!(rel <= 0.005)) fail("perplexity differs by more than 0.5%");
} else if (mode === "english") {
  const dictionary = new Set(readFileSync("/usr/share/dict/words", "utf8").split("\n").map((w) => w.toLowerCase()));
  const prompts = ["It is a truth universally acknowledged, that", "Mr. Darcy", "The weather", "She said"];
  let total = 0, known = 0;
  prompts.forEach((prompt, i) => {
    const result = lastJsonLine(run(["generate", "-m", model, "-p", prompt, "--seed", String(i + 1), "--json"]));
    const words = result.text.split(/[^A-Za-z]+/).filter((w) => w.length > 0);
    total += words.length;
    known += words.filter((w) => dictionary.has(w.toLowerCase())).length;
    console.log(`${JSON.stringify(prompt)} -> ${JSON.stringify(result.text)}`);
  });
  const fraction = known / Math.max(total, 1);
  console.log(`${known} of ${total} words are dictionary words (${(100 * fraction).toFixed(1)}%)`);
  if (total < 50) fail("too few words generated to judge");
  if (!(fraction >= 0.8)) fail("fewer than 80% dictionary words");
} else if (mode === "quantized") {
  const scratch = mkdtempSync(join(tmpdir(), "bamba-demo-quant-"));
  try {
    const text = readFileSync(join(model, "heldout.txt"), "utf8");
    const split = text.indexOf("\n\n", text.length >> 1);
    writeFileSync(join(scratch, "first.txt"), text.slice(0, split));
    writeFileSync(join(scratch, "second.txt"), text.slice(split + 2));
    const ppl = (dir, file) => lastJsonLine(run(["perplexity", "-m", dir, "-f", file, "--ctx", "256", "--json"])).ppl;
    const quantize = (name, args) => {
      const out = join(scratch, name);
      run(["quantize", "-m", model, "--out", out, ...args]);
      return out;
    };
    const second = join(scratch, "second.txt");
    const float = ppl(model, second);
    const rise = {};
    for (const [name, args, limit] of [["int8", ["--type", "int8"], 0.01], ["q4", ["--type", "q4"], 0.05],
                                       ["q4-gptq", ["--type", "q4", "--calibration", join(scratch, "first.txt")], 0.05]]) {
      rise[name] = ppl(quantize(name, args), second) / float - 1;
      console.log(`${name}: perplexity ${(100 * rise[name]).toFixed(3)}% above the float model's ${float}`);
      if (!(rise[name] <= limit)) fail(`${name} raises perplexity by more than ${100 * limit}%`);
    }
    if (!(rise["q4-gptq"] < rise["q4"])) fail("GPTQ calibration does not improve on rounding to nearest");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  fail(`unknown mode ${mode}`);
}
