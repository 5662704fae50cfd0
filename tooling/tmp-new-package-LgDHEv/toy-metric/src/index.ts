// @atmanrl/toy-metric: A toy metric made by the template test.
export { ToyMetricError, type ToyMetricErrorCode } from './errors.js';
export { mean } from './mean.js';
