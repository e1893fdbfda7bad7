/**
 * A label's values, at most `cap` distinct ones; the rest are `other`. Keeps a client that sends
 * made-up model names from growing a metric's series (Prometheus and OTLP alike) without bound.
 */
export class LabelCap {
  private readonly seen = new Set<string>();
  constructor(private readonly cap: number) {}
  value(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.cap) return 'other';
    this.seen.add(v);
    return v;
  }
}
