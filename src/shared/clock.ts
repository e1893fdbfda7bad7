/** Injectable time source so expiry and limits can be tested without sleeping. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

export const toIso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
