/**
 * Whether a webgpu test suite runs here, and its label: runs when Dawn offers an adapter; else
 * skipped with the reason, except on CI with `ATMANRL_REQUIRE_WEBGPU=1`, where it runs and fails.
 * @param probe the result of `probeWebgpu()` (@atmanrl/attention-mask/node)
 */
export function webgpuSuiteGate(probe: {
  available: boolean;
  adapter?: { device?: string; vendor?: string };
  reason?: string;
}): { run: boolean; label: string };
