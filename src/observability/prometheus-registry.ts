import { Registry } from 'prom-client';

/** A sample line whose value prom-client wrote as `Nan` (comment lines are left alone). */
const NAN_SAMPLE = /^([^#\n][^\n]*) Nan$/gm;

/**
 * prom-client's registry with the text format's spelling of not-a-number: prom-client writes
 * `Nan` (lib/util.js), the text format and OpenMetrics say `NaN` (`+Inf` and `-Inf` it already
 * gets right). Node's event-loop mean and stddev are NaN whenever no delay was sampled since the
 * previous scrape. Strict parsers reject `Nan`; Prometheus itself happens to accept any case.
 */
export class PrometheusRegistry extends Registry {
  override async metrics(): Promise<string> {
    return prometheusNaN(await super.metrics());
  }
}

/** `Nan` sample values spelled `NaN`; one scan when there are none. */
export function prometheusNaN(text: string): string {
  return text.includes(' Nan\n') || text.endsWith(' Nan') ? text.replace(NAN_SAMPLE, '$1 NaN') : text;
}
