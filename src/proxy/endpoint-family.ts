/** Endpoint families: the first path segment under /v1 (two for chat, audio and images); others are `other`. */
const FAMILIES = new Set([
  'chat.completions',
  'completions',
  'embeddings',
  'responses',
  'audio.transcriptions',
  'audio.translations',
  'audio.speech',
  'images.generations',
  'images.edits',
  'images.variations',
  'moderations',
  'models',
  'files',
  'uploads',
  'batches',
  'fine_tuning',
  'assistants',
  'threads',
  'vector_stores',
  'realtime',
  'conversations',
  'evals',
  'containers',
]);
const TWO_SEGMENTS = new Set(['chat', 'audio', 'images']);

/** `/v1/chat/completions` → `chat.completions`; a bounded set, whatever the path. */
export function endpointFamily(path: string): string {
  // The second and third segments (after `/v1`), cut without splitting the path (called twice a request).
  const start = path.indexOf('/', 1) + 1;
  if (start === 0) return 'other';
  const end = path.indexOf('/', start);
  const first = end < 0 ? path.slice(start) : path.slice(start, end);
  if (!TWO_SEGMENTS.has(first)) return FAMILIES.has(first) ? first : 'other';
  const end2 = end < 0 ? -1 : path.indexOf('/', end + 1);
  const second = end < 0 ? '' : end2 < 0 ? path.slice(end + 1) : path.slice(end + 1, end2);
  const name = `${first}.${second}`;
  return FAMILIES.has(name) ? name : 'other';
}
