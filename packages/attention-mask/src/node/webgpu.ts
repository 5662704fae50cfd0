// WebGPU through Dawn (`webgpu` npm package) in Node: adapter routes (Vulkan, then OpenGL ES with a
// compatibility adapter), a quiet out-of-process probe for automatic selection, and the in-process set-up that registers tfjs' webgpu backend on the chosen adapter.
// Leaves out browsers (navigator.gpu already exists there) and multi-GPU selection.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { splitWebgpuAddN } from '../_internal/webgpu-addn.js';
import {
  type GpuAdapterInfo,
  isSoftwareAdapter,
  readEnv,
  splitFlags,
  type WebgpuProbe,
  type WebgpuRouteName,
} from '../adapter.js';
import { AttentionMaskError } from '../errors.js';

/** One way to ask Dawn for an adapter. */
export interface WebgpuRoute {
  name: WebgpuRouteName;
  flags: string[];
  requestOptions: Record<string, unknown>;
  /** Environment variables Dawn's native code must see (set only when unset). */
  env: Record<string, string>;
}

/** How long a probe child may take (a cold lavapipe start on a loaded machine is ~1 s). */
const PROBE_TIMEOUT_MS = 20_000;
const HOW_TO_FIX =
  'install a Vulkan driver (the NVIDIA driver on a GPU machine; on a CPU-only Debian 12, ' +
  'mesa-vulkan-drivers >= 25 from bookworm-backports), or set ATMANRL_WEBGPU_FLAGS (Dawn toggles, ' +
  'e.g. backend=opengles)';

/**
 * Adapter routes in the order tried: explicit flags alone; on Linux Vulkan, then Dawn's OpenGL ES
 * backend with a compatibility adapter (`EGL_PLATFORM=surfaceless` unless set); elsewhere Dawn's
 * default backend.
 */
export function webgpuRoutes(flags: string[], platform: string = process.platform): WebgpuRoute[] {
  const high = { powerPreference: 'high-performance' };
  if (flags.length > 0) {
    const gles = flags.some((f) => /^backend=opengl(es)?$/.test(f));
    return [
      {
        name: 'flags',
        flags,
        requestOptions: gles ? { ...high, featureLevel: 'compatibility' } : high,
        env: gles ? { EGL_PLATFORM: 'surfaceless' } : {},
      },
    ];
  }
  if (platform !== 'linux') return [{ name: 'default', flags: [], requestOptions: high, env: {} }];
  return [
    { name: 'vulkan', flags: ['backend=vulkan'], requestOptions: high, env: {} },
    {
      name: 'opengles',
      flags: ['backend=opengles'],
      requestOptions: { ...high, featureLevel: 'compatibility' },
      env: { EGL_PLATFORM: 'surfaceless' },
    },
  ];
}

/** Resolves an optional peer from this package; null when it is not installed. */
function resolvePeer(name: string): string | null {
  try {
    return createRequire(import.meta.url).resolve(name);
  } catch {
    return null;
  }
}

const probes = new Map<string, Promise<WebgpuProbe>>();

/**
 * Looks for a WebGPU adapter without touching this process: a short-lived child `node` asks Dawn
 * (Vulkan first, then OpenGL ES on Linux) and reports the adapter; Dawn's native warnings go to the
 * child's discarded stderr. Only runs when the optional peers `webgpu` and
 * `@tensorflow/tfjs-backend-webgpu` are installed, and once per process and flag set (~0.1-0.3 s).
 *
 * @param flags Dawn toggles (default: `ATMANRL_WEBGPU_FLAGS`, comma-separated, or none)
 * @returns the adapter, or why there is none
 */
export function probeWebgpu(flags?: string[]): Promise<WebgpuProbe> {
  const f = flags ?? splitFlags(readEnv('ATMANRL_WEBGPU_FLAGS'));
  const key = f.join(',');
  let probe = probes.get(key);
  if (probe === undefined) {
    probe = runProbe(f);
    probes.set(key, probe);
  }
  return probe;
}

/** Child script: tries each route, prints one JSON line (adapter or null), exits at once. */
const PROBE_SCRIPT = `
const input = JSON.parse(process.env.ATMANRL_WEBGPU_PROBE_INPUT);
const { create } = await import(input.url);
for (const r of input.routes) {
  for (const [k, v] of Object.entries(r.env)) process.env[k] ??= v;
  const adapter = await create(r.flags).requestAdapter(r.requestOptions);
  if (adapter) {
    const i = adapter.info ?? {};
    process.stdout.write(JSON.stringify({ route: r.name, flags: r.flags, vendor: i.vendor ?? '',
      architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
      isFallbackAdapter: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter) }) + '\\n');
    process.exit(0);
  }
}
process.stdout.write('null\\n');
process.exit(0);
`;

async function runProbe(flags: string[]): Promise<WebgpuProbe> {
  const dawn = resolvePeer('webgpu');
  if (dawn === null) return { available: false, reason: "optional peer 'webgpu' not installed" };
  if (resolvePeer('@tensorflow/tfjs-backend-webgpu') === null) {
    return {
      available: false,
      reason: "optional peer '@tensorflow/tfjs-backend-webgpu' not installed",
    };
  }
  const routes = webgpuRoutes(flags);
  const input = JSON.stringify({ url: pathToFileURL(dawn).href, routes });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', PROBE_SCRIPT],
      {
        env: { ...process.env, ATMANRL_WEBGPU_PROBE_INPUT: input },
        timeout: PROBE_TIMEOUT_MS,
        maxBuffer: 1 << 20,
      },
      (error, stdout) => {
        const line = String(stdout).trim().split('\n').at(-1) ?? '';
        if (error !== null && line === '') {
          resolve({
            available: false,
            reason: `webgpu probe failed: ${error.message.split('\n')[0]}`,
          });
          return;
        }
        try {
          const raw = JSON.parse(line) as Omit<GpuAdapterInfo, 'software'> | null;
          if (raw === null) {
            resolve({
              available: false,
              reason: `Dawn found no adapter (tried ${routes.map((r) => r.name).join(', ')})`,
            });
          } else {
            resolve({ available: true, adapter: { ...raw, software: isSoftwareAdapter(raw) } });
          }
        } catch {
          resolve({
            available: false,
            reason: `webgpu probe printed no result: ${line.slice(0, 200)}`,
          });
        }
      },
    );
  });
}

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: Partial<Omit<GpuAdapterInfo, 'software' | 'route' | 'flags'>>;
  isFallbackAdapter?: boolean;
  features: ReadonlySet<string>;
  limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<unknown>;
}
interface WebgpuBackendModule {
  WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
}

/**
 * Sets Dawn up in this process and registers tfjs' `webgpu` backend on the adapter it finds.
 * Order matters: Dawn's globals and `navigator.gpu` exist before `@tensorflow/tfjs-backend-webgpu`
 * is imported (it checks `navigator.gpu` at import time). The backend factory is replaced by one
 * that uses the adapter found here, so the reported adapter is the one that runs.
 *
 * @throws AttentionMaskError `BACKEND_UNAVAILABLE` naming the missing package or driver
 */
export async function setUpWebgpu(flags: string[]): Promise<GpuAdapterInfo> {
  let dawn: DawnModule;
  try {
    const specifier: string = 'webgpu';
    dawn = (await import(specifier)) as DawnModule;
  } catch (cause) {
    throw new AttentionMaskError(
      'BACKEND_UNAVAILABLE',
      `backend webgpu needs the optional peer 'webgpu' (Dawn for Node; add it with ` +
        `\`pnpm add webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0\`): ${(cause as Error).message}`,
      { cause },
    );
  }
  Object.assign(globalThis, dawn.globals);
  const routes = webgpuRoutes(flags);
  let found: { gpu: GpuLike; adapter: AdapterLike; route: WebgpuRoute } | undefined;
  for (const route of routes) {
    for (const [k, v] of Object.entries(route.env)) process.env[k] ??= v;
    const gpu = dawn.create(route.flags);
    const adapter = await gpu.requestAdapter(route.requestOptions);
    if (adapter !== null) {
      found = { gpu, adapter, route };
      break;
    }
  }
  if (found === undefined) {
    throw new AttentionMaskError(
      'BACKEND_UNAVAILABLE',
      `backend webgpu: Dawn found no GPU adapter (tried ${routes
        .map((r) => `${r.name} [${r.flags.join(' ')}]`)
        .join(', ')}); ${HOW_TO_FIX}`,
    );
  }
  const { gpu, adapter, route } = found;
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  g.navigator ??= {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });

  let mod: WebgpuBackendModule;
  try {
    const specifier: string = '@tensorflow/tfjs-backend-webgpu';
    mod = (await import(specifier)) as WebgpuBackendModule;
  } catch (cause) {
    throw new AttentionMaskError(
      'BACKEND_UNAVAILABLE',
      `backend webgpu needs the optional peer '@tensorflow/tfjs-backend-webgpu@4.22.0': ${(cause as Error).message}`,
      { cause },
    );
  }
  splitWebgpuAddN(); // its AddN is silently wrong past the device's buffers per stage
  // Same device request as tfjs-backend-webgpu's own factory, on our adapter.
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const l = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures: ['timestamp-query'].filter((f) => adapter.features.has(f)),
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l['maxComputeWorkgroupStorageSize'],
          maxComputeWorkgroupsPerDimension: l['maxComputeWorkgroupsPerDimension'],
          maxStorageBufferBindingSize: l['maxStorageBufferBindingSize'],
          maxBufferSize: l['maxBufferSize'],
          // tfjs' AddN binds one buffer per input; the default of 8 made any AddN of 8+ tensors an
          // invalid pipeline (a silently wrong result), so ask for what the adapter has.
          maxStorageBuffersPerShaderStage: l['maxStorageBuffersPerShaderStage'],
          maxComputeWorkgroupSizeX: l['maxComputeWorkgroupSizeX'],
          maxComputeInvocationsPerWorkgroup: l['maxComputeInvocationsPerWorkgroup'],
        },
      });
      return new mod.WebGPUBackend(device, adapter.info);
    },
    3,
  );
  const i = adapter.info ?? {};
  const raw = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
    isFallbackAdapter: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
  return { ...raw, software: isSoftwareAdapter(raw), route: route.name, flags: route.flags };
}
