// End-to-end tests of the OpenAI API of `bamba serve` with the official openai client:
// completions and chat, streaming and not, n, stop strings, logprobs, seeds, echo (with the
// prompt's logprobs checked against `bamba logits`), usage, every error class (400, 401,
// 404, 413, 429, and the chat-template 400), and `serve --synthetic`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually, metric, post, readSafetensors, runBamba, startServer } from './harness.mjs';

const greedy = { model: 'tiny', temperature: 0 };

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('bamba serve API', () => {
  let server, client;
  before(async () => {
    server = await startServer(['--max-seqs', '4', '--max-body-kib', '64']);
    client = server.client();
  });
  after(async () => {
    const status = await server.stop();
    assert.deepEqual(status, { code: 0, signal: null }, server.stderr());
  });

  test('lists the model and reports health', async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['tiny']);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
  });

  test('completion: text, usage and finish reason', async () => {
    const r = await client.completions.create({ ...greedy, prompt: 'the cat sat on', max_tokens: 8 });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.choices.length, 1);
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage.prompt_tokens >= 5);  // BOS + the text's tokens
    assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 8);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    if (r.choices[0].finish_reason === 'length') assert.equal(r.usage.completion_tokens, 8);
  });

  test('completion: streaming equals non-streaming, with usage last', async () => {
    const body = { ...greedy, prompt: 'once upon a time', max_tokens: 12 };
    const whole = await client.completions.create(body);
    const chunks = await collect(await client.completions.create({ ...body, stream: true,
                                                                   stream_options: { include_usage: true } }));
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.text)).join('');
    assert.equal(text, whole.choices[0].text);
    const finish = chunks.flatMap((c) => c.choices).find((ch) => ch.finish_reason);
    assert.equal(finish.finish_reason, whole.choices[0].finish_reason);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, whole.usage);
  });

  test('completion: token-id prompts and several prompts', async () => {
    const r = await client.completions.create({ ...greedy, prompt: [[1, 10, 20, 30], [1, 40]], max_tokens: 4 });
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
    assert.equal(r.usage.prompt_tokens, 6);
  });

  test('completion: echo puts the prompt first', async () => {
    const r = await client.completions.create({ ...greedy, prompt: 'echo me', max_tokens: 3, echo: true });
    assert.ok(r.choices[0].text.startsWith('echo me'));
  });

  test('completion: echo with logprobs scores the prompt as `bamba logits` does', async () => {
    const ids = [1, 17, 42, 99, 7, 250, 31, 64, 5, 120, 77, 13, 200, 9, 150, 33, 88, 21, 3, 111];
    const body = { ...greedy, prompt: ids, max_tokens: 4, echo: true, logprobs: 2, ignore_eos: true };
    const r = await client.completions.create(body);
    const lp = r.choices[0].logprobs;
    assert.equal(lp.tokens.length, ids.length + r.usage.completion_tokens);
    assert.equal(lp.token_logprobs[0], null);
    assert.equal(lp.top_logprobs[0], null);
    assert.equal(lp.text_offset[0], 0);
    for (let i = 1; i < lp.text_offset.length; ++i) assert.ok(lp.text_offset[i] >= lp.text_offset[i - 1]);

    // Reference: every position's logits of the same ids, from one prefill.
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bamba-logits-')), 'logits.safetensors');
    const run = await runBamba(['logits', '-m', server.modelDir, '--ids', ids.join(','), '--out', out,
                                '--threads', '1']);
    assert.equal(run.code, 0, run.stderr);
    const { shape, data } = readSafetensors(out).logits_0;
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
    const vocab = shape[1];
    const logSoftmax = (row) => {
      const x = data.subarray(row * vocab, (row + 1) * vocab);
      const max = x.reduce((a, b) => Math.max(a, b), -Infinity);
      const lse = max + Math.log(x.reduce((a, b) => a + Math.exp(b - max), 0));
      return Array.from(x, (v) => v - lse);
    };
    const tolerance = 2e-2;  // bf16 arithmetic, possibly another kernel path
    for (let i = 1; i <= ids.length; ++i) {
      const ref = logSoftmax(i - 1);  // position i-1 predicts token i
      const best = Math.max(...ref);
      // The prompt token's own logprob; past the prompt, greedy took the most likely token.
      const expected = i < ids.length ? ref[ids[i]] : best;
      assert.ok(Math.abs(lp.token_logprobs[i] - expected) < tolerance,
                `token ${i}: ${lp.token_logprobs[i]} vs ${expected}`);
      assert.ok(Math.abs(Math.max(...Object.values(lp.top_logprobs[i])) - best) < tolerance, `top of token ${i}`);
    }

    // Streaming brings the same text and tokens, the echo first.
    const chunks = await collect(await client.completions.create({ ...body, stream: true }));
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.text)).join('');
    assert.equal(text, r.choices[0].text);
    assert.deepEqual(chunks.flatMap((c) => c.choices.flatMap((ch) => ch.logprobs?.tokens ?? [])), lp.tokens);
  });

  test('chat: streaming equals non-streaming', async () => {
    const body = { ...greedy, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 10 };
    const whole = await client.chat.completions.create(body);
    assert.equal(whole.object, 'chat.completion');
    assert.equal(whole.choices[0].message.role, 'assistant');
    const chunks = await collect(await client.chat.completions.create({ ...body, stream: true }));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(chunks.at(-1).choices[0].finish_reason, whole.choices[0].finish_reason);
  });

  test('n=2 with a seed: two choices, reproducible', async () => {
    const body = { model: 'tiny', prompt: 'abc', max_tokens: 8, n: 2, seed: 1234, temperature: 1 };
    const a = await client.completions.create(body);
    const b = await client.completions.create(body);
    assert.deepEqual(a.choices.map((c) => c.index), [0, 1]);
    assert.deepEqual(a.choices.map((c) => c.text), b.choices.map((c) => c.text));
    const c = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }],
                                                     max_tokens: 6, n: 2, seed: 7 });
    assert.equal(c.choices.length, 2);
  });

  test('stop strings cut the text and finish with stop', async () => {
    const body = { ...greedy, prompt: 'the', max_tokens: 40 };
    const full = (await client.completions.create(body)).choices[0].text;
    if (full.length < 6) return;  // the random model said too little to cut
    const stop = full.slice(3, 5);
    const r = await client.completions.create({ ...body, stop: [stop, 'never appears \u2603'] });
    assert.equal(r.choices[0].text, full.slice(0, full.indexOf(stop)));
    assert.equal(r.choices[0].finish_reason, 'stop');
    const s = await collect(await client.completions.create({ ...body, stop, stream: true }));
    assert.equal(s.flatMap((c) => c.choices.map((ch) => ch.text)).join(''), full.slice(0, full.indexOf(stop)));
  });

  test('logprobs: completions and chat', async () => {
    const r = await client.completions.create({ ...greedy, prompt: 'the', max_tokens: 5, logprobs: 2 });
    const lp = r.choices[0].logprobs;
    assert.equal(lp.tokens.length, r.usage.completion_tokens);
    assert.equal(lp.token_logprobs.length, r.usage.completion_tokens);
    for (const x of lp.token_logprobs) assert.ok(x <= 0);
    for (const top of lp.top_logprobs) assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 2);
    const c = await client.chat.completions.create({ ...greedy, messages: [{ role: 'user', content: 'hi' }],
                                                     max_tokens: 5, logprobs: true, top_logprobs: 3 });
    const content = c.choices[0].logprobs.content;
    assert.equal(content.length, c.usage.completion_tokens);
    for (const e of content) {
      assert.equal(e.top_logprobs.length, 3);
      assert.equal(e.top_logprobs[0].logprob, e.logprob);  // greedy takes the most likely
    }
  });

  test('max_completion_tokens is honoured', async () => {
    const r = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }],
                                                     max_completion_tokens: 3, temperature: 0, seed: 1 });
    assert.ok(r.usage.completion_tokens <= 3);
  });

  test('400: malformed JSON, wrong types, out-of-range values, unsupported fields', async () => {
    const url = `${server.url}/v1/completions`;
    const cases = [
      ['{"model": "tiny", "prompt": ', null],
      [JSON.stringify({ model: 'tiny', prompt: 'x', temperature: 'hot' }), 'temperature'],
      [JSON.stringify({ model: 'tiny', prompt: 'x', top_p: 5 }), 'top_p'],
      [JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 0 }), 'max_tokens'],
      [JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 1.5 }), 'max_tokens'],
      [JSON.stringify({ model: 'tiny', prompt: 'x', n: 100 }), 'n'],
      [JSON.stringify({ model: 'tiny', prompt: 'x', stop: [1, 2] }), 'stop'],
      [JSON.stringify({ model: 'tiny', prompt: 'x', logprobs: 9 }), 'logprobs'],
      [JSON.stringify({ model: 'tiny', prompt: 'x', suffix: 'y' }), 'suffix'],
      [JSON.stringify({ model: 'tiny', prompt: [] }), 'prompt'],
      [JSON.stringify({ model: 'tiny', prompt: [[1, -5]] }), 'prompt'],
      [JSON.stringify({ model: 'tiny', prompt: [1, 99999] }), null],       // outside the vocabulary
      [JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 600 }), 'max_tokens'],  // context 512
      [JSON.stringify({ model: 'tiny', prompt: 'word '.repeat(600) }), 'prompt'],         // too long
      [JSON.stringify({ prompt: 'x' }), 'model'],
      ['[1, 2, 3]', null],
    ];
    for (const [body, param] of cases) {
      const r = await post(url, body);
      assert.equal(r.status, 400, body.slice(0, 80));
      assert.equal(typeof r.json.error.message, 'string');
      assert.equal(r.json.error.type, 'invalid_request_error');
      if (param) assert.equal(r.json.error.param, param, body.slice(0, 80));
    }
    const chat = await post(`${server.url}/v1/chat/completions`,
                            JSON.stringify({ model: 'tiny', messages: [{ role: 'robot', content: 'x' }] }));
    assert.equal(chat.status, 400);
    const noMessages = await post(`${server.url}/v1/chat/completions`, JSON.stringify({ model: 'tiny' }));
    assert.equal(noMessages.status, 400);
    assert.equal(noMessages.json.error.param, 'messages');
  });

  test('the openai client sees these as BadRequestError', async () => {
    await assert.rejects(client.completions.create({ model: 'tiny', prompt: 'x', temperature: 9 }),
                         (e) => e.status === 400 && e.error?.param === 'temperature');
  });

  test('404 for an unknown model or route', async () => {
    await assert.rejects(client.completions.create({ model: 'gpt-9', prompt: 'x' }), (e) => e.status === 404);
    const r = await fetch(`${server.url}/v2/nothing`);
    assert.equal(r.status, 404);
    assert.equal(typeof (await r.json()).error.message, 'string');
  });

  test('413 for a body over the limit', async () => {
    const r = await post(`${server.url}/v1/completions`, JSON.stringify({ model: 'tiny', prompt: 'x'.repeat(100000) }));
    assert.equal(r.status, 413);
  });

  test('metrics count requests and tokens', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /bamba_requests_total\{endpoint="\/v1\/completions",status="200"\} \d+/);
    assert.match(text, /bamba_requests_total\{endpoint="\/v1\/completions",status="400"\} \d+/);
    assert.ok(metric(text, 'bamba_generation_tokens_total') > 0);
    assert.ok(metric(text, 'bamba_prompt_tokens_total') > 0);
    assert.match(text, /bamba_time_to_first_token_seconds_count \d+/);
    assert.match(text, /bamba_inter_token_latency_seconds_bucket\{le="\+Inf"\} \d+/);
    assert.equal(metric(text, 'bamba_state_slots_total'), 4);
    assert.ok(await eventually(async () => {
      const t = await (await fetch(`${server.url}/metrics`)).text();
      return metric(t, 'bamba_running_sequences') === 0 && metric(t, 'bamba_kv_blocks_in_use') === 0;
    }));
  });
});

describe('bamba serve with --api-key', () => {
  let server;
  before(async () => { server = await startServer(['--api-key', 'sesame']); });
  after(async () => { assert.equal((await server.stop()).code, 0); });

  test('401 without or with a wrong key; 200 with the right one', async () => {
    await assert.rejects(server.client({ apiKey: 'wrong' }).models.list(), (e) => e.status === 401);
    const none = await fetch(`${server.url}/v1/models`);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.type, 'authentication_error');
    const ok = await server.client({ apiKey: 'sesame' }).completions.create({ model: 'tiny', prompt: 'x', max_tokens: 2 });
    assert.equal(ok.choices.length, 1);
  });
});

describe('bamba serve of a base model without a chat template', () => {
  let server;
  before(async () => { server = await startServer([], { chatTemplate: false }); });
  after(async () => { assert.equal((await server.stop()).code, 0); });

  test('chat answers 400 naming the missing template; completions work', async () => {
    await assert.rejects(
      server.client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e.status === 400 && /chat template/.test(e.message));
    const r = await server.client().completions.create({ model: 'tiny', prompt: 'hi', max_tokens: 2 });
    assert.equal(r.choices.length, 1);
  });
});

describe('bamba serve with a full queue', () => {
  let server;
  before(async () => { server = await startServer(['--max-seqs', '1', '--max-queue', '1']); });
  after(async () => { assert.equal((await server.stop()).code, 0); });

  test('429 when the queue is full, and the server keeps serving', async () => {
    const body = JSON.stringify({ model: 'tiny', prompt: 'x', max_tokens: 300, temperature: 0 });
    const results = await Promise.all([1, 2, 3, 4].map(() => post(`${server.url}/v1/completions`, body)));
    const statuses = results.map((r) => r.status);
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.ok(statuses.includes(200), statuses.join(','));
    for (const r of results.filter((x) => x.status === 429)) assert.equal(r.json.error.type, 'rate_limit_error');
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
  });
});

describe('bamba serve --synthetic', () => {
  let dir;
  before(() => {
    // Random weights with the tiny model's shape (its vocabulary fits the test tokenizer).
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bamba-synthetic-'));
    fs.copyFileSync(path.join(process.env.BAMBA_TEST_DATA_DIR, 'bamba', 'tiny-a', 'config.json'),
                    path.join(dir, 'config.json'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tokenizer = (name) => path.join(process.env.BAMBA_TEST_DATA_DIR, ...name);

  test('serves completions of random weights; chat has no template', async () => {
    const server = await startServer([], { modelArgs: ['--synthetic', path.join(dir, 'config.json'), '--tokenizer',
                                                       tokenizer(['server', 'tokenizer.json'])] });
    try {
      const r = await server.client().completions.create({ model: 'tiny', prompt: 'the cat', max_tokens: 5,
                                                           temperature: 0, ignore_eos: true });
      assert.equal(r.usage.completion_tokens, 5);
      assert.equal(r.choices[0].finish_reason, 'length');
      await assert.rejects(
        server.client().chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }] }),
        (e) => e.status === 400 && /chat template/.test(e.message));
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });

  test('refuses a tokenizer larger than the model vocabulary', async () => {
    const run = await runBamba(['serve', '--synthetic', path.join(dir, 'config.json'), '--port', '0', '--tokenizer',
                                tokenizer(['tokenizers', 'llama3', 'tokenizer.json'])]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /vocabulary has 128256 ids, more than the \d+ of the model shape/);
  });
});
