/**
 * A token just created on this page, handed to the "Try it" page so it can be tried without being
 * pasted. Memory only: it is gone on reload, and it is never written to storage.
 */
let last: { id: string; token: string; name: string | null } | undefined;

export const handOff = (t: { id: string; token: string; name: string | null }) => {
  last = t;
};

export const handedOff = () => last;
