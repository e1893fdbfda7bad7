/** Commands that name no key: a cluster client may send them to any node. */
const KEYLESS = new Set(['PING', 'TIME', 'PUBLISH', 'INFO', 'SCAN', 'DBSIZE', 'CLIENT', 'CLUSTER', 'SCRIPT', 'CONFIG']);

/**
 * The key a cluster routes a command by: a script's first key (none: any node), else the first
 * argument, which is the key of every keyed command the limiter and its tests send (HGETALL, DEL…).
 */
export function routingKey(args: string[]): string | undefined {
  const name = (args[0] ?? '').toUpperCase();
  if (name === 'EVAL' || name === 'EVALSHA') return Number(args[2]) > 0 ? args[3] : undefined;
  if (KEYLESS.has(name)) return undefined;
  return args[1];
}
