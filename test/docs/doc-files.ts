import { readdirSync } from 'node:fs';

/** The pages written for users: the README, CONTRIBUTING.md and every page of docs/. */
export const USER_DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
