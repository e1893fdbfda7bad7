import { CliError } from './client.js';
import { io } from './io.js';

/** The whole of standard input, less one trailing line break: `--password-stdin`. */
export async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io().stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new CliError('no password on standard input');
  return text;
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(label: string): Promise<string> {
  const { stdin, stderr } = io();
  return new Promise((resolve, reject) => {
    stderr.write(label);
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new CliError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * A new password: from standard input with `--password-stdin`, else typed twice at a prompt that
 * does not echo. Without a terminal and without the flag there is no safe way to ask, so it refuses
 * (a password is never taken from the command line, where `ps` and shell history would show it).
 */
export async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return passwordFromStdin();
  if (!io().stdin.isTTY)
    throw new CliError('standard input is not a terminal: pipe the password in with --password-stdin');
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new CliError('the passwords do not match');
  return first;
}
