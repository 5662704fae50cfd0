// WebGPU adapter facts that need no Node: the adapter description, software-adapter detection and
// small helpers shared with the Node set-up (`./node`: Dawn routes, the out-of-process probe).
// Leaves out adapter selection in browsers (navigator.gpu.requestAdapter does that there).

/** How Dawn reached an adapter: `vulkan`, `opengles` (compatibility adapter), `default`, `flags`. */
export type WebgpuRouteName = 'vulkan' | 'opengles' | 'default' | 'flags';

/** The GPU adapter the webgpu backend runs on (as reported by Dawn). */
export interface GpuAdapterInfo {
  /** e.g. `'nvidia'`, `'mesa'` (may be empty on OpenGL ES). */
  vendor: string;
  /** e.g. `'hopper'`, `'software'`. */
  architecture: string;
  /** e.g. `'llvmpipe-llvm-15-0-6-256-bits-'`. */
  device: string;
  /** Driver description, e.g. `'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)'`. */
  description: string;
  /** Dawn's `info.isFallbackAdapter`. */
  isFallbackAdapter: boolean;
  /**
   * A CPU (software) adapter: `isFallbackAdapter`, or llvmpipe/lavapipe/SwiftShader/software in
   * the names. Correct but slower than wasm, so automatic selection skips it.
   */
  software: boolean;
  /** How Dawn reached it: `vulkan`, `opengles` (compatibility adapter), `default`, or `flags`. */
  route: WebgpuRouteName;
  /** Dawn toggles passed to `create()`. */
  flags: string[];
}

/** Outcome of `probeWebgpu` (from `@atmanrl/attention-mask/node`). */
export type WebgpuProbe =
  | { available: true; adapter: GpuAdapterInfo }
  | { available: false; reason: string };

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software/i;

/** True for a CPU adapter (see {@link GpuAdapterInfo.software}). */
export function isSoftwareAdapter(
  info: Pick<GpuAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'> & {
    isFallbackAdapter?: boolean;
  },
): boolean {
  return (
    info.isFallbackAdapter === true ||
    SOFTWARE.test([info.vendor, info.architecture, info.device, info.description].join(' '))
  );
}

/** `'webgpu (nvidia hopper ..., vulkan)'`-style one-line description. */
export function describeAdapter(a: GpuAdapterInfo): string {
  const name = [a.vendor, a.architecture, a.device, a.description].filter((s) => s).join(' ');
  return `webgpu (${name || 'unknown adapter'}; ${a.route}${a.software ? '; software adapter' : ''})`;
}

/** Trimmed environment variable, undefined when unset or blank. */
export function readEnv(key: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.[key];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Splits a comma-separated flag list. */
export function splitFlags(value: string | undefined): string[] {
  return value === undefined
    ? []
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}
