import { jsBackend } from './js.js';
import type { BackendProvider } from './registry.js';

export const jsProvider: BackendProvider = {
  name: 'js',
  priority: 0,
  probe: () => ({
    info: { name: 'js', available: true, compiled: true, reason: 'pure TypeScript, one thread' },
    backend: jsBackend,
  }),
};
