/**
 * How a vfmed command reports that it ran and failed: CommandFailed carries the one line
 * the user sees and the exit status; oneLine() reduces any other thrown value to one line
 * (its stable code, if it has one, then the first line of its message) so no stack trace
 * or multi-line dump ever reaches the terminal.
 */
import { EXIT_FAILURE } from './options.js';

export class CommandFailed extends Error {
  constructor(message: string, readonly exitCode = EXIT_FAILURE) {
    super(message);
    this.name = 'CommandFailed';
  }
}

export function oneLine(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const msg = e.message.split('\n')[0] ?? '';
    return typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(e).split('\n')[0] ?? '';
}
