// The `--queue` URL as run.json keeps it: the password replaced by `***` (a run folder is shared
// and published; the password is not). No Redis client is loaded here, so a run without --queue
// does not load one.

/** A password in a redis:// or rediss:// URL: `scheme://[user]:password@`. */
const PASSWORD = /^(rediss?:\/\/[^:@/]*):[^@/]*@/;

/** The URL with its password replaced by `***` (`redis://user:***@host:6379/0`); else as given. */
export function redactQueueUrl(url: string): string {
  return url.replace(PASSWORD, '$1:***@');
}

/** True when `url` is a redacted URL whose password was removed (it cannot connect as it is). */
export function isRedactedQueueUrl(url: string): boolean {
  return /^rediss?:\/\/[^:@/]*:\*\*\*@/.test(url);
}

/** The config as run.json stores it: `queue` with its password redacted. */
export function configForRunJson<C extends { queue: string | null }>(config: C): C {
  return config.queue === null ? config : { ...config, queue: redactQueueUrl(config.queue) };
}
