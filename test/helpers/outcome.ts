import OpenAI from 'openai';
import type { ProxyStack } from './proxy.js';

/** The status of an `openai` client call, and its error's code and retry headers when it failed. */
export async function outcome(call: Promise<unknown>) {
  try {
    await call;
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return {
      status: err.status,
      code: err.code,
      retryAfter: err.headers?.get('retry-after') ?? null,
      shouldRetry: err.headers?.get('x-should-retry') ?? null,
    };
  }
}

/** The stack's /metrics page, as Prometheus scrapes it. */
export const metrics = async (st: ProxyStack) =>
  (await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } })).text();
