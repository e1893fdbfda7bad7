import { useState } from 'preact/hooks';

/**
 * Cursor paging as a person uses it: the API gives the next page's cursor; the trail of cursors
 * seen so far lets "Previous" go back. Any change of filter starts again at the first page.
 */
export function useCursorPages(resetKey: string) {
  const [state, setState] = useState<{ key: string; trail: Array<string | undefined> }>({
    key: resetKey,
    trail: [undefined],
  });
  const trail = state.key === resetKey ? state.trail : [undefined];
  if (state.key !== resetKey) setState({ key: resetKey, trail });
  return {
    cursor: trail[trail.length - 1],
    page: trail.length - 1,
    next: (cursor: string | null) => cursor && setState({ key: resetKey, trail: [...trail, cursor] }),
    prev: () => trail.length > 1 && setState({ key: resetKey, trail: trail.slice(0, -1) }),
  };
}

export type CursorPages = ReturnType<typeof useCursorPages>;
