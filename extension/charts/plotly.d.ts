// The cartesian partial bundle ships no types of its own; it is plotly.js with fewer trace types.
declare module 'plotly.js-cartesian-dist-min' {
  import Plotly from 'plotly.js';
  export default Plotly;
}
