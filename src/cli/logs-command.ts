import type { Command } from 'commander';
import { io } from './io.js';
import { inTimeOrder, type LogFilterOptions, logFilter, readLogLines, tableHeader, tableRow } from './log-query.js';

/** Writes to stdout, waiting when the pipe is full; a reader that goes away (`| head`) ends the command quietly (closed-pipes.ts). */
async function writeOut(text: string): Promise<void> {
  const { stdout } = io();
  if (!stdout.write(text)) await new Promise<void>((resolve) => stdout.once('drain', resolve));
}

export function logsCommand(program: Command): void {
  program
    .command('logs')
    .description('filter JSON-lines logs (LOG_FILE and its rotated files, gzipped too) and print them')
    .argument('<files...>', 'log files, oldest first when rotated names are given (app.log*); - reads stdin')
    .option('--token <id>', 'requests of this token id')
    .option('--project <id>', 'requests of this project id')
    .option('--status <spec>', 'status: 429, 5xx, >=400, or a comma-separated list')
    .option('--model <glob>', 'model name or glob (gpt-4o*)')
    .option('--path <prefix>', 'request path prefix (/v1/chat) or glob')
    .option('--since <time>', 'from this ISO time, or a duration ago (15m, 2h, 7d)')
    .option('--until <time>', 'before this ISO time, or a duration ago')
    .option('--level <level>', 'least severe level shown (trace, debug, info, warn, error, fatal)')
    .option('--json', 'print matching lines as JSON lines instead of a table')
    .action(async (files: string[], o: LogFilterOptions & { json?: boolean }) => {
      const keep = logFilter(o);
      const skipped = { count: 0 };
      let shown = 0;
      if (!o.json) await writeOut(tableHeader());
      for await (const line of readLogLines(inTimeOrder(files), skipped)) {
        if (!keep(line)) continue;
        shown++;
        await writeOut(o.json ? `${JSON.stringify(line)}\n` : tableRow(line));
      }
      if (skipped.count > 0) io().stderr.write(`skipped ${skipped.count} line(s) that are not JSON log lines\n`);
      if (shown === 0 && !o.json) io().stderr.write('no matching lines\n');
    });
}
