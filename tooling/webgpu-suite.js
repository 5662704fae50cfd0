// Whether a webgpu test suite runs here, and its label: one rule for every package's webgpu
// suites. Takes the probe result (`probeWebgpu()` of @atmanrl/attention-mask/node) instead of
// probing, so tooling stays below the packages in the dependency order.

/**
 * A suite runs when Dawn offers an adapter (software ones included). Without one it is skipped
 * with the reason in its label, except on CI with `ATMANRL_REQUIRE_WEBGPU=1`, where it runs anyway
 * and fails on the missing adapter (never a silent skip there).
 *
 * `conformant` is false for an adapter on Dawn's OpenGL ES backend (route `opengles`, e.g. Mesa
 * llvmpipe on a stock Debian 12 without Vulkan drivers): it implements only WebGPU's compatibility
 * mode, its shaders are translated to GLSL ES, and its float32 results may differ from a Vulkan
 * adapter's in the last bits (measured: 3e-5 on a bias gradient of magnitude 36). Suites keep their
 * element-wise bounds on conformant adapters and use a bound scaled by the result's norm, justified
 * where it is used, on the others; the label names the adapter and its route.
 * @param {{ available: boolean, adapter?: { device?: string, vendor?: string, route?: string }, reason?: string }} probe
 * @returns {{ run: boolean, label: string, conformant: boolean }}
 */
export function webgpuSuiteGate(probe) {
  const required = process.env.CI === 'true' && process.env.ATMANRL_REQUIRE_WEBGPU === '1';
  const conformant = probe.available && probe.adapter?.route !== 'opengles';
  const name = probe.adapter?.device || probe.adapter?.vendor;
  const label = probe.available
    ? conformant
      ? `on webgpu (${name})`
      : `on webgpu (${name}, OpenGL ES compatibility adapter)`
    : required
      ? `on webgpu: REQUIRED but unavailable (${probe.reason})`
      : `on webgpu: skipped, ${probe.reason}`;
  return { run: probe.available || required, label, conformant };
}
