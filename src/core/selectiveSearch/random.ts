/**
 * The seeded generator behind the random factor of the proposal ranking (mulberry32), so the same
 * seed gives the same proposals on every engine. One implementation for the whole project.
 */
export { mulberry32 } from '../learn/random';
