// Continuous batching seen from outside: 32 concurrent streaming clients with mixed prompt
// lengths all finish, each with exactly the tokens its prompt gets when run alone; a client
// that leaves mid-request, streaming or not, leaves no state slot or KV block in use; SIGTERM
// drains and exits 0, and what outlives the grace period ends as an error (HTTP 503 / an
// error event), never as a finished answer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, metric, post, startServer } from './harness.mjs';

// Deterministic prompts of token ids, lengths 1..~300.
function prompts(n) {
  let x = 12345;
  const next = () => { x = (x * 1103515245 + 12345) % 2147483648; return x; };
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + ((i * 97) % 300);
    return Array.from({ length: len }, () => 6 + (next() % 276));
  });
}

async function streamCompletion(client, prompt) {
  const stream = await client.completions.create({
    model: 'tiny', prompt, max_tokens: 16, temperature: 0, logprobs: 0, stream: true,
    stream_options: { include_usage: true } });
  let text = '';
  const tokens = [];
  let finish = null, usage = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.text;
      if (c.logprobs) tokens.push(...c.logprobs.tokens);
      if (c.finish_reason) finish = c.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, tokens, finish, completion_tokens: usage.completion_tokens };
}

describe('continuous batching', () => {
  let server, client;
  before(async () => {
    server = await startServer(['--max-seqs', '32', '--max-batch-tokens', '192', '--prefill-chunk', '64',
                                '--memory', '256M']);
    client = server.client();
  });
  after(async () => {
    const status = await server.stop();
    assert.deepEqual(status, { code: 0, signal: null }, server.stderr());
  });

  test('32 concurrent streams equal their solo runs', async () => {
    const ps = prompts(32);
    const solo = [];
    for (const p of ps) solo.push(await streamCompletion(client, p));
    const together = await Promise.all(ps.map((p) => streamCompletion(client, p)));
    for (let i = 0; i < ps.length; ++i) {
      assert.deepEqual(together[i], solo[i], `prompt ${i} (${ps[i].length} tokens)`);
      assert.ok(['stop', 'length'].includes(solo[i].finish));
    }
  });

  test('a client killed mid-stream frees its slot and blocks', async () => {
    const controller = new AbortController();
    const stream = await client.completions.create(
      { model: 'tiny', prompt: 'the long one', max_tokens: 400, temperature: 0, stream: true, ignore_eos: true },
      { signal: controller.signal });
    let seen = 0;
    let finished = false;
    try {
      for await (const chunk of stream) {
        if (chunk.choices.some((c) => c.finish_reason)) finished = true;
        if (++seen === 3) controller.abort();
      }
    } catch { /* the aborted request rejects; some versions just end the iteration */ }
    assert.ok(seen >= 3 && !finished, `the stream ended before the client left (${seen} chunks)`);
    const freed = await eventually(async () => {
      const t = await (await fetch(`${server.url}/metrics`)).text();
      return metric(t, 'bamba_running_sequences') === 0 && metric(t, 'bamba_state_slots_in_use') === 0 &&
             metric(t, 'bamba_kv_blocks_in_use') === 0 && metric(t, 'bamba_kv_blocks_reserved') === 0;
    }, 15000);
    assert.ok(freed, 'slots or blocks still in use after the client left');
  });
});

// Long generations for the tiny model: each of these takes seconds, not milliseconds.
const longArgs = ['--ctx-size', '16384', '--memory', '256M'];
const longBody = { model: 'tiny', prompt: 'the long one', max_tokens: 16000, temperature: 0, ignore_eos: true };

async function engineMetrics(server) {
  return (await fetch(`${server.url}/metrics`)).text();
}

describe('non-streaming clients that leave', () => {
  let server;
  before(async () => { server = await startServer(longArgs); });
  after(async () => { assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.stderr()); });

  test('a non-streaming client that hangs up frees its slot and blocks', async () => {
    const controller = new AbortController();
    const pending = server.client().completions.create(longBody, { signal: controller.signal }).then(
      () => 'finished', () => 'aborted');
    assert.ok(await eventually(async () => metric(await engineMetrics(server), 'bamba_running_sequences') === 1),
              'the request never started');
    controller.abort();
    assert.equal(await pending, 'aborted');
    const freed = await eventually(async () => {
      const t = await engineMetrics(server);
      return metric(t, 'bamba_running_sequences') === 0 && metric(t, 'bamba_state_slots_in_use') === 0 &&
             metric(t, 'bamba_kv_blocks_in_use') === 0 && metric(t, 'bamba_kv_blocks_reserved') === 0;
    }, 5000);
    assert.ok(freed, 'the request kept running after its client left');
    const t = await engineMetrics(server);
    assert.ok(metric(t, 'bamba_generation_tokens_total') < longBody.max_tokens, 'it ran to max_tokens');
    assert.match(t, /bamba_requests_total\{endpoint="\/v1\/completions",status="499"\} 1/);
  });
});

describe('shutdown', () => {
  test('what outlives the grace period ends with 503 / an error event, never a finish reason', async () => {
    const server = await startServer([...longArgs, '--grace-seconds', '0']);
    try {
      const whole = post(`${server.url}/v1/completions`, JSON.stringify(longBody));
      const stream = await server.client().completions.create({ ...longBody, stream: true });
      const streamed = (async () => {
        const finishes = [];
        try {
          for await (const chunk of stream) for (const c of chunk.choices) if (c.finish_reason) finishes.push(c.finish_reason);
        } catch (e) {
          return { error: e, finishes };
        }
        return { error: null, finishes };
      })();
      assert.ok(await eventually(async () => metric(await engineMetrics(server), 'bamba_running_sequences') === 2),
                'the requests never started');
      server.proc.kill('SIGTERM');
      const r = await whole;
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.error.code, 'server_shutdown');
      const s = await streamed;
      assert.deepEqual(s.finishes, []);
      assert.ok(s.error, 'the stream ended as if complete');
      assert.equal(s.error.code, 'server_shutdown', String(s.error));
      const status = await Promise.race([server.exited, new Promise((res) => setTimeout(() => res('timeout'), 15000))]);
      assert.deepEqual(status, { code: 0, signal: null });
    } finally {
      await server.stop();
    }
  });


  test('SIGTERM finishes in-flight streams and exits 0', async () => {
    const server = await startServer(['--grace-seconds', '5']);
    try {
      const stream = await server.client().completions.create(
        { model: 'tiny', prompt: 'x', max_tokens: 100, temperature: 0, stream: true });
      let finish = null;
      let signalled = false;
      for await (const chunk of stream) {
        if (!signalled) { server.proc.kill('SIGTERM'); signalled = true; }
        for (const c of chunk.choices) if (c.finish_reason) finish = c.finish_reason;
      }
      assert.ok(['stop', 'length'].includes(finish), String(finish));
      const status = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
      assert.deepEqual(status, { code: 0, signal: null });
    } finally {
      await server.stop();
    }
  });
});
