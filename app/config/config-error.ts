import type { ZodError } from 'zod';
import { Errors } from '../../domain/errors/catalogue.js';
import { CodedError } from '../../domain/errors/coded-error.js';

/** A setting is missing or wrong (`invalid_configuration`). The message names the setting (and the file or variable). */
export class ConfigError extends CodedError<typeof Errors.invalid_configuration> {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: string[] = [message],
  ) {
    super(Errors.invalid_configuration, { problem: message }, issues);
  }

  /** One line per invalid setting, e.g. `temporal.yaml: worker.maxCachedWorkflows: Expected number`. */
  static fromZod(source: string, error: ZodError, envNames: Record<string, string> = {}): ConfigError {
    const issues = error.issues.map((issue) => {
      const path = issue.path.join('.');
      const env = envNames[path] ? ` (or ${envNames[path]})` : '';
      return `${source}: ${path || '(root)'}${env}: ${issue.message}`;
    });
    return new ConfigError(`invalid configuration\n  ${issues.join('\n  ')}`, issues);
  }
}
