// What one reward call cost, per rollout: the common info record of the control rewards
// (length penalty, truncation reward), so that an experiment can name each reward's price.

/**
 * The cost of a reward call, shared out over its rollouts (every field is the call's total divided
 * by the number of completions scored). A forward pass is one sequence run through the model once
 * (one row of a batch); a backward pass is one sequence differentiated once.
 */
export interface RewardCost {
  /** Model forward passes per rollout (rows of teacher-forced sequences; 0 for a text-only reward). */
  forwardPasses: number;
  /** Model backward passes per rollout (0 for a forward-only reward). */
  backwardPasses: number;
  /** Wall time of the call per rollout, in milliseconds. */
  ms: number;
}
