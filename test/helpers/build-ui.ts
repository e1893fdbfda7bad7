/**
 * Vitest global setup: builds the admin UI into dist/web/ when its sources changed since the last
 * build (a no-op otherwise), once per run and before any worker starts, so browser tests never
 * drive a stale UI and two test files never build at the same time.
 */
export default async function buildUi(): Promise<void> {
  // @ts-expect-error: a plain ES module script without type declarations.
  const { buildWeb } = await import('../../scripts/build-web.mjs');
  await buildWeb();
}
