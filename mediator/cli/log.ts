/**
 * Structured logging of the command-line tools: pino, JSON lines on stderr (stdout carries
 * only the command's result: a table or a JSON document), or in a file for the daemon
 * (`vfmed start --log-file`), written synchronously so nothing is lost when the process
 * exits right after a failure.
 */
import { pino, type Logger, type Level } from 'pino';

export type { Logger } from 'pino';

export { LOG_LEVELS } from './options.js';
export type LogLevel = Level | 'silent';

export function createLogger(level: LogLevel, file?: string | null): Logger {
  return pino(
    { name: 'vfmed', level, base: { pid: process.pid } },
    pino.destination(file ? { dest: file, sync: true, append: true, mkdir: true } : { dest: 2, sync: true }),
  );
}
