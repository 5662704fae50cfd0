// Plain data types shared by every loader, prompt builder and parser (architecture.md contracts).

/** One chat message, as consumed by a tokenizer's chat template. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * One training/eval item: the prompt as chat messages, the gold answer as a normalised string
 * (a canonical number for GSM8K/arithmetic, a letter A-D for MMLU) and free-form metadata.
 */
export interface Sample<Meta = Record<string, unknown>> {
  id: string;
  prompt: ChatMessage[];
  gold: string;
  meta: Meta;
}

/** Half-open character range `[start, end)` into a completion's text. */
export type CharRange = [start: number, end: number];

/** Result of splitting a completion into its CoT span and its answer span. */
export interface CompletionSplit {
  /** The chain of thought: from the start of the text up to the delimiter (trailing space trimmed). */
  cotRange: CharRange;
  /** The answer after the delimiter, up to the end of that line (trimmed); null without delimiter. */
  answerRange: CharRange | null;
  /** The normalised parsed answer (number or letter), or null when nothing could be parsed. */
  parsedAnswer: string | null;
  /** True when the parsed answer came from the delimiter line, false when from a fallback. */
  isStrict: boolean;
  /** True when the completion contains no delimiter (generation stopped before answering). */
  truncated: boolean;
}

/** A generated completion with its split, as passed between rollout, rewards and eval. */
export interface Completion extends CompletionSplit {
  text: string;
  tokenIds: number[];
}

/** What to do with a malformed line or row: throw (default) or skip it and report it. */
export type OnError = 'throw' | 'skip';

/** A record that was skipped under `onError: 'skip'`: never silently dropped, always reported. */
export interface SkippedRecord {
  file: string;
  line: number;
  message: string;
}

/** Loader output: the items plus every record that was skipped. */
export interface LoadResult<T> {
  items: T[];
  skipped: SkippedRecord[];
}

/** Minimal logger; libraries never call console. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}
