export { expectClose, relL2 } from '../../runtime/compare.js';
