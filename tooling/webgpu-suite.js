// Whether a webgpu test suite runs here, and its label: one rule for every package's webgpu
// suites. Takes the probe result (`probeWebgpu()` of @atmanrl/attention-mask/node) instead of
// probing, so tooling stays below the packages in the dependency order.

/**
 * A suite runs when Dawn offers an adapter (software ones included). Without one it is skipped
 * with the reason in its label, except on CI with `ATMANRL_REQUIRE_WEBGPU=1`, where it runs anyway
 * and fails on the missing adapter (never a silent skip there).
 * @param {{ available: boolean, adapter?: { device?: string, vendor?: string }, reason?: string }} probe
 * @returns {{ run: boolean, label: string }}
 */
export function webgpuSuiteGate(probe) {
  const required = process.env.CI === 'true' && process.env.ATMANRL_REQUIRE_WEBGPU === '1';
  const label = probe.available
    ? `on webgpu (${probe.adapter?.device || probe.adapter?.vendor})`
    : required
      ? `on webgpu: REQUIRED but unavailable (${probe.reason})`
      : `on webgpu: skipped, ${probe.reason}`;
  return { run: probe.available || required, label };
}
