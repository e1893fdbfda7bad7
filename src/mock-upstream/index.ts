export { MOCK_HEADERS, type MockUpstreamOptions } from './options.js';
export { type MockUpstream, startMockUpstream } from './server.js';
export type { MockStats, RecordedRequest } from './state.js';
