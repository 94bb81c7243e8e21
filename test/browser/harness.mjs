// What the browser test and the browser benchmark share: serving a folder from 127.0.0.1 and
// launching Debian's chromium (never a downloaded browser) headless with the flags verified on
// this machine (shared/ENVIRONMENT.md): SwiftShader provides WebGL2 and WebGPU on the CPU.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
];

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };

/** Serves `dir` on a free port of 127.0.0.1 ('/' is `index`); resolves to { server, base }. */
export async function serve(dir, index) {
  const server = createServer(async (req, res) => {
    const pathname = new URL(req.url, 'http://127.0.0.1').pathname;
    const file = pathname === '/' ? index : pathname;
    try {
      const body = await readFile(join(dir, file));
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

export function launchChromium() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
}
