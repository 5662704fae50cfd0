// Registers every tfjs gradient (side effect of importing this module). tfjs-core ships them as
// extension-less ESM (dist/register_all_gradients) that plain Node cannot load, so the build
// bundles that file and what it imports into dist (tsup.config.ts `noExternal`); the gradient
// configs land in tfjs-core's global registry, shared with the installed tfjs-core. This replaces
// a dependency on the whole `@tensorflow/tfjs` umbrella (layers, converter, data, webgl).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// Tensor methods such as `x.square()` (tfjs-core's chained ops, which the umbrella also registered).
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
