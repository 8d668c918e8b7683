/**
 * A base class whose constructor returns the object it is given, so that a subclass's
 * private fields are added to that object: `new Stamp(target)` stamps `target` with
 * `Stamp`'s fields. A private field is invisible to spread, `Object.assign`,
 * `structuredClone`, `JSON.stringify` and deep equality, and adding one is an ordinary
 * inline-cached store, where a WeakMap or WeakSet entry costs an ephemeron and work in every
 * GC, and a non-enumerable symbol a runtime call.
 */
export class ReturnsTarget {
  constructor(target: object) {
    return target;
  }
}
