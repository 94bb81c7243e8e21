// The Markdown of a benchmark report (bench/benchmark.js): one table per shape, the state
// memory, the targets; and its place in README.md, between the bench markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const ms = (s) => (s * 1e3 >= 100 ? (s * 1e3).toFixed(0) : (s * 1e3).toPrecision(3));

export function markdown(report) {
  const m = report.machine;
  const lines = [];
  lines.push(`Run: ${report.date}, mode \`${report.mode}\`, ${m.os}, ${m.cpu} x ${m.cpus}, ` +
    `${m.memoryGiB} GiB, Node ${m.node}, native threads ${m.addon?.threads ?? 'n/a'} ` +
    `(OpenMP ${m.addon?.features.openmp ? 'on' : 'off'}), tfjs ${m.tfjs ?? 'n/a'}; ` +
    `load average ${m.loadAverageStart.join(' ')} at start, ` +
    `${report.loadAverageEnd.join(' ')} at end.`);
  const skipped = report.backends.filter((b) => !b.available);
  if (skipped.length) {
    const why = skipped.map((b) => `${b.name} (${b.reason})`).join('; ');
    lines.push('', `Backends not run: ${why}.`);
  }
  for (const s of report.shapes) {
    lines.push('', `**${s.rows} x ${s.cols}** (${(s.elements / 1e6).toFixed(2)} M elements)`, '');
    lines.push('| case | ms/step median | min - max | reps | B/elt | GB/s | % of ceiling | ' +
      'time / Adam | x faster than tfjs-cpu | x tfjs-wasm | x js |');
    lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const c of s.cases) {
      if (c.error) {
        lines.push(`| ${c.id} | failed: ${c.error.replace(/\|/g, '/')} |||||||||| `);
        continue;
      }
      const f = (x, d) => (x === undefined ? '' : x.toFixed(d));
      const ceiling = c.ceiling ? `${f(c.percentOfCeiling, 0)}% ${c.ceiling}` : '';
      const reps = `${c.reps}${c.cold ? ' cold' : ''}`;
      lines.push(`| ${c.id} | ${ms(c.medianS)} | ${ms(c.minS)} - ${ms(c.maxS)} | ${reps} | ` +
        `${c.bytesPerElement} | ${f(c.gbps, 1)} | ${ceiling} | ${f(c.timeVsAdam, 2)} | ` +
        `${f(c.speedup?.['tfjs-cpu'], 0)} | ${f(c.speedup?.['tfjs-wasm'], 1)} | ` +
        `${f(c.speedup?.js, 1)} |`);
    }
    lines.push('', '| optimizer state | backend | MB |', '|---|---|--:|');
    for (const r of s.memory) {
      lines.push(`| ${r.optimizer} | ${r.backend} | ${+(r.bytes / 1e6).toPrecision(4)} |`);
    }
  }
  const t = report.targets;
  lines.push('', `**Targets** (${t.shape ?? t.note}):`, '');
  if (t.checks.length) {
    lines.push('| target | goal | measured | |', '|---|---|---|---|');
    for (const c of t.checks) {
      lines.push(`| ${c.name} | ${c.goal} | ${c.detail} | ${c.met ? 'met' : '**missed**'} |`);
    }
  }
  return lines.join('\n');
}

export function updateReadme(path, table) {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# coupled-adam\n';
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const block = `${begin}\n${table}\n${end}`;
  let next;
  if (text.includes(begin) && text.includes(end)) {
    next = text.slice(0, text.indexOf(begin)) + block + text.slice(text.indexOf(end) + end.length);
  } else {
    next = `${text.trimEnd()}\n\n## Benchmarks\n\n${block}\n`;
  }
  writeFileSync(path, next);
}
