// Chat prompts for GSM8K, MMLU and the synthetic task. The wording lives in PROMPT_TEMPLATES
// (data); the builders only fill placeholders. Leaves out tokenisation (the model's chat template).

import { DEFAULT_DELIMITER } from './answer-parsing.js';
import { DatasetError } from './errors.js';
import type { Gsm8kItem } from './gsm8k.js';
import type { MmluItem } from './mmlu.js';
import type { ChatMessage, Sample } from './types.js';

/**
 * A prompt template. Placeholders are `{name}`; available names: `{delimiter}` everywhere,
 * `{question}` in `user`, `{A}`..`{D}` and `{subject}` for MMLU, `{reasoning}` and `{answer}`
 * in `assistant` (used for k-shot examples). An empty `system` adds no system message.
 */
export interface PromptTemplate {
  readonly system: string;
  readonly user: string;
  readonly assistant: string;
}

/** The default templates: reason step by step, end with the line `<delimiter> <answer>`. */
export const PROMPT_TEMPLATES = {
  gsm8k: {
    system:
      'Solve the math problem. Reason step by step, then give the final answer on the last line in the form "{delimiter} <answer>", where <answer> is only the number.',
    user: '{question}',
    assistant: '{reasoning}\n{delimiter} {answer}',
  },
  mmlu: {
    system:
      'Answer the multiple choice question about {subject}. Reason step by step, then give the final answer on the last line in the form "{delimiter} <letter>", where <letter> is A, B, C or D.',
    user: '{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}',
    assistant: '{reasoning}\n{delimiter} {answer}',
  },
  arithmetic: {
    system: '',
    user: 'Q: {question}',
    assistant: '{reasoning} {delimiter} {answer}',
  },
} as const satisfies Record<string, PromptTemplate>;

/** Options of the prompt builders. */
export interface PromptOptions<Shot> {
  /** k-shot examples, rendered as user/assistant turns before the question (default none). */
  shots?: readonly Shot[];
  /** Final-answer delimiter (default `'####'`). */
  delimiter?: string;
  /** Override the wording (default `PROMPT_TEMPLATES.<task>`). */
  template?: PromptTemplate;
}

/** Replaces `{name}` placeholders; an unknown placeholder is an error, not silent text. */
export function fillTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) {
      throw new DatasetError(
        'INVALID_ARGUMENT',
        `template placeholder ${whole} has no value; known: ${Object.keys(vars).join(', ')}`,
      );
    }
    return v;
  });
}

function buildMessages(
  template: PromptTemplate,
  common: Record<string, string>,
  shots: { user: Record<string, string>; assistant: Record<string, string> }[],
  question: Record<string, string>,
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (template.system !== '') {
    messages.push({ role: 'system', content: fillTemplate(template.system, common) });
  }
  for (const shot of shots) {
    messages.push({
      role: 'user',
      content: fillTemplate(template.user, { ...common, ...shot.user }),
    });
    messages.push({
      role: 'assistant',
      content: fillTemplate(template.assistant, { ...common, ...shot.assistant }).trim(),
    });
  }
  messages.push({ role: 'user', content: fillTemplate(template.user, { ...common, ...question }) });
  return messages;
}

/**
 * Chat messages for one GSM8K question; shots use their reference reasoning and gold.
 *
 * @example buildGsm8kPrompt(item, { shots: train.slice(0, 4) })
 */
export function buildGsm8kPrompt(
  item: Pick<Gsm8kItem, 'question'>,
  options: PromptOptions<Pick<Gsm8kItem, 'question' | 'reasoning' | 'gold'>> = {},
): ChatMessage[] {
  const delimiter = options.delimiter ?? DEFAULT_DELIMITER;
  return buildMessages(
    options.template ?? PROMPT_TEMPLATES.gsm8k,
    { delimiter },
    (options.shots ?? []).map((s) => ({
      user: { question: s.question },
      assistant: { reasoning: s.reasoning, answer: s.gold },
    })),
    { question: item.question },
  );
}

const mmluVars = (it: Pick<MmluItem, 'question' | 'choices'>): Record<string, string> => ({
  question: it.question,
  A: it.choices[0],
  B: it.choices[1],
  C: it.choices[2],
  D: it.choices[3],
});

/**
 * Chat messages for one MMLU question. SIMPLIFICATION: dev shots carry no reasoning, so their
 * assistant turn is only the delimiter line (`#### B`).
 */
export function buildMmluPrompt(
  item: Pick<MmluItem, 'question' | 'choices' | 'subject'>,
  options: PromptOptions<Pick<MmluItem, 'question' | 'choices' | 'answer'>> = {},
): ChatMessage[] {
  const delimiter = options.delimiter ?? DEFAULT_DELIMITER;
  return buildMessages(
    options.template ?? PROMPT_TEMPLATES.mmlu,
    { delimiter, subject: item.subject.replace(/_/g, ' ') },
    (options.shots ?? []).map((s) => ({
      user: mmluVars(s),
      assistant: { reasoning: '', answer: s.answer },
    })),
    mmluVars(item),
  );
}

/** A GSM8K item as a {@link Sample} (gold: canonical number; meta: reference reasoning). */
export function gsm8kSample(
  item: Gsm8kItem,
  options: PromptOptions<Pick<Gsm8kItem, 'question' | 'reasoning' | 'gold'>> = {},
): Sample<{ task: 'gsm8k'; reasoning: string }> {
  return {
    id: item.id,
    prompt: buildGsm8kPrompt(item, options),
    gold: item.gold,
    meta: { task: 'gsm8k', reasoning: item.reasoning },
  };
}

/** An MMLU item as a {@link Sample} (gold: the letter; meta: subject and category). */
export function mmluSample(
  item: MmluItem,
  options: PromptOptions<Pick<MmluItem, 'question' | 'choices' | 'answer'>> = {},
): Sample<{ task: 'mmlu'; subject: string; category: string }> {
  return {
    id: item.id,
    prompt: buildMmluPrompt(item, options),
    gold: item.answer,
    meta: { task: 'mmlu', subject: item.subject, category: item.category },
  };
}
