#!/usr/bin/env node
/**
 * The `eddy` command. Parses flags and prints; the work is in node/ (see cli/start.ts).
 */
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../node/config.js';
import { isEddyError } from '../node/protocol/errors.js';
import { VERSION } from '../node/version.js';
import { start } from './start.js';

const program = new Command();
program.name('eddy').description('Kafka-style streaming node for edge gateways').version(VERSION);

program
  .command('start')
  .description('start a node (embedded defaults; flags override EDDY_* environment variables)')
  .option('--data-dir <dir>', 'where the node keeps its data (EDDY_DATA_DIR, default ./eddy-data)')
  .option('--sync <policy>', 'when appends reach the disk: always | interval:<ms> (EDDY_SYNC, default always)')
  .option('--log-level <level>', 'debug | info | warn | error (EDDY_LOG_LEVEL, default info)')
  .action(async (opts: { dataDir?: string; sync?: string; logLevel?: string }) => {
    const config = loadConfig(opts, process.env);
    await start(config, (line) => process.stdout.write(`${line}\n`));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // One clear line (or list) for the operator, a non-zero exit, no stack trace.
  const message = err instanceof ConfigError ? err.message : isEddyError(err) ? err.message : `eddy: ${(err as Error).message}`;
  process.stderr.write(`eddy: ${message.replace(/^eddy: /, '')}\n`);
  process.exitCode = 1;
}
