/**
 * Whether a webgpu test suite runs here, and its label: runs when Dawn offers an adapter; else
 * skipped with the reason, except on CI with `ATMANRL_REQUIRE_WEBGPU=1`, where it runs and fails.
 * `conformant` is false for an adapter on Dawn's OpenGL ES backend (WebGPU compatibility mode),
 * where float32 results may differ from a Vulkan adapter's in the last bits.
 * @param probe the result of `probeWebgpu()` (@atmanrl/attention-mask/node)
 */
export function webgpuSuiteGate(probe: {
  available: boolean;
  adapter?: { device?: string; vendor?: string; route?: string };
  reason?: string;
}): { run: boolean; label: string; conformant: boolean };
