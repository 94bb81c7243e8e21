// The README's usage example runs as written, against the compiled package, by its name.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

it("runs the README's example", () => {
  const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
  const usage = readme.slice(readme.indexOf('## Use'));
  const example = /```js\n([\s\S]*?)```/.exec(usage)?.[1];
  expect(example).toContain("from 'coupled-adam'");
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', example!], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
    '1 true', '2 true', '3 true']);
});
