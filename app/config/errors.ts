import type { ZodError } from 'zod';

/** A setting is missing or wrong. The message names the setting (and the file or variable). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: string[] = [message],
  ) {
    super(message);
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
