import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { RealtimeClient } from '../helpers/realtime-client.js';
import { registerSecret } from '../helpers/secret-watch.js';

const MODEL = 'gpt-4o-realtime-preview';
/** The Azure-style upstream's key: it takes it only as an `api-key` header. */
const AZURE_KEY = 'azure-realtime-key-7d2e9c41b8';
registerSecret(AZURE_KEY);

/** How a project's key is sent decides how the upstream's WebSocket is dialled: auth style and base URL path. */
describe('Realtime sessions with api-key and base-URL-prefixed keys', () => {
  let st: ProxyStack;
  let azure: MockUpstream;
  beforeAll(async () => {
    st = await startProxyStack();
    azure = await startMockUpstream({ apiKey: AZURE_KEY, authStyle: 'api-key' });
  });
  afterAll(async () => {
    await st?.stop();
    await azure?.close();
  });

  /** A project whose one key is `key`, and a session through it that runs one response. */
  async function sessionVia(name: string, key: { api_key: string; base_url: string }, authStyle?: string) {
    const project = await st.s.manage('POST', '/projects', { name, ...key });
    expect(project.status).toBe(201);
    if (authStyle) {
      // The project's first key, made from its api_key, is sent in the auth style given.
      const keys = await st.s.manage('GET', `/projects/${project.body.id}/keys`);
      const keyId = keys.body.data[0].id;
      const patched = await st.s.manage('PATCH', `/projects/${project.body.id}/keys/${keyId}`, {
        auth_style: authStyle,
      });
      expect(patched.status).toBe(200);
    }
    const token = await st.s.manage('POST', '/tokens', { project_id: project.body.id });
    const c = await RealtimeClient.open(`${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`, [], {
      headers: { authorization: `Bearer ${token.body.token}` },
    });
    await c.event('session.created');
    c.send({ type: 'response.create' });
    await c.event('response.done');
    c.ws.close(1000);
    await c.whenClosed();
    return { tokenId: token.body.id as string, token: token.body.token as string };
  }

  it('sends an api-key key as `api-key` under the base URL path (Azure OpenAI style)', async () => {
    const { tokenId, token } = await sessionVia(
      'azure',
      { api_key: AZURE_KEY, base_url: `${azure.url}/openai/v1` },
      'api-key',
    );
    const session = azure.realtimeSessions().at(-1);
    expect(session?.path).toBe(`/openai/v1/realtime?model=${MODEL}`);
    expect(session?.headers['api-key']).toBe(AZURE_KEY);
    expect(session?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(session?.headers)).not.toContain(token);
    expect(session?.billed).toHaveLength(1);
    const rows = await st.waitUsage(tokenId, 2);
    expect(rows.filter((r) => r.status === 200).map((r) => r.total_tokens)).toEqual([session?.billed[0]?.total_tokens]);
  });

  it('sends a bearer key under a prefixed base URL as `Authorization: Bearer`', async () => {
    const before = st.mock.realtimeSessions().length;
    await sessionVia('prefixed', { api_key: 'sk-upstream-real-key-4f1c9d2e7a', base_url: `${st.mock.url}/gateway/v1` });
    await until(() => st.mock.realtimeSessions().length > before);
    const session = st.mock.realtimeSessions().at(-1);
    expect(session?.path).toBe(`/gateway/v1/realtime?model=${MODEL}`);
    expect(session?.headers.authorization).toBe('Bearer sk-upstream-real-key-4f1c9d2e7a');
    expect(session?.headers['api-key']).toBeUndefined();
  });
});
