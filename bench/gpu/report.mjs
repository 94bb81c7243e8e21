// Joins gpu_bench's and torch_adamw.py's JSON into bench/results/gpu-<stamp>.{json,md} and
// judges the targets: the coupled step moves its 24 bytes per element at >= 85% of
// the copy bandwidth (same run), and takes <= 0.9 of torch's fused AdamW time (same shape).
// Usage: node bench/gpu/report.mjs ours.json torch.json gpu-info.txt stamp [js-tests.txt]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [oursPath, torchPath, infoPath, stamp, jsTestsPath] = process.argv.slice(2);
if (!oursPath || !torchPath || !infoPath || !stamp) {
  console.error('usage: node report.mjs ours.json torch.json gpu-info.txt stamp');
  process.exit(2);
}
const ours = JSON.parse(readFileSync(oursPath, 'utf8'));
const torch = JSON.parse(readFileSync(torchPath, 'utf8'));
const gpuInfo = readFileSync(infoPath, 'utf8').trim();
const jsTests = jsTestsPath ? readFileSync(jsTestsPath, 'utf8').trim() : 'not recorded';

const BANDWIDTH_TARGET = 0.85;
const TORCH_TARGET = 0.9;
const fmt = (x, digits = 3) => (typeof x === 'number' ? x.toFixed(digits) : 'n/a');

const rows = ours.shapes.map((s) => {
  const t = torch.shapes?.find((x) => x.rows === s.rows && x.cols === s.cols);
  const vsTorch = t ? s.coupled_ms / t.adamw_fused_ms : undefined;
  return {
    ...s,
    torch_adamw_fused_ms: t?.adamw_fused_ms,
    torch_copy_ms: t?.copy_ms,
    coupled_over_torch_adamw: vsTorch,
    bandwidth_target_met: s.coupled_over_copy_bandwidth >= BANDWIDTH_TARGET,
    torch_target_met: vsTorch === undefined ? null : vsTorch <= TORCH_TARGET,
  };
});

const result = {
  stamp, gpu: gpuInfo, jsTests, device: ours.device, computeCapability: ours.compute_capability,
  warmup: ours.warmup, iters: ours.iters, statistic: ours.statistic,
  torch: torch.skipped ? { skipped: torch.skipped } : { version: torch.torch, cuda: torch.cuda },
  targets: { coupledOverCopyBandwidth: BANDWIDTH_TARGET, coupledOverTorchAdamw: TORCH_TARGET },
  vsCpu: ours.vs_cpu, shapes: rows, indexPast2to31: ours.index_past_2_31,
};

const lines = [
  `# GPU benchmark, ${stamp}`,
  '',
  `GPU: ${gpuInfo}. Median of ${ours.iters} runs after ${ours.warmup} warm-up runs, timed with ` +
    'CUDA events. Bytes per element: coupled step 24, AdamW 28, copy 8 (read + write).',
  torch.skipped ? `PyTorch: not measured (${torch.skipped}).`
    : `PyTorch ${torch.torch} (CUDA ${torch.cuda}), torch.optim.AdamW(fused=True).`,
  `JS tests on 'cuda' (test/cuda.test.ts, test/backends.test.ts): ${jsTests}.`,
  '',
  `CUDA kernels against the CPU kernels (relative error, bound ${ours.vs_cpu?.tolerance}): ` +
    `coupled ${ours.vs_cpu?.coupled_worst} (worst of 8 shapes x 2 layouts, 3 steps), ` +
    `bf16 grads ${ours.vs_cpu?.coupled_bf16}, AdamW single and multi-tensor ` +
    `${ours.vs_cpu?.adamw_single_and_multi}, NaN skip changes nothing: ` +
    `${ours.vs_cpu?.skip_changes_nothing}: ${ours.vs_cpu?.passed ? 'passed' : 'FAILED'}.`,
  '',
  '| shape | coupled ms | our AdamW ms | torch fused AdamW ms | copy ms | coupled GB/s | ' +
    'copy GB/s | coupled / copy bandwidth | coupled / torch AdamW | deterministic |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    `| ${r.rows}x${r.cols} | ${fmt(r.coupled_ms)} | ${fmt(r.adamw_ms)} | ` +
      `${fmt(r.torch_adamw_fused_ms)} | ${fmt(r.copy_ms)} | ${fmt(r.coupled_GBps, 0)} | ` +
      `${fmt(r.copy_GBps, 0)} | ${fmt(r.coupled_over_copy_bandwidth, 2)} ` +
      `(${r.bandwidth_target_met ? 'meets' : 'misses'} >= ${BANDWIDTH_TARGET}) | ` +
      `${fmt(r.coupled_over_torch_adamw, 2)}` +
      (r.torch_target_met === null ? '' : ` (${r.torch_target_met ? 'meets' : 'misses'} <= ` +
        `${TORCH_TARGET})`) + ` | ${r.deterministic} |`),
  '',
  `Index past 2^31 (262144 x 8200): ${JSON.stringify(ours.index_past_2_31)}`,
  '',
];

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
mkdirSync(dir, { recursive: true });
const base = join(dir, `gpu-${stamp}`);
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 1)}\n`);
writeFileSync(`${base}.md`, lines.join('\n'));
console.log(lines.join('\n'));
const failed = rows.some((r) => !r.deterministic) || ours.index_past_2_31?.passed === false ||
  ours.vs_cpu?.passed !== true;
process.exit(failed ? 1 : 0);
