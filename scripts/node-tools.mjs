// What the install scripts share: where node-gyp is, and Node's own headers.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** A tool's entry script from our node_modules, or null. */
export function resolveBin(script) {
  try {
    return require.resolve(script);
  } catch {
    return null;
  }
}

/** node-gyp: our dev dependency, else the copy npm bundles (npm sets npm_config_node_gyp). */
export function nodeGypBin() {
  const own = resolveBin('node-gyp/bin/node-gyp.js');
  if (own) return own;
  const bundled = process.env.npm_config_node_gyp;
  return bundled && existsSync(bundled) ? bundled : null;
}

/**
 * --nodedir for Node's headers where they sit beside the binary (Debian's nodejs, official
 * tarballs), so that node-gyp need not download them.
 */
export function nodedirArgs() {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}
