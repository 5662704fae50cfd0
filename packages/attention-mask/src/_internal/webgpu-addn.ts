// tfjs-backend-webgpu 4.22's AddN binds one storage buffer per input plus its output and never
// splits, so past the device's `maxStorageBuffersPerShaderStage` its pipeline is invalid: Dawn only
// logs a validation error and the sum reads back as garbage (measured on lavapipe: an AddN of 40
// scalars gave 0). This wraps the registered kernel once so that it adds in groups that fit.
// Leaves out the other multi-input webgpu kernels (Concat splits itself; Pack goes through Concat).
import * as tf from '@tensorflow/tfjs-core';

/** What the wrapper reads of the webgpu backend (its device's limit; freeing partial sums). */
interface WebgpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): void;
}

const wrapped = new WeakSet<tf.KernelFunc>();

/**
 * Replaces webgpu's AddN kernel by one that sums at most `maxStorageBuffersPerShaderStage - 1`
 * inputs per dispatch (a tree of partial sums, freed as it goes). Idempotent; a no-op when the
 * webgpu kernels are not registered.
 */
export function splitWebgpuAddN(): void {
  const kernel = tf.getKernel('AddN', 'webgpu');
  if (kernel === undefined || wrapped.has(kernel.kernelFunc)) return;
  const inner = kernel.kernelFunc;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const xs = inputs as unknown as tf.TensorInfo[];
    const webgpu = backend as unknown as WebgpuBackendLike;
    const limit = webgpu.device.limits.maxStorageBuffersPerShaderStage;
    const group = Math.max(2, limit - 1); // inputs + the output
    if (xs.length <= group) return inner({ inputs, backend, attrs });
    const partials: tf.TensorInfo[] = [];
    let level = xs;
    while (level.length > group) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < level.length; i += group) {
        const part = level.slice(i, i + group);
        if (part.length === 1) {
          next.push(part[0]!);
          continue;
        }
        const sum = inner({ inputs: part as unknown as tf.NamedTensorInfoMap, backend, attrs });
        partials.push(sum as tf.TensorInfo);
        next.push(sum as tf.TensorInfo);
      }
      level = next;
    }
    const out = inner({ inputs: level as unknown as tf.NamedTensorInfoMap, backend, attrs });
    for (const p of partials) webgpu.disposeData(p.dataId);
    return out;
  };
  wrapped.add(kernelFunc);
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({ ...kernel, kernelFunc });
}
