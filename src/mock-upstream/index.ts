export type { LedgerEntry } from './ledger.js';
export { MOCK_HEADERS, type MockUpstreamOptions } from './options.js';
export type { RealtimeMockSession, RealtimeMockUsage } from './realtime.js';
export { mockRealtimeUsage } from './realtime.js';
export { type MockUpstream, startMockUpstream } from './server.js';
export type { MockStats, RecordedRequest } from './state.js';
