// The backends an entry point registers, what each reports, and the choice behind 'auto'.
import type { Backend, BackendChoice, BackendInfo, BackendName } from '../types.js';
import { debug } from '../debug.js';

export interface BackendProvider {
  name: BackendName;
  /** Order for 'auto': the highest available wins. */
  priority: number;
  /** Loads the backend on first use; cached by the registry. */
  probe(): { info: BackendInfo; backend?: Backend };
}

const providers: BackendProvider[] = [];
const probed = new Map<BackendName, { info: BackendInfo; backend?: Backend }>();
const ALL: readonly BackendName[] = ['js', 'native', 'cuda', 'gpujs'];

export function registerBackend(provider: BackendProvider): void {
  const existing = providers.findIndex((p) => p.name === provider.name);
  if (existing >= 0) providers.splice(existing, 1);
  providers.push(provider);
  probed.delete(provider.name);
}

function probe(name: BackendName) {
  let result = probed.get(name);
  if (!result) {
    const provider = providers.find((p) => p.name === name);
    result = provider
      ? provider.probe()
      : {
          info: {
            name,
            available: false,
            compiled: false,
            reason: `the ${name} backend is not part of this build of coupled-adam`,
          },
        };
    if (!result.info.available) debug(`backend ${name} unavailable: ${result.info.reason}`);
    probed.set(name, result);
  }
  return result;
}

/** One entry per backend: whether it can run here and, if not, why. */
export function backends(): BackendInfo[] {
  return ALL.map((name) => ({ ...probe(name).info }));
}

/** The backend to run for `choice`; throws an Error naming the reason if it is unavailable. */
export function resolveBackend(fn: string, choice: BackendChoice): Backend {
  if (choice === 'auto') {
    const ranked = [...providers].sort((a, b) => b.priority - a.priority);
    for (const provider of ranked) {
      const { backend } = probe(provider.name);
      if (backend) return backend;
    }
    throw new Error(`${fn}: no backend is available`);
  }
  const { info, backend } = probe(choice);
  if (!backend) throw new Error(`${fn}: backend '${choice}' is unavailable: ${info.reason}`);
  return backend;
}

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...ALL];
