// One training run in a worker thread, so that the Adam and Coupled Adam runs use two cores.
import { parentPort, workerData } from 'node:worker_threads';
import { Run, trainRun, type WorkerInput, type WorkerMessage } from './train.js';

const { kind, corpus, config } = workerData as WorkerInput;
const stop = new AbortController();
parentPort?.on('message', (m) => m === 'stop' && stop.abort());

const post = (m: WorkerMessage) => parentPort?.postMessage(m);
const result = await trainRun(new Run(kind, config, corpus), {
  signal: stop.signal,
  onStep: (step, loss) => post({ type: 'step', step, loss }),
});
post({ type: 'done', result });
