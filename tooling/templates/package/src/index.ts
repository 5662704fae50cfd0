// __PACKAGE__: __DESCRIPTION__
export { __ERROR__, type __ERROR__Code } from './errors.js';
export { mean } from './mean.js';
