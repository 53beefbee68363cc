// Starts `bamba serve` on a free loopback port for a test, with a servable copy of the tiny
// test model (tiny-a's config and weights + the small test tokenizer), and always stops it;
// runs other `bamba` commands and reads the safetensors files they write.
// Environment (set by ctest): BAMBA_BIN, the bamba binary; BAMBA_TEST_DATA_DIR, tests/data.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';

const bin = process.env.BAMBA_BIN;
const dataDir = process.env.BAMBA_TEST_DATA_DIR;
if (!bin || !dataDir) throw new Error('BAMBA_BIN and BAMBA_TEST_DATA_DIR must be set');

// A model folder in a fresh temporary directory; `chatTemplate: false` leaves it without one.
export function makeModelDir({ chatTemplate = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bamba-serve-test-'));
  for (const f of ['config.json', 'generation_config.json', 'model.safetensors'])
    fs.copyFileSync(path.join(dataDir, 'bamba', 'tiny-a', f), path.join(dir, f));
  fs.copyFileSync(path.join(dataDir, 'server', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const config = JSON.parse(fs.readFileSync(path.join(dataDir, 'server', 'tokenizer_config.json'), 'utf8'));
  if (!chatTemplate) delete config.chat_template;
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

// Starts the server and resolves once it prints its address. `modelArgs` replaces
// `-m <the tiny model folder>` (e.g. --synthetic); the folder is made either way.
export async function startServer(args = [], { chatTemplate = true, startTimeoutMs = 60000, modelArgs = null } = {}) {
  const modelDir = makeModelDir({ chatTemplate });
  const defaults = { '--memory': '64M', '--ctx-size': '512', '--threads': '1' };
  for (const flag of Object.keys(defaults)) if (args.includes(flag)) delete defaults[flag];
  const proc = spawn(bin, ['serve', ...(modelArgs ?? ['-m', modelDir]), '--port', '0', '--served-model-name', 'tiny',
                           ...Object.entries(defaults).flat(), ...args],
                     { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const fail = (error) => { fs.rmSync(modelDir, { recursive: true, force: true }); reject(error); };
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); fail(new Error(`server did not start:\n${stderr}`)); },
                             startTimeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    exited.then(({ code }) => { clearTimeout(timer); fail(new Error(`server exited (${code}):\n${stderr}`)); });
  });
  const server = {
    url,
    modelDir,
    proc,
    exited,
    stderr: () => stderr,
    client: (options = {}) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0,
                                           timeout: 60000, ...options }),
    // SIGTERM, then SIGKILL if it has not exited in time; resolves to the exit status.
    async stop(timeoutMs = 20000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const status = await exited;
      clearTimeout(timer);
      fs.rmSync(modelDir, { recursive: true, force: true });
      return status;
    },
  };
  return server;
}

// Runs `bamba` with `args` to completion; resolves to { code, stdout, stderr }.
export function runBamba(args) {
  return new Promise((resolve) => {
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// The F32 tensors of a safetensors file, by name: { shape, data: Float32Array }.
export function readSafetensors(file) {
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${name}: expected F32, found ${info.dtype}`);
    const [begin, end] = info.data_offsets;
    const data = bytes.subarray(8 + headerLength + begin, 8 + headerLength + end);
    tensors[name] = { shape: info.shape, data: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) };
  }
  return tensors;
}

// Raw HTTP for what the openai client cannot send (broken JSON, huge bodies).
export async function post(url, body, headers = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

// The value of a metric line without labels, e.g. metric(text, 'bamba_running_sequences').
export function metric(text, name) {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}

// Polls `check` until it returns true or the deadline passes.
export async function eventually(check, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
