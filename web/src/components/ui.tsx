/** The building blocks every page uses, so pages look and behave alike. */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { describeError } from '../api/errors';
import type { CursorPages } from '../lib/paging';
import { Icon, type IconName } from './icons';

export function PageHead(props: {
  title: string;
  sub?: ComponentChildren;
  crumbs?: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <div class="page-head">
      <div>
        {props.crumbs && <div class="crumbs">{props.crumbs}</div>}
        <h1>{props.title}</h1>
        {props.sub && <p>{props.sub}</p>}
      </div>
      {props.children && <div class="actions">{props.children}</div>}
    </div>
  );
}

export function Card(props: {
  title?: string;
  sub?: string;
  actions?: ComponentChildren;
  flush?: boolean;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <section class={`card ${props.class ?? ''}`} aria-label={props.title}>
      {(props.title || props.actions) && (
        <div class="card-head">
          <div>
            {props.title && <h2>{props.title}</h2>}
            {props.sub && <p>{props.sub}</p>}
          </div>
          {props.actions}
        </div>
      )}
      <div class={props.flush ? 'card-body flush' : 'card-body'}>{props.children}</div>
    </section>
  );
}

export function Stat(props: {
  label: string;
  value: ComponentChildren;
  sub?: ComponentChildren;
  meter?: number;
  testId?: string;
}) {
  const m = props.meter;
  return (
    <div class="card stat" data-testid={props.testId}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.sub !== undefined && <div class="stat-sub">{props.sub}</div>}
      {m !== undefined && <Meter fraction={m} label={props.label} />}
    </div>
  );
}

/** A bar of how much of something is used; `share` bars (a part of a whole) never turn to a warning colour. */
export function Meter({ fraction, label, share }: { fraction: number; label: string; share?: boolean }) {
  const f = Math.max(0, Math.min(1, fraction));
  const tone = share ? '' : f >= 0.9 ? 'danger' : f >= 0.75 ? 'warn' : '';
  return (
    // biome-ignore lint/a11y/useSemanticElements: a styled bar; the native <meter> cannot be styled alike across browsers.
    <div
      class={`meter ${tone}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(f * 100)}
    >
      <MeterFill fraction={f} />
    </div>
  );
}

/** The filled part; its width is set through the CSSOM (allowed by the CSP, unlike a style attribute). */
function MeterFill({ fraction }: { fraction: number }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.style.width = `${(fraction * 100).toFixed(1)}%`;
  }, [fraction]);
  return <span ref={ref} />;
}

type Tone = 'ok' | 'warn' | 'danger' | 'accent' | 'muted';

export function Badge({
  tone = 'muted',
  plain,
  children,
}: {
  tone?: Tone;
  plain?: boolean;
  children: ComponentChildren;
}) {
  return <span class={`badge ${tone} ${plain ? 'plain' : ''}`}>{children}</span>;
}

const STATUS_TONE: Record<string, Tone> = {
  active: 'ok',
  expired: 'warn',
  exhausted: 'warn',
  revoked: 'danger',
  inactive: 'muted',
};

export const StatusBadge = ({ status }: { status: string }) => (
  <Badge tone={STATUS_TONE[status] ?? 'muted'}>{status}</Badge>
);

export function Button(
  props: JSX.HTMLAttributes<HTMLButtonElement> & {
    variant?: 'primary' | 'danger' | 'ghost';
    size?: 'sm';
    icon?: IconName;
    busy?: boolean;
    type?: 'button' | 'submit';
    disabled?: boolean;
    /** The id of the form a submit button outside it submits (dialog footers). */
    form?: string;
  },
) {
  const { variant, size, icon, busy, children, class: cls, type = 'button', disabled, form, ...rest } = props;
  return (
    <button
      type={type}
      class={`btn ${variant ? `btn-${variant}` : ''} ${size ? `btn-${size}` : ''} ${cls ?? ''}`}
      disabled={disabled || busy}
      form={form}
      aria-busy={busy ? 'true' : undefined}
      {...rest}
    >
      {busy ? <span class="spinner" aria-hidden="true" /> : icon && <Icon name={icon} size={16} />}
      {children}
    </button>
  );
}

/** A labelled control with its hint and problem wired to it for screen readers. */
export function Field(props: {
  label: string;
  hint?: ComponentChildren;
  problem?: string | undefined;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ComponentChildren;
  class?: string;
}) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const problemId = props.problem ? `${id}-problem` : undefined;
  const describedBy = [hintId, problemId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field ${props.class ?? ''}`}>
      <label for={id}>{props.label}</label>
      {props.children({ id, describedBy, invalid: props.problem !== undefined })}
      {props.problem ? (
        <div class="problem" id={problemId}>
          {props.problem}
        </div>
      ) : (
        props.hint && (
          <div class="hint" id={hintId}>
            {props.hint}
          </div>
        )
      )}
    </div>
  );
}

export function TextField(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  hint?: ComponentChildren;
  problem?: string | undefined;
  type?: string;
  placeholder?: string;
  autoComplete?: string;
  inputMode?: 'numeric' | 'decimal' | 'text' | 'url';
  required?: boolean;
  name?: string;
  class?: string;
  autoFocus?: boolean;
}) {
  return (
    <Field label={props.label} hint={props.hint} problem={props.problem} class={props.class}>
      {({ id, describedBy, invalid }) => (
        <input
          id={id}
          name={props.name}
          class="input"
          type={props.type ?? 'text'}
          value={props.value}
          placeholder={props.placeholder}
          autoComplete={props.autoComplete ?? 'off'}
          inputMode={props.inputMode}
          required={props.required}
          // biome-ignore lint/a11y/noAutofocus: only the first field of a dialog or of the sign-in form, where typing starts.
          autoFocus={props.autoFocus}
          spellcheck={false}
          aria-invalid={invalid ? 'true' : undefined}
          aria-describedby={describedBy}
          onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

export function SelectField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: Array<{ value: string; label: string }>;
  hint?: ComponentChildren;
  name?: string;
}) {
  return (
    <Field label={props.label} hint={props.hint}>
      {({ id, describedBy }) => (
        <select
          id={id}
          name={props.name}
          class="select"
          value={props.value}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
        >
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Checkbox(props: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string }) {
  return (
    <label class="check">
      <input
        type="checkbox"
        name={props.name}
        checked={props.checked}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
      />
      {props.label}
    </label>
  );
}

export function Segmented<T extends string>(props: {
  label: string;
  value: T;
  options: Array<{ value: T; label: string }>;
  onChange: (v: T) => void;
}) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a row of toggle buttons, not a form fieldset.
    <div class="segmented" role="group" aria-label={props.label}>
      {props.options.map((o) => (
        <button
          key={o.value}
          type="button"
          aria-pressed={o.value === props.value}
          onClick={() => props.onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}

export function Empty(props: {
  icon?: IconName;
  title: string;
  children?: ComponentChildren;
  action?: ComponentChildren;
}) {
  return (
    <div class="empty">
      <div class="empty-icon">
        <Icon name={props.icon ?? 'inbox'} size={22} />
      </div>
      <h2>{props.title}</h2>
      {props.children && <p>{props.children}</p>}
      {props.action}
    </div>
  );
}

/** Placeholder rows while a list loads (announced once to screen readers). */
export function Loading({ rows = 3, label = 'Loading' }: { rows?: number; label?: string }) {
  return (
    <div class="stack card-body" aria-busy="true">
      <span class="sr-only" role="status">
        {label}…
      </span>
      {Array.from({ length: rows }, (_, i) => (
        <span key={i} class="skeleton" />
      ))}
    </div>
  );
}

export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error === undefined || error === null) return null;
  return (
    <div class="alert danger" role="alert">
      <Icon name="alert" />
      <div class="stack tight">
        <div>{describeError(error)}</div>
        {onRetry && (
          <div>
            <Button size="sm" icon="refresh" onClick={onRetry}>
              Try again
            </Button>
          </div>
        )}
      </div>
    </div>
  );
}

/** Cursor paging: the API gives a next cursor; the page keeps the trail of cursors to go back. */
/** Previous and Next over cursor pages (useCursorPages); `summary` follows the page number. */
export function Pager(props: { pages: CursorPages; nextCursor: string | null | undefined; summary?: string }) {
  const { pages, nextCursor } = props;
  return (
    <nav class="pager" aria-label="Pages">
      <span>
        Page {pages.page + 1}
        {props.summary ? ` · ${props.summary}` : ''}
      </span>
      <div class="row">
        <Button size="sm" onClick={pages.prev} disabled={pages.page === 0}>
          Previous
        </Button>
        <Button size="sm" onClick={() => pages.next(nextCursor ?? null)} disabled={!nextCursor}>
          Next
        </Button>
      </div>
    </nav>
  );
}

/** A modal dialog (native <dialog>: focus stays inside, Escape closes). */
export function Dialog(props: {
  open: boolean;
  title: string;
  sub?: ComponentChildren;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'wide' : undefined}
      aria-labelledby={titleId}
      onClose={props.onClose}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      {props.open && (
        <>
          <div class="dialog-head">
            <div>
              <h2 id={titleId}>{props.title}</h2>
              {props.sub && <p>{props.sub}</p>}
            </div>
            <Button variant="ghost" class="btn-icon" aria-label="Close" onClick={props.onClose}>
              <Icon name="close" />
            </Button>
          </div>
          <div class="dialog-body">{props.children}</div>
          {props.footer && <div class="dialog-foot">{props.footer}</div>}
        </>
      )}
    </dialog>
  );
}

/** Asks before something that cannot be undone; shows the API's error in place if it fails. */
export function Confirm(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (props.open) setError(undefined);
  }, [props.open]);
  const go = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open={props.open}
      title={props.title}
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant={props.danger ? 'danger' : 'primary'} busy={busy} onClick={go}>
            {props.confirmLabel}
          </Button>
        </>
      }
    >
      <div class="stack">
        <div>{props.children}</div>
        <ErrorNote error={error} />
      </div>
    </Dialog>
  );
}

/**
 * A table that may be wider than the screen (on a phone): it scrolls sideways inside its card, and
 * says so, with a line above it and a shade on the side where more columns are, instead of looking
 * cut off. `data-scroll` is none, start, middle or end. While it scrolls it is a labelled region the
 * keyboard can focus (a table of plain text has nothing else to focus).
 */
export function TableWrap({ children, label = 'Table' }: { children: ComponentChildren; label?: string }) {
  const box = useRef<HTMLElement>(null);
  const [edge, setEdge] = useState<'none' | 'start' | 'middle' | 'end'>('none');
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const update = () => {
      const max = el.scrollWidth - el.clientWidth;
      setEdge(max <= 1 ? 'none' : el.scrollLeft <= 1 ? 'start' : el.scrollLeft >= max - 1 ? 'end' : 'middle');
    };
    update();
    el.addEventListener('scroll', update, { passive: true });
    // The box resizes with the window, the table with its rows.
    const ro = new ResizeObserver(update);
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    return () => {
      el.removeEventListener('scroll', update);
      ro.disconnect();
    };
  }, []);
  return (
    <div class="table-scroll" data-scroll={edge}>
      {edge !== 'none' && (
        <p class="scroll-hint" aria-hidden="true">
          {edge === 'end' ? '← More columns to the left' : 'More columns: scroll sideways →'}
        </p>
      )}
      <div class="table-edge">
        <section ref={box} class="table-wrap" aria-label={label} tabIndex={edge === 'none' ? undefined : 0}>
          {children}
        </section>
      </div>
    </div>
  );
}

/** Code or JSON; it may scroll sideways (on a phone), so it is a labelled region the keyboard can focus. */
export function CodeBlock({
  label,
  children,
  testId,
}: {
  label: string;
  children: ComponentChildren;
  testId?: string;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard.
    <section class="code" tabIndex={0} aria-label={label} data-testid={testId}>
      <pre>{children}</pre>
    </section>
  );
}

/** Copies text to the clipboard and says so. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    } catch {
      toast('The browser did not allow copying: select the text and copy it by hand.', 'danger');
    }
  };
  return (
    <Button size="sm" icon={done ? 'check' : 'copy'} onClick={copy}>
      {done ? 'Copied' : label}
    </Button>
  );
}

// Toasts: short confirmations of what just happened, announced politely.

type ToastItem = { id: number; text: string; tone: 'ok' | 'danger' };
let toastSeq = 0;
let toastItems: ToastItem[] = [];
const toastListeners = new Set<(items: ToastItem[]) => void>();

export function toast(text: string, tone: 'ok' | 'danger' = 'ok'): void {
  const item = { id: ++toastSeq, text, tone };
  toastItems = [...toastItems, item];
  for (const fn of toastListeners) fn(toastItems);
  setTimeout(
    () => {
      toastItems = toastItems.filter((t) => t.id !== item.id);
      for (const fn of toastListeners) fn(toastItems);
    },
    tone === 'danger' ? 7000 : 3500,
  );
}

export function Toasts() {
  const [items, setItems] = useState(toastItems);
  useEffect(() => {
    toastListeners.add(setItems);
    return () => toastListeners.delete(setItems);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {items.map((t) => (
        <div key={t.id} class={`toast ${t.tone === 'danger' ? 'danger' : ''}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
