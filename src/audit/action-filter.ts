import { errors } from '../errors.js';
import { AUDIT_ACTIONS, type AuditAction, RENAMED_ACTIONS } from './audit-event.js';

/** Every action with the names it is stored under: its own, and any it had before (RENAMED_ACTIONS). */
const STORED_AS: ReadonlyMap<AuditAction, readonly string[]> = new Map(
  AUDIT_ACTIONS.map((a) => [a, [a, ...Object.keys(RENAMED_ACTIONS).filter((old) => RENAMED_ACTIONS[old] === a)]]),
);

/** `*` matches any run of characters, dots included; everything else matches itself. */
function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(literal).join('.*')}$`);
}

const literal = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/**
 * The stored action names an `action` filter selects: an action name, or a glob with `*` anywhere
 * (`token.*`, `*.deleted`, `*revoked*`). An action is selected when the pattern matches its name or
 * a name it had before, and then its events are found under every one of its names, old and new.
 * A pattern that matches no action is refused, naming the actions there are.
 */
export function storedActions(pattern: string): string[] {
  const re = glob(pattern);
  const selected = [...STORED_AS].filter(([, names]) => names.some((n) => re.test(n)));
  if (selected.length === 0) {
    throw errors.validation(`No audit action matches "${pattern}". Actions: ${AUDIT_ACTIONS.join(', ')}.`, 'action');
  }
  return selected.flatMap(([, names]) => names);
}
