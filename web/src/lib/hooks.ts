import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again, keeping the data shown until the new data arrives. */
  reload: () => void;
}

/**
 * Runs `load` when `deps` change (and on `reload`); with `pollMs` again at that interval while the
 * tab is visible. A reply that arrives after a newer request started is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => mine === seq.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, []);

  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    run();
    if (!pollMs) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') run();
    }, pollMs);
    return () => clearInterval(t);
  }, deps);

  return { ...state, reload: run };
}

/** The current time, updated every `everyMs` (countdowns). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** Sets the document title for the page shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · llm-proxy`;
  }, [title]);
}

/**
 * A form's submit: from the first attempt on `show` is set (the fields show their problems), nothing
 * is sent while `blocked()` says so, and `busy` and the API's `error` are kept for the dialog.
 */
export function useSubmit(blocked: () => boolean, send: () => Promise<void>) {
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setShow(true);
    if (blocked()) return;
    setBusy(true);
    setError(undefined);
    try {
      await send();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { show, busy, error, submit };
}
