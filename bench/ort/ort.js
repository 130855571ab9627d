#!/usr/bin/env node
// ort.js — onnxruntime-node (CPU) reference runner for veil benchmarks.
//
// Reads JSON requests, one per line, from stdin and writes one JSON answer
// per line to stdout, so a single process can serve many alternating runs.
//
// Timing request:
//   {"model": path, "shape": [..], "input": name, "threads": n, "iters": k,
//    "warm_ms": w, "mean": [..], "std": [..], "nhwc": bool}
//   -> {"ms": [per-run milliseconds]}
// (untimed runs for w milliseconds, at least one, before the k timed ones)
// The session is created once per (model, threads) with intraOpNumThreads=n,
// interOpNumThreads=1, sequential execution, graphOptimizationLevel 'all';
// two warm-up runs are done when it is first created.
//
// Golden request:
//   {"golden": path, "shape": [..], "input": name, "mean": [..], "std": [..], "nhwc": bool}
//   -> {"input": .., "input_shape": .., "mean": .., "std": .., "outputs": {name: {shape, sum, mean_abs, min, max, first8}}}
// (the per-model layout of /work/shared/models/GOLDEN_synthetic_outputs.json,
// run with default session options).
//
// Golden request with the input from a file:
//   {"golden": path, "shape": [..], "input": name, "data": "/tmp/x.f32"}
//   -> {"input": .., "input_shape": .., "data": .., "outputs": {..}} (outputs as above).
// The file holds the input tensor as raw little-endian float32 in tensor
// order (its length must be 4 x the shape's element count); mean, std and
// nhwc are not used to build it (bench/cmd/goldenimg writes such files).
//
// Input rule (timing and synthetic golden requests): raw[c][y][x] = (x*7 + y*13 + c*29) % 256,
// value = (raw - mean[c]) / std[c]. The channel axis is axis 1 (NCHW) unless
// "nhwc" is true or can be inferred (last axis of a rank-4 shape is 3 and
// axis 1 is not), in which case it is the last axis.
// Errors are answered as {"error": message}.
'use strict';

const readline = require('readline');
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  process.stderr.write('ort.js: onnxruntime-node is not installed; run: cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install\n');
  process.exit(2);
}

function isNHWC(req) {
  if (typeof req.nhwc === 'boolean') return req.nhwc;
  const s = req.shape;
  return s.length === 4 && s[3] === 3 && s[1] !== 3;
}

// makeInput builds the float32 input tensor by the synthetic input rule.
function makeInput(req) {
  const shape = req.shape;
  if (!Array.isArray(shape) || shape.length !== 4) throw new Error('shape must be [N,C,H,W] or [N,H,W,C]');
  const mean = req.mean || [0, 0, 0];
  const std = req.std || [1, 1, 1];
  const nhwc = isNHWC(req);
  const [n, d1, d2, d3] = shape;
  const C = nhwc ? d3 : d1, H = nhwc ? d1 : d2, W = nhwc ? d2 : d3;
  const data = new Float32Array(n * C * H * W);
  let i = 0;
  for (let b = 0; b < n; b++) {
    if (nhwc) {
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++)
            data[i++] = (((x * 7 + y * 13 + c * 29) % 256) - mean[c % mean.length]) / std[c % std.length];
    } else {
      for (let c = 0; c < C; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++)
            data[i++] = (((x * 7 + y * 13 + c * 29) % 256) - mean[c % mean.length]) / std[c % std.length];
    }
  }
  return new ort.Tensor('float32', data, shape);
}

// readInput loads the float32 input tensor from req.data (raw little-endian
// float32 in tensor order).
function readInput(req) {
  const shape = req.shape;
  if (!Array.isArray(shape) || shape.length === 0) throw new Error('shape must be a non-empty array');
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = require('fs').readFileSync(req.data);
  if (buf.length !== 4 * n) throw new Error(`${req.data}: ${buf.length} bytes, want ${4 * n} (float32 x ${JSON.stringify(shape)})`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(4 * i);
  return new ort.Tensor('float32', data, shape);
}

const sessions = new Map(); // key model|threads -> {session, feeds}

async function timing(req) {
  const key = req.model + '|' + req.threads + '|' + JSON.stringify(req.shape);
  let ent = sessions.get(key);
  if (!ent) {
    const session = await ort.InferenceSession.create(req.model, {
      intraOpNumThreads: req.threads || 0,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3, // errors only (the Ultra-Light models warn about initializers in graph inputs)
    });
    const name = req.input || session.inputNames[0];
    ent = { session, feeds: { [name]: makeInput(req) } };
    for (let w = 0; w < 2; w++) await session.run(ent.feeds);
    sessions.set(key, ent);
  }
  // Untimed runs for warm_ms first: a core that sat idle runs slowly for
  // a while (the shared machine's hypervisor), whichever runtime is on it.
  const warmEnd = process.hrtime.bigint() + BigInt(Math.round((req.warm_ms || 0) * 1e6));
  do {
    await ent.session.run(ent.feeds);
  } while (process.hrtime.bigint() < warmEnd);
  const iters = req.iters || 10;
  const ms = [];
  for (let k = 0; k < iters; k++) {
    const t0 = process.hrtime.bigint();
    await ent.session.run(ent.feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms };
}

const p8 = (v) => Number(v.toPrecision(8));
const p7 = (v) => Number(v.toPrecision(7));

async function golden(req) {
  const session = await ort.InferenceSession.create(req.golden, { logSeverityLevel: 3 });
  const name = req.input || session.inputNames[0];
  const out = await session.run({ [name]: req.data ? readInput(req) : makeInput(req) });
  const outputs = {};
  for (const oname of session.outputNames) {
    const t = out[oname];
    const d = t.data;
    let sum = 0, sumAbs = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      sum += v; sumAbs += Math.abs(v);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    outputs[oname] = {
      shape: t.dims.map(Number),
      sum: p8(sum),
      mean_abs: p8(sumAbs / d.length),
      min: p8(min),
      max: p8(max),
      first8: Array.from(d.subarray(0, 8), p7),
    };
  }
  const res = { input: name, input_shape: req.shape };
  if (req.data) {
    res.data = req.data;
  } else {
    res.mean = req.mean || [0, 0, 0];
    res.std = req.std || [1, 1, 1];
    if (isNHWC(req)) res.layout = 'NHWC (c = last axis in the input rule)';
  }
  res.outputs = outputs;
  return res;
}

// Requests are handled strictly one after another, in order.
const rl = readline.createInterface({ input: process.stdin, terminal: false });
let chain = Promise.resolve();
rl.on('line', (line) => {
  if (!line.trim()) return;
  chain = chain.then(async () => {
    let ans;
    try {
      const req = JSON.parse(line);
      ans = req.golden ? await golden(req) : await timing(req);
    } catch (e) {
      ans = { error: String(e && e.message || e) };
    }
    process.stdout.write(JSON.stringify(ans) + '\n');
  });
});
rl.on('close', () => { chain.then(() => process.exit(0)); });
