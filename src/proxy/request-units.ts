import type { BilledUnits } from '../usage/pricing.js';
import type { BodyFacts } from './request-body.js';

/**
 * The lowest audio bitrate a transcription upload is assumed to have: 8 kbit/s, 1,000 bytes a
 * second (below any speech codec OpenAI accepts at usable quality). An upload's size at this rate
 * is an upper bound on its duration: 25 MB, OpenAI's limit, is at most 25,000 seconds.
 */
export const LOWEST_AUDIO_BYTES_PER_SECOND = 1000;

/**
 * What a request will be billed by besides tokens, from its body alone: an image request's images
 * (`n`, size, quality), speech's characters, a transcription's seconds at most (its upload at the
 * lowest bitrate). Undefined for any other request (and for chat: no work beyond the family test).
 */
export function requestUnits(family: string, facts: BodyFacts): BilledUnits | undefined {
  if (family.startsWith('images.')) {
    const units: BilledUnits = { images: facts.choices };
    if (facts.size !== undefined) units.size = facts.size;
    if (facts.quality !== undefined) units.quality = facts.quality;
    return units;
  }
  if (family === 'audio.speech') return facts.characters === undefined ? undefined : { characters: facts.characters };
  if (family === 'audio.transcriptions' || family === 'audio.translations') {
    return { seconds: Math.ceil(facts.bytes / LOWEST_AUDIO_BYTES_PER_SECOND) };
  }
  return undefined;
}
