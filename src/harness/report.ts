// What a comparison leaves behind: report.json (the schema of issue 3), a side-by-side text
// table, and report.svg, a hand-written chart of losses and metrics over training.
import type { EmbeddingMetrics } from '../metrics/embedding.js';
import type { CorpusInfo } from './data.js';
import type {
  Comparison, EmbeddingOptimizer, HistoryPoint, RunTiming, TrainConfig,
} from './train.js';

export interface FinalMetrics extends EmbeddingMetrics {
  trainLoss: number;
  valLoss: number;
}

export interface RunReport {
  optimizer: EmbeddingOptimizer;
  /** Metrics of the token embedding wte at the last point. */
  final: FinalMetrics;
  /** With an untied output layer: the same metrics of lmHead. */
  finalOutput?: EmbeddingMetrics;
  timing: RunTiming;
  history: HistoryPoint[];
}

export interface Report {
  corpus: CorpusInfo;
  config: TrainConfig;
  /** True when the run was stopped (Ctrl-C) before its last step. */
  partial: boolean;
  stepsCompleted: number;
  seconds: number;
  runs: RunReport[];
}

const METRIC_KEYS = ['isotropy', 'meanNorm', 'meanNormRatio', 'normLogFreqPearson',
  'normLogFreqSpearman', 'singularRatio'] as const;

function pick(m: EmbeddingMetrics): EmbeddingMetrics {
  return Object.fromEntries(METRIC_KEYS.map((k) => [k, m[k]])) as unknown as EmbeddingMetrics;
}

export function buildReport(corpus: CorpusInfo, config: TrainConfig, c: Comparison): Report {
  return {
    corpus, config, partial: c.partial, stepsCompleted: c.steps, seconds: c.seconds,
    runs: c.runs.map((r) => {
      const last = r.history[r.history.length - 1];
      return {
        optimizer: r.kind,
        final: { trainLoss: last.trainLoss, valLoss: last.valLoss, ...pick(last) },
        ...(last.output ? { finalOutput: pick(last.output) } : {}),
        timing: r.timing,
        history: r.history,
      };
    }),
  };
}

const ROWS: [string, (r: RunReport) => number | undefined, number][] = [
  ['train loss', (r) => r.final.trainLoss, 3],
  ['validation loss', (r) => r.final.valLoss, 3],
  ['isotropy', (r) => r.final.isotropy, 3],
  ['‖mu‖', (r) => r.final.meanNorm, 3],
  ['‖mu‖^r', (r) => r.final.meanNormRatio, 3],
  ['rho Pearson (‖e_i‖, log p_i)', (r) => r.final.normLogFreqPearson, 3],
  ['rho Spearman (‖e_i‖, log p_i)', (r) => r.final.normLogFreqSpearman, 3],
  ['S_min / S_max', (r) => r.final.singularRatio, 4],
  ['output layer ‖mu‖^r', (r) => r.finalOutput?.meanNormRatio, 3],
  ['output layer isotropy', (r) => r.finalOutput?.isotropy, 3],
  ['output layer rho Pearson', (r) => r.finalOutput?.normLogFreqPearson, 3],
  ['ms / optimizer step', (r) => r.timing.optimizerStepMs, 2],
  ['ms / training step', (r) => r.timing.trainStepMs, 1],
];

/** The side-by-side table, as Markdown (norms are written ‖x‖: a | would split a cell). */
export function table(report: Report): string {
  const head = ['', ...report.runs.map((r) => r.optimizer)];
  const rows = ROWS.filter(([, get]) => report.runs.some((r) => get(r) !== undefined))
    .map(([label, get, digits]) => [label, ...report.runs.map((r) => {
      const v = get(r);
      return v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
    })]);
  const widths = head.map((_, k) => Math.max(...[head, ...rows].map((row) => row[k].length)));
  const line = (row: string[]) => '| ' + row.map((cell, k) => k === 0 ? cell.padEnd(widths[k])
    : cell.padStart(widths[k])).join(' | ') + ' |';
  const rule = '|' + widths.map((w, k) => (k === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':'))
    .join('|') + '|';
  return [line(head), rule, ...rows.map(line)].join('\n');
}

const COLORS: Record<EmbeddingOptimizer, string> = { 'adam': '#d62728', 'coupled-adam': '#1f77b4' };

const PANELS: [string, (p: HistoryPoint) => number, ((p: HistoryPoint) => number)?][] = [
  ['train loss', (p) => p.trainLoss],
  ['validation loss', (p) => p.valLoss],
  ['isotropy', (p) => p.isotropy, (p) => p.output?.isotropy ?? NaN],
  ['||mu||', (p) => p.meanNorm, (p) => p.output?.meanNorm ?? NaN],
  ['||mu||^r = ||mu|| / mean ||e_i||', (p) => p.meanNormRatio,
    (p) => p.output?.meanNormRatio ?? NaN],
  ['rho Pearson (||e_i||, log p_i)', (p) => p.normLogFreqPearson,
    (p) => p.output?.normLogFreqPearson ?? NaN],
  ['rho Spearman (||e_i||, log p_i)', (p) => p.normLogFreqSpearman,
    (p) => p.output?.normLogFreqSpearman ?? NaN],
  ['S_min / S_max', (p) => p.singularRatio, (p) => p.output?.singularRatio ?? NaN],
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Eight small line charts, one per quantity, both runs in each; dashed: untied output layer. */
export function svg(report: Report): string {
  const W = 300, H = 170, pad = { l: 52, r: 12, t: 24, b: 28 }, cols = 4, top = 56;
  const width = cols * W, height = top + Math.ceil(PANELS.length / cols) * H + 8;
  const c = report.config;
  const untied = report.runs.some((r) => r.finalOutput);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="12" y="20" font-size="14" font-weight="bold">${esc(
      `Adam vs Coupled Adam on the embedding: ${report.corpus.name}` +
      (report.partial ? ' (partial run)' : ''))}</text>`,
    `<text x="12" y="38">${esc(`V=${report.corpus.vocabSize} (top ${c.topK}, coverage ` +
      `${(100 * report.corpus.coverage.train).toFixed(1)}%), width ${c.width}, ${c.layers} ` +
      `layers, ${c.heads} heads, T=${c.contextLength}, B=${c.batchSize}, ` +
      `${report.stepsCompleted} steps, peak lr ${c.lr}, ` +
      `${c.tiedOutput ? 'tied' : 'untied'} output, seed ${c.seed}`)}</text>`,
  ];
  let lx = width - 12;
  for (const r of [...report.runs].reverse()) {
    const label = r.optimizer + (untied ? ' (dashed: output layer)' : '');
    lx -= label.length * 6.5 + 44;
    out.push(`<line x1="${lx}" y1="34" x2="${lx + 18}" y2="34" stroke="${COLORS[r.optimizer]}" ` +
      'stroke-width="2"/>', `<text x="${lx + 22}" y="38">${esc(label)}</text>`);
  }

  PANELS.forEach(([title, get, getOutput], k) => {
    const x0 = (k % cols) * W, y0 = top + Math.floor(k / cols) * H;
    const series = report.runs.flatMap((r) => [
      { r, dashed: false, pts: r.history.map((p) => [p.step, get(p)]) },
      ...(getOutput && r.finalOutput
        ? [{ r, dashed: true, pts: r.history.map((p) => [p.step, getOutput(p)]) }] : []),
    ]).map((s) => ({ ...s, pts: s.pts.filter(([, v]) => Number.isFinite(v)) }));
    const xs = series.flatMap((s) => s.pts.map((p) => p[0]));
    const ys = series.flatMap((s) => s.pts.map((p) => p[1]));
    const xMax = Math.max(1, ...xs);
    let yMin = Math.min(...ys), yMax = Math.max(...ys);
    if (!(yMax > yMin)) {
      yMin -= 0.5;
      yMax += 0.5;
    }
    const pw = W - pad.l - pad.r, ph = H - pad.t - pad.b;
    const sx = (v: number) => x0 + pad.l + (v / xMax) * pw;
    const sy = (v: number) => y0 + pad.t + (1 - (v - yMin) / (yMax - yMin)) * ph;

    out.push(`<text x="${x0 + pad.l}" y="${y0 + 14}" font-weight="bold">${esc(title)}</text>`,
      `<rect x="${x0 + pad.l}" y="${y0 + pad.t}" width="${pw}" height="${ph}" fill="none" ` +
        'stroke="#999"/>');
    if (yMin < 0 && yMax > 0) {
      out.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(xMax)}" y2="${sy(0)}" ` +
        'stroke="#ccc" stroke-dasharray="2,2"/>');
    }
    for (const [v, anchor] of [[yMax, 'hanging'], [yMin, 'auto']] as const) {
      out.push(`<text x="${x0 + pad.l - 4}" y="${sy(v)}" text-anchor="end" ` +
        `dominant-baseline="${anchor}">${fmt(v)}</text>`);
    }
    out.push(`<text x="${sx(0)}" y="${y0 + H - 14}" text-anchor="start">0</text>`,
      `<text x="${sx(xMax)}" y="${y0 + H - 14}" text-anchor="end">${xMax} steps</text>`);
    for (const s of series) {
      if (s.pts.length === 0) continue;
      const d = s.pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${d}" fill="none" stroke="${COLORS[s.r.optimizer]}" ` +
        `stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`);
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1000) ? v.toExponential(1) : v.toFixed(a < 1 ? 3 : 2);
}
