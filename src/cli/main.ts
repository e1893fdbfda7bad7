#!/usr/bin/env node
import { exitQuietlyOnClosedPipes } from './closed-pipes.js';
import { runCli } from './program.js';

// The `llm-proxy` command: the program (program.ts) with this process's arguments, environment and
// standard streams; its exit code becomes the process's.
exitQuietlyOnClosedPipes();
process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
