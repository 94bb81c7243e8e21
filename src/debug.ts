// Diagnostics stay silent unless NODE_DEBUG names coupled-adam (as Node's util.debuglog).
const enabled =
  typeof process !== 'undefined' && /\bcoupled-adam\b/i.test(process.env?.NODE_DEBUG ?? '');

export function debug(message: string): void {
  if (enabled) console.error(`COUPLED-ADAM ${message}`);
}
