// MMLU's 57 subjects with subcategory and category, as in the MMLU repository's categories.py
// (hendrycks/test). Data only; the category "other" is "other (business, health, misc.)" there.

/** The four MMLU categories. */
export type MmluCategory = 'STEM' | 'humanities' | 'social sciences' | 'other';

/** Subject -> subcategory and category (57 entries), from hendrycks/test categories.py. */
export const MMLU_SUBJECTS: Readonly<
  Record<string, { subcategory: string; category: MmluCategory }>
> = {
  abstract_algebra: { subcategory: 'math', category: 'STEM' },
  anatomy: { subcategory: 'health', category: 'other' },
  astronomy: { subcategory: 'physics', category: 'STEM' },
  business_ethics: { subcategory: 'business', category: 'other' },
  clinical_knowledge: { subcategory: 'health', category: 'other' },
  college_biology: { subcategory: 'biology', category: 'STEM' },
  college_chemistry: { subcategory: 'chemistry', category: 'STEM' },
  college_computer_science: { subcategory: 'computer science', category: 'STEM' },
  college_mathematics: { subcategory: 'math', category: 'STEM' },
  college_medicine: { subcategory: 'health', category: 'other' },
  college_physics: { subcategory: 'physics', category: 'STEM' },
  computer_security: { subcategory: 'computer science', category: 'STEM' },
  conceptual_physics: { subcategory: 'physics', category: 'STEM' },
  econometrics: { subcategory: 'economics', category: 'social sciences' },
  electrical_engineering: { subcategory: 'engineering', category: 'STEM' },
  elementary_mathematics: { subcategory: 'math', category: 'STEM' },
  formal_logic: { subcategory: 'philosophy', category: 'humanities' },
  global_facts: { subcategory: 'other', category: 'other' },
  high_school_biology: { subcategory: 'biology', category: 'STEM' },
  high_school_chemistry: { subcategory: 'chemistry', category: 'STEM' },
  high_school_computer_science: { subcategory: 'computer science', category: 'STEM' },
  high_school_european_history: { subcategory: 'history', category: 'humanities' },
  high_school_geography: { subcategory: 'geography', category: 'social sciences' },
  high_school_government_and_politics: { subcategory: 'politics', category: 'social sciences' },
  high_school_macroeconomics: { subcategory: 'economics', category: 'social sciences' },
  high_school_mathematics: { subcategory: 'math', category: 'STEM' },
  high_school_microeconomics: { subcategory: 'economics', category: 'social sciences' },
  high_school_physics: { subcategory: 'physics', category: 'STEM' },
  high_school_psychology: { subcategory: 'psychology', category: 'social sciences' },
  high_school_statistics: { subcategory: 'math', category: 'STEM' },
  high_school_us_history: { subcategory: 'history', category: 'humanities' },
  high_school_world_history: { subcategory: 'history', category: 'humanities' },
  human_aging: { subcategory: 'health', category: 'other' },
  human_sexuality: { subcategory: 'culture', category: 'social sciences' },
  international_law: { subcategory: 'law', category: 'humanities' },
  jurisprudence: { subcategory: 'law', category: 'humanities' },
  logical_fallacies: { subcategory: 'philosophy', category: 'humanities' },
  machine_learning: { subcategory: 'computer science', category: 'STEM' },
  management: { subcategory: 'business', category: 'other' },
  marketing: { subcategory: 'business', category: 'other' },
  medical_genetics: { subcategory: 'health', category: 'other' },
  miscellaneous: { subcategory: 'other', category: 'other' },
  moral_disputes: { subcategory: 'philosophy', category: 'humanities' },
  moral_scenarios: { subcategory: 'philosophy', category: 'humanities' },
  nutrition: { subcategory: 'health', category: 'other' },
  philosophy: { subcategory: 'philosophy', category: 'humanities' },
  prehistory: { subcategory: 'history', category: 'humanities' },
  professional_accounting: { subcategory: 'other', category: 'other' },
  professional_law: { subcategory: 'law', category: 'humanities' },
  professional_medicine: { subcategory: 'health', category: 'other' },
  professional_psychology: { subcategory: 'psychology', category: 'social sciences' },
  public_relations: { subcategory: 'politics', category: 'social sciences' },
  security_studies: { subcategory: 'politics', category: 'social sciences' },
  sociology: { subcategory: 'culture', category: 'social sciences' },
  us_foreign_policy: { subcategory: 'politics', category: 'social sciences' },
  virology: { subcategory: 'health', category: 'other' },
  world_religions: { subcategory: 'philosophy', category: 'humanities' },
};

/** The category of a subject, or undefined for a subject MMLU does not list. */
export function mmluCategory(subject: string): MmluCategory | undefined {
  return Object.hasOwn(MMLU_SUBJECTS, subject) ? MMLU_SUBJECTS[subject]?.category : undefined;
}
